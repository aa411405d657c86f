#include "inspect/accounts.hpp"

#include <crypt.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <set>

#include "core/text_lines.hpp"
#include "inspect/web_credentials.hpp"

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

// Work units (≈ CPU ns on the reference machine) of the inner step of each scheme,
// measured with crypt_rn and CLOCK_THREAD_CPUTIME_ID there; see kMaxEvaluationWork.
constexpr std::uint64_t kBcryptIterationWork = 80'000;  // one of the 2^cost key expansions
constexpr std::uint64_t kSha256RoundWork = 500;         // one SHA-crypt round
constexpr std::uint64_t kSha512RoundWork = 450;
constexpr std::uint64_t kBsdiDesIterationWork = 200;  // one of the BSDi count DES rounds
constexpr std::uint64_t kSalsaBlockWork = 220;        // scrypt BlockMix of 128 bytes (r = 1)
constexpr std::uint64_t kPwxformBlockWork = 80;       // yescrypt RW BlockMix of 128 bytes
// yescrypt_kdf maps its memory for each call: faulting in and zeroing a byte of it.
constexpr std::uint64_t kMemoryByteWork = 5;
constexpr std::uint64_t kFixedWork = 100'000;  // everything else of one call

// libxcrypt's limits (crypt-sha512.c, crypt-bcrypt.c, alg-yescrypt-opt.c).
constexpr std::uint64_t kShaCryptRoundsMin = 1000;
constexpr std::uint64_t kShaCryptRoundsMax = 999'999'999;
constexpr std::uint64_t kShaCryptRoundsDefault = 5000;
constexpr int kBcryptCostMin = 4;
constexpr int kBcryptCostMax = 31;
// yescrypt flavors libxcrypt computes: classic scrypt, WORM, and RW with its one
// pwxform setting (YESCRYPT_DEFAULTS, encoded "j").
constexpr std::uint64_t kYescryptFlavorScrypt = 0;
constexpr std::uint64_t kYescryptFlavorWorm = 1;
constexpr std::uint64_t kYescryptFlavorRw = 47;
constexpr std::uint64_t kYescryptSallocBytes = 12288 + 64;  // pwxform S-boxes per lane

std::uint64_t SatMul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? UINT64_MAX : out;
}

std::uint64_t SatAdd(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

Unexpected Malformed(std::string message) {
  return Fail(ErrorCode::kMalformed, std::move(message));
}

// scrypt-family parameters, as yescrypt_r decodes them from "$7$" or "$y$"/"$gy$".
struct ScryptParams {
  std::uint64_t flavor = kYescryptFlavorScrypt;
  std::uint64_t n_log2 = 0;
  std::uint64_t r = 0;
  std::uint64_t p = 1;
  std::uint64_t t = 0;
};

// "$7$" + N_log2 (1 char) + r (5 chars, 30 bits) + p (5 chars, 30 bits), little-endian.
Result<ScryptParams> DecodeScryptParams(std::string_view params) {
  if (params.size() < 11) return Malformed("scrypt setting too short");
  ScryptParams out;
  out.n_log2 = CryptIndex(params[0]);
  for (std::uint64_t* field : {&out.r, &out.p}) {
    const std::size_t at = field == &out.r ? 1 : 6;
    for (std::size_t i = 0; i < 5; ++i) {
      const std::uint32_t c = CryptIndex(params[at + i]);
      if (c > 63) return Malformed("scrypt parameter is not base-64");
      *field |= static_cast<std::uint64_t>(c) << (6 * i);
    }
  }
  return out;
}

// "$y$" flavor N_log2 r [have [p] [t] [g] [NROM_log2]] "$", see yescrypt_r.
Result<ScryptParams> DecodeYescryptParams(std::string_view params) {
  ScryptParams out;
  if (!DecodeYescryptUint(params, 0, &out.flavor) || !DecodeYescryptUint(params, 1, &out.n_log2) ||
      !DecodeYescryptUint(params, 1, &out.r)) {
    return Malformed("yescrypt parameters cannot be decoded");
  }
  if (!params.empty() && params.front() != '$') {
    std::uint64_t have = 0;
    if (!DecodeYescryptUint(params, 1, &have)) return Malformed("yescrypt 'have' undecodable");
    // libxcrypt ignores higher bits, but never writes them; g and NROM are refused by
    // yescrypt_kdf without a ROM, so such a setting can never verify.
    if (have > 0xf || (have & 0xc) != 0) return Malformed("yescrypt g/NROM or unknown fields");
    if ((have & 1) && !DecodeYescryptUint(params, 2, &out.p)) {
      return Malformed("yescrypt p undecodable");
    }
    if ((have & 2) && !DecodeYescryptUint(params, 1, &out.t)) {
      return Malformed("yescrypt t undecodable");
    }
  }
  if (params.empty() || params.front() != '$') return Malformed("yescrypt parameters end badly");
  return out;
}

// Cost of one yescrypt_kdf_body call (alg-yescrypt-opt.c): the ranges it refuses, the
// memory it allocates (V, B, XY and per-lane S-boxes) and the BlockMix work of smix.
Result<EvaluationCost> ScryptBodyCost(const ScryptParams& s, std::uint64_t n_log2) {
  const bool rw = s.flavor == kYescryptFlavorRw;
  if (s.flavor != kYescryptFlavorScrypt && s.flavor != kYescryptFlavorWorm && !rw) {
    return Malformed("yescrypt flavor libxcrypt does not compute");
  }
  if (s.flavor == kYescryptFlavorScrypt && s.t != 0) return Malformed("scrypt with t");
  // N is a power of two in [4, 2^32); r, p >= 1 with r * p < 2^30.
  if (n_log2 < 2 || n_log2 > 31) return Malformed("N out of range");
  if (s.r < 1 || s.p < 1 || s.r >= (1u << 30) || s.p >= (1u << 30) || s.r * s.p >= (1u << 30)) {
    return Malformed("r or p out of range");
  }
  const std::uint64_t n = 1ULL << n_log2;
  if (rw && n / s.p <= 3) return Malformed("p too large for N");
  EvaluationCost cost;
  cost.memory_bytes = SatAdd(SatAdd(SatMul(128 * s.r, n), SatMul(128 * s.r, s.p)), 256 * s.r);
  if (rw) cost.memory_bytes = SatAdd(cost.memory_bytes, SatMul(kYescryptSallocBytes, s.p));
  // BlockMix counts (each over 128 * r bytes): smix1 fills N blocks; smix2 reads back
  // Nloop of them. Classic/WORM run all p lanes over the whole N, one after another
  // (libxcrypt is built without OpenMP); RW splits N between its lanes.
  std::uint64_t blocks = 0;
  if (rw) {
    std::uint64_t nloop = 0;  // total over the lanes
    if (s.t == 0) {
      nloop = (n + 2) / 3;
    } else if (s.t == 1) {
      nloop = (2 * n + 2) / 3;
    } else {
      nloop = SatMul(n, s.t - 1);
    }
    blocks = SatMul(SatAdd(n, nloop), s.r);
  } else {
    std::uint64_t nloop = n;
    if (s.t == 1) {
      nloop = n + (n + 1) / 2;
    } else if (s.t > 1) {
      nloop = SatMul(n, s.t);
    }
    blocks = SatMul(SatMul(SatAdd(n, nloop), s.r), s.p);
  }
  // PBKDF2-SHA256 fills B (128 * r * p bytes) and hashes it back: a few blocks' worth each.
  blocks = SatAdd(blocks, SatMul(4 * s.r, s.p));
  cost.work = SatAdd(SatMul(blocks, rw ? kPwxformBlockWork : kSalsaBlockWork),
                     SatMul(cost.memory_bytes, kMemoryByteWork));
  // RW fills each lane's S-boxes with a plain (salsa) smix1 of 12 KiB.
  if (rw) cost.work = SatAdd(cost.work, SatMul(SatMul(s.p, 12288 / 128), kSalsaBlockWork));
  return cost;
}

Result<EvaluationCost> ScryptFamilyCost(const ScryptParams& s) {
  auto body = ScryptBodyCost(s, s.n_log2);
  if (!body) return body;
  const std::uint64_t n = 1ULL << s.n_log2;
  // yescrypt_kdf pre-hashes RW with N / 64 and t = 0 when N / p and N / p * r are large.
  if (s.flavor == kYescryptFlavorRw && n / s.p >= 0x100 && n / s.p * s.r >= 0x20000) {
    ScryptParams pre = s;
    pre.t = 0;
    auto pre_cost = ScryptBodyCost(pre, s.n_log2 - 6);
    if (!pre_cost) return pre_cost;
    body->work = SatAdd(body->work, pre_cost->work);
  }
  body->work = SatAdd(body->work, kFixedWork);
  return body;
}

Result<EvaluationCost> BcryptCost(std::string_view hash) {
  // "$2b$NN$": two decimal digits, 04..31, as BF_crypt accepts them.
  if (hash.size() < 7 || hash[6] != '$') return Malformed("bcrypt setting too short");
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') {
    return Malformed("bcrypt cost is not two digits");
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < kBcryptCostMin || cost > kBcryptCostMax) return Malformed("bcrypt cost out of range");
  return EvaluationCost{SatAdd(SatMul(kBcryptIterationWork, 1ULL << cost), kFixedWork), 4096};
}

Result<EvaluationCost> ShaCryptCost(std::string_view hash, std::uint64_t round_work) {
  static constexpr std::string_view kRounds = "rounds=";
  std::string_view rest = hash.substr(3);
  std::uint64_t rounds = kShaCryptRoundsDefault;
  if (rest.starts_with(kRounds)) {
    // As crypt-sha512.c: decimal without leading zeros, then '$', within [1000, 999999999].
    rest.remove_prefix(kRounds.size());
    if (rest.empty() || rest.front() < '1' || rest.front() > '9') {
      return Malformed("SHA-crypt rounds malformed");
    }
    const auto r = std::from_chars(rest.data(), rest.data() + rest.size(), rounds);
    if (r.ec != std::errc() || r.ptr == rest.data() + rest.size() || *r.ptr != '$') {
      return Malformed("SHA-crypt rounds malformed");
    }
    if (rounds < kShaCryptRoundsMin || rounds > kShaCryptRoundsMax) {
      return Malformed("SHA-crypt rounds out of range");
    }
  }
  return EvaluationCost{SatAdd(SatMul(rounds, round_work), kFixedWork), 4096};
}

// "_" + 4 characters of 24-bit iteration count (little-endian) + 4 of salt.
Result<EvaluationCost> BsdiCryptCost(std::string_view hash) {
  if (hash.size() < 9) return Malformed("BSDi setting too short");
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const std::uint32_t c = CryptIndex(hash[1 + i]);
    if (c > 63) return Malformed("BSDi count is not base-64");
    count |= static_cast<std::uint64_t>(c) << (6 * i);
  }
  // des_crypt_block runs a count of 0 as 1.
  return EvaluationCost{
      SatAdd(SatMul(std::max<std::uint64_t>(count, 1), kBsdiDesIterationWork), kFixedWork), 4096};
}

}  // namespace

std::vector<AccountEntry> ParseAccountFile(std::string_view text, AccountFileKind kind) {
  std::vector<AccountEntry> out;
  LineReader lines(text);
  while (out.size() < kMaxAccountsPerFile) {
    const auto next = lines.Next();
    if (!next) break;
    const std::string_view line = next->text;
    const std::uint64_t offset = next->offset;
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
      {"$3$", "nt"},       {"$apr1$", "apr1-md5"},  {"{SHA}", "sha1-base64"},
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
         scheme == "apr1-md5" || scheme == "nt" || scheme == "sunmd5" || scheme == "sha1-base64" ||
         scheme == "htdigest-md5";
}

bool IsSlowScheme(std::string_view scheme) {
  return scheme == "bcrypt" || scheme == "yescrypt" || scheme == "gost-yescrypt" ||
         scheme == "scrypt";
}

Result<EvaluationCost> EstimateEvaluationCost(std::string_view hash, std::string_view scheme) {
  std::string classified;
  if (ClassifyPasswordField(hash, &classified) != HashState::kHash || classified != scheme) {
    return Fail(ErrorCode::kInvalidArgument, "not a " + std::string(scheme) + " hash");
  }
  if (scheme == "bcrypt") return BcryptCost(hash);
  if (scheme == "sha256crypt") return ShaCryptCost(hash, kSha256RoundWork);
  if (scheme == "sha512crypt") return ShaCryptCost(hash, kSha512RoundWork);
  if (scheme == "yescrypt" || scheme == "gost-yescrypt") {
    auto params = DecodeYescryptParams(hash.substr(scheme == "yescrypt" ? 3 : 4));
    if (!params) return Forward(params);
    return ScryptFamilyCost(*params);
  }
  if (scheme == "scrypt") {
    auto params = DecodeScryptParams(hash.substr(3));
    if (!params) return Forward(params);
    return ScryptFamilyCost(*params);
  }
  if (scheme == "bsdicrypt") return BsdiCryptCost(hash);
  if (scheme == "sha1crypt" || scheme == "sunmd5") {
    return Fail(ErrorCode::kUnsupported, std::string(scheme) + " cost is not parsed");
  }
  // descrypt (25 DES), md5crypt/apr1 (1000 MD5), nt (one MD4): fixed and cheap.
  return EvaluationCost{kFixedWork, 4096};
}

bool CostIsCrackable(std::string_view hash, std::string_view scheme) {
  const auto cost = EstimateEvaluationCost(hash, scheme);
  return cost && cost->work <= kMaxEvaluationWork && cost->memory_bytes <= kMaxMemoryHardBytes;
}

CrackResult CrackHash(std::string_view user, std::string_view hash, std::string_view scheme,
                      const std::vector<Credential>& credentials, std::size_t max_slow_attempts,
                      CrackBudget& budget, std::string_view realm) {
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
  if (scheme == "apr1-md5" || scheme == "sha1-base64" || scheme == "htdigest-md5" ||
      scheme == "plaintext") {
    // Web-server schemes libcrypt lacks, computed with OpenSSL: each is at most 1000 MD5
    // blocks, so only the file deadline is checked.
    for (const std::string& candidate : candidates) {
      if (std::chrono::steady_clock::now() >= budget.file_deadline) {
        result.stopped_by_time = true;
        break;
      }
      std::string computed;
      if (scheme == "apr1-md5") {
        computed = Apr1Crypt(candidate, hash);
      } else if (scheme == "sha1-base64") {
        computed = HtpasswdSha1(candidate);
      } else if (scheme == "htdigest-md5") {
        computed = HtdigestHash(user, realm, candidate);
      } else {
        computed = candidate;
      }
      ++result.tried;
      if (computed.empty() && scheme != "plaintext") {
        result.unsupported = true;
        break;
      }
      const bool match =
          scheme == "htdigest-md5"
              ? std::equal(computed.begin(), computed.end(), hash.begin(), hash.end(),
                           [](char a, char b) {
                             return std::tolower(static_cast<unsigned char>(a)) ==
                                    std::tolower(static_cast<unsigned char>(b));
                           })
              : computed == hash;
      if (match) {
        result.cracked = true;
        result.password = candidate;
        break;
      }
    }
    return result;
  }
  // The deadline cannot reach inside crypt_rn, so a hash is only tried when one evaluation
  // is estimated within kMaxEvaluationWork, and an attempt only starts when the longest one
  // so far (at first the estimate) still fits the file and scan budgets. A deadline is
  // thus overrun by less than one evaluation of at most kMaxEvaluationWork.
  const auto cost = EstimateEvaluationCost(hash, scheme);
  if (!cost || cost->work > kMaxEvaluationWork || cost->memory_bytes > kMaxMemoryHardBytes) {
    result.skipped_cost = true;
    return result;
  }
  const std::string setting(hash);
  const std::size_t limit =
      IsSlowScheme(scheme) ? std::min(max_slow_attempts, candidates.size()) : candidates.size();
  auto data = std::make_unique<crypt_data>();
  auto longest = std::chrono::microseconds(static_cast<std::int64_t>(cost->work / 1000));
  for (std::size_t i = 0; i < limit; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const bool file_left = start + longest < budget.file_deadline;
    const bool scan_left =
        !budget.scan_remaining_us || budget.scan_remaining_us->load() > longest.count();
    if (!file_left || !scan_left) {
      result.stopped_by_time = true;
      break;
    }
    const char* out =
        crypt_rn(candidates[i].c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
    ++result.tried;
    const auto spent = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    longest = std::max(longest, spent);
    if (budget.scan_remaining_us) budget.scan_remaining_us->fetch_sub(spent.count());
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
