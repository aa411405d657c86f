#include "compliance/compliance_sarif.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "core/hex.hpp"

namespace clearbox::compliance {
namespace {

using Json = nlohmann::ordered_json;

// SARIF's result kind of a verdict.
std::string_view ResultKind(Verdict verdict) {
  switch (verdict) {
    case Verdict::kContradicted: return "fail";
    case Verdict::kPartiallySupported: return "review";
    case Verdict::kSupported: return "pass";
    case Verdict::kNotDeterminable: return "open";
    case Verdict::kNotApplicable: return "notApplicable";
  }
  return "open";
}

// The distinct file paths of the evidence items (the report's "path" of each), sorted.
std::set<std::string> EvidencePaths(const ClauseVerdict& verdict, const nlohmann::json& report) {
  std::set<std::string> paths;
  for (const std::string& pointer : verdict.evidence) {
    const nlohmann::json::json_pointer at(pointer);
    if (!report.contains(at)) continue;
    const nlohmann::json& item = report.at(at);
    if (item.is_object() && item.contains("path") && item.at("path").is_string()) {
      paths.insert(item.at("path").get<std::string>());
    }
  }
  return paths;
}

Json Result(const Standard& standard, const ClauseVerdict& verdict, const std::string& rule_id,
            const nlohmann::json& report, const std::string& image_path) {
  const bool failed = verdict.verdict == Verdict::kContradicted;
  Json result{{"ruleId", rule_id},
              {"kind", ResultKind(verdict.verdict)},
              {"level", failed ? "error" : "none"},
              {"message",
               {{"text", standard.title + " " + verdict.clause->id + ": " +
                             std::string(ToString(verdict.verdict)) + ". " + verdict.rationale}}}};
  std::set<std::string> paths = EvidencePaths(verdict, report);
  if (paths.empty()) paths.insert(image_path);
  Json locations = Json::array();
  for (const auto& path : paths) {
    locations.push_back(
        {{"physicalLocation", {{"artifactLocation", {{"uri", PathUriReference(path)}}}}}});
  }
  result["locations"] = locations;
  result["properties"] = {{"verdict", ToString(verdict.verdict)},
                          {"evidence", verdict.evidence},
                          {"rules", verdict.rules}};
  return result;
}

}  // namespace

std::string RenderComplianceSarif(const Assessment& assessment, const nlohmann::json& report) {
  Json rules = Json::array();
  Json results = Json::array();
  for (const StandardAssessment& standard : assessment.standards) {
    for (const ClauseVerdict& verdict : standard.clauses) {
      const std::string rule_id = standard.standard->id + "/" + verdict.clause->id;
      Json rule{{"id", rule_id},
                {"shortDescription", {{"text", verdict.clause->title}}},
                {"properties",
                 {{"tags", Json::array({"compliance", standard.standard->id})},
                  {"standard", standard.standard->title + " " + standard.standard->version}}}};
      if (!verdict.clause->modality.empty())
        rule["properties"]["modality"] = verdict.clause->modality;
      rules.push_back(std::move(rule));
      results.push_back(
          Result(*standard.standard, verdict, rule_id, report, assessment.report.image_path));
    }
  }
  Json run{
      {"tool",
       {{"driver",
         {{"name", "clearbox"}, {"informationUri", "https://clearbox.dev/"}, {"rules", rules}}}}},
      {"results", results}};
  Json sarif{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
             {"version", "2.1.0"},
             {"runs", Json::array({run})}};
  return sarif.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace clearbox::compliance
