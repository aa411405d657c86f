// Limits and Budget: the caps that keep hostile input from exhausting disk, memory or time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"

namespace clearbox {

// Every limit of an unpack run; each default is a named constant with a CLI override.
struct Limits {
  static constexpr std::uint32_t kDefaultMaxDepth = 32;
  static constexpr std::uint64_t kDefaultMaxTotalBytes = 16ULL << 30;  // 16 GiB written
  static constexpr std::uint64_t kDefaultMaxFiles = 1'000'000;
  static constexpr double kDefaultMaxRatio = 250.0;  // output bytes per input byte, per chunk
  static constexpr std::uint64_t kRatioFloorBytes = 16ULL << 20;  // ratio checked above 16 MiB
  static constexpr std::uint32_t kDefaultHandlerSeconds = 600;

  std::uint32_t max_depth = kDefaultMaxDepth;
  std::uint64_t max_total_bytes = kDefaultMaxTotalBytes;
  std::uint64_t max_files = kDefaultMaxFiles;
  double max_ratio = kDefaultMaxRatio;
  std::uint32_t handler_seconds = kDefaultHandlerSeconds;
};

// Shared, thread-safe account of what a whole run has written against its Limits. A charge
// that fails is not counted: a refused request never spoils the budget for later writes.
class Budget {
 public:
  explicit Budget(Limits limits) : limits_(limits) {}

  const Limits& limits() const { return limits_; }

  // Charges n written bytes to the run; fails with kLimitExceeded (charging nothing) when
  // the total would pass max_total_bytes. Overflow-safe for any n.
  Result<void> ChargeBytes(std::uint64_t n);
  // Returns n bytes charged earlier (a charge undone because another account refused it).
  void RefundBytes(std::uint64_t n);
  // Charges one created file, directory or link; fails (charging nothing) at max_files.
  Result<void> ChargeFile();

  std::uint64_t bytes_written() const { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t files_created() const { return files_.load(std::memory_order_relaxed); }

 private:
  Limits limits_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> files_{0};
};

// The output allowance of one input and of everything unpacked from it, at any depth:
// max(kRatioFloorBytes, max_ratio * input bytes). Accounts form a tree that follows the
// unpacking (image -> chunk -> extracted file -> chunk ...), and a charge must fit every
// account up to the image, so a bomb of any shape (wide, or nested zips of zips) stops once
// its own top-most container's allowance is spent, while its siblings keep theirs.
class ExpansionAccount {
 public:
  // `parent` may be null (the image). `label` names the input in messages.
  ExpansionAccount(std::shared_ptr<ExpansionAccount> parent, std::uint64_t input_bytes,
                   double max_ratio, std::string label);

  // Charges n bytes here and to every ancestor, all or nothing; kLimitExceeded names the
  // account that refused. Overflow-safe for any n.
  Result<void> Charge(std::uint64_t n);
  // Returns n bytes charged earlier here and to every ancestor.
  void Refund(std::uint64_t n);
  // Bytes this account (and each ancestor) could still take.
  std::uint64_t Remaining() const;

  std::uint64_t allowance() const { return allowance_; }
  std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  const std::shared_ptr<ExpansionAccount>& parent() const { return parent_; }

 private:
  bool TryAdd(std::uint64_t n);

  std::shared_ptr<ExpansionAccount> parent_;
  std::uint64_t input_;
  std::uint64_t allowance_;
  double ratio_;
  std::string label_;
  std::atomic<std::uint64_t> used_{0};
};

// The account of one chunk's extraction: its input size, output so far and its deadline.
// Output is charged to the chunk's own ExpansionAccount (child of `parent`, the account of
// the file the chunk was found in, if any) and to the run.
class ChunkBudget {
 public:
  ChunkBudget(Budget& run, std::uint64_t input_bytes,
              std::shared_ptr<ExpansionAccount> parent = nullptr, std::string label = "chunk");

  // Charges n output bytes: deadline, expansion allowances and run total are all checked;
  // on failure nothing is charged.
  Result<void> ChargeOutput(std::uint64_t n);
  // Bytes that ChargeOutput would still accept (the tightest allowance or run total).
  std::uint64_t RemainingOutput() const;
  // Charges one created entry to the run.
  Result<void> ChargeEntry();
  // Fails with kTimeout once the handler's time is up; handlers call it in long loops.
  Result<void> CheckDeadline() const;

  std::uint64_t output_bytes() const { return output_.load(std::memory_order_relaxed); }
  Budget& run() { return run_; }
  // The chunk's expansion account: the parent of the accounts of the files it produced.
  const std::shared_ptr<ExpansionAccount>& account() const { return account_; }

 private:
  Budget& run_;
  std::shared_ptr<ExpansionAccount> account_;
  std::atomic<std::uint64_t> output_{0};  // atomic: a handler may write from several threads
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace clearbox
