// Assess: a verdict on every clause of the selected standards from a saved report.json, with
// a rationale and JSON pointers to the evidence, and the check of each vendor declaration.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compliance/declarations.hpp"
#include "compliance/report_evidence.hpp"
#include "compliance/standard_catalogue.hpp"
#include "core/result.hpp"
#include "rules/rule_catalogue.hpp"

namespace clearbox::compliance {

// What the image's evidence says about one clause (docs/compliance.md).
enum class Verdict {
  kContradicted,
  kPartiallySupported,
  kSupported,
  kNotDeterminable,
  kNotApplicable
};
inline constexpr std::array<Verdict, 5> kVerdictsInReportOrder{
    Verdict::kContradicted, Verdict::kPartiallySupported, Verdict::kSupported,
    Verdict::kNotDeterminable, Verdict::kNotApplicable};

// The report name of a verdict: "CONTRADICTED", "PARTIALLY_SUPPORTED", ...
std::string_view ToString(Verdict verdict);

// The verdict on one clause.
struct ClauseVerdict {
  const Clause* clause = nullptr;  // points into the StandardCatalogue, which must outlive it
  Verdict verdict = Verdict::kNotDeterminable;
  std::string rationale;              // one or two sentences
  std::vector<std::string> evidence;  // JSON pointers into report.json, sorted (PointerLess)
  std::vector<std::string> rules;     // rule ids mapped to the clause, sorted
  std::string first_evidence_text;    // the text of evidence[0]'s item, for the terminal
};

// The verdicts on every clause of one standard, in the catalogue's order.
struct StandardAssessment {
  const Standard* standard = nullptr;
  std::vector<ClauseVerdict> clauses;
  // How many clauses have `verdict`.
  std::size_t Count(Verdict verdict) const;
};

// How a vendor declaration fares against the image.
enum class DeclarationResult { kConfirmed, kContradicted, kUnverifiable };

// The report name of a DeclarationResult: "CONFIRMED", "CONTRADICTED", "UNVERIFIABLE".
std::string_view ToString(DeclarationResult result);

// One declaration with its result, the reason, and the evidence (JSON pointers) behind it.
struct DeclarationCheck {
  Declaration declaration;
  DeclarationResult result = DeclarationResult::kUnverifiable;
  std::string rationale;
  std::vector<std::string> evidence;
};

// Everything compliance.json holds.
struct Assessment {
  ReportEvidence report;  // the image and the extracted evidence
  std::string product;    // from the declarations file, "" without one
  std::vector<StandardAssessment> standards;
  std::vector<DeclarationCheck> declarations;
  std::vector<std::string> problems;  // catalogue gaps found while assessing, sorted
};

// Assesses `report` (a parsed report.json) against `standards`; rule metadata comes from
// `rules`, declarations (optional) are checked and may mark clauses NOT_APPLICABLE.
// kMalformed for a report that is not a clearbox report; kInvalidArgument for a declaration
// naming a clause its (selected) standard does not have.
Result<Assessment> Assess(const nlohmann::json& report, const rules::RuleCatalogue& rules,
                          std::span<const Standard* const> standards,
                          const DeclarationFile* declarations);

}  // namespace clearbox::compliance
