// Renderers of an Assessment: compliance.json (docs/compliance.md) and a terminal summary.
#pragma once

#include <string>
#include <string_view>

#include "compliance/assessment.hpp"

namespace clearbox::compliance {

inline constexpr int kComplianceSchemaVersion = 1;
inline constexpr std::string_view kComplianceSchema = "https://clearbox.dev/schemas/compliance";
inline constexpr std::string_view kComplianceFileName = "compliance.json";
// The in-toto predicate type `clearbox attest` gives a compliance.json (docs/compliance.md).
inline constexpr std::string_view kCompliancePredicateType =
    "https://clearbox.dev/attestation/compliance/v1";

// compliance.json: pretty JSON with sorted keys and a final newline; byte-identical for equal
// assessments (no wall-clock time; `created` only when report.json has one).
std::string RenderComplianceJson(const Assessment& assessment);

// A few lines per standard: counts per verdict, each contradicted clause with its first
// evidence; then declarations that are contradicted, and analysis problems.
std::string RenderComplianceSummary(const Assessment& assessment);

}  // namespace clearbox::compliance
