// libFuzzer target for the account-file and hash-parameter parsers of src/inspect/accounts:
// every line is parsed as shadow and passwd, classified, and its cost estimated; the input is
// also estimated as a setting of every scheme. A setting the estimate accepts is evaluated
// once with crypt_rn, so an estimate that misses a parameter shows up as a libFuzzer
// timeout (run with -timeout=3; kMaxEvaluationWork is about 0.25 s) or an out-of-memory.
#include <crypt.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "inspect/accounts.hpp"

namespace {

constexpr std::string_view kSchemes[] = {
    "bcrypt", "sha256crypt", "sha512crypt", "yescrypt", "gost-yescrypt",
    "scrypt", "bsdicrypt",   "descrypt",    "md5crypt", "sha1crypt",
    "sunmd5", "nt",          "apr1-md5",
};

void Check(std::string_view hash, std::string_view scheme) {
  using namespace clearbox::inspect;
  const auto cost = EstimateEvaluationCost(hash, scheme);
  const bool crackable = CostIsCrackable(hash, scheme);
  if (crackable !=
      (cost && cost->work <= kMaxEvaluationWork && cost->memory_bytes <= kMaxMemoryHardBytes)) {
    __builtin_trap();
  }
  if (!crackable) return;
  std::string scheme_seen;
  // Only evaluate what the inspector itself would hand to libcrypt for this scheme.
  if (ClassifyPasswordField(hash, &scheme_seen) != HashState::kHash || scheme_seen != scheme) {
    return;
  }
  const std::string setting(hash);
  if (setting.find('\0') != std::string::npos) return;
  static auto* data = new crypt_data;
  (void)crypt_rn("password", setting.c_str(), data, sizeof(crypt_data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox::inspect;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const AccountFileKind kind : {AccountFileKind::kShadow, AccountFileKind::kPasswd}) {
    for (const AccountEntry& entry : ParseAccountFile(text, kind)) {
      std::string scheme;
      if (ClassifyPasswordField(entry.hash, &scheme) == HashState::kHash) {
        Check(entry.hash, scheme);
      }
    }
  }
  if (size <= kMaxAccountLineBytes) {
    for (const std::string_view scheme : kSchemes) Check(text, scheme);
  }
  return 0;
}
