// End-to-end inspection of trees built with real tools (openssl, ssh-keygen, mkpasswd, gcc),
// on disk and packed as SquashFS and read back through the unpacker's manifest.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "inspect/inspect_test_util.hpp"
#include "unpack/manifest.hpp"

namespace clearbox::inspect {
namespace {

using namespace clearbox::inspect::testing;
using clearbox::testing::HaveTool;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;

bool HaveFixtureTools() {
  return HaveTool("openssl") && HaveTool("ssh-keygen") && HaveTool("mkpasswd") && HaveTool("gcc") &&
         HaveTool("python3");
}

void MakeTree(const std::string& kind, const fs::path& dir) {
  const fs::path script = SourceDir() / "src/inspect/testdata/make_trees.sh";
  std::string output;
  const int rc =
      RunShell("sh '" + script.string() + "' " + kind + " '" + dir.string() + "' 2>&1", &output);
  ASSERT_EQ(rc, 0) << output;
}

// Everything planted by make_trees.sh, as (rule, path).
const std::set<RulePath>& PlantedRulePaths() {
  static const std::set<RulePath> kExpected = {
      {"secret.private-key", "etc/ssl/private/rsa1024.key"},
      {"secret.weak-private-key", "etc/ssl/private/rsa1024.key"},
      {"secret.private-key", "etc/ssl/private/server_trad.key"},
      {"secret.private-key", "etc/ssl/private/ec.key"},
      {"secret.private-key", "etc/ssl/private/ed25519.key"},
      {"secret.private-key-encrypted", "etc/ssl/private/enc_pkcs8.key"},
      {"secret.private-key-encrypted", "etc/ssl/private/enc_trad.key"},
      {"secret.private-key", "etc/ssl/private/rsa.der"},
      {"secret.private-key", "etc/ssl/private/ec_pkcs8.der"},
      {"secret.private-key", "etc/ssl/private/ec_sec1.der"},
      {"secret.private-key", "etc/ssl/private/ed25519.der"},
      {"secret.private-key-encrypted", "etc/ssl/private/enc.der"},
      {"secret.private-key", "root/.ssh/id_ed25519"},
      {"secret.private-key-encrypted", "root/.ssh/id_rsa"},
      {"secret.weak-private-key", "root/.ssh/id_rsa"},
      {"secret.private-key", "usr/bin/fwupdate"},
      {"secret.private-key", "etc/lighttpd/server.pem"},
      {"cert.self-signed", "etc/lighttpd/server.pem"},
      {"cert.self-signed", "etc/ssl/selfsigned.crt"},
      {"cert.self-signed", "etc/ssl/weak1024.crt"},
      {"cert.weak-key", "etc/ssl/weak1024.crt"},
      {"cert.self-signed", "etc/ssl/sha1.crt"},
      {"cert.weak-signature", "etc/ssl/sha1.crt"},
      {"cert.self-signed", "etc/ssl/md5.der"},
      {"cert.weak-signature", "etc/ssl/md5.der"},
      {"cert.expired", "etc/ssl/expired.crt"},
      {"cred.default-password", "etc/shadow"},
      {"cred.password-hash", "etc/shadow"},
      {"cred.weak-hash", "etc/shadow"},
      {"cred.empty-password", "etc/shadow"},
      {"cred.uid0-account", "etc/passwd"},
      {"cred.default-password", "etc/passwd"},
      {"cred.password-hash", "etc/passwd"},
      {"cred.hash-in-passwd", "etc/passwd"},
      {"secret.aws-access-key", "etc/app/cloud.conf"},
      {"secret.aws-secret-key", "etc/app/cloud.conf"},
      {"secret.github-token", "usr/share/app/deploy.sh"},
      {"secret.gitlab-token", "usr/share/app/deploy.sh"},
      {"secret.slack-token", "usr/share/app/deploy.sh"},
      {"secret.hardcoded-password", "etc/app/app.conf"},
      {"secret.hardcoded-password", "www/cgi-bin/login.cgi"},
      {"service.telnet", "etc/inittab"},
      {"service.telnet", "etc/inetd.conf"},
      {"service.tftp", "etc/inetd.conf"},
      {"service.rsh", "etc/inetd.conf"},
      {"service.rlogin", "etc/inetd.conf"},
      {"service.rexec", "etc/xinetd.d/rexec"},
      {"service.ftp", "etc/init.d/vsftpd"},
      {"service.telnet", "etc/init.d/telnet"},
      {"service.telnet", "etc/rc.d/S50telnet"},
      {"service.telnet", "etc/systemd/system/utelnetd.service"},
      {"service.tftp", "etc/config/dhcp"},
      {"ssh.permit-empty-passwords", "etc/init.d/S50dropbear"},
      {"ssh.password-authentication", "etc/config/dropbear"},
      {"ssh.permit-root-login", "etc/config/dropbear"},
      {"ssh.permit-root-login", "etc/ssh/sshd_config"},
      {"ssh.password-authentication", "etc/ssh/sshd_config"},
      {"ssh.permit-empty-passwords", "etc/ssh/sshd_config"},
      {"ssh.permit-empty-passwords", "etc/default/dropbear"},
      {"fs.setuid", "usr/bin/suidtool"},
      {"fs.setgid", "usr/bin/sgidtool"},
      {"fs.world-writable", "etc/world.conf"},
      {"fs.world-writable", "var/shared"},
      {"fs.world-writable", "tmp"},
      {"secret.wifi-psk", "etc/wpa_supplicant/wpa_supplicant.conf"},
      {"secret.wifi-psk", "etc/hostapd/hostapd.conf"},
      {"secret.wifi-psk", "etc/config/wireless"},
      {"cred.plaintext-password", "etc/lighttpd/lighttpd.user"},
      {"cred.default-password", "etc/lighttpd/lighttpd.user"},
      {"cred.default-password", "etc/httpd.conf"},
      {"cred.plaintext-password", "etc/boa/boa_passwd"},
      {"cred.default-password", "www/admin/.htpasswd"},
      {"cred.weak-hash", "www/admin/.htpasswd"},
      {"cred.default-password", "etc/apache2/.htdigest"},
      {"cred.weak-hash", "etc/apache2/.htdigest"},
      {"secret.hardcoded-password", "usr/lib/lua/luci/auth.lua"},
      {"secret.hardcoded-password", "www/admin/config.php"},
      {"secret.hardcoded-password", "www/js/app.js"},
      {"secret.private-key", "etc/app/tls.json"},
      {"secret.private-key", "etc/app/tr069.xml"},
      {"cert.self-signed", "etc/ssl/certs/device.crt"},
      {"cert.self-signed", "etc/lighttpd/v1.der"},
      {"secret.private-key", "etc/ssl/private/test-ca.key"},
      {"cert.ca-key-present", "etc/ssl/certs/clearbox-test-ca.pem"},
  };
  return kExpected;
}

// The accounts with default passwords, as "user:password" evidence, with their severity.
const std::map<std::string, std::string>& PlantedDefaultPasswords() {
  static const std::map<std::string, std::string> kExpected = {
      {"root:admin", "critical"},      {"admin:password", "critical"},
      {"olddes:1234", "critical"},     {"pi:raspberry", "critical"},
      {"support:support", "critical"}, {"toor:toor", "critical"},
      {"www:admin", "high"},           {"legacy:service", "critical"},
      {"guest:guest", "critical"},     {"admin:admin", "critical"},
      {"webadmin:admin", "critical"},  {"backup:password", "critical"},
      {"admin:1234", "critical"},
  };
  return kExpected;
}

void ExpectPlantedFindings(const std::vector<Finding>& findings) {
  const std::set<RulePath> got = RulePaths(findings);
  std::set<RulePath> expected = PlantedRulePaths();
  if (HaveTool("dropbearkey")) {
    expected.insert({"secret.private-key", "etc/dropbear/dropbear_rsa_host_key"});
    expected.insert({"secret.weak-private-key", "etc/dropbear/dropbear_rsa_host_key"});
    expected.insert({"secret.private-key", "etc/dropbear/dropbear_ed25519_host_key"});
  }
  for (const RulePath& rp : expected) {
    EXPECT_TRUE(got.count(rp)) << "missing " << rp.first << " " << rp.second;
  }
  for (const RulePath& rp : got) {
    EXPECT_TRUE(expected.count(rp)) << "unexpected " << rp.first << " " << rp.second;
  }
  std::map<std::string, std::string> cracked;
  std::map<std::string, std::string> schemes;
  for (const Finding& f : findings) {
    if (f.rule == "cred.default-password") cracked[f.evidence] = ToString(f.severity);
    if (f.rule == "cred.weak-hash" || f.rule == "cred.password-hash") {
      schemes[f.evidence.substr(0, f.evidence.find(':'))] = f.evidence;
    }
    if (f.rule.starts_with("secret.") || f.rule.starts_with("cert.")) {
      EXPECT_EQ(f.evidence.find("PRIVATE KEY-----\n"), std::string::npos) << f.evidence;
    }
  }
  EXPECT_EQ(cracked, PlantedDefaultPasswords()) << Describe(findings);
  EXPECT_NE(schemes["root"].find("sha512crypt"), std::string::npos);
  EXPECT_NE(schemes["admin"].find("md5crypt"), std::string::npos);
  EXPECT_NE(schemes["operator"].find("sha256crypt"), std::string::npos);
  EXPECT_NE(schemes["olddes"].find("descrypt"), std::string::npos);
  EXPECT_NE(schemes["pi"].find("bcrypt"), std::string::npos);
  EXPECT_NE(schemes["support"].find("yescrypt"), std::string::npos);
  // The operator's strong, non-default password is not "cracked".
  EXPECT_EQ(cracked.count("operator:K7#pq!v9Lm2x"), 0u);
  // The sticky /tmp is noted lower than the plain world-writable directory.
  for (const Finding& f : findings) {
    if (f.rule == "fs.world-writable" && f.path == "tmp") {
      EXPECT_EQ(f.severity, Severity::kInfo);
    }
    if (f.rule == "fs.world-writable" && f.path == "var/shared") {
      EXPECT_EQ(f.severity, Severity::kMedium);
    }
    if (f.rule == "cert.weak-signature" && f.path == "etc/ssl/md5.der") {
      EXPECT_EQ(f.severity, Severity::kHigh);
    }
  }
  // Both assignments in app.conf: the unknown one redacted, the known default in clear.
  std::vector<std::string> app_conf;
  for (const Finding& f : findings) {
    if (f.rule == "secret.hardcoded-password" && f.path == "etc/app/app.conf") {
      app_conf.push_back(f.evidence);
    }
  }
  std::sort(app_conf.begin(), app_conf.end());
  EXPECT_EQ(app_conf,
            (std::vector<std::string>{"admin_password = Wq... (11 chars)", "db_passwd: admin"}));
  // Token evidence is redacted.
  for (const Finding& f : findings) {
    if (f.rule == "secret.github-token") {
      EXPECT_LT(f.evidence.find("(40 chars)"), f.evidence.size()) << f.evidence;
      EXPECT_LT(f.evidence.size(), 30u) << f.evidence;
    }
  }
}

TEST(InspectImage, PlantedTreeOnDiskGivesEveryPlantedFinding) {
  if (!HaveFixtureTools()) GTEST_SKIP() << "fixture tools missing";
  TempDir tmp;
  MakeTree("planted", tmp / "root");
  const auto findings = InspectTree(tmp / "root");
  if (std::getenv("CLEARBOX_INSPECT_PRINT")) std::cout << Describe(findings);
  ExpectPlantedFindings(findings);
  // Two keys are compiled into the firmware tool: a PEM RSA key and a DER EC P-384 key.
  std::vector<std::string> embedded;
  for (const Finding& f : findings) {
    if (f.path == "usr/bin/fwupdate") embedded.push_back(f.evidence);
  }
  ASSERT_EQ(embedded.size(), 2u) << Describe(findings);
  std::sort(embedded.begin(), embedded.end());
  EXPECT_NE(embedded[0].find("DER: EC 384 bits"), std::string::npos) << embedded[0];
  EXPECT_NE(embedded[1].find("RSA 2048 bits"), std::string::npos) << embedded[1];
}

TEST(InspectImage, CleanTreeGivesNoFindingsAboveInfo) {
  if (!HaveFixtureTools()) GTEST_SKIP() << "fixture tools missing";
  TempDir tmp;
  MakeTree("clean", tmp / "root");
  const auto findings = InspectTree(tmp / "root");
  // Only the notes: the strong hash of the one real account, and the sticky tmp.
  const std::set<RulePath> expected = {{"cred.password-hash", "etc/shadow"},
                                       {"fs.world-writable", "tmp"}};
  EXPECT_EQ(RulePaths(findings), expected) << Describe(findings);
  for (const Finding& f : findings) EXPECT_EQ(f.severity, Severity::kInfo) << Describe({f});
}

// Debian's /usr/bin/openssl carries the RSA test keys of `openssl speed` (apps/testrsa.h) as
// DER: real private keys embedded in a real binary, but public test keys listed in
// known_keys.json, so they are info findings, not leaked keys.
TEST(InspectImage, DerTestKeysInsideDebiansOpensslBinaryAreKnownTestKeys) {
  const fs::path binary = "/usr/bin/openssl";
  if (!fs::exists(binary)) GTEST_SKIP() << "no /usr/bin/openssl";
  Inspector inspector = MakeInspector();
  AddBytes(inspector, "usr/bin/openssl", clearbox::testing::ReadFileBytes(binary), 0755);
  const auto findings = inspector.Finish();
  std::size_t der_rsa = 0;
  for (const Finding& f : findings) {
    EXPECT_NE(f.rule, "secret.private-key") << Describe({f});
    if (f.rule == "secret.known-test-key" && f.evidence.starts_with("DER: RSA")) {
      EXPECT_EQ(f.severity, Severity::kInfo);
      EXPECT_NE(f.message.find("testrsa.h"), std::string::npos) << f.message;
      ++der_rsa;
    }
  }
  EXPECT_GE(der_rsa, 1u) << Describe(findings);
}

TEST(InspectImage, ResultIsIndependentOfOrderAndThreads) {
  if (!HaveFixtureTools()) GTEST_SKIP() << "fixture tools missing";
  TempDir tmp;
  MakeTree("planted", tmp / "root");
  const fs::path root = tmp / "root";
  const auto serial = InspectTree(root);
  auto objects = ListTree(root);
  std::mt19937 rng(7);
  std::shuffle(objects.begin(), objects.end(), rng);
  Inspector inspector = MakeInspector();
  std::vector<std::thread> threads;
  constexpr std::size_t kThreads = 4;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < objects.size(); i += kThreads) {
        AddDiskObject(inspector, root, objects[i]);
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto parallel = inspector.Finish();
  EXPECT_EQ(serial, parallel) << Describe(serial) << "----\n" << Describe(parallel);
}

// Packs the tree as SquashFS, unpacks it with clearbox, and inspects the manifest's entries:
// modes (setuid, world-writable) come from the image as the manifest records them.
std::vector<Finding> InspectThroughSquashfs(const std::string& kind, const fs::path& tmp,
                                            std::string* prefix_out) {
  const fs::path root = tmp / "root";
  MakeTree(kind, root);
  const fs::path image = tmp / "image.sqfs";
  std::string output;
  EXPECT_EQ(RunShell("mksquashfs '" + root.string() + "' '" + image.string() +
                         "' -noappend -all-root -quiet 2>&1",
                     &output),
            0)
      << output;
  const fs::path out = tmp / "out";
  const unpack::Manifest manifest = clearbox::testing::UnpackForTest(image, out);
  const std::string prefix = clearbox::testing::FindChunkDir(manifest, "squashfs");
  EXPECT_FALSE(prefix.empty());
  *prefix_out = prefix;
  Inspector inspector = MakeInspector();
  for (const unpack::ExtractedEntry& e : manifest.files) {
    FileView view;
    view.path = e.path;
    view.mode = e.mode;
    view.link_target = e.link_target;
    std::string content;
    switch (e.type) {
      case unpack::EntryType::kFile:
      case unpack::EntryType::kHardlink:
        view.kind = FileKind::kRegular;
        content = clearbox::testing::ReadFileBytes(out / e.path);
        break;
      case unpack::EntryType::kDirectory: view.kind = FileKind::kDirectory; break;
      case unpack::EntryType::kSymlink: view.kind = FileKind::kSymlink; break;
      default: view.kind = FileKind::kOther; break;
    }
    view.bytes = ByteView(reinterpret_cast<const std::uint8_t*>(content.data()), content.size());
    inspector.AddFile(view);
  }
  // The extracted setuid file carries no setuid bit on disk: the finding must come from
  // the manifest's mode.
  struct stat st {};
  if (kind == "planted") {
    EXPECT_EQ(::lstat((out / prefix / "usr/bin/suidtool").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 04000, 0u);
  }
  return inspector.Finish();
}

std::vector<Finding> StripPrefix(std::vector<Finding> findings, const std::string& prefix) {
  std::vector<Finding> out;
  for (Finding& f : findings) {
    if (f.path.starts_with(prefix + "/")) {
      f.path = f.path.substr(prefix.size() + 1);
      out.push_back(std::move(f));
    } else if (f.path == prefix) {
      f.path = "";  // the filesystem root directory itself
      out.push_back(std::move(f));
    } else {
      ADD_FAILURE() << "finding outside the squashfs chunk: " << f.path;
    }
  }
  return out;
}

TEST(InspectImage, PlantedSquashfsThroughManifest) {
  if (!HaveFixtureTools() || !HaveTool("mksquashfs")) GTEST_SKIP() << "fixture tools missing";
  TempDir tmp;
  std::string prefix;
  auto findings = StripPrefix(InspectThroughSquashfs("planted", tmp.path(), &prefix), prefix);
  ExpectPlantedFindings(findings);
}

TEST(InspectImage, CleanSquashfsThroughManifest) {
  if (!HaveFixtureTools() || !HaveTool("mksquashfs")) GTEST_SKIP() << "fixture tools missing";
  TempDir tmp;
  std::string prefix;
  auto findings = StripPrefix(InspectThroughSquashfs("clean", tmp.path(), &prefix), prefix);
  const std::set<RulePath> expected = {{"cred.password-hash", "etc/shadow"},
                                       {"fs.world-writable", "tmp"}};
  EXPECT_EQ(RulePaths(findings), expected) << Describe(findings);
}

}  // namespace
}  // namespace clearbox::inspect
