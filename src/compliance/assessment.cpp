#include "compliance/assessment.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "compliance/derived_rules.hpp"

namespace clearbox::compliance {
namespace {

using Json = nlohmann::json;
using ClauseKey = std::pair<std::string, std::string>;  // standard id, clause id

// What every clause judgement reads: the catalogue's rules by clause, the report's evidence by
// rule, and which analysers ran.
struct AssessContext {
  std::map<ClauseKey, std::vector<const rules::Rule*>> rules_by_clause;
  std::map<std::string, std::vector<const EvidenceItem*>> evidence_by_rule;
  const ReportEvidence* report = nullptr;
};

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// `text` without a final full stop, to quote it inside a sentence.
std::string Quoted(const std::string& text) {
  return text.ends_with('.') ? text.substr(0, text.size() - 1) : text;
}

void SortPointers(std::vector<std::string>& pointers) {
  std::sort(pointers.begin(), pointers.end(), PointerLess);
  pointers.erase(std::unique(pointers.begin(), pointers.end()), pointers.end());
}

// Builds the context; evidence of a rule the catalogue lacks becomes one problem per rule.
AssessContext MakeContext(const rules::RuleCatalogue& catalogue, const ReportEvidence& report,
                          std::vector<std::string>& problems) {
  AssessContext ctx;
  ctx.report = &report;
  for (const auto& rule : catalogue.rules()) {
    for (const auto& ref : rule.clauses) {
      ctx.rules_by_clause[{ref.standard, ref.clause}].push_back(&rule);
    }
  }
  std::map<std::string, std::vector<std::string>> unknown;
  for (const auto& item : report.items) {
    if (catalogue.Find(item.rule) == nullptr) {
      unknown[item.rule].push_back(item.pointer);
      continue;
    }
    ctx.evidence_by_rule[item.rule].push_back(&item);
  }
  for (auto& [rule, pointers] : unknown) {
    SortPointers(pointers);
    problems.push_back("rule " + rule +
                       " is not in the rule catalogue: " + std::to_string(pointers.size()) +
                       " piece(s) of evidence (first " + pointers.front() + ") were not used");
  }
  return ctx;
}

bool IsSbomClause(const Standard& standard, const Clause& clause) {
  return standard.id == kSbomStandard && clause.id == kSbomClause;
}

// The sentence that tells what beyond the image would decide the clause.
std::string WhatWouldDecide(const Clause& clause) {
  if (!clause.evidence_needed.empty()) return "What would decide it: " + clause.evidence_needed;
  if (!clause.firmware_evidence.empty()) {
    return "What an image could show: " + clause.firmware_evidence;
  }
  return "The catalogue does not say what evidence would decide it.";
}

std::string_view DecidedBy(Determinability determinable) {
  switch (determinable) {
    case Determinability::kProcess: return "the manufacturer's processes";
    case Determinability::kDocumentation: return "documents the manufacturer supplies";
    case Determinability::kPhysical: return "inspecting the hardware";
    case Determinability::kRuntime: return "testing the running device";
    case Determinability::kFirmware:
    case Determinability::kPartial: break;
  }
  return "evidence beyond the image";
}

bool DecidableFromImage(Determinability determinable) {
  return determinable == Determinability::kFirmware || determinable == Determinability::kPartial;
}

// Evidence of the clause's rules present in the report (none of `excluded_rule`).
std::vector<const EvidenceItem*> ContradictingEvidence(const AssessContext& ctx,
                                                       const std::vector<std::string>& rules,
                                                       std::string_view excluded_rule) {
  std::vector<const EvidenceItem*> found;
  for (const auto& rule : rules) {
    if (rule == excluded_rule) continue;
    const auto it = ctx.evidence_by_rule.find(rule);
    if (it != ctx.evidence_by_rule.end()) {
      found.insert(found.end(), it->second.begin(), it->second.end());
    }
  }
  std::sort(found.begin(), found.end(), [](const EvidenceItem* a, const EvidenceItem* b) {
    return PointerLess(a->pointer, b->pointer) || (a->pointer == b->pointer && a->rule < b->rule);
  });
  return found;
}

void MarkContradicted(ClauseVerdict& v, const std::vector<const EvidenceItem*>& found) {
  std::vector<std::string> fired;
  for (const EvidenceItem* item : found) {
    v.evidence.push_back(item->pointer);
    fired.push_back(item->rule);
  }
  std::sort(fired.begin(), fired.end());
  fired.erase(std::unique(fired.begin(), fired.end()), fired.end());
  SortPointers(v.evidence);
  v.verdict = Verdict::kContradicted;
  v.first_evidence_text = found.front()->text;
  v.rationale = "The image contradicts this clause: " + std::to_string(v.evidence.size()) +
                " piece(s) of evidence from " + Join(fired) +
                " (first: " + Quoted(found.front()->text) + ").";
}

// CRA II(1): supported in full only when components are listed, each with a version.
void JudgeSbomClause(const AssessContext& ctx, ClauseVerdict& v) {
  const ReportEvidence& report = *ctx.report;
  const std::string count = std::to_string(report.component_count);
  if (report.component_count == 0) {
    v.verdict = Verdict::kPartiallySupported;
    v.rationale =
        "report.json lists no components, so the SBOM it yields shows nothing of what the "
        "image contains. " +
        WhatWouldDecide(*v.clause);
    return;
  }
  if (report.components_without_version.empty()) {
    v.verdict = Verdict::kSupported;
    v.evidence = {"/components"};
    v.rationale = "report.json lists " + count +
                  " components, each with a version: the scan yields a machine-readable SBOM "
                  "of them (sbom.cdx.json, sbom.spdx.json).";
    return;
  }
  v.verdict = Verdict::kPartiallySupported;
  v.evidence = report.components_without_version;
  SortPointers(v.evidence);
  v.first_evidence_text = "component " + v.evidence.front() + " has no version";
  v.rationale =
      "report.json lists " + count + " components, but " + std::to_string(v.evidence.size()) +
      " have no version, so the SBOM documents them only in part. " + WhatWouldDecide(*v.clause);
}

// A firmware or partial clause without contradicting evidence.
void JudgeUncontradicted(const AssessContext& ctx, const std::vector<const rules::Rule*>& mapped,
                         ClauseVerdict& v) {
  std::vector<std::string> checked;
  for (const rules::Rule* rule : mapped) {
    const auto& run = ctx.report->analysers_run;
    if (std::find(run.begin(), run.end(), rule->source) != run.end()) checked.push_back(rule->id);
  }
  std::sort(checked.begin(), checked.end());
  v.verdict = checked.empty() ? Verdict::kNotDeterminable : Verdict::kPartiallySupported;
  if (mapped.empty()) {
    v.rationale =
        "No clearbox check speaks to this clause, so the image was not judged against "
        "it. " +
        WhatWouldDecide(*v.clause);
  } else if (checked.empty()) {
    v.rationale = "The clearbox checks that speak to this clause (" + Join(v.rules) +
                  ") did not run on this input. " + WhatWouldDecide(*v.clause);
  } else {
    v.rationale = "clearbox checked the image for " + Join(checked) +
                  " and found nothing against this clause, which is not proof that it is met; "
                  "the rest needs review. " +
                  WhatWouldDecide(*v.clause);
  }
}

ClauseVerdict JudgeClause(const AssessContext& ctx, const Standard& standard,
                          const Clause& clause) {
  ClauseVerdict v;
  v.clause = &clause;
  std::vector<const rules::Rule*> mapped;
  if (const auto it = ctx.rules_by_clause.find({standard.id, clause.id});
      it != ctx.rules_by_clause.end()) {
    mapped = it->second;
  }
  for (const rules::Rule* rule : mapped) v.rules.push_back(rule->id);
  std::sort(v.rules.begin(), v.rules.end());
  const bool sbom = IsSbomClause(standard, clause);
  const auto found = ContradictingEvidence(ctx, v.rules, sbom ? kRuleComponentWithoutVersion : "");
  if (!found.empty()) {
    MarkContradicted(v, found);
  } else if (sbom) {
    JudgeSbomClause(ctx, v);
  } else if (!DecidableFromImage(clause.determinable)) {
    v.verdict = Verdict::kNotDeterminable;
    v.rationale = "A firmware image cannot decide this clause; it rests on " +
                  std::string(DecidedBy(clause.determinable)) + ". " + WhatWouldDecide(clause);
  } else {
    JudgeUncontradicted(ctx, mapped, v);
  }
  return v;
}

// Pointers "/files/i" of the report's files whose path is `wanted` or ends in "/wanted"
// (vendors name paths from the device's root; report paths start at the unpacked chunk).
std::vector<std::string> FindFilePointers(const Json& report, std::string_view wanted) {
  std::vector<std::string> pointers;
  while (wanted.starts_with('/')) wanted.remove_prefix(1);
  const auto files = report.find("files");
  if (wanted.empty() || files == report.end() || !files->is_array()) return pointers;
  const std::string suffix = "/" + std::string(wanted);
  for (std::size_t i = 0; i < files->size(); ++i) {
    const Json& f = (*files)[i];
    if (!f.is_object() || !f.contains("path") || !f.at("path").is_string()) continue;
    const std::string& path = f.at("path").get_ref<const std::string&>();
    if (path == wanted || path.ends_with(suffix)) pointers.push_back("/files/" + std::to_string(i));
  }
  return pointers;
}

}  // namespace

std::string_view ToString(Verdict verdict) {
  switch (verdict) {
    case Verdict::kContradicted: return "CONTRADICTED";
    case Verdict::kPartiallySupported: return "PARTIALLY_SUPPORTED";
    case Verdict::kSupported: return "SUPPORTED";
    case Verdict::kNotDeterminable: return "NOT_DETERMINABLE";
    case Verdict::kNotApplicable: return "NOT_APPLICABLE";
  }
  return "NOT_DETERMINABLE";
}

std::string_view ToString(DeclarationResult result) {
  switch (result) {
    case DeclarationResult::kConfirmed: return "CONFIRMED";
    case DeclarationResult::kContradicted: return "CONTRADICTED";
    case DeclarationResult::kUnverifiable: return "UNVERIFIABLE";
  }
  return "UNVERIFIABLE";
}

std::size_t StandardAssessment::Count(Verdict verdict) const {
  return static_cast<std::size_t>(
      std::count_if(clauses.begin(), clauses.end(),
                    [&](const ClauseVerdict& c) { return c.verdict == verdict; }));
}

namespace {

// The check of one declaration against the clause's verdict from the image (`image`), before
// any declaration changed it.
DeclarationCheck CheckDeclaration(const Json& report, const Declaration& d,
                                  const ClauseVerdict& image) {
  DeclarationCheck check{d, DeclarationResult::kUnverifiable, "", {}};
  if (image.verdict == Verdict::kContradicted) {
    check.result = DeclarationResult::kContradicted;
    check.evidence = image.evidence;
    check.rationale = "The image contradicts the claim: " + std::to_string(image.evidence.size()) +
                      " piece(s) of evidence against clause " + d.clause +
                      " (first: " + Quoted(image.first_evidence_text) + ").";
    return check;
  }
  if (d.status == DeclaredStatus::kNotApplicable) {
    check.rationale = d.reason.empty()
                          ? "A not_applicable declaration needs a reason; without one the clause "
                            "keeps the verdict the image gives."
                          : "Accepted as the vendor's statement: the image holds no evidence "
                            "against the clause, and whether it applies is for the vendor to say.";
    return check;
  }
  if (image.verdict == Verdict::kSupported) {
    check.result = DeclarationResult::kConfirmed;
    check.evidence = image.evidence;
    check.rationale = "Confirmed by the image: " + image.rationale;
    return check;
  }
  std::vector<std::string> present;
  std::vector<std::string> missing;
  for (const auto& path : d.evidence) {
    auto pointers = FindFilePointers(report, path);
    (pointers.empty() ? missing : present).push_back(path);
    check.evidence.insert(check.evidence.end(), pointers.begin(), pointers.end());
  }
  SortPointers(check.evidence);
  if (!present.empty() && missing.empty()) {
    check.result = DeclarationResult::kConfirmed;
    check.rationale = "The file(s) the vendor names as evidence are in the image (" +
                      Join(present) + "); their presence was checked, not their content.";
    return check;
  }
  // A claim is confirmed only when every file it names is there; the ones found stay cited.
  check.rationale = "The image neither supports nor contradicts the claim (clause verdict " +
                    std::string(ToString(image.verdict)) + ")";
  if (!present.empty()) check.rationale += "; in the image: " + Join(present);
  check.rationale +=
      missing.empty()
          ? "."
          : "; the file(s) the vendor names are not in the image: " + Join(missing) + ".";
  return check;
}

// Checks every declaration and applies the not_applicable ones to their clauses.
Result<void> ApplyDeclarations(const Json& report, const DeclarationFile& file,
                               Assessment& assessment) {
  std::vector<StandardAssessment> image_verdicts = assessment.standards;
  for (const auto& d : file.declarations) {
    auto standard =
        std::find_if(image_verdicts.begin(), image_verdicts.end(),
                     [&](const StandardAssessment& s) { return s.standard->id == d.standard; });
    if (standard == image_verdicts.end()) {
      assessment.declarations.push_back(
          {d,
           DeclarationResult::kUnverifiable,
           "Standard " + d.standard + " was not assessed in this run (--standard).",
           {}});
      continue;
    }
    const std::size_t index = static_cast<std::size_t>(
        std::find_if(standard->clauses.begin(), standard->clauses.end(),
                     [&](const ClauseVerdict& c) { return c.clause->id == d.clause; }) -
        standard->clauses.begin());
    if (index == standard->clauses.size()) {
      return Fail(ErrorCode::kInvalidArgument, "declaration for " + d.standard + " clause '" +
                                                   d.clause + "': the standard has no such clause");
    }
    const ClauseVerdict& image = standard->clauses[index];
    assessment.declarations.push_back(CheckDeclaration(report, d, image));
    if (d.status == DeclaredStatus::kNotApplicable && !d.reason.empty() &&
        image.verdict != Verdict::kContradicted) {
      auto& target =
          assessment.standards[static_cast<std::size_t>(standard - image_verdicts.begin())]
              .clauses[index];
      target.verdict = Verdict::kNotApplicable;
      target.evidence.clear();
      target.first_evidence_text.clear();
      target.rationale = "Declared not applicable by the vendor: \"" + d.reason + "\".";
    }
  }
  return {};
}

}  // namespace

Result<Assessment> Assess(const nlohmann::json& report, const rules::RuleCatalogue& rules,
                          std::span<const Standard* const> standards,
                          const DeclarationFile* declarations) {
  auto extracted = ExtractReportEvidence(report);
  if (!extracted) return Forward(extracted);
  Assessment assessment;
  assessment.report = std::move(*extracted);
  const AssessContext ctx = MakeContext(rules, assessment.report, assessment.problems);
  for (const Standard* standard : standards) {
    StandardAssessment judged{standard, {}};
    for (const auto& clause : standard->clauses) {
      judged.clauses.push_back(JudgeClause(ctx, *standard, clause));
    }
    assessment.standards.push_back(std::move(judged));
  }
  if (declarations != nullptr) {
    assessment.product = declarations->product;
    auto applied = ApplyDeclarations(report, *declarations, assessment);
    if (!applied) return Forward(applied);
  }
  std::sort(assessment.problems.begin(), assessment.problems.end());
  return assessment;
}

}  // namespace clearbox::compliance
