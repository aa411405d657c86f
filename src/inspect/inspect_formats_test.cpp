// Keys and certificates in the places the accuracy review found them missed: PEM quoted in
// JSON/XML, X.509 v1 DER certificates, a device's own certificate in etc/ssl/certs.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "inspect/crypto_material.hpp"
#include "inspect/inspect_test_util.hpp"

namespace clearbox::inspect {
namespace {

using namespace clearbox::inspect::testing;
using clearbox::testing::HaveTool;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;

std::vector<std::string> RulesOf(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.rule);
  std::sort(out.begin(), out.end());
  return out;
}

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
  EXPECT_EQ(RulesOf(json), (std::vector<std::string>{"secret.private-key"}));
  std::string indented = "<config>\n  <key>\n";
  for (std::size_t pos = 0; pos < pem.size();) {
    const std::size_t end = pem.find('\n', pos);
    indented += "      " + pem.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  indented += "  </key>\n</config>\n";
  EXPECT_EQ(RulesOf(InspectOne("etc/app/config.xml", indented)),
            (std::vector<std::string>{"secret.private-key"}));
  std::string references = pem;
  for (std::size_t at = references.find('\n'); at != std::string::npos;
       at = references.find('\n', at + 5)) {
    references.replace(at, 1, "&#10;");
  }
  EXPECT_EQ(RulesOf(InspectOne("etc/app/tr069.xml", "<k>" + references + "</k>")),
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
  EXPECT_EQ(RulesOf(findings), (std::vector<std::string>{"cert.self-signed"}));
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
  EXPECT_EQ(RulesOf(InspectOne("etc/ssl/certs/server.crt", m.Read("leaf.pem"))),
            (std::vector<std::string>{"cert.self-signed"}));
  EXPECT_TRUE(InspectOne("etc/ssl/certs/root.crt", m.Read("root.pem")).empty());
  EXPECT_TRUE(InspectOne("etc/ssl/certs/ca-certificates.crt", m.Read("leaf.pem")).empty());
}

}  // namespace
}  // namespace clearbox::inspect
