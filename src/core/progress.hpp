// Progress: a one-line status on a terminal (bytes, files, current format); silent otherwise.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace clearbox {

class Progress {
 public:
  // Starts printing to stderr every 200 ms when `enabled` (callers pass isatty(2)).
  explicit Progress(bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void AddBytes(std::uint64_t n) { bytes_.fetch_add(n, std::memory_order_relaxed); }
  void AddFiles(std::uint64_t n) { files_.fetch_add(n, std::memory_order_relaxed); }
  // Names the format being extracted now.
  void SetCurrent(const std::string& what);
  // Stops the printer and clears the line.
  void Stop();

 private:
  void PrinterLoop();

  bool enabled_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> files_{0};
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  std::string current_;
  bool stopped_ = false;
  std::thread printer_;
};

}  // namespace clearbox
