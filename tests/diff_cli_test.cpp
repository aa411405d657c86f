// `clearbox diff` end to end: the demo image against itself is empty; a release against its
// successor (scripts/make-demo-image.sh DEMO_VARIANT=release|next: dropbear upgraded, a binary
// rebuilt without PIE, a private key added, a file removed, the root filesystem moved to
// another offset) lists exactly those changes; reports, output directories and images as
// inputs; exit codes; hostile reports; diff.json valid against docs/diff.schema.json.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/exit_codes.hpp"
#include "support/test_support.hpp"

namespace clearbox {
namespace {

using namespace clearbox::testing;
using Json = nlohmann::json;

std::string SourceDir() {
  const char* dir = std::getenv("CLEARBOX_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

std::unique_ptr<TempDir> tmp_;

fs::path Tmp() {
  return tmp_->path();
}
Json Load(const fs::path& file) {
  return Json::parse(ReadFileBytes(file));
}

// Runs `clearbox diff ARGS`; returns the exit status, output in `output`.
int Diff(const std::string& args, std::string* output) {
  return RunShell(ClearboxBinary() + " diff " + args, output);
}

// Exit status of validating `file` against docs/diff.schema.json (0 = valid).
int ValidateDiff(const fs::path& file, std::string* output) {
  return RunShell(
      "python3 -c \"import json, sys, jsonschema; "
      "v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))); "
      "errors = [e.message for e in v.iter_errors(json.load(open(sys.argv[2])))]; "
      "print(errors); sys.exit(1 if errors else 0)\" " +
          SourceDir() + "/docs/diff.schema.json " + file.string(),
      output);
}

// The `key` values of a list of objects.
std::set<std::string> Values(const Json& list, const char* key) {
  std::set<std::string> values;
  for (const auto& entry : list) values.insert(entry.at(key).get<std::string>());
  return values;
}

// Builds the demo image of `variant` ("" = the plain demo) once per test process; its path.
std::string DemoImage(const std::string& variant) {
  const fs::path dir = Tmp() / (variant.empty() ? "demo" : variant);
  if (!fs::exists(dir / "router.bin")) {
    std::string log;
    EXPECT_EQ(RunShell("DEMO_VARIANT=" + variant + " bash " + SourceDir() +
                           "/scripts/make-demo-image.sh " + dir.string(),
                       &log),
              0)
        << log;
  }
  return (dir / "router.bin").string();
}

class DiffCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { tmp_ = std::make_unique<TempDir>(); }
  static void TearDownTestSuite() { tmp_.reset(); }
};

// The release -> next diff lists exactly the changes the variant script made.
void ExpectExactlyTheNextReleaseChanges(const Json& diff) {
  const Json& components = diff.at("components");
  ASSERT_EQ(components.at("upgraded").size(), 1U) << components.dump(2);
  const Json& upgrade = components.at("upgraded")[0];
  EXPECT_EQ(upgrade.at("name"), "dropbear");
  EXPECT_EQ(upgrade.at("old_version"), "2016.72-1");
  EXPECT_EQ(upgrade.at("new_version"), "2022.83-1");
  EXPECT_TRUE(components.at("added").empty());
  EXPECT_TRUE(components.at("removed").empty());
  EXPECT_TRUE(components.at("downgraded").empty());

  // The upgrade fixes some of dropbear's CVEs and introduces none; nothing else moves.
  EXPECT_TRUE(diff.at("vulnerabilities").at("introduced").empty());
  EXPECT_FALSE(diff.at("vulnerabilities").at("fixed").empty());
  EXPECT_EQ(Values(diff.at("vulnerabilities").at("fixed"), "component"),
            std::set<std::string>{"dropbear"});

  const Json& hardening = diff.at("hardening");
  ASSERT_EQ(hardening.at("regressions").size(), 1U) << hardening.dump(2);
  EXPECT_EQ(
      hardening.at("regressions")[0],
      (Json{
          {"path", "squashfs/bin/httpd"}, {"property", "pie"}, {"old", "true"}, {"new", "false"}}));
  EXPECT_TRUE(hardening.at("improvements").empty());

  const Json& findings = diff.at("findings");
  ASSERT_EQ(findings.at("new").size(), 1U) << findings.dump(2);
  EXPECT_EQ(findings.at("new")[0].at("rule"), "secret.private-key");
  EXPECT_EQ(findings.at("new")[0].at("path"), "squashfs/etc/ssl/private/server.key");
  EXPECT_TRUE(findings.at("resolved").empty());

  const Json& files = diff.at("files");
  EXPECT_EQ(Values(files.at("added"), "path"),
            std::set<std::string>{"squashfs/etc/ssl/private/server.key"});
  EXPECT_EQ(Values(files.at("removed"), "path"), std::set<std::string>{"squashfs/www/index.html"});
  EXPECT_EQ(Values(files.at("changed"), "path"),
            (std::set<std::string>{"squashfs/bin/httpd", "squashfs/usr/lib/opkg/status"}));
  // Matched across the move: the raw paths name the two offsets.
  for (const auto& changed : files.at("changed")) {
    EXPECT_TRUE(changed.at("old").at("raw_path").get<std::string>().starts_with("0x00040000."));
    EXPECT_TRUE(changed.at("new").at("raw_path").get<std::string>().starts_with("0x00050000."));
    EXPECT_EQ(changed.at("changed"), Json::array({"content"}));
  }
  EXPECT_FALSE(diff.at("identical").get<bool>());
  EXPECT_TRUE(diff.at("regression").get<bool>());
  EXPECT_EQ(diff.at("summary").at("regressions"), 2);  // the PIE regression and the new key
}

TEST_F(DiffCliTest, AnImageAgainstItselfIsEmpty) {
  const std::string image = DemoImage("");
  const fs::path out = Tmp() / "self";
  std::string output;
  ASSERT_EQ(
      Diff(image + " " + image + " -o " + out.string() + " --fail-on regression --standard all",
           &output),
      kExitOk)
      << output;
  EXPECT_NE(output.find("no changes"), std::string::npos) << output;
  const Json diff = Load(out / "diff.json");
  EXPECT_TRUE(diff.at("identical").get<bool>());
  EXPECT_FALSE(diff.at("regression").get<bool>());
  EXPECT_TRUE(diff.at("compliance").at("compared").get<bool>());  // --standard assessed both
  EXPECT_TRUE(fs::exists(out / "old/compliance.json"));
  for (const auto& [kind, lists] : diff.items()) {
    if (!lists.is_object() || kind == "old" || kind == "new" || kind == "summary") continue;
    for (const auto& [name, list] : lists.items()) {
      if (list.is_array()) {
        EXPECT_TRUE(list.empty()) << kind << "." << name;
      }
    }
  }
  EXPECT_EQ(ValidateDiff(out / "diff.json", &output), 0) << output;
  EXPECT_TRUE(fs::exists(out / "diff.html"));
}

TEST_F(DiffCliTest, ReleaseAgainstNextListsExactlyItsChanges) {
  const std::string release = DemoImage("release");
  const std::string next = DemoImage("next");
  const fs::path out = Tmp() / "images";
  std::string output;
  ASSERT_EQ(Diff(release + " " + next + " -o " + out.string() + " --fail-on regression", &output),
            kExitRegression)
      << output;
  EXPECT_NE(output.find("regressed squashfs/bin/httpd: pie true -> false"), std::string::npos)
      << output;
  const Json diff = Load(out / "diff.json");
  ExpectExactlyTheNextReleaseChanges(diff);
  EXPECT_EQ(ValidateDiff(out / "diff.json", &output), 0) << output;
  const std::string html = ReadFileBytes(out / "diff.html");
  EXPECT_NE(html.find("squashfs/bin/httpd"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);

  // The two saved reports give the same diff, byte for byte, and without --fail-on exit 0.
  const fs::path again = Tmp() / "reports";
  ASSERT_EQ(Diff((out / "old/report.json").string() + " " + (out / "new/report.json").string() +
                     " -q -o " + again.string(),
                 &output),
            kExitOk)
      << output;
  EXPECT_EQ(ReadFileBytes(again / "diff.json"), ReadFileBytes(out / "diff.json"));
  EXPECT_EQ(ReadFileBytes(again / "diff.html"), ReadFileBytes(out / "diff.html"));
}

TEST_F(DiffCliTest, ScanOutputDirectoriesWithComplianceCompareVerdicts) {
  std::string output;
  for (const char* side : {"release", "next"}) {
    const int scanned =
        RunShell(ClearboxBinary() + " scan " + DemoImage(side) + " -q -o " +
                     (Tmp() / (std::string(side) + "-scan")).string() + " --standard all",
                 &output);
    ASSERT_TRUE(scanned == kExitOk || scanned == kExitWithProblems) << output;
  }
  const fs::path out = Tmp() / "dirs";
  ASSERT_EQ(Diff((Tmp() / "release-scan").string() + " " + (Tmp() / "next-scan").string() + " -o " +
                     out.string(),
                 &output),
            kExitOk)
      << output;
  const Json diff = Load(out / "diff.json");
  ExpectExactlyTheNextReleaseChanges(diff);
  EXPECT_TRUE(diff.at("compliance").at("compared").get<bool>());
  EXPECT_TRUE(diff.at("old").at("compliance").get<bool>());
  // The demo release already contradicts every clause the new key and the non-PIE daemon speak
  // to (its own device key and legacy daemon), so no verdict changes.
  EXPECT_TRUE(diff.at("compliance").at("changes").empty()) << diff.at("compliance").dump(2);
  EXPECT_EQ(ValidateDiff(out / "diff.json", &output), 0) << output;
}

TEST_F(DiffCliTest, UnusableReportsAreRefusedWithExitFour) {
  const fs::path dir = Tmp() / "hostile";
  fs::create_directories(dir / "empty-dir");
  WriteFileBytes(dir / "not-json.json", "{ not json");
  WriteFileBytes(dir / "not-a-report.json", "{\"hello\": 1}");
  WriteFileBytes(dir / "bad-list/report.json",
                 "{\"schema_version\": 1, \"image\": {}, \"files\": {\"a\": 1}}");
  WriteFileBytes(dir / "bad-entry/report.json",
                 "{\"schema_version\": 1, \"image\": {}, \"binaries\": [{\"path\": 7}]}");
  WriteFileBytes(dir / "bad-compliance/report.json", "{\"schema_version\": 1, \"image\": {}}");
  WriteFileBytes(dir / "bad-compliance/compliance.json", "[");
  WriteFileBytes(dir / "good/report.json", "{\"schema_version\": 1, \"image\": {}}");
  // Over the 1 GiB cap (sparse: no disk is used).
  WriteFileBytes(dir / "huge/report.json", "{");
  fs::resize_file(dir / "huge/report.json", (std::uintmax_t{1} << 30) + 1);
  const std::string good = (dir / "good").string();
  for (const char* bad : {"empty-dir", "not-json.json", "not-a-report.json", "bad-list",
                          "bad-entry", "bad-compliance", "huge", "missing"}) {
    std::string output;
    EXPECT_EQ(Diff(good + " " + (dir / bad).string() + " -o " + (dir / "out").string(), &output),
              kExitUnusableInput)
        << bad << ": " << output;
    EXPECT_NE(output.find("clearbox diff: "), std::string::npos) << bad << ": " << output;
  }
  std::string output;
  EXPECT_EQ(Diff(good + " " + good + " -o " + (dir / "out").string(), &output), kExitOk) << output;
  EXPECT_EQ(Diff(good + " " + good + " -o " + (dir / "out").string() + " --fail-on cve", &output),
            kExitUsage)
      << output;
  EXPECT_EQ(
      Diff(good + " " + good + " -o " + (dir / "out").string() + " --standard iso9001", &output),
      kExitUsage)
      << output;
}

}  // namespace
}  // namespace clearbox
