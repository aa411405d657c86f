// ReleaseDiff on hand-built report.json documents: each kind of change, paths across moved
// container offsets, version order, hostile input and determinism.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "diff/diff_html.hpp"
#include "diff/diff_json.hpp"
#include "diff/release_diff.hpp"
#include "diff/rootfs_path.hpp"

namespace clearbox::diff {
namespace {

using Json = nlohmann::json;

// A small release: rootfs squashfs at `rootfs_offset`, one binary, one opkg package with a
// vulnerability, one finding.
Json Release(const std::string& rootfs_dir = "0x00040000.squashfs") {
  const std::string root = rootfs_dir + "/";
  return Json{
      {"schema", "https://clearbox.dev/schemas/report"},
      {"schema_version", 1},
      {"image", {{"path", "router.bin"}, {"size", 100}, {"sha256", "aa"}}},
      {"unpack",
       {{"chunks",
         {{{"container", ""},
           {"offset", 64},
           {"format", "lzma"},
           {"extracted_to", "0x00000040.lzma"}},
          {{"container", ""},
           {"offset", 1},
           {"format", "squashfs"},
           {"extracted_to", rootfs_dir}}}}}},
      {"files",
       {{{"path", root + "bin"}, {"type", "directory"}, {"mode", "0755"}},
        {{"path", root + "bin/httpd"},
         {"type", "elf"},
         {"mode", "0755"},
         {"size", 10},
         {"sha256", "11"}},
        {{"path", root + "bin/sh"}, {"type", "symlink"}, {"mode", "0777"}, {"target", "busybox"}},
        {{"path", root + "etc/passwd"},
         {"type", "text"},
         {"mode", "0644"},
         {"size", 5},
         {"sha256", "22"}}}},
      {"binaries",
       {{{"path", root + "bin/httpd"},
         {"type", "pie"},
         {"nx", true},
         {"pie", true},
         {"relro", "partial"},
         {"canary", true},
         {"fortify", {{"fortified", 1}, {"fortifiable", 2}, {"verdict", "partial"}}},
         {"cet", {{"ibt", false}, {"shstk", false}}}}}},
      {"components",
       {{{"name", "dropbear"},
         {"version", "2016.72"},
         {"purl", "pkg:opkg/openwrt/dropbear@2016.72-1?arch=mips_24kc"}},
        {{"name", "busybox"}, {"version", "1.35.0"}, {"purl", "pkg:generic/busybox@1.35.0"}}}},
      {"vulnerabilities",
       {{{"id", "CVE-2017-9078"},
         {"component",
          {{"ref", "pkg:opkg/openwrt/dropbear@2016.72-1?arch=mips_24kc"},
           {"name", "dropbear"},
           {"version", "2016.72"}}},
         {"cvss", {{"severity", "high"}}},
         {"kev", false}}}},
      {"findings",
       {{{"rule", "service.telnet"},
         {"severity", "high"},
         {"path", root + "etc/init.d/rcS"},
         {"offset", 10},
         {"message", "Telnet started by " + root + "etc/init.d/rcS"},
         {"evidence", "telnetd"}}}}};
}

ReleaseDiff Diff(const Json& a, const Json& b) {
  auto diff = DiffReports(a, b, nullptr, nullptr);
  EXPECT_TRUE(diff.has_value()) << (diff ? "" : diff.error().message);
  return diff ? *diff : ReleaseDiff{};
}

TEST(RootfsPathTest, OffsetsBecomeFormatsAndSiblingsAnOrdinal) {
  const RootfsPathNormaliser paths({"0x00040000.squashfs/a", "0x00000040.lzma/decompressed",
                                    "0x00100000.squashfs/b",
                                    "0x00040000.squashfs/x.tgz.extract/0x00000000.gzip/x.tar",
                                    "0x00040000.squashfs/0x00000001.gzip"});
  EXPECT_EQ(paths.Normalise("0x00040000.squashfs/a"), "squashfs/a");
  EXPECT_EQ(paths.Normalise("0x00100000.squashfs/b"), "squashfs~2/b");
  EXPECT_EQ(paths.Normalise("0x00000040.lzma/decompressed"), "lzma/decompressed");
  EXPECT_EQ(paths.Normalise("0x00040000.squashfs/x.tgz.extract/0x00000000.gzip/x.tar"),
            "squashfs/x.tgz.extract/gzip/x.tar");
  // A file of the image that merely looks like a chunk directory keeps its name.
  EXPECT_EQ(paths.Normalise("0x00040000.squashfs/0x00000001.gzip"), "squashfs/0x00000001.gzip");
  EXPECT_EQ(paths.NormaliseText("key at 0x00100000.squashfs/etc/ca.key offset 0 (0x00040000."
                                "squashfs/a), 0x10 bytes"),
            "key at squashfs~2/etc/ca.key offset 0 (squashfs/a), 0x10 bytes");
  EXPECT_EQ(paths.NormaliseText("0x"), "0x");
  EXPECT_TRUE(IsChunkDirectoryName("0x1f.tar"));
  EXPECT_FALSE(IsChunkDirectoryName("0x.tar"));
  EXPECT_FALSE(IsChunkDirectoryName("0xzz.tar"));
  EXPECT_FALSE(IsChunkDirectoryName("0x12."));
}

TEST(DiffTest, AReleaseAgainstItselfIsEmpty) {
  const ReleaseDiff diff = Diff(Release(), Release());
  EXPECT_TRUE(IsEmpty(diff));
  EXPECT_FALSE(HasRegression(diff));
  EXPECT_NE(RenderDiffSummary(diff).find("no changes"), std::string::npos);
}

TEST(DiffTest, MovingTheRootfsToAnotherOffsetChangesNothing) {
  const ReleaseDiff diff = Diff(Release("0x00040000.squashfs"), Release("0x00050000.squashfs"));
  EXPECT_TRUE(IsEmpty(diff)) << RenderDiffJson(diff);
}

TEST(DiffTest, ComponentsUpgradedDowngradedAddedRemoved) {
  Json next = Release();
  next["components"][0]["version"] = "2022.83";
  next["components"][0]["purl"] = "pkg:opkg/openwrt/dropbear@2022.83-1?arch=mips_24kc";
  next["components"][1]["version"] = "1.34.1";
  next["components"][1]["purl"] = "pkg:generic/busybox@1.34.1";
  next["components"].push_back(
      {{"name", "zlib"}, {"version", "1.3"}, {"purl", "pkg:generic/zlib@1.3"}});
  const ReleaseDiff diff = Diff(Release(), next);
  ASSERT_EQ(diff.components_upgraded.size(), 1U);
  EXPECT_EQ(diff.components_upgraded[0].name, "dropbear");
  EXPECT_EQ(diff.components_upgraded[0].old_version, "2016.72-1");
  EXPECT_EQ(diff.components_upgraded[0].new_version, "2022.83-1");
  ASSERT_EQ(diff.components_downgraded.size(), 1U);
  EXPECT_EQ(diff.components_downgraded[0].key, "pkg:generic/busybox");
  ASSERT_EQ(diff.components_added.size(), 1U);
  EXPECT_EQ(diff.components_added[0].name, "zlib");
  EXPECT_TRUE(HasRegression(diff));  // the downgrade

  const ReleaseDiff back = Diff(next, Release());
  EXPECT_EQ(back.components_removed.size(), 1U);
  EXPECT_EQ(back.components_upgraded.size(), 1U);
  EXPECT_EQ(back.components_downgraded.size(), 1U);
}

TEST(DiffTest, DistroRevisionIsAnUpgradeAndEqualOrderIsNoChange) {
  Json next = Release();
  next["components"][0]["purl"] = "pkg:opkg/openwrt/dropbear@2016.72-2?arch=mips_24kc";
  next["components"][1]["version"] = "1.35.0.0";
  next["components"][1]["purl"] = "pkg:generic/busybox@1.35.0.0";
  const ReleaseDiff diff = Diff(Release(), next);
  ASSERT_EQ(diff.components_upgraded.size(), 1U);
  EXPECT_EQ(diff.components_upgraded[0].new_version, "2016.72-2");
  EXPECT_TRUE(diff.components_downgraded.empty());
  EXPECT_TRUE(diff.components_added.empty());
}

TEST(DiffTest, StaticCopiesOfOneComponentCancelAsAMultiset) {
  auto copies = [](std::initializer_list<const char*> versions) {
    Json report = Release();
    report["components"] = Json::array();
    for (const char* v : versions) {
      report["components"].push_back(
          {{"name", "openssl"}, {"version", v}, {"purl", std::string("pkg:generic/openssl@") + v}});
    }
    return report;
  };
  const ReleaseDiff diff =
      Diff(copies({"1.0.2k", "3.0.1", "3.0.1"}), copies({"3.0.1", "3.0.1", "3.0.2"}));
  ASSERT_EQ(diff.components_upgraded.size(), 1U);
  EXPECT_EQ(diff.components_upgraded[0].old_version, "1.0.2k");
  EXPECT_EQ(diff.components_upgraded[0].new_version, "3.0.2");
  const ReleaseDiff two = Diff(copies({"1.0", "2.0"}), copies({"3.0", "4.0"}));
  EXPECT_EQ(two.components_removed.size(), 2U);
  EXPECT_EQ(two.components_added.size(), 2U);
  // Many copies of one component stay fast (no quadratic matching).
  Json many = Release();
  many["components"] = Json::array();
  for (int i = 0; i < 20000; ++i) {
    many["components"].push_back({{"name", "x"}, {"version", std::to_string(i % 7)}});
  }
  EXPECT_TRUE(IsEmpty(Diff(many, many)));
}

TEST(DiffTest, VulnerabilitiesIntroducedAndFixedVexDismissedIgnored) {
  Json next = Release();
  next["vulnerabilities"][0]["vex"] = {{"status", "not_affected"}};
  next["vulnerabilities"].push_back(
      {{"id", "CVE-2099-1"},
       {"component",
        {{"ref", "pkg:generic/busybox@1.35.0"}, {"name", "busybox"}, {"version", "1.35.0"}}},
       {"cvss", {{"severity", "critical"}}},
       {"kev", true}});
  const ReleaseDiff diff = Diff(Release(), next);
  ASSERT_EQ(diff.vulnerabilities_fixed.size(), 1U);
  EXPECT_EQ(diff.vulnerabilities_fixed[0].id, "CVE-2017-9078");
  ASSERT_EQ(diff.vulnerabilities_introduced.size(), 1U);
  EXPECT_EQ(diff.vulnerabilities_introduced[0].component_key, "pkg:generic/busybox");
  EXPECT_TRUE(diff.vulnerabilities_introduced[0].kev);
  EXPECT_TRUE(HasRegression(diff));
}

TEST(DiffTest, HardeningRegressionsAndImprovementsPerProperty) {
  Json next = Release("0x00080000.squashfs");
  Json& b = next["binaries"][0];
  b["pie"] = false;
  b["type"] = "exec";
  b["relro"] = "full";
  b["fortify"]["verdict"] = "n/a";  // not ordered: no change reported
  b["cet"]["ibt"] = true;
  const ReleaseDiff diff = Diff(Release(), next);
  ASSERT_EQ(diff.hardening_regressions.size(), 1U);
  EXPECT_EQ(diff.hardening_regressions[0].path, "squashfs/bin/httpd");
  EXPECT_EQ(diff.hardening_regressions[0].property, "pie");
  EXPECT_EQ(diff.hardening_regressions[0].old_value, "true");
  EXPECT_EQ(diff.hardening_regressions[0].new_value, "false");
  ASSERT_EQ(diff.hardening_improvements.size(), 2U);
  EXPECT_EQ(diff.hardening_improvements[0].property, "relro");
  EXPECT_EQ(diff.hardening_improvements[1].property, "cet.ibt");
  EXPECT_TRUE(HasRegression(diff));
}

TEST(DiffTest, FindingsNewAndResolvedIgnoringOffsets) {
  Json next = Release("0x00080000.squashfs");
  next["findings"][0]["offset"] = 99;  // the file changed around it: the same finding
  next["findings"].push_back({{"rule", "secret.private-key"},
                              {"severity", "high"},
                              {"path", "0x00080000.squashfs/etc/key.pem"},
                              {"offset", 0},
                              {"message", "key"},
                              {"evidence", "PEM"}});
  const ReleaseDiff diff = Diff(Release(), next);
  ASSERT_EQ(diff.findings_new.size(), 1U);
  EXPECT_EQ(diff.findings_new[0].path, "squashfs/etc/key.pem");
  EXPECT_TRUE(diff.findings_resolved.empty());
  EXPECT_TRUE(HasRegression(diff));

  Json info = Release();
  info["findings"].push_back({{"rule", "cert.trust-anchor"}, {"severity", "info"}, {"path", "x"}});
  const ReleaseDiff note = Diff(Release(), info);
  EXPECT_EQ(note.findings_new.size(), 1U);
  EXPECT_FALSE(HasRegression(note));  // info findings are notes, not regressions
  EXPECT_EQ(Diff(info, Release()).findings_resolved.size(), 1U);
}

TEST(DiffTest, FilesAddedRemovedAndChangedByRootfsPath) {
  Json next = Release("0x00080000.squashfs");
  next["files"][1]["sha256"] = "33";      // bin/httpd rebuilt
  next["files"][2]["target"] = "toybox";  // bin/sh retargeted
  next["files"].erase(3);                 // etc/passwd removed
  next["files"].push_back({{"path", "0x00080000.squashfs/etc/new"},
                           {"type", "text"},
                           {"mode", "0600"},
                           {"size", 1},
                           {"sha256", "44"}});
  const ReleaseDiff diff = Diff(Release(), next);
  ASSERT_EQ(diff.files_changed.size(), 2U);
  EXPECT_EQ(diff.files_changed[0].path, "squashfs/bin/httpd");
  EXPECT_EQ(diff.files_changed[0].changed, std::vector<std::string>{"content"});
  EXPECT_EQ(diff.files_changed[0].new_state.raw_path, "0x00080000.squashfs/bin/httpd");
  EXPECT_EQ(diff.files_changed[1].changed, std::vector<std::string>{"target"});
  ASSERT_EQ(diff.files_removed.size(), 1U);
  EXPECT_EQ(diff.files_removed[0].path, "squashfs/etc/passwd");
  ASSERT_EQ(diff.files_added.size(), 1U);
  EXPECT_EQ(diff.files_added[0].path, "squashfs/etc/new");
  EXPECT_FALSE(HasRegression(diff));  // file changes alone are not regressions
}

TEST(DiffTest, ComplianceVerdictChangesWhenBothSidesHaveThem) {
  const Json old_compliance = {{"standards",
                                {{{"id", "en303645"},
                                  {"clauses",
                                   {{{"id", "5.1-1"}, {"verdict", "PARTIALLY_SUPPORTED"}},
                                    {{"id", "5.4-3"}, {"verdict", "CONTRADICTED"}}}}}}}};
  Json new_compliance = old_compliance;
  new_compliance["standards"][0]["clauses"][0]["verdict"] = "CONTRADICTED";
  new_compliance["standards"][0]["clauses"][1]["verdict"] = "PARTIALLY_SUPPORTED";
  auto diff = DiffReports(Release(), Release(), &old_compliance, &new_compliance);
  ASSERT_TRUE(diff.has_value());
  EXPECT_TRUE(diff->compliance_compared);
  ASSERT_EQ(diff->verdict_changes.size(), 2U);
  EXPECT_TRUE(diff->verdict_changes[0].regression);
  EXPECT_FALSE(diff->verdict_changes[1].regression);
  EXPECT_EQ(CountRegressions(*diff), 1U);

  auto one_sided = DiffReports(Release(), Release(), &old_compliance, nullptr);
  ASSERT_TRUE(one_sided.has_value());
  EXPECT_FALSE(one_sided->compliance_compared);
  EXPECT_TRUE(one_sided->new_side.has_compliance == false && one_sided->old_side.has_compliance);
}

TEST(DiffTest, HostileOrMissingFieldsAreErrorsNotCrashes) {
  EXPECT_FALSE(DiffReports(Json::array(), Release(), nullptr, nullptr).has_value());
  for (const char* list : {"files", "binaries", "components", "vulnerabilities", "findings"}) {
    Json bad = Release();
    bad[list] = "not a list";
    EXPECT_FALSE(DiffReports(Release(), bad, nullptr, nullptr).has_value()) << list;
    bad[list] = Json::array({42});
    EXPECT_FALSE(DiffReports(bad, Release(), nullptr, nullptr).has_value()) << list;
    bad[list] = Json::array({nullptr});
    EXPECT_FALSE(DiffReports(bad, Release(), nullptr, nullptr).has_value()) << list;
  }
  Json wrong_type = Release();
  wrong_type["binaries"][0]["pie"] = "yes";
  EXPECT_FALSE(DiffReports(Release(), wrong_type, nullptr, nullptr).has_value());
  wrong_type = Release();
  wrong_type["vulnerabilities"][0]["component"] = 7;
  EXPECT_FALSE(DiffReports(Release(), wrong_type, nullptr, nullptr).has_value());
  const Json bad_compliance = Json::array();
  EXPECT_FALSE(DiffReports(Release(), Release(), &bad_compliance, &bad_compliance).has_value());
  // Missing lists and fields are empty, not errors.
  const Json bare = {{"image", {{"sha256", "x"}}}};
  auto diff = DiffReports(bare, Release(), nullptr, nullptr);
  ASSERT_TRUE(diff.has_value());
  EXPECT_EQ(diff->files_added.size(), 4U);
  EXPECT_FALSE(ParseJsonObject("{", "x").has_value());
  EXPECT_FALSE(ParseJsonObject("[1]", "x").has_value());
  EXPECT_TRUE(ParseJsonObject("{}", "x").has_value());
}

TEST(DiffTest, OutputIsDeterministicAndEscapesTerminalControls) {
  Json next = Release();
  next["findings"].push_back({{"rule", "x"}, {"severity", "high"}, {"path", "a\x1b[2Jb"}});
  next["files"].push_back(
      {{"path", "bad\xff"}, {"type", "text"}, {"mode", "0644"}, {"sha256", "1"}});
  const ReleaseDiff a = Diff(Release(), next);
  const ReleaseDiff b = Diff(Release(), next);
  EXPECT_EQ(RenderDiffJson(a), RenderDiffJson(b));
  const std::string summary = RenderDiffSummary(a);
  EXPECT_EQ(summary.find('\x1b'), std::string::npos);
  EXPECT_NE(summary.find("\\x1b"), std::string::npos);
  const Json doc = Json::parse(RenderDiffJson(a));
  EXPECT_EQ(doc.at("findings").at("new").size(), 1U);
  EXPECT_EQ(doc.at("summary").at("files_added"), 1);
  EXPECT_TRUE(doc.at("regression").get<bool>());
}

TEST(DiffTest, HtmlEscapesEverythingFromTheImages) {
  Json next = Release();
  next["findings"].push_back({{"rule", "x<script>alert(1)</script>"},
                              {"severity", "high"},
                              {"path", "<img src=x onerror=alert(1)>"},
                              {"message", "\"'&"}});
  const std::string page = RenderDiffHtml(Diff(Release(), next));
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<img src=x"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x"), std::string::npos);
  EXPECT_EQ(page, RenderDiffHtml(Diff(Release(), next)));
  EXPECT_NE(RenderDiffHtml(Diff(Release(), Release())).find("No changes."), std::string::npos);
}

}  // namespace
}  // namespace clearbox::diff
