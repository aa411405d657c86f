// Evidence from a saved report.json (docs/report-schema.md): every fact that is a rule's
// evidence against the clauses the rule catalogue maps it to, located by a JSON pointer.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.hpp"

namespace clearbox::compliance {

// One piece of evidence: the rule it raises, where it is in report.json, and a short text.
struct EvidenceItem {
  std::string rule;     // a rule id of data/rules/catalogue.json
  std::string pointer;  // RFC 6901 JSON pointer into report.json: "/findings/3"
  std::string text;     // one line for people: the finding's message, the binary's path, ...
};

// What report.json says, reduced to what the verdicts need.
struct ReportEvidence {
  std::vector<EvidenceItem> items;  // in report order: findings, binaries, vulns, components
  std::size_t component_count = 0;
  std::vector<std::string> components_without_version;  // pointers "/components/i"
  std::vector<std::string> analysers_run;  // "identify", and "inspect", "elf", "vuln" if they ran
  std::string image_path;                  // /image/path
  std::uint64_t image_size = 0;
  std::string image_sha256;  // /image/sha256
  std::string created;       // /created, "" when the report has none
};

// Reads the evidence of a parsed report.json. kMalformed when the report lacks its image or a
// list holds entries of the wrong shape (the message gives the JSON pointer).
Result<ReportEvidence> ExtractReportEvidence(const nlohmann::json& report);

// Parses report.json text; kMalformed when it is not JSON or not a clearbox report.
Result<nlohmann::json> ParseReportJson(std::string_view text, std::string_view origin);

// Orders JSON pointers by their parent path, then numerically by a trailing array index
// ("/findings/2" before "/findings/10").
bool PointerLess(const std::string& a, const std::string& b);

}  // namespace clearbox::compliance
