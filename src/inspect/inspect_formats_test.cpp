// Keys and certificates in the places the accuracy review found them missed: PEM quoted in
// JSON/XML, X.509 v1 DER certificates, a device's own certificate in etc/ssl/certs.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "inspect/crypto_material.hpp"
#include "inspect/inspect_test_util.hpp"
#include "inspect/web_credentials.hpp"

namespace clearbox::inspect {
namespace {

using namespace clearbox::inspect::testing;
using clearbox::testing::HaveTool;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;

std::vector<Finding> InspectOne(const std::string& path, const std::string& content) {
  Inspector inspector = MakeInspector();
  AddBytes(inspector, path, content);
  return inspector.Finish();
}

// Runs a shell command in a fresh directory and returns the named output files.
class Material {
 public:
  explicit Material(const std::string& command) {
    ok_ = RunShell("cd '" + tmp_.path().string() + "' && (" + command + ") >/dev/null 2>&1") == 0;
  }
  bool ok() const { return ok_; }
  std::string Read(const std::string& name) const {
    std::ifstream in(tmp_.path() / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TempDir tmp_;
  bool ok_ = false;
};

std::string JsonEscaped(const std::string& pem) {
  std::string out;
  for (char c : pem) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '/') {
      out += "\\/";
    } else {
      out += c;
    }
  }
  return out;
}

TEST(InspectFormats, NormalizePemBlockUnescapesAndTrims) {
  EXPECT_EQ(NormalizePemBlock("-----BEGIN X-----\\nQUJD\\/\\r\\n-----END X-----"),
            "-----BEGIN X-----\nQUJD/\n-----END X-----\n");
  EXPECT_EQ(NormalizePemBlock("-----BEGIN X-----&#10;QUJD&#xD;&#xA;-----END X-----"),
            "-----BEGIN X-----\nQUJD\n-----END X-----\n");
  EXPECT_EQ(NormalizePemBlock("  -----BEGIN X-----\r\n\tQUJD  \n\n   -----END X-----"),
            "-----BEGIN X-----\nQUJD\n\n-----END X-----\n");
  EXPECT_EQ(NormalizePemBlock(""), "");
  EXPECT_EQ(NormalizePemBlock("\\"), "\\\n");
  EXPECT_EQ(NormalizePemBlock("&#1"), "&#1\n");
}

TEST(InspectFormats, PemKeyQuotedInJsonAndXml) {
  if (!HaveTool("openssl")) GTEST_SKIP();
  Material m("openssl genrsa -traditional -out k.pem 2048");
  ASSERT_TRUE(m.ok());
  const std::string pem = m.Read("k.pem");
  ASSERT_NE(pem.find("BEGIN RSA PRIVATE KEY"), std::string::npos);
  const auto json =
      InspectOne("etc/app/config.json", "{\"tls\": {\"key\": \"" + JsonEscaped(pem) + "\"}}\n");
  EXPECT_EQ(Rules(json), (std::vector<std::string>{"secret.private-key"}));
  std::string indented = "<config>\n  <key>\n";
  for (std::size_t pos = 0; pos < pem.size();) {
    const std::size_t end = pem.find('\n', pos);
    indented += "      " + pem.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  indented += "  </key>\n</config>\n";
  EXPECT_EQ(Rules(InspectOne("etc/app/config.xml", indented)),
            (std::vector<std::string>{"secret.private-key"}));
  std::string references = pem;
  for (std::size_t at = references.find('\n'); at != std::string::npos;
       at = references.find('\n', at + 5)) {
    references.replace(at, 1, "&#10;");
  }
  EXPECT_EQ(Rules(InspectOne("etc/app/tr069.xml", "<k>" + references + "</k>")),
            (std::vector<std::string>{"secret.private-key"}));
}

TEST(InspectFormats, VersionOneDerCertificateIsJudged) {
  if (!HaveTool("openssl")) GTEST_SKIP();
  Material m(
      "openssl req -new -newkey rsa:2048 -nodes -keyout k.pem -subj /CN=v1 -out r.csr && "
      "openssl x509 -req -in r.csr -signkey k.pem -days 300 -outform DER -out v1.der && "
      "openssl x509 -inform DER -in v1.der -noout -text | grep -q 'Version: 1'");
  ASSERT_TRUE(m.ok());
  const auto findings = InspectOne("etc/lighttpd/server.crt", m.Read("v1.der"));
  EXPECT_EQ(Rules(findings), (std::vector<std::string>{"cert.self-signed"}));
  // The same bytes inside a binary, at an odd offset.
  const auto inside = InspectOne("usr/bin/httpd", std::string(77, '\x01') + m.Read("v1.der"));
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0].offset, 77u);
}

TEST(InspectFormats, OwnCertificateInTrustStoreDirectoryIsJudged) {
  if (!HaveTool("openssl")) GTEST_SKIP();
  Material m(
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out leaf.pem -subj /CN=dev "
      "-days 3650 -addext basicConstraints=critical,CA:FALSE && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout r.pem -out root.pem -subj /CN=root "
      "-days 3650");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Rules(InspectOne("etc/ssl/certs/server.crt", m.Read("leaf.pem"))),
            (std::vector<std::string>{"cert.self-signed"}));
  EXPECT_TRUE(InspectOne("etc/ssl/certs/root.crt", m.Read("root.pem")).empty());
  EXPECT_TRUE(InspectOne("etc/ssl/certs/ca-certificates.crt", m.Read("leaf.pem")).empty());
}

TEST(InspectFormats, WifiPassphrasesAndPreSharedKeys) {
  const std::string hex_psk = "3f1c5e0a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d1f";
  const auto wpa = InspectOne("etc/wpa_supplicant/wpa_supplicant.conf",
                              "ctrl_interface=/var/run/wpa_supplicant\nnetwork={\n\tssid=\"Home\"\n"
                              "\tpsk=\"Tr0ub4dor&3xyz\"\n}\nnetwork={\n\tssid=\"Office\"\n\tpsk=" +
                                  hex_psk +
                                  "\n}\nnetwork={\n\tssid=\"x\"\n\t#psk=\"commented1\"\n"
                                  "\tpsk=\"$PSK\"\n}\n");
  EXPECT_EQ(Rules(wpa), (std::vector<std::string>{"secret.wifi-psk", "secret.wifi-psk"}));
  const auto ap = InspectOne("etc/hostapd/hostapd.conf",
                             "interface=wlan0\nwpa_passphrase=Sup3rS3cretAP!\nwpa_psk=" + hex_psk +
                                 "\nwpa_psk_file=/etc/hostapd.wpa_psk\n");
  EXPECT_EQ(Rules(ap), (std::vector<std::string>{"secret.wifi-psk", "secret.wifi-psk"}));
  // OpenWrt's UCI: `option key` holds the PSK (or a WEP key index 1-4, which is no secret).
  const auto uci = InspectOne("etc/config/wireless",
                              "config wifi-iface 'default_radio0'\n\toption device 'radio0'\n"
                              "\toption encryption 'psk2'\n\toption key 'W1f1-H0me-2024'\n\n"
                              "config wifi-iface 'wep'\n\toption encryption 'wep-open'\n"
                              "\toption key '1'\n\t# option key 'commented-out'\n"
                              "\toption sae_password \"Sae-Secret-99\"\n");
  EXPECT_EQ(Rules(uci), (std::vector<std::string>{"secret.wifi-psk", "secret.wifi-psk"}));
  EXPECT_NE(uci.front().evidence.find("W1..."), std::string::npos) << uci.front().evidence;
}

TEST(InspectFormats, PasswordsInCgiLuaPhpAndJavaScript) {
  const std::vector<std::string> one{"secret.hardcoded-password"};
  EXPECT_EQ(Rules(InspectOne("www/cgi-bin/admin.cgi", "#!/bin/sh\npasswd=Adm1nPa55\n")), one);
  EXPECT_EQ(Rules(InspectOne("usr/lib/lua/luci/auth.lua", "local password = \"LuaS3cret9\"\n")),
            one);
  EXPECT_EQ(Rules(InspectOne("var/www/html/a.php", "<?php\n$password = 'PhpS3cret9';\n")), one);
  EXPECT_EQ(
      Rules(InspectOne("var/www/html/b.php", "<?php\n$cfg['db_password'] = \"PhpDb5ecret\";\n")),
      one);
  EXPECT_EQ(
      Rules(InspectOne("var/www/html/c.php", "<?php\ndefine('DB_PASSWORD', 'DefS3cret77');\n")),
      one);
  EXPECT_EQ(Rules(InspectOne("www/js/app.js", "const password = \"JsS3cret99\";\n")), one);
  // Variables, calls and placeholders are not secrets.
  EXPECT_TRUE(InspectOne("var/www/html/d.php",
                         "<?php\n$password = $_POST['password'];\n$cfg['password'] = '';\n"
                         "define('DB_PASSWORD', getenv('DB_PASSWORD'));\n")
                  .empty());
  EXPECT_TRUE(InspectOne("www/js/login.js",
                         "const password = document.getElementById('pw').value;\n"
                         "let passwd = \"<your password>\";\n")
                  .empty());
  EXPECT_TRUE(
      InspectOne("usr/lib/lua/luci/x.lua", "local password = luci.http.formvalue(\"password\")\n")
          .empty());
  EXPECT_TRUE(
      InspectOne("www/cgi-bin/y.cgi", "#!/bin/sh\npasswd=$1\nPASS=\"${PASS:-}\"\n").empty());
}

TEST(InspectFormats, WebHashSchemesMatchApacheAndOpenSsl) {
  // openssl passwd -apr1 -salt abcdefgh admin
  EXPECT_EQ(Apr1Crypt("admin", "$apr1$abcdefgh$mMZnMi5KMcUTRCidnJ3Px0"),
            "$apr1$abcdefgh$mMZnMi5KMcUTRCidnJ3Px0");
  EXPECT_EQ(Apr1Crypt("admin", "$1$abcdefgh$x"), "");
  EXPECT_EQ(HtpasswdSha1("password"), "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=");
  EXPECT_EQ(HtdigestHash("admin", "Realm", "admin").size(), 32u);
  if (HaveTool("openssl")) {
    for (const char* password : {"", "x", "0123456789abcdef0123", "pass word"}) {
      std::string expected;
      ASSERT_EQ(
          RunShell(std::string("openssl passwd -apr1 -salt s4Lt '") + password + "'", &expected),
          0);
      while (!expected.empty() && expected.back() == '\n') expected.pop_back();
      EXPECT_EQ(Apr1Crypt(password, expected), expected) << password;
    }
  }
}

TEST(InspectFormats, WebCredentialFilesAreParsed) {
  EXPECT_EQ(ClassifyWebCredentialPath("etc/lighttpd/lighttpd.user"),
            WebCredentialFormat::kUserPlain);
  EXPECT_EQ(ClassifyWebCredentialPath("etc/lighttpd/lighttpd-plain.user"),
            WebCredentialFormat::kUserPlain);
  EXPECT_EQ(ClassifyWebCredentialPath("etc/lighttpd/lighttpd-htpasswd.user"),
            WebCredentialFormat::kHtpasswd);
  EXPECT_EQ(ClassifyWebCredentialPath("etc/lighttpd/admin.user"), WebCredentialFormat::kUserSecret);
  EXPECT_EQ(ClassifyWebCredentialPath("etc/boa/boa_passwd"), WebCredentialFormat::kUserSecret);
  EXPECT_EQ(ClassifyWebCredentialPath("var/www/.htpasswd"), WebCredentialFormat::kHtpasswd);
  EXPECT_TRUE(HoldsCryptHashes(WebCredentialFormat::kHtpasswd));
  EXPECT_FALSE(HoldsCryptHashes(WebCredentialFormat::kUserPlain));
  EXPECT_FALSE(HoldsCryptHashes(WebCredentialFormat::kUserSecret));
  EXPECT_EQ(ClassifyWebCredentialPath("etc/apache2/.htdigest"), WebCredentialFormat::kHtdigest);
  EXPECT_EQ(ClassifyWebCredentialPath("etc/httpd.conf"), WebCredentialFormat::kBusyboxHttpd);
  EXPECT_FALSE(ClassifyWebCredentialPath("etc/lighttpd/lighttpd.conf"));
  const auto busybox = ParseWebCredentials(
      "A:*\nD:10.0.0.0/8\n/cgi-bin:admin:s3cret\n.au:audio/basic\n# /x:a:b\n/adm:root:\n",
      WebCredentialFormat::kBusyboxHttpd);
  ASSERT_EQ(busybox.size(), 2u);
  EXPECT_EQ(busybox[0].user, "admin");
  EXPECT_EQ(busybox[0].secret, "s3cret");
  EXPECT_EQ(busybox[1].secret, "");
  const auto digest =
      ParseWebCredentials("admin:Realm:0123456789abcdef0123456789abcdef\nbad:Realm:xyz\nnoline\n",
                          WebCredentialFormat::kHtdigest);
  ASSERT_EQ(digest.size(), 1u);
  EXPECT_EQ(digest[0].realm, "Realm");
}

TEST(InspectFormats, WebCredentialsPlainAndHashedAreJudged) {
  Inspector inspector = MakeInspector();
  AddBytes(inspector, "etc/lighttpd/lighttpd.user", "admin:Lt7pQ9zz\nguest:guest\n");
  AddBytes(inspector, "etc/httpd.conf",
           "A:*\n/cgi-bin:admin:admin\n/adm:root:$1$xy$ocE4iPUqkwuayA.1na//p1\n");
  AddBytes(inspector, "etc/boa/boa_passwd", "admin:B0aS3cret\n");
  AddBytes(inspector, "var/www/admin/.htpasswd",
           "u1:$apr1$abcdefgh$mMZnMi5KMcUTRCidnJ3Px0\nu2:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
  AddBytes(inspector, "etc/apache2/.htdigest",
           "admin:Realm:" + HtdigestHash("admin", "Realm", "admin") + "\n");
  std::set<std::string> got;
  for (const Finding& f : inspector.Finish()) {
    if (f.rule == "cred.default-password" || f.rule == "cred.plaintext-password") {
      got.insert(f.rule + " " + f.path + " " + f.evidence + " " +
                 std::string(ToString(f.severity)));
    }
  }
  const std::set<std::string> expected = {
      "cred.plaintext-password etc/lighttpd/lighttpd.user admin:Lt... (8 chars) high",
      "cred.default-password etc/lighttpd/lighttpd.user guest:guest critical",
      "cred.default-password etc/httpd.conf admin:admin critical",
      "cred.default-password etc/httpd.conf root:1234 critical",
      "cred.plaintext-password etc/boa/boa_passwd admin:B0... (9 chars) high",
      "cred.default-password var/www/admin/.htpasswd u1:admin critical",
      "cred.default-password var/www/admin/.htpasswd u2:password critical",
      "cred.default-password etc/apache2/.htdigest admin:admin critical",
  };
  EXPECT_EQ(got, expected);
}

// 13 characters of [./0-9A-Za-z] look like a traditional DES crypt hash; only a file whose
// format stores hashes (htpasswd) holds one, elsewhere they are a password in clear.
TEST(InspectFormats, ThirteenCharacterPasswordIsPlainUnlessTheFormatHoldsHashes) {
  Inspector inspector = MakeInspector();
  AddBytes(inspector, "etc/lighttpd/lighttpd.user", "admin:Adm1nPassw0rd\n");
  AddBytes(inspector, "etc/boa/boa_passwd", "root:Adm1nPassw0rd\n");
  AddBytes(inspector, "etc/httpd.conf", "/cgi-bin:admin:Adm1nPassw0rd\n");
  // crypt("admin", "ab") from libc's DES crypt.
  AddBytes(inspector, "var/www/.htpasswd", "web:abOV.DfJmdnYw\n");
  std::set<std::string> got;
  for (const Finding& f : inspector.Finish()) {
    if (f.rule.starts_with("cred.")) {
      got.insert(f.rule + " " + f.path + " " + f.evidence + " " +
                 std::string(ToString(f.severity)));
    }
  }
  EXPECT_TRUE(got.contains(
      "cred.plaintext-password etc/lighttpd/lighttpd.user admin:Ad... (13 chars) high"));
  EXPECT_TRUE(
      got.contains("cred.plaintext-password etc/boa/boa_passwd root:Ad... (13 chars) high"));
  EXPECT_TRUE(got.contains("cred.plaintext-password etc/httpd.conf admin:Ad... (13 chars) high"));
  EXPECT_TRUE(got.contains("cred.default-password var/www/.htpasswd web:admin critical"));
  for (const std::string& g : got) {
    if (!g.contains("var/www/.htpasswd")) {
      EXPECT_FALSE(g.contains("descrypt")) << g;
    }
  }
}

}  // namespace
}  // namespace clearbox::inspect
