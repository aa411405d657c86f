// `clearbox scan --standard` and `clearbox assess` end to end on the demo image
// (scripts/make-demo-image.sh): the verdicts the issue asks for, evidence pointers that
// resolve in report.json, byte-identical reruns, exit codes and declarations; report.html
// with the verdicts, rendered again by `clearbox report`.
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

// The demo image's scan, shared by the checks of one test process.
std::unique_ptr<TempDir> tmp_;
int scan_exit_ = -1;
std::string scan_output_;

fs::path Out() {
  return tmp_->path() / "out";
}
Json Load(const fs::path& file) {
  return Json::parse(ReadFileBytes(file));
}

// The clause `clause` of standard `standard` in a compliance.json.
Json Clause(const Json& compliance, const std::string& standard, const std::string& clause) {
  for (const auto& s : compliance.at("standards")) {
    if (s.at("id") != standard) continue;
    for (const auto& c : s.at("clauses")) {
      if (c.at("id") == clause) return c;
    }
  }
  ADD_FAILURE() << "no clause " << standard << " " << clause;
  return Json::object();
}

// The rules of the report.json entries a clause's evidence points at.
std::set<std::string> EvidenceRules(const Json& report, const Json& clause) {
  std::set<std::string> rules;
  for (const auto& pointer : clause.at("evidence")) {
    const Json& entry = report.at(Json::json_pointer(pointer.get<std::string>()));
    if (entry.contains("rule")) rules.insert(entry.at("rule").get<std::string>());
  }
  return rules;
}

// Exit status of validating `file` against docs/compliance.schema.json (0 = valid).
int ValidateCompliance(const fs::path& file, std::string* output) {
  return RunShell(
      "python3 -c \"import json, sys, jsonschema; "
      "v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))); "
      "errors = [e.message for e in v.iter_errors(json.load(open(sys.argv[2])))]; "
      "print(errors); sys.exit(1 if errors else 0)\" " +
          SourceDir() + "/docs/compliance.schema.json " + file.string(),
      output);
}

class AssessDemoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<TempDir>();
    std::string log;
    ASSERT_EQ(RunShell("bash " + SourceDir() + "/scripts/make-demo-image.sh " +
                           (tmp_->path() / "demo").string(),
                       &log),
              0)
        << log;
    scan_exit_ =
        RunShell(ClearboxBinary() + " scan " + (tmp_->path() / "demo/router.bin").string() +
                     " -o " + Out().string() + " --standard all",
                 &scan_output_);
  }
  static void TearDownTestSuite() { tmp_.reset(); }
};

void CheckScanWritesComplianceAndPrintsTheSummary() {
  ASSERT_TRUE(scan_exit_ == kExitOk || scan_exit_ == kExitWithProblems) << scan_output_;
  EXPECT_TRUE(fs::exists(Out() / "compliance.json"));
  EXPECT_NE(scan_output_.find("CONTRADICTED 5.1-1"), std::string::npos) << scan_output_;
}

// The scan's report.html shows the compliance verdicts, and `clearbox report` renders the same
// bytes from the saved files.
void CheckScanWritesReportHtmlThatReportRerenders() {
  const std::string page = ReadFileBytes(Out() / "report.html");
  EXPECT_NE(page.find("<section id=\"compliance\""), std::string::npos);
  EXPECT_NE(page.find("id=\"compliance-summary\""), std::string::npos);
  EXPECT_NE(scan_output_.find("html: " + (Out() / "report.html").string()), std::string::npos);
  const fs::path again = tmp_->path() / "again.html";
  std::string log;
  EXPECT_EQ(
      RunShell(ClearboxBinary() + " report " + (Out() / "report.json").string() + " --compliance " +
                   (Out() / "compliance.json").string() + " -o " + again.string(),
               &log),
      kExitOk)
      << log;
  EXPECT_EQ(ReadFileBytes(again), page);
  EXPECT_EQ(
      RunShell(ClearboxBinary() + " report " + (tmp_->path() / "missing.json").string(), &log),
      kExitUnusableInput)
      << log;
}

void CheckDemoImageContradictsTheExpectedClauses() {
  const Json report = Load(Out() / "report.json");
  const Json compliance = Load(Out() / "compliance.json");
  EXPECT_EQ(compliance.at("report").at("image").at("sha256"), report.at("image").at("sha256"));

  const Json passwords = Clause(compliance, "en303645", "5.1-1");
  EXPECT_EQ(passwords.at("verdict"), "CONTRADICTED");
  bool cites_shadow = false;
  for (const auto& pointer : passwords.at("evidence")) {
    const Json& f = report.at(Json::json_pointer(pointer.get<std::string>()));
    cites_shadow = cites_shadow || f.at("path").get<std::string>().ends_with("etc/shadow");
  }
  EXPECT_TRUE(cites_shadow) << passwords.dump();
  EXPECT_TRUE(EvidenceRules(report, passwords).contains("cred.default-password"));
  for (const auto& [standard, clause] : std::vector<std::pair<std::string, std::string>>{
           {"cra", "I(2)(d)"}, {"iec62443-4-2", "CR 1.5"}}) {
    EXPECT_EQ(Clause(compliance, standard, clause).at("verdict"), "CONTRADICTED") << clause;
  }

  const Json telnet = Clause(compliance, "en303645", "5.6-5");
  EXPECT_EQ(telnet.at("verdict"), "CONTRADICTED");
  EXPECT_TRUE(EvidenceRules(report, telnet).contains("service.telnet")) << telnet.dump();

  const Json key = Clause(compliance, "en303645", "5.4-3");
  EXPECT_EQ(key.at("verdict"), "CONTRADICTED");
  EXPECT_TRUE(EvidenceRules(report, key).contains("secret.private-key")) << key.dump();

  const Json mitigation = Clause(compliance, "cra", "I(2)(k)");
  EXPECT_EQ(mitigation.at("verdict"), "CONTRADICTED");
  ASSERT_FALSE(mitigation.at("evidence").empty());
  EXPECT_TRUE(mitigation.at("evidence")[0].get<std::string>().starts_with("/binaries/"));
  // The demo's legacy daemon, built without any hardening, is among the evidence.
  bool legacy_daemon = false;
  for (const auto& pointer : mitigation.at("evidence")) {
    const Json& item = report.at(Json::json_pointer(pointer.get<std::string>()));
    if (item.contains("path") && item.at("path").get<std::string>().ends_with("bin/legacyd")) {
      legacy_daemon = true;
    }
  }
  EXPECT_TRUE(legacy_daemon) << mitigation.dump();
}

// (c) Every evidence pointer (clauses and declarations) resolves to an element of report.json.
void CheckEveryEvidencePointerResolvesInReportJson() {
  const Json report = Load(Out() / "report.json");
  const Json compliance = Load(Out() / "compliance.json");
  std::size_t pointers = 0;
  for (const auto& s : compliance.at("standards")) {
    ASSERT_EQ(s.at("clauses").size() > 0, true);
    for (const auto& c : s.at("clauses")) {
      for (const auto& pointer : c.at("evidence")) {
        EXPECT_TRUE(report.contains(Json::json_pointer(pointer.get<std::string>()))) << pointer;
        ++pointers;
      }
    }
  }
  EXPECT_GT(pointers, 20u);
}

// (d) assess on the saved report twice: byte-identical, and equal to what scan wrote.
void CheckAssessIsByteIdenticalAndMatchesScan() {
  const std::string report = (Out() / "report.json").string();
  for (const char* dir : {"a1", "a2"}) {
    std::string output;
    EXPECT_EQ(RunShell(ClearboxBinary() + " assess " + report + " --standard all -q -o " +
                           (tmp_->path() / dir).string(),
                       &output),
              kExitOk)
        << output;
  }
  const std::string first = ReadFileBytes(tmp_->path() / "a1/compliance.json");
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, ReadFileBytes(tmp_->path() / "a2/compliance.json"));
  EXPECT_EQ(first, ReadFileBytes(Out() / "compliance.json"));
}

void CheckAssessExitCodes() {
  const std::string report = (Out() / "report.json").string();
  const std::string out = (tmp_->path() / "codes").string();
  std::string output;
  EXPECT_EQ(RunShell(ClearboxBinary() + " assess " + report + " --standard cra,iso9001 -o " + out,
                     &output),
            kExitUsage);
  EXPECT_NE(output.find("en303645"), std::string::npos) << output;  // lists the known ids
  WriteFileBytes(tmp_->path() / "bad.json", "{\"not\": \"a report\"}");
  EXPECT_EQ(RunShell(ClearboxBinary() + " assess " + (tmp_->path() / "bad.json").string() +
                         " --standard cra -o " + out,
                     &output),
            kExitUnusableInput);
  EXPECT_EQ(RunShell(ClearboxBinary() + " assess " + (tmp_->path() / "missing.json").string() +
                         " --standard cra -o " + out,
                     &output),
            kExitUnusableInput);
  EXPECT_FALSE(fs::exists(fs::path(out) / "compliance.json"));
  // scan refuses an unknown standard before it scans anything.
  const fs::path never = tmp_->path() / "never";
  EXPECT_EQ(RunShell(ClearboxBinary() + " scan " + (tmp_->path() / "demo/router.bin").string() +
                         " -o " + never.string() + " --standard bogus",
                     &output),
            kExitUsage);
  EXPECT_FALSE(fs::exists(never));
}

void CheckDeclarationsAreCheckedAgainstTheImage() {
  const fs::path declarations = tmp_->path() / "ics.json";
  WriteFileBytes(declarations, R"json({"product": "demo router", "declarations": [
    {"standard": "en303645", "clause": "5.6-5", "claim": "no clear-text service is started",
     "status": "implemented"},
    {"standard": "en303645", "clause": "5.3-2", "claim": "the web UI is at /www/index.html",
     "status": "implemented", "evidence": ["/www/index.html"]},
    {"standard": "en303645", "clause": "5.2-1", "claim": "a disclosure policy is published",
     "status": "implemented"}]})json");
  const fs::path out = tmp_->path() / "declared";
  std::string output;
  ASSERT_EQ(RunShell(ClearboxBinary() + " assess " + (Out() / "report.json").string() +
                         " --standard en303645 --declarations " + declarations.string() + " -o " +
                         out.string(),
                     &output),
            kExitOk)
      << output;
  const Json report = Load(Out() / "report.json");
  const Json compliance = Load(out / "compliance.json");
  const Json& checks = compliance.at("declarations");
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].at("result"), "CONTRADICTED");
  EXPECT_FALSE(checks[0].at("evidence").empty());
  EXPECT_EQ(checks[1].at("result"), "CONFIRMED");
  ASSERT_EQ(checks[1].at("evidence").size(), 1u);
  const Json& file = report.at(Json::json_pointer(checks[1].at("evidence")[0].get<std::string>()));
  EXPECT_TRUE(file.at("path").get<std::string>().ends_with("www/index.html"));
  EXPECT_EQ(checks[2].at("result"), "UNVERIFIABLE");
  EXPECT_NE(output.find("declaration en303645 5.6-5: CONTRADICTED"), std::string::npos) << output;
  EXPECT_EQ(ValidateCompliance(out / "compliance.json", &output), 0) << output;
}

// `clearbox attest` signs a compliance.json with the compliance predicate type, about the image.
void CheckAttestSignsComplianceJson() {
  const fs::path keys = tmp_->path() / "keys";
  fs::create_directories(keys);
  std::string output;
  ASSERT_EQ(
      RunShell(ClearboxBinary() + " keygen lab.example/attester -o " + (keys / "attester").string(),
               &output),
      kExitOk)
      << output;
  const fs::path envelope = tmp_->path() / "compliance.dsse.json";
  ASSERT_EQ(RunShell(ClearboxBinary() + " attest " + (Out() / "compliance.json").string() +
                         " --key " + (keys / "attester.skey").string() + " -o " + envelope.string(),
                     &output),
            kExitOk)
      << output;
  ASSERT_EQ(RunShell("python3 -c \"import base64, json, sys; e = json.load(open(sys.argv[1])); "
                     "s = json.loads(base64.b64decode(e['payload'])); "
                     "print(s['predicateType'], s['subject'][0]['digest']['sha256'], "
                     "s['predicate']['standards'][0]['counts']['CONTRADICTED'])\" " +
                         envelope.string(),
                     &output),
            0)
      << output;
  const Json report = Load(Out() / "report.json");
  EXPECT_EQ(output, "https://clearbox.dev/attestation/compliance/v1 " +
                        report.at("image").at("sha256").get<std::string>() + " 6\n");
}

void CheckComplianceJsonFollowsItsSchema() {
  std::string output;
  EXPECT_EQ(ValidateCompliance(Out() / "compliance.json", &output), 0) << output;
  Json broken = Load(Out() / "compliance.json");
  broken["standards"][0]["clauses"][0]["verdict"] = "PASS";
  WriteFileBytes(tmp_->path() / "broken.json", broken.dump());
  EXPECT_EQ(ValidateCompliance(tmp_->path() / "broken.json", &output), 1) << output;
}

// compliance.sarif is valid SARIF 2.1.0; a contradicted clause is a failed result located at
// the files of its evidence.
void CheckComplianceSarifIsValidAndLocatesEvidence() {
  std::string output;
  EXPECT_EQ(
      RunShell("/usr/bin/python3 '" + SourceDir() + "/tests/validate_json_schema.py' sarif '" +
                   (Out() / "compliance.sarif").string() + "' 2>&1",
               &output),
      0)
      << output;
  const Json sarif = Load(Out() / "compliance.sarif");
  const Json* passwords = nullptr;
  for (const auto& result : sarif.at("runs")[0].at("results")) {
    if (result.at("ruleId") == "en303645/5.1-1") passwords = &result;
  }
  ASSERT_NE(passwords, nullptr);
  EXPECT_EQ(passwords->at("kind"), "fail");
  EXPECT_EQ(passwords->at("level"), "error");
  bool at_shadow = false;
  for (const auto& location : passwords->at("locations")) {
    const std::string uri = location.at("physicalLocation").at("artifactLocation").at("uri");
    at_shadow = at_shadow || uri.ends_with("etc/shadow");
  }
  EXPECT_TRUE(at_shadow) << passwords->dump();
  const std::string again = ReadFileBytes(tmp_->path() / "a1/compliance.sarif");
  EXPECT_EQ(again, ReadFileBytes(Out() / "compliance.sarif"));
}

// Each test scans the demo image once (~30 s under ASan), so the checks share two tests.
TEST_F(AssessDemoTest, ScanVerdictsOnTheDemoImageCiteResolvableEvidence) {
  CheckScanWritesComplianceAndPrintsTheSummary();
  CheckScanWritesReportHtmlThatReportRerenders();
  CheckDemoImageContradictsTheExpectedClauses();
  CheckEveryEvidencePointerResolvesInReportJson();
  CheckComplianceJsonFollowsItsSchema();
}

TEST_F(AssessDemoTest, AssessRerunsExitCodesAndDeclarations) {
  CheckAssessIsByteIdenticalAndMatchesScan();
  CheckComplianceSarifIsValidAndLocatesEvidence();
  CheckAssessExitCodes();
  CheckDeclarationsAreCheckedAgainstTheImage();
  CheckAttestSignsComplianceJson();
}

}  // namespace
}  // namespace clearbox
