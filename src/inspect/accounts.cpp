#include "inspect/accounts.hpp"

#include <crypt.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <set>

namespace clearbox::inspect {
namespace {

std::vector<std::string_view> SplitFields(std::string_view line, std::size_t max_fields) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (fields.size() + 1 < max_fields) {
    const std::size_t colon = line.find(':', pos);
    if (colon == std::string_view::npos) break;
    fields.push_back(line.substr(pos, colon - pos));
    pos = colon + 1;
  }
  fields.push_back(line.substr(pos));
  return fields;
}

bool PlausibleUser(std::string_view user) {
  if (user.empty() || user.size() > 256) return false;
  return std::all_of(user.begin(), user.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

bool IsCryptChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

// Index of a crypt base-64 character ("./0-9A-Za-z"), or 64.
std::uint32_t CryptIndex(char c) {
  if (c == '.') return 0;
  if (c == '/') return 1;
  if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0') + 2;
  if (c >= 'A' && c <= 'Z') return static_cast<std::uint32_t>(c - 'A') + 12;
  if (c >= 'a' && c <= 'z') return static_cast<std::uint32_t>(c - 'a') + 38;
  return 64;
}

// yescrypt's variable-length unsigned integer encoding (first character selects the width).
bool DecodeYescryptUint(std::string_view& s, std::uint32_t min, std::uint64_t* out) {
  if (s.empty()) return false;
  std::uint32_t c = CryptIndex(s.front());
  s.remove_prefix(1);
  if (c > 63) return false;
  std::uint64_t value = min;
  std::uint32_t start = 0, end = 47, chars = 1, bits = 0;
  while (c > end) {
    value += static_cast<std::uint64_t>(end + 1 - start) << bits;
    start = end + 1;
    end = start + (62 - end) / 2;
    ++chars;
    bits += 6;
  }
  value += static_cast<std::uint64_t>(c - start) << bits;
  while (--chars) {
    if (s.empty()) return false;
    c = CryptIndex(s.front());
    s.remove_prefix(1);
    if (c > 63) return false;
    bits -= 6;
    value += static_cast<std::uint64_t>(c) << bits;
  }
  *out = value;
  return true;
}

// Memory one yescrypt evaluation needs (128 * r * N), or UINT64_MAX when unknown.
std::uint64_t YescryptMemory(std::string_view params) {
  std::uint64_t flavor = 0, n_log2 = 0, r = 0;
  if (!DecodeYescryptUint(params, 0, &flavor) || !DecodeYescryptUint(params, 1, &n_log2) ||
      !DecodeYescryptUint(params, 1, &r)) {
    return UINT64_MAX;
  }
  if (n_log2 > 40 || r > (1u << 20)) return UINT64_MAX;
  return (128ULL * r) << n_log2;
}

// Memory one scrypt ($7$) evaluation needs, or UINT64_MAX when unknown.
std::uint64_t ScryptMemory(std::string_view params) {
  if (params.size() < 11) return UINT64_MAX;
  const std::uint32_t n_log2 = CryptIndex(params[0]);
  std::uint64_t r = 0;
  for (int i = 0; i < 5; ++i) {
    const std::uint32_t c = CryptIndex(params[static_cast<std::size_t>(1 + i)]);
    if (c > 63) return UINT64_MAX;
    r |= static_cast<std::uint64_t>(c) << (6 * i);
  }
  if (n_log2 > 40 || r > (1u << 20)) return UINT64_MAX;
  return (128ULL * r) << n_log2;
}

}  // namespace

std::vector<AccountEntry> ParseAccountFile(std::string_view text, AccountFileKind kind) {
  std::vector<AccountEntry> out;
  std::size_t pos = 0;
  while (pos < text.size() && out.size() < kMaxAccountsPerFile) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    const std::uint64_t offset = pos;
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.size() > kMaxAccountLineBytes || line.front() == '#' ||
        line.front() == '+' || line.front() == '-') {
      continue;
    }
    const auto fields = SplitFields(line, 9);
    if (fields.size() < 2 || !PlausibleUser(fields[0])) continue;
    if (kind == AccountFileKind::kPasswd && fields.size() < 7) continue;
    AccountEntry entry;
    entry.user = std::string(fields[0]);
    entry.hash = std::string(fields[1]);
    if (kind == AccountFileKind::kPasswd) {
      entry.uid = std::string(fields[2]);
      entry.shell = std::string(fields[6]);
    }
    entry.offset = offset;
    out.push_back(std::move(entry));
  }
  return out;
}

HashState ClassifyPasswordField(std::string_view field, std::string* scheme) {
  scheme->clear();
  if (field.empty()) return HashState::kEmpty;
  if (field.front() == '!' || field.front() == '*' || field == "x" || field == "LK" ||
      field == "NP") {
    return HashState::kLocked;
  }
  struct Prefix {
    std::string_view prefix, name;
  };
  static constexpr Prefix kPrefixes[] = {
      {"$1$", "md5crypt"}, {"$5$", "sha256crypt"},  {"$6$", "sha512crypt"},
      {"$2a$", "bcrypt"},  {"$2b$", "bcrypt"},      {"$2y$", "bcrypt"},
      {"$2x$", "bcrypt"},  {"$y$", "yescrypt"},     {"$gy$", "gost-yescrypt"},
      {"$7$", "scrypt"},   {"$sha1$", "sha1crypt"}, {"$md5", "sunmd5"},
      {"$3$", "nt"},       {"$apr1$", "apr1-md5"},
  };
  for (const Prefix& p : kPrefixes) {
    if (field.starts_with(p.prefix)) {
      *scheme = p.name;
      return HashState::kHash;
    }
  }
  if (field.size() == 13 && std::all_of(field.begin(), field.end(), IsCryptChar)) {
    *scheme = "descrypt";
    return HashState::kHash;
  }
  if (field.size() == 20 && field.front() == '_' &&
      std::all_of(field.begin() + 1, field.end(), IsCryptChar)) {
    *scheme = "bsdicrypt";
    return HashState::kHash;
  }
  return HashState::kUnknown;
}

bool IsWeakScheme(std::string_view scheme) {
  return scheme == "descrypt" || scheme == "bsdicrypt" || scheme == "md5crypt" ||
         scheme == "apr1-md5" || scheme == "nt" || scheme == "sunmd5";
}

bool IsSlowScheme(std::string_view scheme) {
  return scheme == "bcrypt" || scheme == "yescrypt" || scheme == "gost-yescrypt" ||
         scheme == "scrypt";
}

bool CostIsCrackable(std::string_view hash, std::string_view scheme) {
  if (scheme == "bcrypt") {
    if (hash.size() < 7 || hash[6] != '$') return false;
    int cost = 0;
    const auto r = std::from_chars(hash.data() + 4, hash.data() + 6, cost);
    return r.ec == std::errc() && r.ptr == hash.data() + 6 && cost <= kMaxBcryptCost;
  }
  if (scheme == "sha256crypt" || scheme == "sha512crypt") {
    static constexpr std::string_view kRounds = "rounds=";
    std::string_view rest = hash.substr(3);
    if (!rest.starts_with(kRounds)) return true;  // default 5000
    rest.remove_prefix(kRounds.size());
    std::uint64_t rounds = 0;
    const auto r = std::from_chars(rest.data(), rest.data() + rest.size(), rounds);
    return r.ec == std::errc() && rounds <= kMaxShaCryptRounds;
  }
  if (scheme == "yescrypt" || scheme == "gost-yescrypt") {
    const std::size_t prefix = scheme == "yescrypt" ? 3 : 4;
    return YescryptMemory(hash.substr(prefix)) <= kMaxMemoryHardBytes;
  }
  if (scheme == "scrypt") return ScryptMemory(hash.substr(3)) <= kMaxMemoryHardBytes;
  if (scheme == "sha1crypt" || scheme == "sunmd5") return false;  // cost not parsed: skip
  return true;
}

CrackResult CrackHash(std::string_view user, std::string_view hash, std::string_view scheme,
                      const std::vector<Credential>& credentials, std::size_t max_slow_attempts,
                      CrackBudget& budget) {
  CrackResult result;
  std::vector<std::string> candidates;
  std::set<std::string, std::less<>> seen;
  auto add = [&](std::string_view password) {
    if (seen.insert(std::string(password)).second) candidates.emplace_back(password);
  };
  for (const Credential& c : credentials) {
    if (c.user == user) add(c.password);
  }
  add(user);
  for (const Credential& c : credentials) {
    if (c.user.empty()) add(c.password);
  }
  result.candidates = candidates.size();
  if (!CostIsCrackable(hash, scheme)) {
    result.skipped_cost = true;
    return result;
  }
  const std::string setting(hash);
  const std::size_t limit =
      IsSlowScheme(scheme) ? std::min(max_slow_attempts, candidates.size()) : candidates.size();
  auto data = std::make_unique<crypt_data>();
  for (std::size_t i = 0; i < limit; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (start >= budget.file_deadline ||
        (budget.scan_remaining_us && budget.scan_remaining_us->load() <= 0)) {
      result.stopped_by_time = true;
      break;
    }
    const char* out =
        crypt_rn(candidates[i].c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
    ++result.tried;
    if (budget.scan_remaining_us) {
      const auto spent = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
      budget.scan_remaining_us->fetch_sub(spent);
    }
    if (!out) {  // scheme unsupported by this libcrypt, or a malformed setting
      result.unsupported = true;
      break;
    }
    if (hash == out) {
      result.cracked = true;
      result.password = candidates[i];
      break;
    }
  }
  return result;
}

}  // namespace clearbox::inspect
