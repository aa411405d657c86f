#include "core/budget.hpp"

#include <string>

namespace clearbox {

Result<void> Budget::ChargeBytes(std::uint64_t n) {
  const std::uint64_t total = bytes_.fetch_add(n, std::memory_order_relaxed) + n;
  if (total > limits_.max_total_bytes) {
    return Fail(ErrorCode::kLimitExceeded, "total output limit of " +
                                               std::to_string(limits_.max_total_bytes) +
                                               " bytes reached (--max-total-bytes)");
  }
  return {};
}

Result<void> Budget::ChargeFile() {
  const std::uint64_t total = files_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (total > limits_.max_files) {
    return Fail(
        ErrorCode::kLimitExceeded,
        "file count limit of " + std::to_string(limits_.max_files) + " reached (--max-files)");
  }
  return {};
}

ChunkBudget::ChunkBudget(Budget& run, std::uint64_t input_bytes)
    : run_(run),
      input_(input_bytes),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::seconds(run.limits().handler_seconds)) {}

Result<void> ChunkBudget::ChargeOutput(std::uint64_t n) {
  output_ += n;
  CLEARBOX_TRY(run_.ChargeBytes(n));
  const auto& limits = run_.limits();
  if (output_ > Limits::kRatioFloorBytes &&
      static_cast<double>(output_) > limits.max_ratio * static_cast<double>(input_ ? input_ : 1)) {
    return Fail(ErrorCode::kLimitExceeded, "expansion ratio over " +
                                               std::to_string(static_cast<int>(limits.max_ratio)) +
                                               ":1 (" + std::to_string(output_) + " bytes out of " +
                                               std::to_string(input_) + " in; --max-ratio)");
  }
  return CheckDeadline();
}

Result<void> ChunkBudget::ChargeEntry() {
  CLEARBOX_TRY(run_.ChargeFile());
  return CheckDeadline();
}

Result<void> ChunkBudget::CheckDeadline() const {
  if (std::chrono::steady_clock::now() > deadline_) {
    return Fail(ErrorCode::kTimeout, "handler time limit of " +
                                         std::to_string(run_.limits().handler_seconds) +
                                         " s reached (--handler-timeout)");
  }
  return {};
}

}  // namespace clearbox
