// SARIF 2.1.0 (OASIS) list of vulnerabilities and findings, for code-scanning dashboards.
#include <map>
#include <nlohmann/json.hpp>

#include "core/hex.hpp"
#include "report/renderers.hpp"

namespace clearbox::report {
namespace {

using Json = nlohmann::ordered_json;

std::string Level(Severity severity) {
  if (severity >= Severity::kHigh) return "error";
  if (severity == Severity::kMedium) return "warning";
  return "note";
}

Json Location(const std::string& path, std::optional<std::uint64_t> byte_offset) {
  Json physical{{"artifactLocation", {{"uri", PathUriReference(path)}}}};
  if (byte_offset) physical["region"] = {{"byteOffset", *byte_offset}};
  return Json::array({Json{{"physicalLocation", physical}}});
}

// GitHub code scanning's numeric scale for a severity (critical > 9.0, high 7.0-8.9, ...).
const char* SecuritySeverityScore(Severity severity) {
  switch (severity) {
    case Severity::kCritical: return "9.5";
    case Severity::kHigh: return "8.0";
    case Severity::kMedium: return "5.5";
    case Severity::kLow: return "2.0";
    case Severity::kInfo: return "0.0";
  }
  return "0.0";
}

// The SARIF rule of a finding's rule id, described by the catalogue when it has the rule.
Json FindingRule(const std::string& id, const rules::RuleCatalogue* catalogue) {
  const rules::Rule* rule = catalogue ? catalogue->Find(id) : nullptr;
  if (!rule) {
    return Json{{"id", id},
                {"shortDescription", {{"text", id}}},
                {"properties", {{"tags", Json::array({"security", "configuration"})}}}};
  }
  Json tags = Json::array({"security", rule->source});
  for (const auto& cwe : rule->cwes) tags.push_back("external/cwe/cwe-" + cwe.substr(4));
  Json out{{"id", id},
           {"shortDescription", {{"text", rule->title}}},
           {"defaultConfiguration", {{"level", Level(rule->severity)}}}};
  if (!rule->remediation.empty()) {
    out["help"] = {{"text", rule->remediation}};
  }
  out["properties"] = {{"security-severity", SecuritySeverityScore(rule->severity)},
                       {"tags", tags}};
  return out;
}

}  // namespace

std::string RenderSarif(const Evidence& evidence) {
  std::map<std::string, Json> rules;
  Json results = Json::array();
  for (const auto& v : evidence.vulnerabilities) {
    const auto& m = v.match;
    const auto& c = evidence.components[v.component];
    if (!rules.count(m.id)) {
      Json rule{{"id", m.id},
                {"shortDescription", {{"text", m.id + " in " + c.name}}},
                {"fullDescription", {{"text", m.description.empty() ? m.id : m.description}}}};
      if (m.id.starts_with("CVE-")) rule["helpUri"] = "https://nvd.nist.gov/vuln/detail/" + m.id;
      char score[16];
      std::snprintf(score, sizeof score, "%.1f", m.cvss_score);
      rule["properties"] = {{"security-severity", score},
                            {"tags", Json::array({"security", "vulnerability"})}};
      rules[m.id] = std::move(rule);
    }
    std::string text = c.name + " " + c.version + " is affected by " + m.id + " (" +
                       std::string(ToString(m.match_kind)) + ": " + m.matched + ")";
    if (!v.vex_status.empty()) text += "; VEX: " + v.vex_status;
    Json result{{"ruleId", m.id},
                {"level", Level(m.severity.value_or(Severity::kInfo))},
                {"message", {{"text", text}}}};
    const std::string where =
        !c.evidence.empty() ? c.evidence.front().path : evidence.manifest.image.path;
    result["locations"] = Location(where, std::nullopt);
    if (v.vex_status == "not_affected" || v.vex_status == "fixed") {
      result["suppressions"] = Json::array({Json{
          {"kind", "external"}, {"justification", v.vex_status + ": " + v.vex_justification}}});
    }
    results.push_back(std::move(result));
  }
  for (const auto& f : evidence.findings) {
    if (!rules.count(f.rule)) rules[f.rule] = FindingRule(f.rule, evidence.rule_catalogue.get());
    Json result{
        {"ruleId", f.rule}, {"level", Level(f.severity)}, {"message", {{"text", f.message}}}};
    result["locations"] = Location(f.path, f.offset ? std::optional(f.offset) : std::nullopt);
    results.push_back(std::move(result));
  }
  Json rule_list = Json::array();
  for (auto& [id, rule] : rules) rule_list.push_back(std::move(rule));
  Json run{{"tool",
            {{"driver",
              {{"name", kToolName},
               {"version", kToolVersion},
               {"informationUri", "https://clearbox.dev/"},
               {"rules", rule_list}}}}},
           {"results", results}};
  Json sarif{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
             {"version", "2.1.0"},
             {"runs", Json::array({run})}};
  return sarif.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace clearbox::report
