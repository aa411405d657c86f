// What changed between two releases, from their saved report.json documents (and their
// compliance.json when both have one). Files, binaries and findings are matched by their path
// inside the root filesystem (rootfs_path.hpp), not by the unpacker's offsets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/result.hpp"

namespace clearbox::diff {

// The image one side of the diff describes (report.json `image`).
struct ReleaseSide {
  std::string image_path;  // base name
  std::uint64_t image_size = 0;
  std::string image_sha256;
  bool has_compliance = false;  // a compliance.json was given for this side
};

// A component present on one side only, or on both sides with another version.
struct ComponentChange {
  std::string key;  // purl without version and qualifiers, else "name:<name>"
  std::string name;
  std::string old_version;  // "" for an added component
  std::string new_version;  // "" for a removed component
  std::string old_purl;
  std::string new_purl;
};

// A vulnerability of a component (matched by id and component key) on one side only.
struct VulnerabilityChange {
  std::string id;
  std::string component_key;
  std::string component;  // name
  std::string version;    // the component's version on the side that has it
  std::string severity;   // cvss.severity ("" when the source gives none)
  bool kev = false;
};

// One hardening property of one binary (on both sides) that got worse or better.
struct HardeningChange {
  std::string path;      // rootfs path
  std::string property;  // nx, pie, relro, canary, fortify, cet.ibt, cet.shstk
  std::string old_value;
  std::string new_value;
};

// A finding present on one side only, matched by rule, rootfs path, message and evidence.
struct FindingChange {
  std::string rule;
  std::string severity;
  std::string path;  // rootfs path
  std::string message;
  std::string evidence;
};

// A file (any type) as one side lists it.
struct FileState {
  std::string raw_path;  // the path in that side's report.json
  std::string type;
  std::string mode;
  std::uint64_t size = 0;
  std::string sha256;  // regular files
  std::string target;  // symlinks
};

// A file added, removed or changed; `old_state`/`new_state` is empty on the side lacking it.
struct FileChange {
  std::string path;  // rootfs path
  FileState old_state;
  FileState new_state;
  std::vector<std::string> changed;  // for changed files: "type", "mode", "sha256", "target"
};

// A compliance clause whose verdict differs.
struct VerdictChange {
  std::string standard;
  std::string clause;
  std::string old_verdict;
  std::string new_verdict;
  bool regression = false;  // the clause became CONTRADICTED
};

// Every difference between two releases; every list is sorted (deterministic output).
struct ReleaseDiff {
  ReleaseSide old_side;
  ReleaseSide new_side;
  std::vector<ComponentChange> components_added;
  std::vector<ComponentChange> components_removed;
  std::vector<ComponentChange> components_upgraded;
  std::vector<ComponentChange> components_downgraded;
  std::vector<VulnerabilityChange> vulnerabilities_introduced;
  std::vector<VulnerabilityChange> vulnerabilities_fixed;
  std::vector<HardeningChange> hardening_regressions;
  std::vector<HardeningChange> hardening_improvements;
  std::vector<FindingChange> findings_new;
  std::vector<FindingChange> findings_resolved;
  std::vector<FileChange> files_added;
  std::vector<FileChange> files_removed;
  std::vector<FileChange> files_changed;
  bool compliance_compared = false;  // both sides had compliance.json
  std::vector<VerdictChange> verdict_changes;
};

// Compares two report.json documents (docs/report-schema.md) and, when both are given, their
// compliance.json documents (docs/compliance.md). kMalformed when a document is not an object
// or a field has the wrong type (the message names it); missing lists count as empty.
Result<ReleaseDiff> DiffReports(const nlohmann::json& old_report, const nlohmann::json& new_report,
                                const nlohmann::json* old_compliance,
                                const nlohmann::json* new_compliance);

// True when the diff holds a regression (docs/diff-schema.md): an introduced vulnerability, a
// component downgraded, a hardening regression, a new finding of severity low or above, or a
// clause that became CONTRADICTED.
bool HasRegression(const ReleaseDiff& diff);

// How many regressions HasRegression counts.
std::size_t CountRegressions(const ReleaseDiff& diff);

// True when no list of the diff has an entry (the image sides may still differ).
bool IsEmpty(const ReleaseDiff& diff);

// Parses JSON text (`origin` names it in errors); kMalformed when it is not a JSON object.
Result<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view origin);

}  // namespace clearbox::diff
