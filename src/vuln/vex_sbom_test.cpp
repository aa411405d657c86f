// VEX (OpenVEX, CycloneDX) and SBOM input (CycloneDX 1.4-1.6, SPDX 2.3) on the public samples
// copied to tests/oracle (see its SOURCES.md) and on hand-written documents.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "vuln/identifiers.hpp"
#include "vuln/sbom_input.hpp"
#include "vuln/vex.hpp"
#include "vuln/vuln_test_util.hpp"

namespace clearbox::vuln {
namespace {

namespace fs = std::filesystem;

fs::path Samples() {
  return testing::OracleDir() / "cve-bin-tool" / "sbom-samples";
}

TEST(VulnSbom, CycloneDxSample) {
  auto c = ReadSbomComponents(Samples() / "cyclonedx_test.json");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].name, "Acme Application");
  EXPECT_EQ((*c)[0].version, "9.1.1");
  EXPECT_EQ((*c)[0].cpe, "cpe:/a:acme:application:9.1.1");
  EXPECT_EQ((*c)[1].purl, "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.14");
  EXPECT_EQ((*c)[2].name, "glibc");
  EXPECT_EQ((*c)[2].version, "2.11.1");
}

TEST(VulnSbom, CycloneDxBadPurlsAreDroppedNotFatal) {
  auto c = ReadSbomComponents(Samples() / "cyclonedx_bad_purl.json");
  ASSERT_TRUE(c) << c.error().message;
  bool saw_expat = false, saw_zlib = false;
  for (const auto& q : *c) {
    if (q.name == "libexpat") {
      saw_expat = true;
      EXPECT_EQ(q.purl, "");  // "pkg:deb/libexpat_project/@2.0.1" has no name
      EXPECT_EQ(q.version, "2.0.1");
    }
    if (q.name == "zlib") {
      saw_zlib = true;
      EXPECT_EQ(q.cpe, "cpe:/a:zlib:zlib:1.2.3");
    }
  }
  EXPECT_TRUE(saw_expat);
  EXPECT_TRUE(saw_zlib);
}

TEST(VulnSbom, SpdxSamples) {
  for (const char* f : {"spdx_test.spdx.json", "spdx_mixed_test.spdx.json"}) {
    auto c = ReadSbomComponents(Samples() / f);
    ASSERT_TRUE(c) << f << ": " << c.error().message;
    ASSERT_EQ(c->size(), 4u) << f;
    EXPECT_EQ(AsciiLower((*c)[0].name), "glibc");
    EXPECT_EQ((*c)[0].cpe, "cpe:2.3:a:gnu:glibc:2.11.1:*:*:*:*:*:*:*");
    EXPECT_EQ((*c)[1].name, "Apache Commons Lang");
    EXPECT_EQ((*c)[2].purl, "pkg:maven/org.apache.jena/apache-jena@3.12.0");
    EXPECT_EQ((*c)[3].version, "8.8");
  }
}

TEST(VulnSbom, CycloneDxTestcasesNestedAndVersions) {
  const auto dir = testing::OracleDir() / "schemas" / "cyclonedx-testcases";
  int read = 0;
  for (const char* v : {"1.5", "1.6"}) {
    for (const auto& e : fs::directory_iterator(dir / v)) {
      const auto name = e.path().filename().string();
      if (!name.starts_with("valid-") || !name.ends_with(".json")) continue;
      auto c = ReadSbomComponents(e.path());
      EXPECT_TRUE(c) << name << ": " << c.error().message;
      ++read;
    }
  }
  EXPECT_GT(read, 50);
  auto nested = ParseSbomComponents(R"({"bomFormat":"CycloneDX","specVersion":"1.4",
    "metadata":{"component":{"name":"the-firmware","version":"1.0"}},
    "components":[{"type":"application","name":"busybox","version":"1.33.1",
      "components":[{"type":"library","name":"inner","purl":"pkg:generic/inner@2"}]}]})");
  ASSERT_TRUE(nested);
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ((*nested)[1].purl, "pkg:generic/inner@2");
  EXPECT_FALSE(ParseSbomComponents(R"({"bomFormat":"CycloneDX","specVersion":"2.0"})"));
  EXPECT_FALSE(ParseSbomComponents(R"({"spdxVersion":"SPDX-3.0"})"));
  EXPECT_FALSE(ParseSbomComponents("[1,2]"));
  EXPECT_FALSE(ParseSbomComponents("{\"bomFormat\":"));
  std::string deep = R"({"bomFormat":"CycloneDX","specVersion":"1.6","components":)";
  for (int i = 0; i < 100; ++i) deep += R"([{"name":"x","components":)";
  deep += "[]";
  for (int i = 0; i < 100; ++i) deep += "}]";
  deep += "}";
  EXPECT_FALSE(ParseSbomComponents(deep));  // nesting capped, not a stack overflow
}

TEST(VulnVex, CycloneDxSampleFromCveBinTool) {
  auto vex = ReadVex(Samples() / "test_cyclonedx_vex.json");
  ASSERT_TRUE(vex) << vex.error().message;
  ASSERT_EQ(vex->statements.size(), 4u);
  const ComponentQuery product0{"product0", "1.0", "", ""};
  const auto* s = vex->Find("CVE-1234-1004", product0);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, VexStatus::kUnderInvestigation);
  EXPECT_EQ(VexStatusName(s->status), "under_investigation");
  EXPECT_EQ(vex->Find("CVE-1234-1004", {"product0", "2.0", "", ""}), nullptr);
  EXPECT_EQ(vex->Find("CVE-1234-9999", product0), nullptr);
  for (const auto& st : vex->statements) EXPECT_EQ(st.format, "cyclonedx");
}

TEST(VulnVex, OpenVexStatusesJustificationsAndProducts) {
  auto vex = ParseVex(R"({
    "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.org/vex-1",
    "author": "Example PSIRT", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
    "statements": [
      {"vulnerability": {"name": "CVE-2022-0778"},
       "products": [{"@id": "pkg:generic/openssl@1.1.1m"}],
       "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
       "impact_statement": "BN_mod_sqrt is never called with attacker data"},
      {"vulnerability": {"name": "CVE-2021-42374"},
       "products": [{"@id": "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*"}],
       "status": "fixed", "timestamp": "2024-02-01T00:00:00Z"},
      {"vulnerability": {"name": "CVE-2021-42374"},
       "products": [{"@id": "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*"}],
       "status": "under_investigation", "timestamp": "2024-01-15T00:00:00Z"},
      {"vulnerability": "CVE-2020-25681", "products": ["dnsmasq"], "status": "affected",
       "action_statement": "update to 2.83"}]})");
  ASSERT_TRUE(vex) << vex.error().message;
  ASSERT_EQ(vex->statements.size(), 4u);
  const auto* s = vex->Find("cve-2022-0778", {"", "", "", "pkg:generic/openssl@1.1.1m"});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, VexStatus::kNotAffected);
  EXPECT_EQ(s->justification, "vulnerable_code_not_in_execute_path");
  EXPECT_EQ(vex->Find("CVE-2022-0778", {"", "", "", "pkg:generic/openssl@3.0.1"}), nullptr);
  // The newer statement wins, whatever the order in the document.
  s = vex->Find("CVE-2021-42374", {"", "", "cpe:2.3:a:busybox:busybox:1.33.1:*:*:*:*:*:*:*", ""});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, VexStatus::kFixed);
  s = vex->Find("CVE-2020-25681", {"dnsmasq", "2.80", "", ""});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, VexStatus::kAffected);
  EXPECT_EQ(s->action_statement, "update to 2.83");
  EXPECT_FALSE(ParseVex(R"({"@context":"https://openvex.dev/ns/v0.2.0","statements":[
    {"vulnerability":{"name":"CVE-1"},"products":[],"status":"maybe"}]})"));
  EXPECT_FALSE(ParseVex("{\"foo\": 1}"));
  EXPECT_FALSE(ParseVex("not json"));
}

TEST(VulnVex, CycloneDxRefsResolveToComponents) {
  auto vex = ParseVex(R"({"bomFormat": "CycloneDX", "specVersion": "1.5",
    "components": [{"bom-ref": "zlib-ref", "name": "zlib", "version": "1.2.11",
                    "purl": "pkg:generic/zlib@1.2.11"}],
    "vulnerabilities": [
      {"id": "CVE-2018-25032", "analysis": {"state": "resolved_with_pedigree",
        "detail": "patched", "response": ["update"]}, "affects": [{"ref": "zlib-ref"}]},
      {"id": "CVE-2022-37434", "analysis": {"state": "false_positive",
        "justification": "code_not_reachable"}, "affects": [{"ref": "zlib-ref"}]},
      {"id": "CVE-2023-45853", "analysis": {"state": "exploitable"},
       "affects": [{"ref": "pkg:generic/zlib@1.2.11"}]}]})");
  ASSERT_TRUE(vex) << vex.error().message;
  const ComponentQuery zlib{"zlib", "1.2.11", "", "pkg:generic/zlib@1.2.11"};
  ASSERT_NE(vex->Find("CVE-2018-25032", zlib), nullptr);
  EXPECT_EQ(vex->Find("CVE-2018-25032", zlib)->status, VexStatus::kFixed);
  EXPECT_EQ(vex->Find("CVE-2018-25032", zlib)->action_statement, "update");
  EXPECT_EQ(vex->Find("CVE-2022-37434", zlib)->status, VexStatus::kNotAffected);
  EXPECT_EQ(vex->Find("CVE-2022-37434", zlib)->justification, "code_not_reachable");
  EXPECT_EQ(vex->Find("CVE-2023-45853", zlib)->status, VexStatus::kAffected);
  EXPECT_EQ(vex->Find("CVE-2018-25032", {"zlib", "1.3", "", "pkg:generic/zlib@1.3"}), nullptr);
}

}  // namespace
}  // namespace clearbox::vuln
