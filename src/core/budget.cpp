#include "core/budget.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace clearbox {
namespace {

// Adds n to `counter` only if the sum stays at or under `cap`; never wraps.
bool AddCapped(std::atomic<std::uint64_t>& counter, std::uint64_t n, std::uint64_t cap) {
  std::uint64_t current = counter.load(std::memory_order_relaxed);
  do {
    if (current > cap || n > cap - current) return false;
  } while (!counter.compare_exchange_weak(current, current + n, std::memory_order_relaxed));
  return true;
}

std::uint64_t AllowanceFor(std::uint64_t input, double ratio) {
  const double scaled = ratio * static_cast<double>(input);
  // Doubles past 2^64 (or NaN from a hostile option) saturate instead of wrapping.
  const std::uint64_t by_ratio = !(scaled < 18446744073709549568.0)
                                     ? std::numeric_limits<std::uint64_t>::max()
                                     : static_cast<std::uint64_t>(scaled);
  return std::max(Limits::kRatioFloorBytes, by_ratio);
}

}  // namespace

Result<void> Budget::ChargeBytes(std::uint64_t n) {
  if (!AddCapped(bytes_, n, limits_.max_total_bytes)) {
    return Fail(ErrorCode::kLimitExceeded, "total output limit of " +
                                               std::to_string(limits_.max_total_bytes) +
                                               " bytes reached (--max-total-bytes)");
  }
  return {};
}

void Budget::RefundBytes(std::uint64_t n) {
  bytes_.fetch_sub(n, std::memory_order_relaxed);
}

Result<void> Budget::ChargeFile() {
  if (!AddCapped(files_, 1, limits_.max_files)) {
    return Fail(
        ErrorCode::kLimitExceeded,
        "file count limit of " + std::to_string(limits_.max_files) + " reached (--max-files)");
  }
  return {};
}

ExpansionAccount::ExpansionAccount(std::shared_ptr<ExpansionAccount> parent,
                                   std::uint64_t input_bytes, double max_ratio, std::string label)
    : parent_(std::move(parent)),
      input_(input_bytes),
      allowance_(AllowanceFor(input_bytes, max_ratio)),
      ratio_(max_ratio),
      label_(std::move(label)) {}

bool ExpansionAccount::TryAdd(std::uint64_t n) {
  return AddCapped(used_, n, allowance_);
}

Result<void> ExpansionAccount::Charge(std::uint64_t n) {
  for (ExpansionAccount* level = this; level != nullptr; level = level->parent_.get()) {
    if (level->TryAdd(n)) continue;
    // Undo the levels below the one that refused.
    for (ExpansionAccount* undo = this; undo != level; undo = undo->parent_.get()) {
      undo->used_.fetch_sub(n, std::memory_order_relaxed);
    }
    return Fail(ErrorCode::kLimitExceeded, "expansion limit: '" + level->label_ + "' (" +
                                               std::to_string(level->input_) +
                                               " bytes) and what is unpacked from it may write " +
                                               std::to_string(level->allowance_) + " bytes (" +
                                               std::to_string(static_cast<int>(level->ratio_)) +
                                               ":1, at least 16 MiB; --max-ratio)");
  }
  return {};
}

void ExpansionAccount::Refund(std::uint64_t n) {
  for (ExpansionAccount* level = this; level != nullptr; level = level->parent_.get()) {
    level->used_.fetch_sub(n, std::memory_order_relaxed);
  }
}

std::uint64_t ExpansionAccount::Remaining() const {
  std::uint64_t remaining = std::numeric_limits<std::uint64_t>::max();
  for (const ExpansionAccount* level = this; level != nullptr; level = level->parent_.get()) {
    const std::uint64_t used = level->used_.load(std::memory_order_relaxed);
    remaining = std::min(remaining, used >= level->allowance_ ? 0 : level->allowance_ - used);
  }
  return remaining;
}

ChunkBudget::ChunkBudget(Budget& run, std::uint64_t input_bytes,
                         std::shared_ptr<ExpansionAccount> parent, std::string label)
    : run_(run),
      account_(std::make_shared<ExpansionAccount>(std::move(parent), input_bytes,
                                                  run.limits().max_ratio, std::move(label))),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::seconds(run.limits().handler_seconds)) {}

Result<void> ChunkBudget::ChargeOutput(std::uint64_t n) {
  CLEARBOX_TRY(CheckDeadline());
  CLEARBOX_TRY(account_->Charge(n));
  if (auto charged = run_.ChargeBytes(n); !charged) {
    account_->Refund(n);
    return charged;
  }
  output_.fetch_add(n, std::memory_order_relaxed);
  return {};
}

std::uint64_t ChunkBudget::RemainingOutput() const {
  const std::uint64_t written = run_.bytes_written();
  const std::uint64_t cap = run_.limits().max_total_bytes;
  return std::min(account_->Remaining(), written >= cap ? 0 : cap - written);
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
