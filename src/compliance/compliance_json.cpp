#include "compliance/compliance_json.hpp"

#include <nlohmann/json.hpp>

namespace clearbox::compliance {
namespace {

using Json = nlohmann::json;

Json CountsJson(const StandardAssessment& standard) {
  Json counts = Json::object();
  for (Verdict verdict : kVerdictsInReportOrder) {
    counts[std::string(ToString(verdict))] = standard.Count(verdict);
  }
  return counts;
}

Json ClauseJson(const ClauseVerdict& v) {
  Json j{{"id", v.clause->id},
         {"title", v.clause->title},
         {"determinable_from_firmware", std::string(ToString(v.clause->determinable))},
         {"verdict", std::string(ToString(v.verdict))},
         {"rationale", v.rationale},
         {"evidence", v.evidence},
         {"rules", v.rules}};
  if (!v.clause->modality.empty()) j["modality"] = v.clause->modality;
  return j;
}

Json StandardJson(const StandardAssessment& standard) {
  Json clauses = Json::array();
  for (const auto& v : standard.clauses) clauses.push_back(ClauseJson(v));
  return Json{{"id", standard.standard->id},
              {"title", standard.standard->title},
              {"version", standard.standard->version},
              {"counts", CountsJson(standard)},
              {"clauses", std::move(clauses)}};
}

Json DeclarationJson(const DeclarationCheck& check) {
  const Declaration& d = check.declaration;
  Json j{{"standard", d.standard},
         {"clause", d.clause},
         {"claim", d.claim},
         {"status", std::string(ToString(d.status))},
         {"vendor_evidence", d.evidence},
         {"result", std::string(ToString(check.result))},
         {"rationale", check.rationale},
         {"evidence", check.evidence}};
  if (!d.reason.empty()) j["reason"] = d.reason;
  return j;
}

Json ReportJson(const ReportEvidence& report) {
  Json j{{"image",
          {{"path", report.image_path},
           {"size", report.image_size},
           {"sha256", report.image_sha256}}}};
  if (!report.created.empty()) j["created"] = report.created;
  return j;
}

}  // namespace

std::string RenderComplianceJson(const Assessment& assessment) {
  Json root;
  root["schema"] = std::string(kComplianceSchema);
  root["schema_version"] = kComplianceSchemaVersion;
  root["report"] = ReportJson(assessment.report);
  if (!assessment.product.empty()) root["product"] = assessment.product;
  Json standards = Json::array();
  for (const auto& standard : assessment.standards) standards.push_back(StandardJson(standard));
  root["standards"] = std::move(standards);
  Json declarations = Json::array();
  for (const auto& check : assessment.declarations) declarations.push_back(DeclarationJson(check));
  root["declarations"] = std::move(declarations);
  root["analysis_problems"] = assessment.problems;
  return root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string RenderComplianceSummary(const Assessment& assessment) {
  std::string out = "compliance:\n";
  for (const auto& standard : assessment.standards) {
    out += "  " + standard.standard->id + " " + standard.standard->version + ":";
    const char* separator = " ";
    for (Verdict verdict : kVerdictsInReportOrder) {
      out += separator + std::to_string(standard.Count(verdict)) + " " +
             std::string(ToString(verdict));
      separator = ", ";
    }
    out += "\n";
    for (const auto& v : standard.clauses) {
      if (v.verdict != Verdict::kContradicted) continue;
      out += "    CONTRADICTED " + v.clause->id + ": " + v.evidence.front() + " " +
             v.first_evidence_text + "\n";
    }
  }
  for (const auto& check : assessment.declarations) {
    out += "  declaration " + check.declaration.standard + " " + check.declaration.clause + ": " +
           std::string(ToString(check.result));
    if (check.result == DeclarationResult::kContradicted && !check.evidence.empty()) {
      out += " (" + check.evidence.front() + ")";
    }
    out += "\n";
  }
  for (const auto& problem : assessment.problems) out += "  problem: " + problem + "\n";
  return out;
}

}  // namespace clearbox::compliance
