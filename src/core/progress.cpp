#include "core/progress.hpp"

#include <chrono>
#include <cstdio>

namespace clearbox {

Progress::Progress(bool enabled) : enabled_(enabled) {
  if (enabled_) printer_ = std::thread([this] { PrinterLoop(); });
}

Progress::~Progress() {
  Stop();
}

void Progress::SetCurrent(const std::string& what) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  current_ = what;
}

void Progress::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  stop_cv_.notify_all();
  if (printer_.joinable()) {
    printer_.join();
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

void Progress::PrinterLoop() {
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    const double mib = static_cast<double>(bytes_.load()) / (1024.0 * 1024.0);
    std::fprintf(stderr, "\r\033[Kunpacking: %.1f MiB written, %llu files, %s", mib,
                 static_cast<unsigned long long>(files_.load()), current_.c_str());
    std::fflush(stderr);
    stop_cv_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

}  // namespace clearbox
