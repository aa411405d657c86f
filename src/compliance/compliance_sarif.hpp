// compliance.sarif: the verdicts of an Assessment as a SARIF 2.1.0 log, so code-scanning
// tools show contradicted clauses next to the findings that contradict them.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "compliance/assessment.hpp"

namespace clearbox::compliance {

inline constexpr std::string_view kComplianceSarifFileName = "compliance.sarif";

// One SARIF rule per assessed clause ("<standard>/<clause>") and one result per verdict:
// CONTRADICTED is kind "fail" (level "error") located at the files of its evidence (paths
// read from `report`, the report.json the assessment was made from); PARTIALLY_SUPPORTED is
// "review", NOT_DETERMINABLE "open", SUPPORTED "pass", NOT_APPLICABLE "notApplicable".
// Deterministic: pretty JSON and a final newline.
std::string RenderComplianceSarif(const Assessment& assessment, const nlohmann::json& report);

}  // namespace clearbox::compliance
