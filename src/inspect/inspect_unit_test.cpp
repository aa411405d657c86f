// Unit tests of the inspect parsers and checks, on hand-written inputs.
#include <crypt.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "inspect/accounts.hpp"
#include "inspect/config_checks.hpp"
#include "inspect/crypto_material.hpp"
#include "inspect/inspect_test_util.hpp"
#include "inspect/rules.hpp"
#include "inspect/secrets.hpp"

namespace clearbox::inspect {
namespace {

using namespace clearbox::inspect::testing;
using clearbox::testing::HaveTool;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;

std::vector<Finding> InspectOne(const std::string& path, const std::string& content,
                                std::uint32_t mode = 0644, FileKind kind = FileKind::kRegular,
                                InspectOptions options = {}) {
  Inspector inspector = MakeInspector(options);
  AddBytes(inspector, path, content, mode, kind);
  return inspector.Finish();
}

using Strings = std::vector<std::string>;

std::string MakeHash(const char* prefix, unsigned long cost, const char* password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn(prefix, cost, nullptr, 0, salt, sizeof salt)) return "";
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password, salt, data.get(), sizeof(crypt_data));
  return out ? out : "";
}

// ---- rules ------------------------------------------------------------------------------

TEST(InspectRules, LoadsTheShippedRules) {
  auto rules = LoadRules(RulesDir());
  ASSERT_TRUE(rules) << rules.error().message;
  EXPECT_GE(rules->secrets.size(), 8u);
  EXPECT_GE(rules->credentials.size(), 50u);
  EXPECT_GE(rules->services.size(), 5u);
  const bool has_root_admin =
      std::any_of(rules->credentials.begin(), rules->credentials.end(),
                  [](const Credential& c) { return c.user == "root" && c.password == "admin"; });
  EXPECT_TRUE(has_root_admin);
}

TEST(InspectRules, RejectsMissingOrMalformedRules) {
  TempDir tmp;
  EXPECT_FALSE(LoadRules(tmp.path()));
  EXPECT_FALSE(Inspector::Create(tmp.path()));
  auto bad = ParseCredentials("root:admin\nno colon here\n");
  EXPECT_FALSE(bad);
  auto good = ParseCredentials("# comment\n\nroot:admin\r\n:1234\n");
  ASSERT_TRUE(good);
  ASSERT_EQ(good->size(), 2u);
  EXPECT_EQ((*good)[1].user, "");
  EXPECT_EQ((*good)[1].password, "1234");
  EXPECT_EQ((*good)[0].password, "admin");
}

// The inspector refuses a rule catalogue that cannot rate a rule or a condition it raises:
// a finding's severity always comes from the catalogue.
TEST(InspectRules, CatalogueMustRateEveryRuleAndCondition) {
  TempDir tmp;
  fs::copy(RulesDir(), tmp / "inspect", fs::copy_options::recursive);
  fs::create_directories(tmp / "rules");
  const std::string shipped =
      clearbox::testing::ReadFileBytes(RulesDir() / ".." / "rules" / "catalogue.json");
  clearbox::testing::WriteFileBytes(tmp / "rules" / "catalogue.json", shipped);
  ASSERT_TRUE(LoadRules(tmp / "inspect"));
  auto without = [&](const std::string& from, const std::string& to) {
    std::string text = shipped;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    clearbox::testing::WriteFileBytes(tmp / "rules" / "catalogue.json", text);
    auto rules = LoadRules(tmp / "inspect");
    return rules ? std::string() : rules.error().message;
  };
  EXPECT_NE(without("\"id\": \"fs.setgid\"", "\"id\": \"fs.setgid-renamed\"")
                .find("does not rate fs.setgid"),
            std::string::npos);
  EXPECT_NE(without("\"des-crypt\"", "\"des-crypt-renamed\"").find("when des-crypt"),
            std::string::npos);
  EXPECT_NE(
      without("\"id\": \"service.telnet\"", "\"id\": \"service.telnet-x\"").find("service.telnet"),
      std::string::npos);
}

// ---- accounts ---------------------------------------------------------------------------

TEST(InspectAccounts, ClassifiesPasswordFields) {
  std::string scheme;
  EXPECT_EQ(ClassifyPasswordField("", &scheme), HashState::kEmpty);
  EXPECT_EQ(ClassifyPasswordField("*", &scheme), HashState::kLocked);
  EXPECT_EQ(ClassifyPasswordField("!!", &scheme), HashState::kLocked);
  EXPECT_EQ(ClassifyPasswordField("!$6$abc$def", &scheme), HashState::kLocked);
  EXPECT_EQ(ClassifyPasswordField("x", &scheme), HashState::kLocked);
  const std::pair<const char*, const char*> kCases[] = {
      {"$1$salt$hash", "md5crypt"},
      {"$5$salt$hash", "sha256crypt"},
      {"$6$rounds=5000$s$h", "sha512crypt"},
      {"$2b$10$abc", "bcrypt"},
      {"$2y$10$abc", "bcrypt"},
      {"$y$j9T$salt$hash", "yescrypt"},
      {"$gy$j9T$s$h", "gost-yescrypt"},
      {"$7$CU..../....salt$h", "scrypt"},
      {"abJnggxhB/yWI", "descrypt"},
      {"_J9..salt0123456789a", "bsdicrypt"},
  };
  for (const auto& [field, name] : kCases) {
    EXPECT_EQ(ClassifyPasswordField(field, &scheme), HashState::kHash) << field;
    EXPECT_EQ(scheme, name) << field;
  }
  EXPECT_EQ(ClassifyPasswordField("not a hash", &scheme), HashState::kUnknown);
  EXPECT_TRUE(IsWeakScheme("descrypt"));
  EXPECT_TRUE(IsWeakScheme("md5crypt"));
  EXPECT_FALSE(IsWeakScheme("sha512crypt"));
  EXPECT_TRUE(IsSlowScheme("yescrypt"));
  EXPECT_FALSE(IsSlowScheme("md5crypt"));
}

TEST(InspectAccounts, CostCapsKeepSingleEvaluationsCheap) {
  EXPECT_TRUE(CostIsCrackable("$2b$05$abcdefghijklmnopqrstuu", "bcrypt"));
  EXPECT_TRUE(CostIsCrackable("$2b$11$abcdefghijklmnopqrstuu", "bcrypt"));
  EXPECT_FALSE(CostIsCrackable("$2b$12$abcdefghijklmnopqrstuu", "bcrypt"));
  EXPECT_FALSE(CostIsCrackable("$2b$x", "bcrypt"));
  EXPECT_TRUE(CostIsCrackable("$6$salt$hash", "sha512crypt"));
  EXPECT_TRUE(CostIsCrackable("$6$rounds=100000$salt$hash", "sha512crypt"));
  EXPECT_FALSE(CostIsCrackable("$6$rounds=999999999$salt$hash", "sha512crypt"));
  // yescrypt "j9T": N = 2^12, r = 32 -> 16 MiB; "jFT": N = 2^18 -> 1 GiB.
  EXPECT_TRUE(CostIsCrackable("$y$j9T$salt$hash", "yescrypt"));
  EXPECT_FALSE(CostIsCrackable("$y$jFT$salt$hash", "yescrypt"));
  EXPECT_FALSE(CostIsCrackable("$y$", "yescrypt"));
  EXPECT_FALSE(CostIsCrackable("$y$~~~", "yescrypt"));
  // scrypt N = 2^14, r = 8, p = 1 (16 MiB); libxcrypt's default r = 32 costs 4 times that.
  EXPECT_TRUE(CostIsCrackable("$7$C6..../....salt$hash", "scrypt"));
  EXPECT_FALSE(CostIsCrackable("$7$CU..../....salt$hash", "scrypt"));
  const std::string real = MakeHash("$y$", 0, "x");
  ASSERT_FALSE(real.empty());
  EXPECT_TRUE(CostIsCrackable(real, "yescrypt")) << real;
}

TEST(InspectAccounts, CostEstimatesCountEveryParameter) {
  auto work = [](std::string_view hash, std::string_view scheme) -> std::uint64_t {
    const auto cost = EstimateEvaluationCost(hash, scheme);
    return cost ? cost->work : 0;
  };
  // scrypt: work grows with N, r and p alike; memory with N and r (and B = 128 * r * p).
  const std::uint64_t base = work("$7$8/..../....s$h", "scrypt");  // N 2^10, r 1, p 1
  ASSERT_GT(base, 0u);
  EXPECT_GT(work("$7$9/..../....s$h", "scrypt"), base * 3 / 2);
  EXPECT_GT(work("$7$80..../....s$h", "scrypt"), base * 3 / 2);        // r 2
  EXPECT_GT(work("$7$8/....A....s$h", "scrypt"), base * 4);            // p 12
  EXPECT_GE(work("$7$8/.......E.s$h", "scrypt"), kMaxEvaluationWork);  // p 2^22
  auto memory = EstimateEvaluationCost("$7$C6..../....s$h", "scrypt");
  ASSERT_TRUE(memory);
  EXPECT_GE(memory->memory_bytes, 16u << 20);
  // yescrypt: t multiplies the BlockMix work of RW ("j") and WORM ("/"), not the memory.
  const auto rw = EstimateEvaluationCost("$y$j9T$s$h", "yescrypt");
  const auto rw_t = EstimateEvaluationCost("$y$j9T/4$s$h", "yescrypt");  // have 2, t 7
  ASSERT_TRUE(rw && rw_t);
  EXPECT_GT(rw_t->work, rw->work * 7 / 5);
  EXPECT_EQ(rw_t->memory_bytes, rw->memory_bytes);
  EXPECT_GT(work("$y$/9T/4$s$h", "yescrypt"), work("$y$/9T$s$h", "yescrypt") * 2);
  // ... and p multiplies classic/WORM lanes (have 1, p 14).
  EXPECT_GT(work("$y$/9T.A$s$h", "yescrypt"), work("$y$/9T$s$h", "yescrypt") * 4);
  // Saturates rather than wrapping: N 2^31, r 2, t about 2^30.
  EXPECT_GE(work("$y$jS//zzzzzz$s$h", "yescrypt"), kMaxEvaluationWork);
  // bcrypt and SHA-crypt: exponential cost and linear rounds; BSDi DES count.
  EXPECT_GT(work("$2b$11$s", "bcrypt"), work("$2b$10$s", "bcrypt") * 3 / 2);
  EXPECT_GE(work("$2b$31$s", "bcrypt"), kMaxEvaluationWork);
  EXPECT_GT(work("$6$rounds=50000$s$h", "sha512crypt"), work("$6$s$h", "sha512crypt") * 5);
  EXPECT_GE(work("_zzzzsaltAAAAAAAAAAA", "bsdicrypt"), kMaxEvaluationWork);
  EXPECT_LT(work("_J9..saltAAAAAAAAAAA", "bsdicrypt"), kMaxEvaluationWork);
}

TEST(InspectAccounts, AbsurdCostParametersAreRefused) {
  const std::pair<const char*, const char*> kRefused[] = {
      {"$2b$03$s", "bcrypt"},                    // below libxcrypt's minimum
      {"$2b$32$s", "bcrypt"},                    // above its maximum
      {"$2b$1a$s", "bcrypt"},                    // not decimal
      {"$6$rounds=0$s$h", "sha512crypt"},        // zero, leading zero
      {"$6$rounds=0100000$s$h", "sha512crypt"},  // leading zero
      {"$6$rounds=999$s$h", "sha512crypt"},      // below 1000
      {"$5$rounds=1000000000$s$h", "sha256crypt"},
      {"$5$rounds=99999999999999999999999$s$h", "sha256crypt"},  // overflows
      {"$5$rounds=5000", "sha256crypt"},                         // no '$'
      {"$y$09T$s$h", "yescrypt"},                                // flavor libxcrypt cannot compute
      {"$y$j.T$s$h", "yescrypt"},                                // N = 2
      {"$y$jTT$s$h", "yescrypt"},                                // N = 2^32
      {"$y$j9T1/$s$h", "yescrypt"},                              // have 4: g set
      {"$y$j9T5/$s$h", "yescrypt"},                              // have 8: NROM set
      {"$y$.9T//$s$h", "yescrypt"},                              // classic scrypt with t
      {"$y$j/...$s$h", "yescrypt"},                              // RW, N 4, p 2: N / p <= 3
      {"$y$j9T", "yescrypt"},                                    // no '$' after the parameters
      {"$7$./..../....s$h", "scrypt"},                           // N = 1
      {"$7$z/..../....s$h", "scrypt"},                           // N = 2^63
      {"$7$C.....0....s$h", "scrypt"},                           // r = 0
      {"$7$Czzzzzzzzzzs$h", "scrypt"},                           // r * p >= 2^30
      {"$7$C", "scrypt"},                                        // truncated
  };
  for (const auto& [hash, scheme] : kRefused) {
    const auto cost = EstimateEvaluationCost(hash, scheme);
    EXPECT_FALSE(cost) << hash;
    EXPECT_FALSE(CostIsCrackable(hash, scheme)) << hash;
  }
  EXPECT_FALSE(EstimateEvaluationCost("$sha1$40000$s$h", "sha1crypt"));
  // A hash of another scheme, or none (the fuzzer's first find: substr past the end).
  EXPECT_FALSE(EstimateEvaluationCost("", "sha256crypt"));
  EXPECT_FALSE(EstimateEvaluationCost("$6$s$h", "bcrypt"));
  EXPECT_FALSE(EstimateEvaluationCost("$y", "yescrypt"));
  EXPECT_TRUE(EstimateEvaluationCost("$1$s$h", "md5crypt"));
  EXPECT_TRUE(EstimateEvaluationCost("abJnggxhB/yWI", "descrypt"));
  EXPECT_TRUE(EstimateEvaluationCost("_....saltAAAAAAAAAAA", "bsdicrypt"));  // count 0 runs once
}

TEST(InspectAccounts, CracksDefaultsInOrderWithinLimits) {
  const std::vector<Credential> creds = {
      {"root", "admin"}, {"", "1234"}, {"", "password"}, {"", "qwerty"}};
  std::atomic<std::int64_t> scan{60'000'000};
  CrackBudget budget{std::chrono::steady_clock::now() + std::chrono::seconds(30), &scan};
  const std::string md5 = MakeHash("$1$", 0, "password");
  auto r = CrackHash("root", md5, "md5crypt", creds, 12, budget);
  EXPECT_TRUE(r.cracked);
  EXPECT_EQ(r.password, "password");
  EXPECT_EQ(r.tried, 4u);  // admin, root (the user name), 1234, password
  // The user name itself is a candidate.
  const std::string own = MakeHash("$6$", 0, "operator");
  r = CrackHash("operator", own, "sha512crypt", creds, 12, budget);
  EXPECT_TRUE(r.cracked);
  EXPECT_EQ(r.password, "operator");
  // Slow schemes stop after max_slow_attempts.
  const std::string bcrypt = MakeHash("$2b$", 4, "qwerty");
  r = CrackHash("root", bcrypt, "bcrypt", creds, 2, budget);
  EXPECT_FALSE(r.cracked);
  EXPECT_EQ(r.tried, 2u);
  r = CrackHash("root", bcrypt, "bcrypt", creds, 12, budget);
  EXPECT_TRUE(r.cracked);
  // An exhausted time budget stops before the first attempt.
  CrackBudget expired{std::chrono::steady_clock::now(), &scan};
  r = CrackHash("root", md5, "md5crypt", creds, 12, expired);
  EXPECT_FALSE(r.cracked);
  EXPECT_TRUE(r.stopped_by_time);
  EXPECT_EQ(r.tried, 0u);
  std::atomic<std::int64_t> none{0};
  CrackBudget scan_spent{std::chrono::steady_clock::now() + std::chrono::seconds(30), &none};
  r = CrackHash("root", md5, "md5crypt", creds, 12, scan_spent);
  EXPECT_TRUE(r.stopped_by_time);
}

TEST(InspectAccounts, AnAttemptThatCannotFitTheBudgetIsNotStarted) {
  // A default yescrypt evaluation is estimated at about 0.1 s: with 20 ms left in the file
  // or the scan budget, starting one would overrun the deadline, so none is started.
  const std::vector<Credential> creds = {{"", "admin"}};
  const std::string yescrypt = MakeHash("$y$", 0, "admin");
  ASSERT_FALSE(yescrypt.empty());
  std::atomic<std::int64_t> scan{60'000'000};
  CrackBudget file_short{std::chrono::steady_clock::now() + std::chrono::milliseconds(20), &scan};
  auto r = CrackHash("root", yescrypt, "yescrypt", creds, 12, file_short);
  EXPECT_TRUE(r.stopped_by_time);
  EXPECT_EQ(r.tried, 0u);
  std::atomic<std::int64_t> scan_short{20'000};
  CrackBudget file_long{std::chrono::steady_clock::now() + std::chrono::seconds(30), &scan_short};
  r = CrackHash("root", yescrypt, "yescrypt", creds, 12, file_long);
  EXPECT_TRUE(r.stopped_by_time);
  EXPECT_EQ(r.tried, 0u);
  // With room for it, the same hash is cracked.
  CrackBudget roomy{std::chrono::steady_clock::now() + std::chrono::seconds(30), &scan};
  r = CrackHash("root", yescrypt, "yescrypt", creds, 12, roomy);
  EXPECT_TRUE(r.cracked);
}

TEST(InspectAccounts, ParsesAccountFilesDefensively) {
  const std::string text =
      "# comment\nroot:x:0:0:root:/root:/bin/sh\n+nis::::::\nbad line\n"
      "short:x:1\n:x:1:1::/:/bin/sh\nuser:*:1000:1000::/home/u:/usr/sbin/nologin\r\n";
  const auto entries = ParseAccountFile(text, AccountFileKind::kPasswd);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].user, "root");
  EXPECT_EQ(entries[0].uid, "0");
  EXPECT_EQ(entries[1].shell, "/usr/sbin/nologin");
  EXPECT_EQ(entries[1].offset, text.find("user:"));
}

TEST(InspectAccounts, ShadowPairsWithPasswdInTheSameDirectory) {
  Inspector inspector = MakeInspector();
  const std::string h = MakeHash("$6$", 0, "admin");
  AddBytes(inspector, "a/etc/shadow", "svc:" + h + ":1::::::\nnobody::1::::::\n");
  AddBytes(inspector, "a/etc/passwd",
           "svc:x:99:99::/:/usr/sbin/nologin\nnobody:x:65534:65534::/:/bin/false\n");
  AddBytes(inspector, "b/etc/shadow", "svc:" + h + ":1::::::\n");
  const auto findings = inspector.Finish();
  std::map<std::string, std::string> severity;
  for (const Finding& f : findings) {
    if (f.rule == "cred.default-password" || f.rule == "cred.empty-password") {
      severity[f.path + " " + f.evidence] = ToString(f.severity);
    }
  }
  // No login shell beside it: lower; no passwd to say so: assume a login.
  EXPECT_EQ(severity["a/etc/shadow svc:admin"], "high") << Describe(findings);
  EXPECT_EQ(severity["a/etc/shadow nobody::"], "medium");
  EXPECT_EQ(severity["b/etc/shadow svc:admin"], "critical");
}

TEST(InspectAccounts, CrackingCanBeSwitchedOff) {
  InspectOptions options;
  options.crack_passwords = false;
  const auto findings =
      InspectOne("etc/shadow", "root:" + MakeHash("$6$", 0, "admin") + ":1::::::\n", 0644,
                 FileKind::kRegular, options);
  EXPECT_EQ(Rules(findings), (Strings{"cred.password-hash"})) << Describe(findings);
}

TEST(InspectAccounts, TimeLimitAndUnsupportedSchemesAreReported) {
  InspectOptions no_time;
  no_time.crack_seconds_per_file = 0;
  std::string shadow;
  for (int i = 0; i < 20; ++i) {
    shadow += "u" + std::to_string(i) + ":" + MakeHash("$1$", 0, "admin") + ":1::::::\n";
  }
  auto f = InspectOne("etc/shadow", shadow, 0644, FileKind::kRegular, no_time);
  std::size_t incomplete = 0, cracked = 0;
  for (const Finding& x : f) {
    if (x.rule == "cred.crack-incomplete") {
      ++incomplete;
      EXPECT_EQ(x.evidence, "u0,u1,u2,u3,u4,u5,u6,u7,...");
    }
    if (x.rule == "cred.default-password") ++cracked;
  }
  EXPECT_EQ(incomplete, 1u) << Describe(f);
  EXPECT_EQ(cracked, 0u);
  // Apache's $apr1$ (computed with OpenSSL, libcrypt lacks it) is weak; this one is no default.
  f = InspectOne("www/.htpasswd", "admin:$apr1$abcdefgh$0123456789abcdefghijkl\n");
  ASSERT_EQ(Rules(f), (Strings{"cred.weak-hash"})) << Describe(f);
}

// ---- ssh and services -------------------------------------------------------------------

TEST(InspectConfig, SshdFirstValueWinsAndMatchBlocksCount) {
  auto f =
      InspectOne("etc/ssh/sshd_config",
                 "# PermitRootLogin yes\npermitrootlogin=no\nPermitRootLogin yes\n"
                 "PasswordAuthentication no\nMatch User backup\n  PasswordAuthentication yes\n");
  ASSERT_EQ(Rules(f), (Strings{"ssh.password-authentication"})) << Describe(f);
  EXPECT_NE(f[0].message.find("Match block"), std::string::npos);
  f = InspectOne(
      "x/etc/ssh/sshd_config",
      "PermitRootLogin prohibit-password\nPermitEmptyPasswords no\nPasswordAuthentication no\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
  f = InspectOne("etc/ssh/sshd_config.d/50-local.conf", "\tPermitRootLogin\tYES\n");
  EXPECT_EQ(Rules(f), (Strings{"ssh.permit-root-login"}));
}

TEST(InspectConfig, InittabAndInitScripts) {
  auto f = InspectOne("etc/inittab",
                      "::sysinit:/etc/init.d/rcS\nt1:2345:off:/usr/sbin/telnetd\n"
                      "# ::respawn:/usr/sbin/telnetd\nt2:2345:respawn:/usr/sbin/utelnetd -p 23\n");
  ASSERT_EQ(Rules(f), (Strings{"service.telnet"})) << Describe(f);
  EXPECT_EQ(f[0].offset, std::string("::sysinit:/etc/init.d/rcS\nt1:2345:off:/usr/sbin/telnetd\n"
                                     "# ::respawn:/usr/sbin/telnetd\n")
                             .size());
  f = InspectOne("etc/init.d/rcS",
                 "#!/bin/sh\nkillall telnetd\n# telnetd -l /bin/sh\necho telnetd\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
  f = InspectOne("etc/init.d/rcS",
                 "#!/bin/sh\nbusybox telnetd -l /bin/sh &\ntcpsvd 0 21 ftpd -w /\n");
  EXPECT_EQ(Rules(f), (Strings{"service.ftp", "service.telnet"})) << Describe(f);
  // The same text outside init locations is not a boot script.
  f = InspectOne("usr/share/doc/notes.txt", "telnetd -l /bin/sh\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
}

TEST(InspectConfig, InetdXinetdSystemdOpenWrt) {
  auto f = InspectOne("etc/inetd.conf",
                      "#telnet stream tcp nowait root /usr/sbin/in.telnetd in.telnetd\n"
                      "127.0.0.1:ftp stream tcp nowait root /usr/sbin/ftpd ftpd\n"
                      "daytime stream tcp nowait root internal\n");
  EXPECT_EQ(Rules(f), (Strings{"service.ftp"})) << Describe(f);
  f = InspectOne(
      "etc/xinetd.d/all",
      "service telnet\n{\n disable = yes\n}\nservice tftp\n{\n server = /usr/sbin/in.tftpd\n}\n");
  EXPECT_EQ(Rules(f), (Strings{"service.tftp"})) << Describe(f);
  f = InspectOne("lib/systemd/system/rsh@.service",
                 "[Service]\nExecStart=-/usr/sbin/in.rshd -aL\n");
  EXPECT_EQ(Rules(f), (Strings{"service.rsh"})) << Describe(f);
  f = InspectOne("etc/config/telnetd", "config telnetd 'main'\n\toption enable '0'\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
  f = InspectOne("etc/config/telnetd", "config telnetd 'main'\n\toption port '23'\n");
  EXPECT_EQ(Rules(f), (Strings{"service.telnet"})) << Describe(f);
  f = InspectOne("etc/config/dhcp", "config dnsmasq\n\toption enable_tftp 0\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
}

TEST(InspectConfig, RcLinksAndDropbearFlags) {
  EXPECT_EQ(Rules(InspectOne("etc/rc.d/S50telnet", "", 0777, FileKind::kSymlink)),
            (Strings{"service.telnet"}));
  EXPECT_EQ(Rules(InspectOne("etc/rc3.d/S20telnetd", "", 0777, FileKind::kSymlink)),
            (Strings{"service.telnet"}));
  EXPECT_TRUE(InspectOne("etc/rc.d/K50telnet", "", 0777, FileKind::kSymlink).empty());
  EXPECT_TRUE(InspectOne("etc/rc.d/S50dnsmasq", "", 0777, FileKind::kSymlink).empty());
  EXPECT_TRUE(InspectOne("opt/rc.d/S50telnet", "", 0777, FileKind::kSymlink).empty());
  EXPECT_EQ(Rules(InspectOne("etc/init.d/dropbear", "dropbear -sgB -p 2222\n")),
            (Strings{"ssh.permit-empty-passwords"}));
  EXPECT_TRUE(
      InspectOne("etc/init.d/dropbear", "dropbear -w -s -b /etc/banner -P /run/d.pid\n").empty());
}

// ---- secrets ----------------------------------------------------------------------------

TEST(InspectSecrets, AssignmentsNeedAKeyPositionAndARealValue) {
  auto f = InspectOne("etc/app.conf",
                      "# password = commented0ut\nsecret = pass:insta\npassword=$PASSWORD\n"
                      "passwd: files\nadmin_password = ${ADMIN}\npassword_file = /etc/pw\n"
                      "x = 1 # password=incomment\npassword=\"\"\nd_pwpasswd='define'\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
  f = InspectOne("usr/bin/login.sh",
                 "#!/bin/sh\ncurl -d \"user=admin&password=hunter22\" http://x/\n");
  ASSERT_EQ(Rules(f), (Strings{"secret.hardcoded-password"})) << Describe(f);
  EXPECT_EQ(f[0].evidence, "password= hu... (8 chars)");
  f = InspectOne("www/app.js", "login({\"user\": \"a\", \"password\": \"Zq8rT2pn\"});\n");
  EXPECT_EQ(Rules(f), (Strings{"secret.hardcoded-password"})) << Describe(f);
  f = InspectOne("www/app.js", "var x = {password: getPassword()};\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
}

TEST(InspectSecrets, GenericRulesSkipBinariesButTokensDoNot) {
  std::string binary(
      "\x7f"
      "ELF\0\0\0password=hunter22\0",
      25);
  binary += std::string("AKIA") + "2OGYBAH6Q7ZK4XWM" + std::string(1, '\0');
  const auto f = InspectOne("usr/bin/tool", binary, 0755);
  EXPECT_EQ(Rules(f), (Strings{"secret.aws-access-key"})) << Describe(f);
  EXPECT_EQ(f[0].evidence, "AKIA2OGY... (20 chars)");
  EXPECT_EQ(f[0].offset, 25u);
}

TEST(InspectSecrets, TextConfigClassification) {
  auto bytes = [](const char* s) {
    return ByteView(reinterpret_cast<const std::uint8_t*>(s), std::char_traits<char>::length(s));
  };
  EXPECT_TRUE(IsTextConfigFile("0x0.squashfs/etc/foo", bytes("a=b")));
  EXPECT_TRUE(IsTextConfigFile("opt/x/run", bytes("#!/bin/sh\n")));
  EXPECT_TRUE(IsTextConfigFile("opt/x/app.yaml", bytes("a: b")));
  EXPECT_FALSE(IsTextConfigFile("opt/x/data.bin", bytes("a=b")));
  EXPECT_FALSE(IsTextConfigFile("etc/nsswitch.conf", bytes("passwd: files")));
  EXPECT_FALSE(IsTextConfigFile("etc/shadow", bytes("root::")));
  EXPECT_EQ(RedactSecret("abcdefgh", 100), "abcd... (8 chars)");
}

// ---- keys and certificates ----------------------------------------------------------------

std::string SshString(const std::string& s) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(s.size() >> 24);
  out[1] = static_cast<char>(s.size() >> 16);
  out[2] = static_cast<char>(s.size() >> 8);
  out[3] = static_cast<char>(s.size());
  return out + s;
}

TEST(InspectKeys, ParsesOpenSshHeadersAndSurvivesEveryTruncation) {
  const std::string n = std::string("\x00\xc0", 2) + std::string(127, '\x11');  // 1024-bit modulus
  const std::string pub =
      SshString("ssh-rsa") + SshString(std::string("\x01\x00\x01", 3)) + SshString(n);
  const std::string blob = std::string("openssh-key-v1\0", 15) + SshString("aes256-ctr") +
                           SshString("bcrypt") + SshString("salt") + std::string("\0\0\0\1", 4) +
                           SshString(pub) + SshString("encrypted");
  const ByteView view(reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size());
  auto info = ParseOpenSshKey(view);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->key_type, "ssh-rsa");
  EXPECT_EQ(info->bits, 1024);
  EXPECT_TRUE(info->encrypted());
  EXPECT_EQ(info->kdf, "bcrypt");
  for (std::size_t cut = 0; cut < blob.size() - SshString("encrypted").size(); ++cut) {
    auto partial = ParseOpenSshKey(view.first(cut));
    if (cut <
        15 + SshString("aes256-ctr").size() + SshString("bcrypt").size() + 8 + 4 + 4 + pub.size()) {
      EXPECT_FALSE(partial) << cut;
    }
  }
  std::string zero_keys = blob;
  zero_keys[15 + 14 + 10 + 8 + 3] = 0;
  EXPECT_FALSE(ParseOpenSshKey(
      ByteView(reinterpret_cast<const std::uint8_t*>(zero_keys.data()), zero_keys.size())));
}

TEST(InspectKeys, DropbearKeysParseExactly) {
  const std::string seed(64, '\x42');
  const std::string ed = SshString("ssh-ed25519") + SshString(seed);
  auto view = [](const std::string& s) {
    return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  auto info = ParseDropbearKey(view(ed));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->key_type, "ssh-ed25519");
  EXPECT_EQ(info->bits, 256);
  EXPECT_FALSE(ParseDropbearKey(view(ed + "x")));  // trailing bytes
  for (std::size_t cut = 0; cut < ed.size(); ++cut) {
    EXPECT_FALSE(ParseDropbearKey(view(ed.substr(0, cut)))) << cut;
  }
  const std::string ec =
      SshString("ecdsa-sha2-nistp384") + SshString("nistp256") + SshString("Q") + SshString("d");
  EXPECT_FALSE(ParseDropbearKey(view(ec)));  // curve mismatch
  auto f = InspectOne("etc/dropbear/dropbear_ed25519_host_key", ed, 0600);
  EXPECT_EQ(Rules(f), (Strings{"secret.private-key"})) << Describe(f);
  EXPECT_EQ(f[0].evidence, "dropbear: ssh-ed25519 256 bits");
}

TEST(InspectKeys, UndecodableBlocksAreNotReported) {
  auto f =
      InspectOne("etc/x.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
  f = InspectOne("etc/x.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n");
  EXPECT_TRUE(f.empty()) << Describe(f);
  f = InspectOne("usr/bin/ssh-keygen", std::string("\0-----BEGIN OPENSSH PRIVATE KEY-----\0", 37));
  EXPECT_TRUE(f.empty()) << Describe(f);
}

TEST(InspectKeys, HostileRepetitionsStayBounded) {
  std::string many;
  for (int i = 0; i < 30000; ++i) many += "-----BEGIN PRIVATE KEY-----\n";
  const auto start = std::chrono::steady_clock::now();
  const auto f = InspectOne("etc/x.pem", many);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(Rules(f), (Strings{"inspect.truncated"})) << Describe(f);
  EXPECT_LT(seconds, 20.0);
}

TEST(InspectKeys, ExpiryFollowsTheGivenTimeAndTrustStoresAreSkipped) {
  if (!HaveTool("openssl")) GTEST_SKIP();
  TempDir tmp;
  ASSERT_EQ(RunShell("cd '" + tmp.path().string() +
                     "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem "
                     "-subj /CN=t -days 2 >/dev/null 2>&1"),
            0);
  const std::string cert = clearbox::testing::ReadFileBytes(tmp / "c.pem");
  InspectOptions later;
  later.now_unix = 4102444800;  // 2100-01-01
  EXPECT_EQ(Rules(InspectOne("etc/ssl/c.pem", cert, 0644, FileKind::kRegular, later)),
            (Strings{"cert.expired", "cert.self-signed"}));
  EXPECT_EQ(Rules(InspectOne("etc/ssl/c.pem", cert)), (Strings{"cert.self-signed"}));
  EXPECT_TRUE(InspectOne("etc/ssl/certs/c.pem", cert, 0644, FileKind::kRegular, later).empty());
  EXPECT_TRUE(InspectOne("usr/share/ca-certificates/x/c.crt", cert).empty());
  EXPECT_TRUE(InspectOne("usr/lib/x86_64-linux-gnu/libnssckbi.so",
                         "\x7f"
                         "ELF\n" +
                             cert)
                  .empty());
}

// A self-signed certificate compiled into a binary (a kernel's module-signing key, the
// regulatory database keys in cfg80211.ko) is a verification key: info, not a weakness. The
// same certificate as a file of its own, or in a text file, is judged as before.
TEST(InspectKeys, SelfSignedCertificateInsideABinaryIsATrustAnchor) {
  if (!HaveTool("openssl")) GTEST_SKIP();
  TempDir tmp;
  ASSERT_EQ(RunShell("cd '" + tmp.path().string() +
                     "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                     "-keyout k.pem -out c.pem -subj '/CN=Build time autogenerated kernel key' "
                     "-addext basicConstraints=critical,CA:FALSE -days 36500 >/dev/null 2>&1 && "
                     "openssl x509 -in c.pem -outform DER -out c.der"),
            0);
  const std::string der = clearbox::testing::ReadFileBytes(tmp / "c.der");
  const std::string pem = clearbox::testing::ReadFileBytes(tmp / "c.pem");
  const std::string kernel = std::string(
                                 "\x7f"
                                 "ELF\x02\x01\x01\0\0\0",
                                 10) +
                             std::string(4096, '\0') + der + std::string(64, '\0');
  auto f = InspectOne("boot/vmlinux", kernel);
  ASSERT_EQ(Rules(f), (Strings{"cert.trust-anchor"})) << Describe(f);
  EXPECT_EQ(f[0].severity, Severity::kInfo);
  EXPECT_NE(f[0].message.find("trust anchor"), std::string::npos);
  // A raw kernel image (not an ELF) with NUL bytes is binary too.
  f = InspectOne("boot/Image", std::string(512, '\0') + der);
  EXPECT_EQ(Rules(f), (Strings{"cert.trust-anchor"})) << Describe(f);
  EXPECT_EQ(Rules(InspectOne("etc/ssl/device.der", der)), (Strings{"cert.self-signed"}));
  EXPECT_EQ(Rules(InspectOne("etc/ssl/device.pem", pem)), (Strings{"cert.self-signed"}));
  EXPECT_EQ(Rules(InspectOne("etc/app/config.json", "{\"cert\": \"x\"}\n" + pem)),
            (Strings{"cert.self-signed"}));
}

TEST(InspectKeys, ManyRootsInOneFileAreABuiltInTrustStore) {
  if (!HaveTool("openssl")) GTEST_SKIP();
  TempDir tmp;
  ASSERT_EQ(RunShell("cd '" + tmp.path().string() +
                     "' && for i in $(seq 1 10); do openssl req -x509 -newkey ec -pkeyopt "
                     "ec_paramgen_curve:P-256 -nodes -keyout k$i.pem -out c$i.pem -subj /CN=root$i "
                     "-days 30 >/dev/null 2>&1 || exit 1; done"),
            0);
  std::string nine, ten;
  for (int i = 1; i <= 10; ++i) {
    const std::string cert =
        clearbox::testing::ReadFileBytes(tmp / ("c" + std::to_string(i) + ".pem"));
    if (i <= 9) nine += "\x01\x02 junk " + cert;
    ten += "\x01\x02 junk " + cert;
  }
  auto f = InspectOne("usr/bin/app", nine, 0755);
  EXPECT_EQ(Rules(f), Strings(9, "cert.self-signed")) << Describe(f);
  EXPECT_NE(f[0].message.find("self-signed CA certificate"), std::string::npos);
  f = InspectOne("usr/bin/app", ten, 0755);
  ASSERT_EQ(Rules(f), (Strings{"cert.trust-store"})) << Describe(f);
  EXPECT_EQ(f[0].severity, Severity::kInfo);
  EXPECT_EQ(f[0].evidence, "10 roots");
}

// ---- modes -------------------------------------------------------------------------------

TEST(InspectModes, ModesFromTheViewNotTheDisk) {
  EXPECT_EQ(Rules(InspectOne("bin/su", "x", 04755)), (Strings{"fs.setuid"}));
  EXPECT_EQ(Rules(InspectOne("bin/x", "x", 06777)),
            (Strings{"fs.setgid", "fs.setuid", "fs.world-writable"}));
  EXPECT_TRUE(InspectOne("bin/x", "x", 0755).empty());
  EXPECT_TRUE(InspectOne("var/lib/link", "", 0777, FileKind::kSymlink).empty());
  EXPECT_TRUE(InspectOne("dev/null", "", 0666, FileKind::kOther).empty());
  EXPECT_TRUE(InspectOne("srv/group", "", 02775, FileKind::kDirectory).empty());
  auto f = InspectOne("var/tmp", "", 01777, FileKind::kDirectory);
  ASSERT_EQ(Rules(f), (Strings{"fs.world-writable"}));
  EXPECT_EQ(f[0].severity, Severity::kInfo);
  f = InspectOne("var/drop", "", 0777, FileKind::kDirectory);
  ASSERT_EQ(Rules(f), (Strings{"fs.world-writable"}));
  EXPECT_EQ(f[0].severity, Severity::kMedium);
  EXPECT_EQ(f[0].evidence, "mode 0777");
  // File type bits in the mode are ignored.
  EXPECT_EQ(Rules(InspectOne("bin/su", "x", 0100000 | 04755)), (Strings{"fs.setuid"}));
}

TEST(InspectFindings, CanonicalOrderDropsDuplicates) {
  std::vector<Finding> v = {{"b", Severity::kLow, "p", "m", "e", 5, {}},
                            {"a", Severity::kLow, "p", "m", "e", 5, {}},
                            {"a", Severity::kLow, "p", "m", "e", 5, {}},
                            {"z", Severity::kLow, "a", "m", "e", 9, {}}};
  CanonicalizeFindings(v);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].path, "a");
  EXPECT_EQ(v[1].rule, "a");
  EXPECT_EQ(v[2].rule, "b");
}

}  // namespace
}  // namespace clearbox::inspect
