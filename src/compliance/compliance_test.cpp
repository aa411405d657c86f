// Compliance verdicts on hand-built report.json documents: contradiction by findings and
// derived evidence, no SUPPORTED verdict from an absence of findings, CRA II(1) from the
// components, vendor declarations, catalogue selection and deterministic output.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "compliance/assessment.hpp"
#include "compliance/compliance_json.hpp"
#include "compliance/derived_rules.hpp"
#include "compliance/report_evidence.hpp"
#include "compliance/standard_catalogue.hpp"

namespace clearbox::compliance {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
const fs::path kSource = CLEARBOX_TEST_SOURCE_DIR;

Json Component(const std::string& name, const std::string& version) {
  return Json{{"name", name}, {"version", version}, {"cpe", ""}, {"purl", ""}};
}

Json Finding(const std::string& rule, const std::string& path, const std::string& message) {
  return Json{{"rule", rule}, {"severity", "high"}, {"path", path},
              {"offset", 0},  {"message", message}, {"evidence", ""}};
}

Json Binary(const std::string& path, const std::string& type, bool hardened) {
  return Json{{"path", path},
              {"type", type},
              {"nx", hardened},
              {"pie", hardened || type == "shared"},
              {"canary", hardened},
              {"relro", hardened ? "full" : "none"},
              {"fortify", {{"fortified", 0}, {"fortifiable", 0}, {"verdict", "n/a"}}}};
}

// A report of a clean image: no findings, two versioned components, one regular file.
Json CleanReport() {
  return Json{
      {"schema", "https://clearbox.dev/schemas/report"},
      {"schema_version", 1},
      {"input", "image"},
      {"vulnerability_database", "bundled snapshot"},
      {"image", {{"path", "fw.bin"}, {"size", 1024}, {"sha256", std::string(64, 'a')}}},
      {"files", Json::array({Json{{"path", "0.squashfs/etc/keys/update.pub"}, {"type", "pem"}}})},
      {"binaries", Json::array()},
      {"components", Json::array({Component("busybox", "1.36.1"), Component("zlib", "1.2.13")})},
      {"vulnerabilities", Json::array()},
      {"findings", Json::array()}};
}

class ComplianceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = rules::RuleCatalogue::LoadFromDataDir(kSource / "data");
    ASSERT_TRUE(rules) << rules.error().message;
    rules_ = std::move(*rules);
    auto standards = StandardCatalogue::LoadFromDataDir(kSource / "data");
    ASSERT_TRUE(standards) << standards.error().message;
    standards_ = std::move(*standards);
  }

  Assessment AssessAll(const Json& report, const DeclarationFile* declarations = nullptr) {
    const std::vector<std::string> all{std::string(kAllStandards)};
    auto selected = standards_.Select(all);
    EXPECT_TRUE(selected);
    auto assessment = Assess(report, rules_, *selected, declarations);
    EXPECT_TRUE(assessment) << assessment.error().message;
    return assessment ? std::move(*assessment) : Assessment{};
  }

  static const ClauseVerdict& Find(const Assessment& a, const std::string& standard,
                                   const std::string& clause) {
    for (const auto& s : a.standards) {
      if (s.standard->id != standard) continue;
      for (const auto& c : s.clauses) {
        if (c.clause->id == clause) return c;
      }
    }
    ADD_FAILURE() << "no verdict for " << standard << " " << clause;
    static const ClauseVerdict kNone;
    return kNone;
  }

  rules::RuleCatalogue rules_;
  StandardCatalogue standards_;
};

TEST_F(ComplianceTest, LoadsTheFiveShippedStandards) {
  ASSERT_EQ(standards_.standards().size(), 5u);
  const Standard* en = standards_.Find("en303645");
  ASSERT_NE(en, nullptr);
  EXPECT_EQ(en->clauses.size(), 68u);
  EXPECT_EQ(en->clauses.front().id, "4-1");  // document order kept
  EXPECT_NE(standards_.Find("cra"), nullptr);
  EXPECT_NE(standards_.Find("ts33117"), nullptr);
  EXPECT_NE(standards_.Find("iec62443-4-2"), nullptr);
  EXPECT_NE(standards_.Find("en18031-1"), nullptr);
}

TEST_F(ComplianceTest, SelectsByIdAndRefusesUnknownIds) {
  const std::vector<std::string> ids = SplitStandardIds(" cra,en303645,,cra ");
  ASSERT_EQ(ids, (std::vector<std::string>{"cra", "en303645", "cra"}));
  auto selected = standards_.Select(ids);
  ASSERT_TRUE(selected);
  ASSERT_EQ(selected->size(), 2u);
  EXPECT_EQ((*selected)[0]->id, "cra");
  EXPECT_EQ((*selected)[1]->id, "en303645");
  const std::vector<std::string> unknown{"en303645", "iso27001"};
  auto refused = standards_.Select(unknown);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("iso27001"), std::string::npos);
  EXPECT_NE(refused.error().message.find("en18031-1"), std::string::npos);  // lists known ids
  const std::vector<std::string> all{"all"};
  EXPECT_EQ(standards_.Select(all)->size(), 5u);
}

TEST_F(ComplianceTest, RefusesAMalformedStandardFile) {
  auto bad = StandardCatalogue::ParseStandard(
      R"json({"id":"x","title":"t","version":"1","clauses":[{"id":"1","title":"t",
          "determinable_from_firmware":"magic"}]})json",
      "x.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("magic"), std::string::npos);
  EXPECT_FALSE(StandardCatalogue::ParseStandard("{", "y.json"));
}

// (a) One default password finding contradicts every clause its rule maps to, citing it.
TEST_F(ComplianceTest, DefaultPasswordContradictsItsClauses) {
  Json report = CleanReport();
  report["findings"].push_back(Finding("cred.default-password", "0.squashfs/etc/shadow",
                                       "Account 'root' has the default password 'admin'."));
  const Assessment a = AssessAll(report);
  for (const auto& [standard, clause] :
       std::vector<std::pair<std::string, std::string>>{{"en303645", "5.1-1"},
                                                        {"cra", "I(2)(b)"},
                                                        {"cra", "I(2)(d)"},
                                                        {"iec62443-4-2", "CR 1.5"}}) {
    const ClauseVerdict& v = Find(a, standard, clause);
    EXPECT_EQ(v.verdict, Verdict::kContradicted) << standard << " " << clause;
    EXPECT_EQ(v.evidence, std::vector<std::string>{"/findings/0"}) << standard << " " << clause;
    EXPECT_NE(v.rationale.find("cred.default-password"), std::string::npos);
  }
  // A clause the rule does not map to stays uncontradicted.
  EXPECT_NE(Find(a, "en303645", "5.6-5").verdict, Verdict::kContradicted);
  EXPECT_TRUE(a.problems.empty());
}

// (b) A clean report: nothing contradicted, nothing SUPPORTED but the SBOM clause, and
// absence of findings gives PARTIALLY_SUPPORTED with the rules named.
TEST_F(ComplianceTest, CleanReportGetsNoSupportedVerdictFromAbsence) {
  const Assessment a = AssessAll(CleanReport());
  for (const auto& s : a.standards) {
    for (const auto& v : s.clauses) {
      EXPECT_NE(v.verdict, Verdict::kContradicted) << s.standard->id << " " << v.clause->id;
      EXPECT_NE(v.verdict, Verdict::kNotApplicable) << s.standard->id << " " << v.clause->id;
      const bool sbom = s.standard->id == kSbomStandard && v.clause->id == kSbomClause;
      EXPECT_EQ(v.verdict == Verdict::kSupported, sbom) << s.standard->id << " " << v.clause->id;
      EXPECT_FALSE(v.rationale.empty());
    }
  }
  const ClauseVerdict& password = Find(a, "en303645", "5.1-1");
  EXPECT_EQ(password.verdict, Verdict::kPartiallySupported);
  EXPECT_NE(password.rationale.find("cred.default-password"), std::string::npos);
  EXPECT_TRUE(password.evidence.empty());
  EXPECT_EQ(Find(a, "cra", "II(1)").evidence, std::vector<std::string>{"/components"});
}

TEST_F(ComplianceTest, ProcessClausesAreNotDeterminableAndSayWhatWouldDecide) {
  const Assessment a = AssessAll(CleanReport());
  const ClauseVerdict& disclosure = Find(a, "cra", "II(5)");  // documentation
  EXPECT_EQ(disclosure.verdict, Verdict::kNotDeterminable);
  EXPECT_NE(disclosure.rationale.find(disclosure.clause->evidence_needed), std::string::npos);
  const ClauseVerdict& risk = Find(a, "cra", "I(1)");  // process
  EXPECT_EQ(risk.verdict, Verdict::kNotDeterminable);
  // A firmware clause no rule maps to is not determinable either, and says so.
  const ClauseVerdict& updates = Find(a, "cra", "I(2)(c)");
  ASSERT_TRUE(updates.rules.empty());
  EXPECT_EQ(updates.verdict, Verdict::kNotDeterminable);
  EXPECT_NE(updates.rationale.find("No clearbox check"), std::string::npos);
}

// (e) Components without a version make CRA II(1) only partly supported, citing them.
TEST_F(ComplianceTest, ComponentsWithoutVersionPartlySupportTheSbomClause) {
  Json report = CleanReport();
  report["components"].push_back(Component("dnsmasq", ""));
  report["components"].push_back(Component("uhttpd", ""));
  const Assessment a = AssessAll(report);
  const ClauseVerdict& sbom = Find(a, "cra", "II(1)");
  EXPECT_EQ(sbom.verdict, Verdict::kPartiallySupported);
  EXPECT_EQ(sbom.evidence, (std::vector<std::string>{"/components/2", "/components/3"}));
  // The same evidence contradicts the other clause the rule maps to.
  EXPECT_EQ(Find(a, "iec62443-4-2", "CR 7.8").verdict, Verdict::kContradicted);
  report["components"] = Json::array();
  EXPECT_EQ(Find(AssessAll(report), "cra", "II(1)").verdict, Verdict::kPartiallySupported);
}

TEST_F(ComplianceTest, HardeningGapsOfExecutablesContradictCraI2k) {
  Json report = CleanReport();
  report["binaries"].push_back(Binary("0.squashfs/lib/libz.so.1", "shared", true));
  report["binaries"].push_back(Binary("0.squashfs/bin/httpd", "exec", false));
  const Assessment a = AssessAll(report);
  const ClauseVerdict& mitigation = Find(a, "cra", "I(2)(k)");
  EXPECT_EQ(mitigation.verdict, Verdict::kContradicted);
  EXPECT_EQ(mitigation.evidence, std::vector<std::string>{"/binaries/1"});
  std::vector<std::string> rules;
  for (const auto& item : a.report.items) rules.push_back(item.rule);
  EXPECT_EQ(rules, (std::vector<std::string>{"elf.no-nx", "elf.no-pie", "elf.no-stack-protector",
                                             "elf.no-relro"}));
  // A shared library is not a PIE by nature: no elf.no-pie for it.
  report["binaries"] = Json::array({Binary("0.squashfs/lib/libz.so.1", "shared", true)});
  report["binaries"][0]["pie"] = false;
  EXPECT_EQ(Find(AssessAll(report), "cra", "I(2)(k)").verdict, Verdict::kPartiallySupported);
}

TEST_F(ComplianceTest, VulnerabilitiesCountUnlessVexSaysNotAffected) {
  Json report = CleanReport();
  Json kev{{"id", "CVE-2024-0001"},
           {"component", {{"name", "busybox"}, {"version", "1.36.1"}}},
           {"kev", true}};
  Json dismissed = kev;
  dismissed["id"] = "CVE-2024-0002";
  dismissed["vex"] = {{"status", "not_affected"}, {"justification", ""}, {"detail", ""}};
  report["vulnerabilities"] = Json::array({dismissed, kev});
  const Assessment a = AssessAll(report);
  ASSERT_EQ(a.report.items.size(), 1u);
  EXPECT_EQ(a.report.items[0].rule, std::string(kRuleKnownExploitedVuln));
  const ClauseVerdict& vulns = Find(a, "cra", "I(2)(a)");
  EXPECT_EQ(vulns.verdict, Verdict::kContradicted);
  EXPECT_EQ(vulns.evidence, std::vector<std::string>{"/vulnerabilities/1"});
}

TEST_F(ComplianceTest, EvidenceOfAnUnknownRuleIsAProblemNotACrash) {
  Json report = CleanReport();
  report["findings"].push_back(Finding("cred.no-such-rule", "0.squashfs/etc/x", "m"));
  const Assessment a = AssessAll(report);
  ASSERT_EQ(a.problems.size(), 1u);
  EXPECT_NE(a.problems[0].find("cred.no-such-rule"), std::string::npos);
  EXPECT_NE(a.problems[0].find("/findings/0"), std::string::npos);
  const Json out = Json::parse(RenderComplianceJson(a));
  EXPECT_EQ(out.at("analysis_problems").size(), 1u);
}

TEST_F(ComplianceTest, SbomInputLeavesInspectClausesNotDeterminable) {
  Json report = CleanReport();
  report["input"] = "sbom";
  const Assessment a = AssessAll(report);
  const ClauseVerdict& password = Find(a, "en303645", "5.1-1");
  EXPECT_EQ(password.verdict, Verdict::kNotDeterminable);
  EXPECT_NE(password.rationale.find("did not run"), std::string::npos);
}

TEST_F(ComplianceTest, RefusesAReportThatIsNotAReport) {
  EXPECT_FALSE(ParseReportJson("not json", "r.json"));
  EXPECT_FALSE(ParseReportJson(R"json({"findings": []})json", "r.json"));
  Json report = CleanReport();
  report["findings"] = "oops";
  const std::vector<std::string> ids{"cra"};
  auto bad = Assess(report, rules_, *standards_.Select(ids), nullptr);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kMalformed);
  report = CleanReport();
  report["findings"] = Json::array({Json{{"severity", "high"}}});  // no rule
  EXPECT_FALSE(Assess(report, rules_, *standards_.Select(ids), nullptr));
}

// (c) on a hand-built report: every pointer of compliance.json resolves in report.json.
TEST_F(ComplianceTest, EveryEvidencePointerResolves) {
  Json report = CleanReport();
  report["findings"].push_back(Finding("service.telnet", "0.squashfs/etc/init.d/rcS", "telnetd"));
  report["binaries"].push_back(Binary("0.squashfs/bin/httpd", "exec", false));
  report["components"].push_back(Component("dnsmasq", ""));
  const Json out = Json::parse(RenderComplianceJson(AssessAll(report)));
  std::size_t checked = 0;
  for (const auto& s : out.at("standards")) {
    for (const auto& c : s.at("clauses")) {
      for (const auto& pointer : c.at("evidence")) {
        const Json::json_pointer p(pointer.get<std::string>());
        EXPECT_TRUE(report.contains(p)) << pointer;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 10u);
}

// (d) in process: equal input renders byte-identical compliance.json, with counts that add up.
TEST_F(ComplianceTest, OutputIsDeterministicAndCountsAddUp) {
  Json report = CleanReport();
  report["findings"].push_back(Finding("secret.private-key", "0.squashfs/etc/key", "key"));
  const std::string first = RenderComplianceJson(AssessAll(report));
  EXPECT_EQ(first, RenderComplianceJson(AssessAll(report)));
  const Json out = Json::parse(first);
  EXPECT_EQ(out.at("schema_version"), kComplianceSchemaVersion);
  EXPECT_EQ(out.at("report").at("image").at("sha256"), std::string(64, 'a'));
  EXPECT_FALSE(out.at("report").contains("created"));
  for (const auto& s : out.at("standards")) {
    std::size_t total = 0;
    for (const auto& [verdict, n] : s.at("counts").items()) total += n.get<std::size_t>();
    EXPECT_EQ(total, s.at("clauses").size()) << s.at("id");
  }
}

TEST_F(ComplianceTest, CopiesTheReportsCreationTimeOnly) {
  Json report = CleanReport();
  report["created"] = "2026-11-26T23:22:17Z";
  const Json out = Json::parse(RenderComplianceJson(AssessAll(report)));
  EXPECT_EQ(out.at("report").at("created"), "2026-11-26T23:22:17Z");
  EXPECT_FALSE(out.contains("created"));
}

TEST(CompliancePointers, SortNumericallyWithinAList) {
  std::vector<std::string> p{"/findings/10", "/binaries/3", "/findings/2", "/components"};
  std::sort(p.begin(), p.end(), PointerLess);
  EXPECT_EQ(
      p, (std::vector<std::string>{"/components", "/binaries/3", "/findings/2", "/findings/10"}));
}

// Declarations (item 4).
DeclarationFile Declarations(const std::string& text) {
  auto file = ParseDeclarations(text, "decl.json");
  EXPECT_TRUE(file) << file.error().message;
  return file ? std::move(*file) : DeclarationFile{};
}

TEST_F(ComplianceTest, DeclarationContradictedByTheImageCitesTheEvidence) {
  Json report = CleanReport();
  report["findings"].push_back(
      Finding("service.telnet", "0.squashfs/etc/init.d/rcS", "telnetd is started at boot"));
  const DeclarationFile file = Declarations(R"json({"product": "router", "declarations": [
      {"standard": "en303645", "clause": "5.6-5", "claim": "no clear-text service is started",
       "status": "implemented"},
      {"standard": "en303645", "clause": "5.6-5", "claim": "no telnet", "status":
       "not_applicable", "reason": "no network"}]})json");
  const Assessment a = AssessAll(report, &file);
  ASSERT_EQ(a.declarations.size(), 2u);
  for (const auto& check : a.declarations) {
    EXPECT_EQ(check.result, DeclarationResult::kContradicted);
    EXPECT_EQ(check.evidence, std::vector<std::string>{"/findings/0"});
    EXPECT_NE(check.rationale.find("telnetd"), std::string::npos);
  }
  EXPECT_EQ(Find(a, "en303645", "5.6-5").verdict, Verdict::kContradicted);  // stays
  const Json out = Json::parse(RenderComplianceJson(a));
  EXPECT_EQ(out.at("product"), "router");
  EXPECT_EQ(out.at("declarations").at(0).at("result"), "CONTRADICTED");
}

TEST_F(ComplianceTest, DeclarationConfirmedByANamedFileOrBySupport) {
  const DeclarationFile file = Declarations(R"json({"declarations": [
      {"standard": "en303645", "clause": "5.3-2", "claim": "updates are signed",
       "status": "implemented", "evidence": ["/etc/keys/update.pub"]},
      {"standard": "cra", "clause": "II(1)", "claim": "we publish an SBOM",
       "status": "implemented"}]})json");
  const Assessment a = AssessAll(CleanReport(), &file);
  ASSERT_EQ(a.declarations.size(), 2u);
  EXPECT_EQ(a.declarations[0].result, DeclarationResult::kConfirmed);
  EXPECT_EQ(a.declarations[0].evidence, std::vector<std::string>{"/files/0"});
  EXPECT_NE(a.declarations[0].rationale.find("/etc/keys/update.pub"), std::string::npos);
  EXPECT_EQ(a.declarations[1].result, DeclarationResult::kConfirmed);
  EXPECT_EQ(a.declarations[1].evidence, std::vector<std::string>{"/components"});
}

TEST_F(ComplianceTest, DeclarationUnverifiableWhenTheImageCannotDecide) {
  const DeclarationFile file = Declarations(R"json({"declarations": [
      {"standard": "en303645", "clause": "5.2-1", "claim": "we publish a disclosure policy",
       "status": "implemented"},
      {"standard": "en303645", "clause": "5.3-2", "claim": "updates are signed",
       "status": "implemented", "evidence": ["/etc/keys/missing.pub"]},
      {"standard": "ts33117", "clause": "4.2.3.2.2", "claim": "x", "status": "implemented"},
      {"standard": "en303645", "clause": "5.3-2", "claim": "signed with the key in both files",
       "status": "implemented", "evidence": ["/etc/keys/update.pub", "/etc/keys/missing.pub"]}]})json");
  auto selected = standards_.Select(std::vector<std::string>{"en303645"});
  ASSERT_TRUE(selected);
  auto a = Assess(CleanReport(), rules_, *selected, &file);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->declarations.size(), 4u);
  for (const auto& check : a->declarations) {
    EXPECT_EQ(check.result, DeclarationResult::kUnverifiable) << check.declaration.clause;
  }
  EXPECT_TRUE(a->declarations[0].evidence.empty());
  // One of two named files present: not confirmed, the present one still cited.
  EXPECT_EQ(a->declarations[3].evidence, std::vector<std::string>{"/files/0"});
  EXPECT_NE(a->declarations[3].rationale.find("missing.pub"), std::string::npos);
  EXPECT_NE(a->declarations[1].rationale.find("missing.pub"), std::string::npos);
  EXPECT_NE(a->declarations[2].rationale.find("not assessed"), std::string::npos);
}

TEST_F(ComplianceTest, NotApplicableNeedsAReasonAndIsQuoted) {
  const DeclarationFile file = Declarations(R"json({"declarations": [
      {"standard": "en303645", "clause": "5.1-1", "claim": "no passwords at all",
       "status": "not_applicable", "reason": "the device has no user accounts"},
      {"standard": "en303645", "clause": "5.4-3", "claim": "n/a", "status": "not_applicable"}]})json");
  const Assessment a = AssessAll(CleanReport(), &file);
  const ClauseVerdict& passwords = Find(a, "en303645", "5.1-1");
  EXPECT_EQ(passwords.verdict, Verdict::kNotApplicable);
  EXPECT_NE(passwords.rationale.find("the device has no user accounts"), std::string::npos);
  EXPECT_EQ(Find(a, "en303645", "5.4-3").verdict, Verdict::kPartiallySupported);  // no reason
  EXPECT_EQ(a.declarations[0].result, DeclarationResult::kUnverifiable);
}

TEST_F(ComplianceTest, DeclarationsFileErrorsAreRefused) {
  EXPECT_FALSE(ParseDeclarations(R"json({"declarations": [{"standard": "cra"}]})json", "d.json"));
  auto status = ParseDeclarations(
      R"json({"declarations": [{"standard": "cra", "clause": "II(1)", "claim": "c",
          "status": "maybe"}]})json",
      "d.json");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("/declarations/0"), std::string::npos);
  const DeclarationFile file = Declarations(
      R"json({"declarations": [{"standard": "cra", "clause": "II(99)", "claim": "c",
          "status": "implemented"}]})json");
  auto selected = standards_.Select(std::vector<std::string>{"cra"});
  auto refused = Assess(CleanReport(), rules_, *selected, &file);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("II(99)"), std::string::npos);
}

}  // namespace
}  // namespace clearbox::compliance
