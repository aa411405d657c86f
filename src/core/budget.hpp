// Limits and Budget: the caps that keep hostile input from exhausting disk, memory or time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

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

// Shared, thread-safe account of what a whole run has written against its Limits.
class Budget {
 public:
  explicit Budget(Limits limits) : limits_(limits) {}

  const Limits& limits() const { return limits_; }

  // Charges n written bytes to the run; fails with kLimitExceeded once the total is over.
  Result<void> ChargeBytes(std::uint64_t n);
  // Charges one created file, directory or link; fails once max_files is reached.
  Result<void> ChargeFile();

  std::uint64_t bytes_written() const { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t files_created() const { return files_.load(std::memory_order_relaxed); }

 private:
  Limits limits_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> files_{0};
};

// The account of one chunk's extraction: its input size, output so far and its deadline.
class ChunkBudget {
 public:
  ChunkBudget(Budget& run, std::uint64_t input_bytes);

  // Charges n output bytes: run total, expansion ratio and deadline are all checked.
  Result<void> ChargeOutput(std::uint64_t n);
  // Charges one created entry to the run.
  Result<void> ChargeEntry();
  // Fails with kTimeout once the handler's time is up; handlers call it in long loops.
  Result<void> CheckDeadline() const;

  std::uint64_t output_bytes() const { return output_.load(std::memory_order_relaxed); }
  Budget& run() { return run_; }

 private:
  Budget& run_;
  std::uint64_t input_;
  std::atomic<std::uint64_t> output_{0};  // atomic: a handler may write from several threads
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace clearbox
