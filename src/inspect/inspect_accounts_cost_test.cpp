// Hash settings with hostile cost parameters: a shadow line must never keep a scan busy.
// Each end-to-end case goes through Inspector::AddFile with the default time budgets and
// must finish in seconds, reporting the hash as not tried because of its cost.
#include <crypt.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "inspect/accounts.hpp"
#include "inspect/inspect_test_util.hpp"

namespace clearbox::inspect {
namespace {

using namespace clearbox::inspect::testing;

constexpr char kItoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// yescrypt's variable-length integer (encode64_uint32 of libxcrypt's alg-yescrypt-common.c).
std::string EncodeYescryptUint(std::uint32_t value, std::uint32_t min) {
  std::uint32_t start = 0, end = 47, chars = 1, bits = 0;
  value -= min;
  for (;;) {
    const std::uint32_t count = (end + 1 - start) << bits;
    if (value < count) break;
    start = end + 1;
    end = start + (62 - end) / 2;
    value -= count;
    ++chars;
    bits += 6;
  }
  std::string out(1, kItoa64[start + (value >> bits)]);
  while (--chars) {
    bits -= 6;
    out += kItoa64[(value >> bits) & 0x3f];
  }
  return out;
}

// scrypt's fixed 30-bit little-endian field of five characters.
std::string EncodeScryptField(std::uint32_t value) {
  std::string out;
  for (int i = 0; i < 5; ++i) out += kItoa64[(value >> (6 * i)) & 0x3f];
  return out;
}

constexpr char kHashTail[] = "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

// "$y$" setting with the given parameters (p and t written only when not default).
std::string Yescrypt(std::uint32_t flavor, std::uint32_t n_log2, std::uint32_t r,
                     std::uint32_t p = 1, std::uint32_t t = 0) {
  std::string s = "$y$" + EncodeYescryptUint(flavor, 0) + EncodeYescryptUint(n_log2, 1) +
                  EncodeYescryptUint(r, 1);
  const std::uint32_t have = (p != 1 ? 1 : 0) | (t != 0 ? 2 : 0);
  if (have) s += EncodeYescryptUint(have, 1);
  if (p != 1) s += EncodeYescryptUint(p, 2);
  if (t != 0) s += EncodeYescryptUint(t, 1);
  return s + "$saltsaltsaltsalt" + kHashTail;
}

// "$7$" setting with the given parameters.
std::string Scrypt(std::uint32_t n_log2, std::uint32_t r, std::uint32_t p) {
  return std::string("$7$") + kItoa64[n_log2] + EncodeScryptField(r) + EncodeScryptField(p) +
         "saltsaltsalt" + kHashTail;
}

constexpr std::uint32_t kRw = 47, kWorm = 1, kClassic = 0;

// Inspects "root:<hash>" as etc/shadow with the default budgets; fails the test when that
// takes 5 s or more, or when the hash is not reported as skipped for its cost.
void ExpectSkippedFast(const std::string& hash, const std::string& scheme) {
  SCOPED_TRACE(hash);
  Inspector inspector = MakeInspector();
  const auto start = std::chrono::steady_clock::now();
  AddBytes(inspector, "etc/shadow", "root:" + hash + ":19000:0:99999:7:::\n");
  const auto findings = inspector.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0);
  bool skipped = false;
  for (const Finding& f : findings) {
    EXPECT_NE(f.rule, "cred.default-password") << Describe(findings);
    EXPECT_NE(f.rule, "cred.crack-incomplete") << Describe(findings);
    if (f.rule == "cred.password-hash" || f.rule == "cred.weak-hash") {
      EXPECT_NE(f.evidence.find("(" + scheme + ")"), std::string::npos) << f.evidence;
    }
    if (f.rule == "cred.password-hash" &&
        f.message.find("cost parameters are too high") != std::string::npos) {
      skipped = true;
    }
  }
  if (scheme != "bsdicrypt") {  // weak schemes get cred.weak-hash, without a cost note
    EXPECT_TRUE(skipped) << Describe(findings);
  }
}

TEST(InspectAccountsCost, ScryptHugePIsNotTried) {
  // N = 2^10, r = 1 (128 KiB): cheap by memory, but p = 2^22 lanes run one after another.
  ExpectSkippedFast(Scrypt(10, 1, 1u << 22), "scrypt");
}

TEST(InspectAccountsCost, ScryptHugeNIsNotTried) {
  ExpectSkippedFast(Scrypt(31, 1, 1), "scrypt");
  ExpectSkippedFast(Scrypt(63, 8, 1), "scrypt");
}

TEST(InspectAccountsCost, YescryptLargeTIsNotTried) {
  // The default "$y$j9T" (16 MiB) with t = 2^20: memory unchanged, time a million-fold.
  ExpectSkippedFast(Yescrypt(kRw, 12, 32, 1, 1u << 20), "yescrypt");
  ExpectSkippedFast(Yescrypt(kWorm, 10, 8, 1, 1u << 20), "yescrypt");
}

TEST(InspectAccountsCost, YescryptLargePIsNotTried) {
  // Classic and WORM run p whole lanes; RW splits N but allocates 12 KiB of S-boxes per lane.
  ExpectSkippedFast(Yescrypt(kWorm, 10, 1, 1u << 20), "yescrypt");
  ExpectSkippedFast(Yescrypt(kClassic, 10, 1, 1u << 20), "yescrypt");
  ExpectSkippedFast(Yescrypt(kRw, 19, 1, 1u << 15), "yescrypt");
}

TEST(InspectAccountsCost, YescryptLargeNIsNotTried) {
  ExpectSkippedFast(Yescrypt(kRw, 31, 1), "yescrypt");
  ExpectSkippedFast(Yescrypt(kRw, 20, 32), "yescrypt");
  ExpectSkippedFast("$gy$" + Yescrypt(kRw, 24, 8).substr(3), "gost-yescrypt");
}

TEST(InspectAccountsCost, BcryptCost31IsNotTried) {
  ExpectSkippedFast("$2b$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "bcrypt");
}

TEST(InspectAccountsCost, ShaCryptMaxRoundsAreNotTried) {
  ExpectSkippedFast("$6$rounds=999999999$saltsalt$AAAA", "sha512crypt");
  ExpectSkippedFast("$5$rounds=999999999$saltsalt$AAAA", "sha256crypt");
}

TEST(InspectAccountsCost, BsdiCryptMaxCountIsNotTried) {
  // 2^24 - 1 DES iterations: about 10 s per attempt. A weak scheme, so reported as such.
  ExpectSkippedFast("_zzzzsaltAAAAAAAAAAA", "bsdicrypt");
}

TEST(InspectAccountsCost, NormalCostsAreStillCracked) {
  for (const char* prefix : {"$y$", "$2b$", "$6$", "$5$", "$1$"}) {
    SCOPED_TRACE(prefix);
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    ASSERT_TRUE(crypt_gensalt_rn(prefix, 0, nullptr, 0, salt, sizeof salt));
    auto data = std::make_unique<crypt_data>();
    const char* hash = crypt_rn("admin", salt, data.get(), sizeof(crypt_data));
    ASSERT_NE(hash, nullptr);
    Inspector inspector = MakeInspector();
    AddBytes(inspector, "etc/shadow", std::string("root:") + hash + ":1::::::\n");
    const auto findings = inspector.Finish();
    bool cracked = false;
    for (const Finding& f : findings) cracked |= f.rule == "cred.default-password";
    EXPECT_TRUE(cracked) << Describe(findings);
  }
}

}  // namespace
}  // namespace clearbox::inspect
