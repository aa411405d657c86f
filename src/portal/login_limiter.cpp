#include "portal/login_limiter.hpp"

#include <algorithm>

namespace clearbox::portal {
namespace {

std::string AccountKey(std::string_view account) {
  return "a:" + std::string(account);
}
std::string AddressKey(std::string_view address) {
  return "i:" + std::string(address);
}

}  // namespace

bool LoginLimiter::Exhausted(const std::string& key, int limit, Clock::time_point now) const {
  auto it = windows_.find(key);
  if (it == windows_.end() || now - it->second.start >= kLoginFailureWindow) return false;
  return it->second.failures >= limit;
}

bool LoginLimiter::Allowed(std::string_view account, std::string_view address,
                           Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return !Exhausted(AccountKey(account), kMaxLoginFailuresPerAccount, now) &&
         !Exhausted(AddressKey(address), kMaxLoginFailuresPerAddress, now);
}

void LoginLimiter::Count(const std::string& key, Clock::time_point now) {
  auto it = windows_.find(key);
  if (it != windows_.end() && now - it->second.start < kLoginFailureWindow) {
    ++it->second.failures;
    return;
  }
  if (it == windows_.end() && windows_.size() >= kMaxTrackedLoginKeys) {
    std::erase_if(windows_, [now](const auto& entry) {
      return now - entry.second.start >= kLoginFailureWindow;
    });
    if (windows_.size() >= kMaxTrackedLoginKeys) {
      // Still full of live windows (a spray over many names): drop the oldest one.
      auto oldest = std::min_element(
          windows_.begin(), windows_.end(),
          [](const auto& a, const auto& b) { return a.second.start < b.second.start; });
      windows_.erase(oldest);
    }
  }
  windows_[key] = Window{now, 1};
}

void LoginLimiter::RecordFailure(std::string_view account, std::string_view address,
                                 Clock::time_point now) {
  std::lock_guard lock(mutex_);
  Count(AccountKey(account), now);
  Count(AddressKey(address), now);
}

void LoginLimiter::RecordSuccess(std::string_view account) {
  std::lock_guard lock(mutex_);
  windows_.erase(AccountKey(account));
}

}  // namespace clearbox::portal
