// Login rate limiting: failed logins are counted per account name and per client address in
// fixed windows; past the limit, logins for that account or from that address are refused
// (even with the right password) until the window ends. In memory, per server process.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace clearbox::portal {

// Failed logins allowed per account name in one window.
inline constexpr int kMaxLoginFailuresPerAccount = 5;
// Failed logins allowed per client address in one window (several people behind one NAT).
inline constexpr int kMaxLoginFailuresPerAddress = 20;
// Length of a counting window.
inline constexpr std::chrono::seconds kLoginFailureWindow{15 * 60};
// Accounts plus addresses tracked at most; the oldest windows are dropped first.
inline constexpr std::size_t kMaxTrackedLoginKeys = 10'000;

// Counts failures; safe to use from several threads.
class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // False while `account` or `address` has used up its failures in the current window.
  bool Allowed(std::string_view account, std::string_view address, Clock::time_point now);
  // Counts one failed login against both.
  void RecordFailure(std::string_view account, std::string_view address, Clock::time_point now);
  // A successful login clears the account's count (not the address's).
  void RecordSuccess(std::string_view account);

 private:
  struct Window {
    Clock::time_point start;
    int failures = 0;
  };
  bool Exhausted(const std::string& key, int limit, Clock::time_point now) const;
  void Count(const std::string& key, Clock::time_point now);

  std::mutex mutex_;
  std::map<std::string, Window> windows_;  // "a:" + account, "i:" + address
};

}  // namespace clearbox::portal
