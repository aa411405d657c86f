// Accounts: shadow/passwd-style files, password hash schemes, and cracking hashes against
// the default-credential list with libcrypt, under attempt and time limits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/rules.hpp"

namespace clearbox::inspect {

// Accounts read from one file, at most.
inline constexpr std::size_t kMaxAccountsPerFile = 4096;
// Longest account line considered.
inline constexpr std::size_t kMaxAccountLineBytes = 4096;
// Hash settings whose single evaluation could take too long are not cracked at all:
inline constexpr int kMaxBcryptCost = 12;                          // $2b$NN$
inline constexpr std::uint64_t kMaxShaCryptRounds = 200000;        // $5$/$6$ rounds=
inline constexpr std::uint64_t kMaxMemoryHardBytes = 64ULL << 20;  // yescrypt/scrypt 128*r*N

// What an account file is.
enum class AccountFileKind : std::uint8_t { kShadow, kPasswd };

// One line of a shadow/passwd-style file.
struct AccountEntry {
  std::string user;
  std::string hash;   // the password field as stored
  std::string uid;    // passwd only
  std::string shell;  // passwd only
  std::uint64_t offset = 0;
};

// Parses "user:field:..." lines; comment and malformed lines are skipped.
std::vector<AccountEntry> ParseAccountFile(std::string_view text, AccountFileKind kind);

// What a password field holds.
enum class HashState : std::uint8_t {
  kEmpty,    // no password at all: login without one
  kLocked,   // "*", "!", "!!", "x" or "!"-prefixed: no password login
  kHash,     // a crypt(3) hash
  kUnknown,  // something else
};

// Classifies a password field; `scheme` receives the scheme name for kHash
// ("descrypt", "md5crypt", "sha256crypt", "sha512crypt", "bcrypt", "yescrypt", ...).
HashState ClassifyPasswordField(std::string_view field, std::string* scheme);

// True for schemes that are weak by design (DES, BSDi DES, MD5, NT, SunMD5).
bool IsWeakScheme(std::string_view scheme);

// True for schemes where one evaluation is deliberately slow (bcrypt, yescrypt, scrypt).
bool IsSlowScheme(std::string_view scheme);

// False when the hash's cost parameters make even one evaluation too slow to try.
bool CostIsCrackable(std::string_view hash, std::string_view scheme);

// Outcome of cracking one hash.
struct CrackResult {
  bool cracked = false;
  std::string password;
  std::size_t tried = 0;
  std::size_t candidates = 0;
  bool stopped_by_time = false;
  bool skipped_cost = false;
  bool unsupported = false;  // this libcrypt cannot compute the scheme
};

// The time each crack may use: a per-file deadline and a scan-wide budget shared by threads.
struct CrackBudget {
  std::chrono::steady_clock::time_point file_deadline;
  std::atomic<std::int64_t>* scan_remaining_us = nullptr;  // shared; decremented per attempt
};

// Tries the default credentials that apply to `user` (its own pairs first, then the user
// name itself, then the generic passwords), at most `max_slow_attempts` for slow schemes.
CrackResult CrackHash(std::string_view user, std::string_view hash, std::string_view scheme,
                      const std::vector<Credential>& credentials, std::size_t max_slow_attempts,
                      CrackBudget& budget);

}  // namespace clearbox::inspect
