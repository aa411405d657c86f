#include "diff/diff_json.hpp"

#include <nlohmann/json.hpp>

namespace clearbox::diff {
namespace {

using Json = nlohmann::json;

constexpr const char* kDiffSchema = "https://clearbox.dev/schemas/diff";
constexpr int kDiffSchemaVersion = 1;

Json SideJson(const ReleaseSide& side) {
  return {{"image",
           {{"path", side.image_path}, {"size", side.image_size}, {"sha256", side.image_sha256}}},
          {"compliance", side.has_compliance}};
}

Json AddedOrRemovedComponent(const ComponentChange& c, bool added) {
  return {{"key", c.key},
          {"name", c.name},
          {"version", added ? c.new_version : c.old_version},
          {"purl", added ? c.new_purl : c.old_purl}};
}

Json VersionChange(const ComponentChange& c) {
  return {{"key", c.key},
          {"name", c.name},
          {"old_version", c.old_version},
          {"new_version", c.new_version},
          {"old_purl", c.old_purl},
          {"new_purl", c.new_purl}};
}

Json ComponentsJson(const ReleaseDiff& diff) {
  Json out = {{"added", Json::array()},
              {"removed", Json::array()},
              {"upgraded", Json::array()},
              {"downgraded", Json::array()}};
  for (const auto& c : diff.components_added)
    out["added"].push_back(AddedOrRemovedComponent(c, true));
  for (const auto& c : diff.components_removed) {
    out["removed"].push_back(AddedOrRemovedComponent(c, false));
  }
  for (const auto& c : diff.components_upgraded) out["upgraded"].push_back(VersionChange(c));
  for (const auto& c : diff.components_downgraded) out["downgraded"].push_back(VersionChange(c));
  return out;
}

Json VulnerabilityList(const std::vector<VulnerabilityChange>& list) {
  Json out = Json::array();
  for (const auto& v : list) {
    out.push_back({{"id", v.id},
                   {"component", v.component},
                   {"component_key", v.component_key},
                   {"version", v.version},
                   {"severity", v.severity},
                   {"kev", v.kev}});
  }
  return out;
}

Json HardeningList(const std::vector<HardeningChange>& list) {
  Json out = Json::array();
  for (const auto& h : list) {
    out.push_back(
        {{"path", h.path}, {"property", h.property}, {"old", h.old_value}, {"new", h.new_value}});
  }
  return out;
}

Json FindingList(const std::vector<FindingChange>& list) {
  Json out = Json::array();
  for (const auto& f : list) {
    out.push_back({{"rule", f.rule},
                   {"severity", f.severity},
                   {"path", f.path},
                   {"message", f.message},
                   {"evidence", f.evidence}});
  }
  return out;
}

// A file as one side lists it; size and sha256 only for regular files, target for symlinks.
Json FileStateJson(const FileState& s) {
  Json out = {{"raw_path", s.raw_path}, {"type", s.type}, {"mode", s.mode}};
  if (!s.sha256.empty()) {
    out["size"] = s.size;
    out["sha256"] = s.sha256;
  }
  if (!s.target.empty()) out["target"] = s.target;
  return out;
}

Json FilesJson(const ReleaseDiff& diff) {
  Json out = {{"added", Json::array()}, {"removed", Json::array()}, {"changed", Json::array()}};
  for (const auto& f : diff.files_added) {
    Json entry = FileStateJson(f.new_state);
    entry["path"] = f.path;
    out["added"].push_back(std::move(entry));
  }
  for (const auto& f : diff.files_removed) {
    Json entry = FileStateJson(f.old_state);
    entry["path"] = f.path;
    out["removed"].push_back(std::move(entry));
  }
  for (const auto& f : diff.files_changed) {
    out["changed"].push_back({{"path", f.path},
                              {"changed", f.changed},
                              {"old", FileStateJson(f.old_state)},
                              {"new", FileStateJson(f.new_state)}});
  }
  return out;
}

Json ComplianceJson(const ReleaseDiff& diff) {
  Json changes = Json::array();
  for (const auto& v : diff.verdict_changes) {
    changes.push_back({{"standard", v.standard},
                       {"clause", v.clause},
                       {"old_verdict", v.old_verdict},
                       {"new_verdict", v.new_verdict},
                       {"regression", v.regression}});
  }
  return {{"compared", diff.compliance_compared}, {"changes", std::move(changes)}};
}

Json SummaryJson(const ReleaseDiff& diff) {
  return {{"components_added", diff.components_added.size()},
          {"components_removed", diff.components_removed.size()},
          {"components_upgraded", diff.components_upgraded.size()},
          {"components_downgraded", diff.components_downgraded.size()},
          {"vulnerabilities_introduced", diff.vulnerabilities_introduced.size()},
          {"vulnerabilities_fixed", diff.vulnerabilities_fixed.size()},
          {"hardening_regressions", diff.hardening_regressions.size()},
          {"hardening_improvements", diff.hardening_improvements.size()},
          {"findings_new", diff.findings_new.size()},
          {"findings_resolved", diff.findings_resolved.size()},
          {"files_added", diff.files_added.size()},
          {"files_removed", diff.files_removed.size()},
          {"files_changed", diff.files_changed.size()},
          {"verdict_changes", diff.verdict_changes.size()},
          {"regressions", CountRegressions(diff)}};
}

}  // namespace

std::string RenderDiffJson(const ReleaseDiff& diff) {
  const Json doc = {{"schema", kDiffSchema},
                    {"schema_version", kDiffSchemaVersion},
                    {"old", SideJson(diff.old_side)},
                    {"new", SideJson(diff.new_side)},
                    {"identical", IsEmpty(diff)},
                    {"regression", HasRegression(diff)},
                    {"summary", SummaryJson(diff)},
                    {"components", ComponentsJson(diff)},
                    {"vulnerabilities",
                     {{"introduced", VulnerabilityList(diff.vulnerabilities_introduced)},
                      {"fixed", VulnerabilityList(diff.vulnerabilities_fixed)}}},
                    {"hardening",
                     {{"regressions", HardeningList(diff.hardening_regressions)},
                      {"improvements", HardeningList(diff.hardening_improvements)}}},
                    {"findings",
                     {{"new", FindingList(diff.findings_new)},
                      {"resolved", FindingList(diff.findings_resolved)}}},
                    {"files", FilesJson(diff)},
                    {"compliance", ComplianceJson(diff)}};
  // Replace, not throw, on invalid UTF-8: the strings come from the images.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace clearbox::diff
