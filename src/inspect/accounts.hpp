// Accounts: shadow/passwd-style files, password hash schemes, and cracking hashes against
// the default-credential list with libcrypt, under attempt and time limits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "inspect/rules.hpp"

namespace clearbox::inspect {

// Accounts read from one file, at most.
inline constexpr std::size_t kMaxAccountsPerFile = 4096;
// Longest account line considered.
inline constexpr std::size_t kMaxAccountLineBytes = 4096;
// Hash settings whose single evaluation could take too long are not cracked at all. Every
// cost parameter counts (bcrypt cost; SHA-crypt rounds; BSDi DES count; scrypt N, r, p;
// yescrypt flavor, N, r, p, t): EstimateEvaluationCost turns them into work units, about a
// nanosecond of CPU time each on the reference machine (measured within 0.6x-1.2x), and
// memory. One evaluation may use at most kMaxEvaluationWork (a default yescrypt "$y$j9T$" is
// about 0.1 s, bcrypt cost 11 about 0.16 s); as crypt_rn cannot be interrupted, this also
// bounds how far one attempt can overrun a crack deadline.
inline constexpr std::uint64_t kMaxEvaluationWork = 250'000'000;   // ≈ 0.25 s of CPU
inline constexpr std::uint64_t kMaxMemoryHardBytes = 64ULL << 20;  // yescrypt/scrypt memory

// What an account file is.
enum class AccountFileKind : std::uint8_t { kShadow, kPasswd };

// One line of a shadow/passwd-style file.
struct AccountEntry {
  std::string user;
  std::string hash;   // the password field as stored
  std::string uid;    // passwd only
  std::string shell;  // passwd only
  std::string realm;  // htdigest only
  std::uint64_t offset = 0;
};

// Parses "user:field:..." lines; comment and malformed lines are skipped.
std::vector<AccountEntry> ParseAccountFile(std::string_view text, AccountFileKind kind);

// What a password field holds.
enum class HashState : std::uint8_t {
  kEmpty,      // no password at all: login without one
  kLocked,     // "*", "!", "!!", "x" or "!"-prefixed: no password login
  kHash,       // a crypt(3) or web-server hash
  kUnknown,    // something else
  kPlaintext,  // a password in clear (web credential files only; scheme "plaintext")
};

// Classifies a password field; `scheme` receives the scheme name for kHash
// ("descrypt", "md5crypt", "sha256crypt", "sha512crypt", "bcrypt", "yescrypt", ...).
HashState ClassifyPasswordField(std::string_view field, std::string* scheme);

// True for schemes that are weak by design (DES, BSDi DES, MD5, NT, SunMD5).
bool IsWeakScheme(std::string_view scheme);

// True for schemes where one evaluation is deliberately slow (bcrypt, yescrypt, scrypt).
bool IsSlowScheme(std::string_view scheme);

// What one crypt evaluation of a hash setting is estimated to cost.
struct EvaluationCost {
  std::uint64_t work = 0;          // ≈ CPU ns on the reference machine; saturates
  std::uint64_t memory_bytes = 0;  // what libcrypt allocates for it
};

// Estimates one evaluation of `hash` (of `scheme`, from ClassifyPasswordField) from all its
// cost parameters, decoded as libxcrypt decodes them. Errors: kInvalidArgument when `hash`
// is not of `scheme`; kMalformed when the setting cannot be decoded or a parameter is outside
// what libxcrypt computes (refused, never tried); kUnsupported when the scheme's cost is not
// parsed (sha1crypt, sunmd5).
[[nodiscard]] Result<EvaluationCost> EstimateEvaluationCost(std::string_view hash,
                                                            std::string_view scheme);

// False when the hash's cost parameters are invalid or make even one evaluation exceed
// kMaxEvaluationWork or kMaxMemoryHardBytes.
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

// Also computes, with OpenSSL, the web-server schemes libcrypt lacks: "apr1-md5" ($apr1$),
// "sha1-base64" ({SHA}), "htdigest-md5" (needs `realm`), and compares "plaintext" directly.
// Tries the default credentials that apply to `user` (its own pairs first, then the user
// name itself, then the generic passwords), at most `max_slow_attempts` for slow schemes.
// A hash failing CostIsCrackable is not tried (skipped_cost); an attempt only starts while
// the longest one so far (at first the estimate) fits the budget (else stopped_by_time).
CrackResult CrackHash(std::string_view user, std::string_view hash, std::string_view scheme,
                      const std::vector<Credential>& credentials, std::size_t max_slow_attempts,
                      CrackBudget& budget, std::string_view realm = {});

}  // namespace clearbox::inspect
