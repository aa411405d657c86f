#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "core/read_file.hpp"
#include "html/page.hpp"
#include "html/report_page.hpp"

namespace clearbox::html {
namespace {

// The body of the first <tag>...</tag> in `page`.
std::string InlineBlock(const std::string& page, const std::string& tag) {
  const std::string open = "<" + tag + ">";
  const auto begin = page.find(open);
  const auto end = page.find("</" + tag + ">", begin);
  if (begin == std::string::npos || end == std::string::npos) return {};
  return page.substr(begin + open.size(), end - begin - open.size());
}

TEST(HtmlEscape, HostileNamesBecomeText) {
  EXPECT_EQ(EscapeText("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(EscapeAttribute("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
  EXPECT_EQ(EscapeText("\" onload=\"x"), "&quot; onload=&quot;x");
}

TEST(HtmlEscape, InvalidUtf8AndControlsBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(EscapeText(std::string("a\xFF") + "b"), "a" + fffd + "b");
  EXPECT_EQ(EscapeText(std::string("\xC0\xBC")), fffd + fffd);             // overlong '<'
  EXPECT_EQ(EscapeText(std::string("\xED\xA0\x80")), fffd + fffd + fffd);  // a surrogate
  EXPECT_EQ(EscapeText(std::string("x\xE2\x82")), "x" + fffd + fffd);      // cut sequence
  EXPECT_EQ(EscapeText(std::string("a\0b", 3)), "a" + fffd + "b");
  EXPECT_EQ(EscapeText("a\x1b[31mb"), "a" + fffd + "[31mb");
  EXPECT_EQ(EscapeText("evil\xE2\x80\xAEtxt.exe"), "evil" + fffd + "txt.exe");  // RLO
  EXPECT_EQ(EscapeText("tab\tnew\nline"), "tab\tnew\nline");
  EXPECT_EQ(EscapeText("caf\xC3\xA9 \xF0\x9F\x94\x91"), "caf\xC3\xA9 \xF0\x9F\x94\x91");
}

TEST(HtmlPage, Base64MatchesRfc4648) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  // echo -n "" | openssl dgst -sha256 -binary | base64
  EXPECT_EQ(CspHash(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
}

TEST(HtmlPage, CspAllowsExactlyTheInlineStyleAndScript) {
  Page page{"t<i>tle", "sub", {{"one", "One", "<p>body</p>", 3}}, "footer"};
  const std::string out = RenderPage(page);
  std::smatch csp;
  ASSERT_TRUE(std::regex_search(
      out, csp, std::regex("http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\"")));
  const std::string policy = csp[1];
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(policy.find("style-src " + CspHash(InlineBlock(out, "style")) + ";"), std::string::npos)
      << policy;
  EXPECT_NE(policy.find("script-src " + CspHash(InlineBlock(out, "script")) + ";"),
            std::string::npos)
      << policy;
  EXPECT_EQ(InlineBlock(out, "style"), Stylesheet());
  EXPECT_EQ(InlineBlock(out, "script"), SortScript());
  EXPECT_EQ(policy.find("unsafe"), std::string::npos);
  // The policy comes before anything it governs.
  EXPECT_LT(out.find("Content-Security-Policy"), out.find("<style>"));
  EXPECT_NE(out.find("<section id=\"one\" data-count=\"3\">"), std::string::npos);
  EXPECT_NE(out.find("t&lt;i&gt;tle"), std::string::npos);
  EXPECT_EQ(out.find("<i>"), std::string::npos);
  EXPECT_NE(out.find("@media print"), std::string::npos);
  EXPECT_EQ(RenderPage(page), out);
}

TEST(HtmlPage, TablesAndChartsEscapeTheirContent) {
  Table table{"t", {"name", "size"}, {{Cell::Text("<b>"), Cell::Number(12)}}, true};
  const std::string out = RenderTable(table);
  EXPECT_NE(out.find("class=\"sortable\""), std::string::npos);
  EXPECT_NE(out.find("<td>&lt;b&gt;</td>"), std::string::npos);
  EXPECT_NE(out.find("<td class=\"num\" data-sort=\"12\">12</td>"), std::string::npos);
  const std::string svg = BarChart("sev<", {{"<x>", 2, "", "sev-high"}, {"y", 4, "4!", ""}});
  EXPECT_NE(svg.find("<title>sev&lt;</title>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;x&gt;"), std::string::npos);
  EXPECT_NE(svg.find("width=\"150\""), std::string::npos);  // 2 of 4 on a 300 px track
  EXPECT_NE(svg.find("width=\"300\" height=\"20\"/><text"), std::string::npos);
  EXPECT_NE(svg.find(">4!</text>"), std::string::npos);
  EXPECT_EQ(BarChart("none", {{"a", 0, "", ""}}).find("NaN"), std::string::npos);
}

}  // namespace
}  // namespace clearbox::html

namespace clearbox::html {
namespace {

using Json = nlohmann::json;

// A small report.json as docs/report-schema.md describes it, with hostile strings.
Json HandBuiltReport() {
  return Json::parse(R"json({
    "schema": "https://clearbox.dev/schemas/report", "schema_version": 1,
    "tool": {"name": "clearbox", "version": "0.1.0"},
    "image": {"path": "fw<1>.bin", "size": 10, "sha256": "ab"},
    "vulnerability_database": "bundled snapshot",
    "summary": {"files": 3, "binaries": 2, "components": 1, "findings": 2,
                "findings_by_severity": {"critical": 1, "high": 0, "medium": 0, "low": 1, "info": 0},
                "vulnerabilities": 2, "known_exploited": 1, "problems": 1, "analysis_problems": 0},
    "unpack": {"chunks": [{"container": "", "offset": 0, "format": "squashfs",
                           "extracted_to": "0x0.squashfs", "complete": true},
                          {"container": "", "offset": 4096, "length": 512, "format": "luks",
                           "extracted_to": "", "complete": true,
                           "metadata": {"cipher": "aes-xts-plain64", "label": "<i>vault</i>"}}],
               "problems": [{"kind": "truncated", "path": "0x0.squashfs/x", "handler": "gzip",
                             "message": "cut"}]},
    "files": [{"path": "0x0.squashfs/<script>alert(1)</script>", "type": "text", "mode": "0644",
               "size": 3, "sha256": "cd"},
              {"path": "0x0.squashfs/bin/a", "type": "elf", "mode": "0755", "size": 9, "sha256": "ef"},
              {"path": "0x0.squashfs/l", "type": "symlink", "mode": "0777", "target": "\"x'"}],
    "binaries": [{"path": "0x0.squashfs/bin/a", "arch": "arm", "bits": 32, "endian": "little",
                  "type": "exec", "nx": true, "pie": false, "relro": "full", "canary": true,
                  "fortify": {"fortified": 1, "fortifiable": 2, "verdict": "partial"},
                  "rpath": [], "runpath": [], "stripped": true},
                 {"path": "0x0.squashfs/lib/b.so", "type": "shared", "nx": false, "relro": "none"}],
    "components": [{"name": "busybox", "version": "1.35.0", "purl": "pkg:generic/busybox@1.35.0",
                    "confidence": 0.8, "evidence": [{"method": "signature", "path": "0x0.squashfs/bin/a",
                    "detail": "BusyBox v1.35.0 <b>"}], "files": ["0x0.squashfs/bin/a"]}],
    "vulnerabilities": [
      {"id": "CVE-2000-0002", "component": {"name": "busybox", "version": "1.35.0"},
       "matched": "cpe versions [1.0, 1.36.0)", "cvss": {"score": 5.0, "severity": "medium"},
       "kev": false, "epss": 0.5, "vex": {
  "status" : "not_affected", "justification" : "code_not_present"}},
      {"id": "CVE-2000-0001", "component": {"name": "busybox", "version": "1.35.0"},
       "matched": "cpe versions (*, 1.35.0]", "cvss": {"score": 9.8, "severity": "critical"},
       "kev": true, "epss": 0.9}],
    "analysis_problems": [],
    "findings": [{"rule": "cred.default-password", "severity": "low", "path": "0x0.squashfs/etc/shadow",
                  "offset": 0, "message": "m1", "evidence": "e1"},
                 {"rule": "secret.private-key", "severity": "critical", "path": "0x0.squashfs/k",
                  "offset": 4, "message": "m2 <i>", "evidence": "e2"}]
})json");
}

Json HandBuiltCompliance() {
  return Json::parse(
      R"({"standards": [{"id": "en303645", "title": "ETSI EN 303 645", "version": "2.1.1",
    "counts": {"CONTRADICTED": 1, "PARTIALLY_SUPPORTED": 0, "SUPPORTED": 0, "NOT_DETERMINABLE": 1,
               "NOT_APPLICABLE": 0},
    "clauses": [{"id": "5.1-1", "title": "No universal default passwords", "verdict": "CONTRADICTED",
                 "rationale": "r", "evidence": ["/findings/0"]},
                {"id": "5.2-1", "title": "t", "verdict": "NOT_DETERMINABLE", "rationale": "r",
                 "evidence": []}]}]})");
}

std::string SectionTag(const std::string& page, const std::string& id) {
  const auto begin = page.find("<section id=\"" + id + "\"");
  if (begin == std::string::npos) return {};
  return page.substr(begin, page.find('>', begin) - begin + 1);
}

TEST(ReportPage, SectionsCarryTheReportsCounts) {
  const Json report = HandBuiltReport();
  const Json compliance = HandBuiltCompliance();
  auto page = RenderReportHtml(report, &compliance, {"report.json", "0123abcd", 10000});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(SectionTag(*page, "verdict"), "<section id=\"verdict\">");
  EXPECT_EQ(SectionTag(*page, "vulnerabilities"),
            "<section id=\"vulnerabilities\" data-count=\"2\">");
  EXPECT_EQ(SectionTag(*page, "components"), "<section id=\"components\" data-count=\"1\">");
  EXPECT_EQ(SectionTag(*page, "hardening"), "<section id=\"hardening\" data-count=\"2\">");
  EXPECT_EQ(SectionTag(*page, "findings"), "<section id=\"findings\" data-count=\"2\">");
  EXPECT_EQ(SectionTag(*page, "compliance"), "<section id=\"compliance\" data-count=\"1\">");
  EXPECT_EQ(SectionTag(*page, "unpack"), "<section id=\"unpack\" data-count=\"3\">");
  EXPECT_EQ(SectionTag(*page, "attestation"), "<section id=\"attestation\">");
  EXPECT_NE(page->find("id=\"unpack-problems\" data-count=\"1\""), std::string::npos);
  EXPECT_NE(page->find("<div class=\"card\" data-key=\"known_exploited\"><span class=\"n\">1<"),
            std::string::npos);
  // Worst first: the KEV vulnerability before the other, the critical finding before the low.
  EXPECT_LT(page->find("CVE-2000-0001"), page->find("CVE-2000-0002"));
  EXPECT_LT(page->find("secret.private-key"), page->find("cred.default-password"));
  EXPECT_NE(page->find("<td>1.36.0</td>"), std::string::npos);  // fixed in
  EXPECT_NE(page->find("<td>after 1.35.0</td>"), std::string::npos);
  EXPECT_NE(page->find("not_affected (code_not_present)"), std::string::npos);
  EXPECT_NE(page->find("0123abcd"), std::string::npos);  // the report's sha256
  EXPECT_NE(page->find("clearbox verify"), std::string::npos);
  EXPECT_NE(page->find("id=\"compliance-summary\""), std::string::npos);
}

TEST(ReportPage, HostileStringsAreEscaped) {
  auto page = RenderReportHtml(HandBuiltReport(), nullptr);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->find("<script>alert"), std::string::npos);
  EXPECT_NE(page->find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page->find("fw&lt;1&gt;.bin"), std::string::npos);
  EXPECT_NE(page->find("&quot;x&#39;"), std::string::npos);
  EXPECT_EQ(page->find("<b>"), std::string::npos);
  EXPECT_EQ(page->find("<i>"), std::string::npos);
  // One script element: the page's own.
  std::size_t scripts = 0;
  for (auto at = page->find("<script"); at != std::string::npos; at = page->find("<script", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 1u);
  EXPECT_EQ(SectionTag(*page, "compliance"), "");
  // A recognised-only chunk shows what its header says, as text.
  EXPECT_NE(page->find("cipher=aes-xts-plain64; label=&lt;i&gt;vault&lt;/i&gt;"),
            std::string::npos);
}

TEST(ReportPage, DeterministicAndCapped) {
  const Json report = HandBuiltReport();
  auto first = RenderReportHtml(report, nullptr);
  auto second = RenderReportHtml(report, nullptr);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);
  ReportPageOptions options;
  options.max_rows = 1;
  auto capped = RenderReportHtml(report, nullptr, options);
  ASSERT_TRUE(capped);
  EXPECT_NE(capped->find("<table id=\"file-table\" class=\"sortable\" data-rows=\"1\">"),
            std::string::npos);
  EXPECT_NE(capped->find("2 more files not listed here"), std::string::npos);
  EXPECT_EQ(SectionTag(*capped, "unpack"), "<section id=\"unpack\" data-count=\"3\">");
}

TEST(ReportPage, WrongTypesRenderWithoutThrowing) {
  EXPECT_FALSE(RenderReportHtml(Json::array(), nullptr));
  EXPECT_FALSE(RenderReportHtml(Json("text"), nullptr));
  const Json odd = Json::parse(R"({"image": 5, "summary": [], "files": {"a": 1},
    "binaries": [1, "x", null, {"fortify": 3, "rpath": "x", "type": 7}],
    "vulnerabilities": [{"cvss": {"score": "high"}, "epss": "x", "component": 1, "vex": []}, 2],
    "components": [{"evidence": [1, {"path": []}], "confidence": -1e308}],
    "findings": [{"offset": -5, "severity": {}}], "unpack": {"chunks": 1, "problems": [[]]},
    "analysis_problems": "none"})");
  const Json bad_compliance =
      Json::parse(R"({"standards": [1, {"clauses": {"x": 1}, "counts": 2}]})");
  std::string page;
  EXPECT_NO_THROW({
    auto rendered = RenderReportHtml(odd, &bad_compliance);
    ASSERT_TRUE(rendered);
    page = *rendered;
  });
  EXPECT_EQ(SectionTag(page, "unpack"), "<section id=\"unpack\" data-count=\"0\">");
  EXPECT_EQ(SectionTag(page, "hardening"), "<section id=\"hardening\" data-count=\"4\">");
  const Json empty = Json::object();
  EXPECT_NO_THROW({ EXPECT_TRUE(RenderReportHtml(empty, &empty)); });
}

TEST(ReportPage, WritesThePageOfAScanDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / "clearbox-html-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteWholeFile(dir / "report.json", HandBuiltReport().dump(2)));
  ASSERT_TRUE(WriteReportHtml(dir));
  auto page = ReadFileCapped(dir / "report.html", 1 << 24);
  ASSERT_TRUE(page);
  EXPECT_NE(page->find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_EQ(SectionTag(*page, "compliance"), "");
  ASSERT_TRUE(WriteWholeFile(dir / "compliance.json", HandBuiltCompliance().dump()));
  ASSERT_TRUE(WriteReportHtml(dir));
  page = ReadFileCapped(dir / "report.html", 1 << 24);
  ASSERT_TRUE(page);
  EXPECT_EQ(SectionTag(*page, "compliance"), "<section id=\"compliance\" data-count=\"1\">");
  ASSERT_TRUE(WriteWholeFile(dir / "report.json", "{not json"));
  EXPECT_FALSE(WriteReportHtml(dir));
  std::filesystem::remove_all(dir);
}

// A probe.json (docs/probe-schema.md) with hostile bytes where a device chooses them.
Json HostileProbe() {
  return Json::parse(R"({"format": "clearbox-probe", "tool": "clearbox 0.1.0",
    "target": {"host": "192.0.2.1", "address": "192.0.2.1", "ports_scanned": 2},
    "settings": {"active_checks": {"try_anonymous_ftp": false, "snmp": 161, "ssdp": null}},
    "ports": {"open": [80], "closed": [22], "filtered": []},
    "services": [{"port": 80, "transport": "tcp", "service": "http", "banner": "",
                  "problems": [], "http": {"answered": true, "status": 200,
                  "server": "<script>alert(1)</script>", "problems": ["x"]},
                  "default_page": {"id": "nginx-welcome", "product": "nginx \"<b>\""}},
                 {"port": 161, "transport": "udp", "service": "snmp", "problems": [],
                  "snmp": {"answers": [{"version": "v2c", "community": "public",
                           "sys_descr": "<img src=x onerror=alert(2)>"}], "problems": []}}],
    "findings": [{"rule": "net.snmp-default-community", "severity": "high", "port": 161,
                  "service": "snmp", "message": "SNMP v2c community 'public' accepted",
                  "evidence": "sysDescr: <img src=x onerror=alert(2)>"},
                 {"rule": "net.http-default-page", "severity": "low", "port": 80,
                  "service": "http", "message": "m", "evidence": "</code><i>"}],
    "timing": {"started_at": "2026-12-02T15:00:00Z"},
    "join": {"image_host_keys": [], "image_tls_keys": [{"path": "etc/ssl/a.key"}],
             "services": [{"port": 443, "service": "https", "private_key_in_image":
                           ["etc/ssl/<i>.key"]}]}})");
}

TEST(ReportPage, ProbeSectionShowsServicesFindingsAndJoinEscaped) {
  const Json probe = HostileProbe();
  auto without = RenderReportHtml(HandBuiltReport(), nullptr);
  ASSERT_TRUE(without);
  EXPECT_EQ(SectionTag(*without, "probe"), "");
  auto page = RenderReportHtml(HandBuiltReport(), nullptr, {}, &probe);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(SectionTag(*page, "probe"), "<section id=\"probe\" data-count=\"2\">");
  EXPECT_NE(page->find("id=\"probe-service-table\""), std::string::npos);
  EXPECT_NE(page->find("id=\"probe-finding-table\""), std::string::npos);
  EXPECT_NE(page->find("id=\"probe-join-table\""), std::string::npos);
  EXPECT_NE(page->find("SNMP on UDP 161"), std::string::npos);
  EXPECT_NE(page->find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page->find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  EXPECT_NE(page->find("etc/ssl/&lt;i&gt;.key"), std::string::npos);
  EXPECT_EQ(page->find("<img"), std::string::npos);
  EXPECT_EQ(page->find("<i>"), std::string::npos);
  EXPECT_EQ(page->find("<b>"), std::string::npos);
  std::size_t scripts = 0;
  for (auto at = page->find("<script"); at != std::string::npos; at = page->find("<script", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 1u);
  // Wrong types in a probe.json render without throwing.
  const Json odd = Json::parse(R"({"services": [1, {"ssdp": {"responses": [2]}}],
    "findings": {"a": 1}, "target": [], "join": {"services": "x"}})");
  EXPECT_NO_THROW({ EXPECT_TRUE(RenderReportHtml(HandBuiltReport(), nullptr, {}, &odd)); });
}

}  // namespace
}  // namespace clearbox::html
