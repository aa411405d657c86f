#include "diff/release_diff.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "diff/rootfs_path.hpp"
#include "vuln/distro_version.hpp"
#include "vuln/version.hpp"

namespace clearbox::diff {
namespace {

using Json = nlohmann::json;

constexpr std::array<const char*, 5> kReportLists{"files", "binaries", "components",
                                                  "vulnerabilities", "findings"};
// VEX statuses that take a vulnerability out of a release (as compliance reads them).
constexpr std::string_view kVexNotAffected = "not_affected";
constexpr std::string_view kVexFixed = "fixed";
constexpr std::string_view kContradicted = "CONTRADICTED";
constexpr std::string_view kInfoSeverity = "info";

// The array `key` of `doc` (checked to be an array by CheckLists), or an empty array.
const Json& ListOrEmpty(const Json& doc, const char* key) {
  static const Json kEmpty = Json::array();
  const auto it = doc.find(key);
  return it == doc.end() ? kEmpty : *it;
}

Result<void> CheckLists(const Json& report, std::string_view side) {
  if (!report.is_object()) {
    return Fail(ErrorCode::kMalformed, std::string(side) + " report.json: not an object");
  }
  for (const char* key : kReportLists) {
    if (report.contains(key) && !report.at(key).is_array()) {
      return Fail(ErrorCode::kMalformed,
                  std::string(side) + " report.json: /" + key + " is not a list");
    }
  }
  return {};
}

// Every path of a report the normaliser must know: files, binaries, findings, chunk dirs.
std::vector<std::string> RawPaths(const Json& report) {
  std::vector<std::string> paths;
  for (const char* key : {"files", "binaries", "findings"}) {
    for (const Json& entry : ListOrEmpty(report, key)) paths.push_back(entry.value("path", ""));
  }
  if (const auto unpack = report.find("unpack"); unpack != report.end() && unpack->is_object()) {
    const auto chunks = unpack->find("chunks");
    if (chunks != unpack->end() && chunks->is_array()) {
      for (const Json& chunk : *chunks) paths.push_back(chunk.value("extracted_to", ""));
    }
  }
  return paths;
}

ReleaseSide SideOf(const Json& report, const Json* compliance) {
  ReleaseSide side;
  if (const auto image = report.find("image"); image != report.end()) {
    side.image_path = image->value("path", "");
    side.image_size = image->value("size", std::uint64_t{0});
    side.image_sha256 = image->value("sha256", "");
  }
  side.has_compliance = compliance != nullptr;
  return side;
}

// ---- components ----

// A purl split at its version: "pkg:opkg/openwrt/dropbear@2016.72-1?arch=x" ->
// {"pkg:opkg/openwrt/dropbear", "2016.72-1"}.
std::pair<std::string, std::string> SplitPurl(std::string_view purl) {
  const std::string_view bare = purl.substr(0, purl.find_first_of("?#"));
  const auto at = bare.rfind('@');
  if (at == std::string_view::npos) return {std::string(bare), ""};
  return {std::string(bare.substr(0, at)), std::string(bare.substr(at + 1))};
}

std::string ComponentKey(std::string_view purl, std::string_view name) {
  if (!purl.empty()) return SplitPurl(purl).first;
  return "name:" + std::string(name);
}

struct ComponentFacts {
  std::string key;
  std::string name;
  std::string version;  // the compared version: the package's for distro packages
  std::string purl;
  std::function<int(std::string_view, std::string_view)> compare;
};

ComponentFacts FactsOf(const Json& component) {
  ComponentFacts facts;
  facts.name = component.value("name", "");
  facts.purl = component.value("purl", "");
  facts.key = ComponentKey(facts.purl, facts.name);
  facts.version = component.value("version", "");
  facts.compare = vuln::CompareVersions;
  const auto [key, package_version] = SplitPurl(facts.purl);
  if (package_version.empty()) return facts;
  // Distribution packages: the full package version in the distribution's own order, so that
  // a new revision of the same upstream version is an upgrade too.
  if (key.starts_with("pkg:deb/") || key.starts_with("pkg:opkg/")) {
    facts.version = package_version;
    facts.compare = vuln::CompareDebianVersions;
  } else if (key.starts_with("pkg:apk/")) {
    facts.version = package_version;
    facts.compare = vuln::CompareApkVersions;
  }
  return facts;
}

ComponentChange ChangeOf(const ComponentFacts* old_facts, const ComponentFacts* new_facts) {
  ComponentChange change;
  const ComponentFacts& any = old_facts != nullptr ? *old_facts : *new_facts;
  change.key = any.key;
  change.name = any.name;
  if (old_facts != nullptr) {
    change.old_version = old_facts->version;
    change.old_purl = old_facts->purl;
  }
  if (new_facts != nullptr) {
    change.new_version = new_facts->version;
    change.new_purl = new_facts->purl;
  }
  return change;
}

std::map<std::string, std::vector<ComponentFacts>> ComponentsByKey(const Json& report) {
  std::map<std::string, std::vector<ComponentFacts>> by_key;
  for (const Json& component : ListOrEmpty(report, "components")) {
    ComponentFacts facts = FactsOf(component);
    by_key[facts.key].push_back(std::move(facts));
  }
  return by_key;
}

// Removes the versions both sides have (as a multiset); what is left differs. Sorting keeps
// it O(n log n) for a report that repeats one component many times.
void DropCommonVersions(std::vector<ComponentFacts>& olds, std::vector<ComponentFacts>& news) {
  auto by_version = [](const ComponentFacts& a, const ComponentFacts& b) {
    return a.version < b.version;
  };
  std::stable_sort(olds.begin(), olds.end(), by_version);
  std::stable_sort(news.begin(), news.end(), by_version);
  std::vector<ComponentFacts> old_left;
  std::vector<ComponentFacts> new_left;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < olds.size() || j < news.size()) {
    if (j == news.size() || (i < olds.size() && olds[i].version < news[j].version)) {
      old_left.push_back(std::move(olds[i++]));
    } else if (i == olds.size() || news[j].version < olds[i].version) {
      new_left.push_back(std::move(news[j++]));
    } else {
      ++i;
      ++j;
    }
  }
  olds = std::move(old_left);
  news = std::move(new_left);
}

void DiffComponents(const Json& old_report, const Json& new_report, ReleaseDiff& diff) {
  auto olds = ComponentsByKey(old_report);
  auto news = ComponentsByKey(new_report);
  std::set<std::string> keys;
  for (const auto& [key, unused] : olds) keys.insert(key);
  for (const auto& [key, unused] : news) keys.insert(key);
  for (const auto& key : keys) {
    auto& o = olds[key];
    auto& n = news[key];
    DropCommonVersions(o, n);
    if (o.size() == 1 && n.size() == 1) {
      // Versions equal in their order (1.0 and 1.0.0) are the same release of the component.
      const int order = o[0].compare(o[0].version, n[0].version);
      if (order < 0) diff.components_upgraded.push_back(ChangeOf(&o[0], &n[0]));
      if (order > 0) diff.components_downgraded.push_back(ChangeOf(&o[0], &n[0]));
      continue;
    }
    for (const auto& facts : o) diff.components_removed.push_back(ChangeOf(&facts, nullptr));
    for (const auto& facts : n) diff.components_added.push_back(ChangeOf(nullptr, &facts));
  }
}

// ---- vulnerabilities ----

using VulnKey = std::pair<std::string, std::string>;  // id, component key

std::map<VulnKey, VulnerabilityChange> ActiveVulnerabilities(const Json& report) {
  std::map<VulnKey, VulnerabilityChange> active;
  for (const Json& v : ListOrEmpty(report, "vulnerabilities")) {
    if (const auto vex = v.find("vex"); vex != v.end()) {
      const std::string status = vex->value("status", "");
      if (status == kVexNotAffected || status == kVexFixed) continue;
    }
    VulnerabilityChange change;
    change.id = v.value("id", "");
    const Json component = v.value("component", Json::object());
    change.component = component.value("name", "");
    change.version = component.value("version", "");
    change.component_key = ComponentKey(component.value("ref", ""), change.component);
    const Json cvss = v.value("cvss", Json::object());
    change.severity = cvss.value("severity", "");
    change.kev = v.value("kev", false);
    active.emplace(VulnKey{change.id, change.component_key}, std::move(change));
  }
  return active;
}

void DiffVulnerabilities(const Json& old_report, const Json& new_report, ReleaseDiff& diff) {
  const auto olds = ActiveVulnerabilities(old_report);
  const auto news = ActiveVulnerabilities(new_report);
  for (const auto& [key, change] : news) {
    if (!olds.contains(key)) diff.vulnerabilities_introduced.push_back(change);
  }
  for (const auto& [key, change] : olds) {
    if (!news.contains(key)) diff.vulnerabilities_fixed.push_back(change);
  }
}

// ---- hardening ----

// A property's value and its rank (higher is better); nullopt when absent or not comparable.
struct PropertyValue {
  std::string text;
  int rank = 0;
};

std::optional<PropertyValue> BoolProperty(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  const bool value = it->get<bool>();
  return PropertyValue{value ? "true" : "false", value ? 1 : 0};
}

std::optional<PropertyValue> RankedProperty(const Json& object, const char* key,
                                            std::initializer_list<std::string_view> worst_first) {
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  const std::string value = it->get<std::string>();
  int rank = 0;
  for (const auto name : worst_first) {
    if (name == value) return PropertyValue{value, rank};
    ++rank;
  }
  return std::nullopt;  // "n/a" and unknown values are not ordered
}

using PropertyReader = std::function<std::optional<PropertyValue>(const Json&)>;

const std::vector<std::pair<std::string, PropertyReader>>& HardeningProperties() {
  static const std::vector<std::pair<std::string, PropertyReader>> kProperties{
      {"nx", [](const Json& b) { return BoolProperty(b, "nx"); }},
      {"pie", [](const Json& b) { return BoolProperty(b, "pie"); }},
      {"relro",
       [](const Json& b) {
         return RankedProperty(b, "relro", {"none", "partial", "full"});
       }},
      {"canary", [](const Json& b) { return BoolProperty(b, "canary"); }},
      {"fortify",
       [](const Json& b) {
         const auto it = b.find("fortify");
         if (it == b.end()) return std::optional<PropertyValue>{};
         return RankedProperty(*it, "verdict", {"no", "partial", "yes"});
       }},
      {"cet.ibt",
       [](const Json& b) {
         const auto it = b.find("cet");
         return it == b.end() ? std::nullopt : BoolProperty(*it, "ibt");
       }},
      {"cet.shstk",
       [](const Json& b) {
         const auto it = b.find("cet");
         return it == b.end() ? std::nullopt : BoolProperty(*it, "shstk");
       }},
  };
  return kProperties;
}

std::map<std::string, const Json*> BinariesByPath(const Json& report,
                                                  const RootfsPathNormaliser& paths) {
  std::map<std::string, const Json*> by_path;
  for (const Json& b : ListOrEmpty(report, "binaries")) {
    by_path.emplace(paths.Normalise(b.value("path", "")), &b);
  }
  return by_path;
}

void DiffHardening(const Json& old_report, const RootfsPathNormaliser& old_paths,
                   const Json& new_report, const RootfsPathNormaliser& new_paths,
                   ReleaseDiff& diff) {
  const auto olds = BinariesByPath(old_report, old_paths);
  const auto news = BinariesByPath(new_report, new_paths);
  for (const auto& [path, old_binary] : olds) {
    const auto found = news.find(path);
    if (found == news.end()) continue;
    for (const auto& [property, read] : HardeningProperties()) {
      const auto before = read(*old_binary);
      const auto after = read(*found->second);
      if (!before || !after || before->rank == after->rank) continue;
      HardeningChange change{path, property, before->text, after->text};
      if (after->rank < before->rank) {
        diff.hardening_regressions.push_back(std::move(change));
      } else {
        diff.hardening_improvements.push_back(std::move(change));
      }
    }
  }
}

// ---- findings ----

using FindingKey = std::tuple<std::string, std::string, std::string, std::string>;

std::map<FindingKey, std::vector<FindingChange>> FindingsByKey(const Json& report,
                                                               const RootfsPathNormaliser& paths) {
  std::map<FindingKey, std::vector<FindingChange>> by_key;
  for (const Json& f : ListOrEmpty(report, "findings")) {
    // Messages and evidence may name another file (a CA's key at ...): by its rootfs path too.
    FindingChange finding{
        f.value("rule", ""), f.value("severity", ""), paths.Normalise(f.value("path", "")),
        paths.NormaliseText(f.value("message", "")), paths.NormaliseText(f.value("evidence", ""))};
    FindingKey key{finding.rule, finding.path, finding.message, finding.evidence};
    by_key[key].push_back(std::move(finding));
  }
  return by_key;
}

// Findings are a multiset: the same finding twice in a file is two findings.
void DiffFindings(const Json& old_report, const RootfsPathNormaliser& old_paths,
                  const Json& new_report, const RootfsPathNormaliser& new_paths,
                  ReleaseDiff& diff) {
  auto olds = FindingsByKey(old_report, old_paths);
  auto news = FindingsByKey(new_report, new_paths);
  for (auto& [key, found] : news) {
    const std::size_t before = olds.contains(key) ? olds[key].size() : 0;
    for (std::size_t i = before; i < found.size(); ++i) diff.findings_new.push_back(found[i]);
  }
  for (auto& [key, found] : olds) {
    const std::size_t after = news.contains(key) ? news[key].size() : 0;
    for (std::size_t i = after; i < found.size(); ++i) diff.findings_resolved.push_back(found[i]);
  }
}

// ---- files ----

// Files by rootfs path. Two raw paths that normalise alike (only a hostile tree does that)
// keep the first raw path in report order under the rootfs path and the others under their
// raw paths.
std::map<std::string, FileState> FilesByPath(const Json& report,
                                             const RootfsPathNormaliser& paths) {
  std::map<std::string, FileState> by_path;
  for (const Json& f : ListOrEmpty(report, "files")) {
    FileState state{f.value("path", ""),   f.value("type", ""),
                    f.value("mode", ""),   f.value("size", std::uint64_t{0}),
                    f.value("sha256", ""), f.value("target", "")};
    const std::string path = paths.Normalise(state.raw_path);
    if (!by_path.contains(path)) {
      by_path.emplace(path, std::move(state));
    } else {
      by_path.emplace(state.raw_path, std::move(state));
    }
  }
  return by_path;
}

std::vector<std::string> ChangedFields(const FileState& a, const FileState& b) {
  std::vector<std::string> changed;
  if (a.type != b.type) changed.emplace_back("type");
  if (a.mode != b.mode) changed.emplace_back("mode");
  if (a.sha256 != b.sha256 || a.size != b.size) changed.emplace_back("content");
  if (a.target != b.target) changed.emplace_back("target");
  return changed;
}

void DiffFiles(const Json& old_report, const RootfsPathNormaliser& old_paths,
               const Json& new_report, const RootfsPathNormaliser& new_paths, ReleaseDiff& diff) {
  const auto olds = FilesByPath(old_report, old_paths);
  const auto news = FilesByPath(new_report, new_paths);
  for (const auto& [path, state] : olds) {
    const auto found = news.find(path);
    if (found == news.end()) {
      diff.files_removed.push_back({path, state, {}, {}});
      continue;
    }
    auto changed = ChangedFields(state, found->second);
    if (!changed.empty()) {
      diff.files_changed.push_back({path, state, found->second, std::move(changed)});
    }
  }
  for (const auto& [path, state] : news) {
    if (!olds.contains(path)) diff.files_added.push_back({path, {}, state, {}});
  }
}

// ---- compliance ----

std::map<std::pair<std::string, std::string>, std::string> Verdicts(const Json& compliance) {
  std::map<std::pair<std::string, std::string>, std::string> verdicts;
  const Json standards = compliance.value("standards", Json::array());
  for (const Json& standard : standards) {
    const std::string id = standard.value("id", "");
    const Json clauses = standard.value("clauses", Json::array());
    for (const Json& clause : clauses) {
      verdicts[{id, clause.value("id", "")}] = clause.value("verdict", "");
    }
  }
  return verdicts;
}

Result<void> DiffCompliance(const Json& old_compliance, const Json& new_compliance,
                            ReleaseDiff& diff) {
  for (const Json* doc : {&old_compliance, &new_compliance}) {
    if (!doc->is_object()) return Fail(ErrorCode::kMalformed, "compliance.json: not an object");
  }
  diff.compliance_compared = true;
  const auto olds = Verdicts(old_compliance);
  const auto news = Verdicts(new_compliance);
  for (const auto& [key, verdict] : olds) {
    const auto found = news.find(key);
    if (found == news.end() || found->second == verdict) continue;
    diff.verdict_changes.push_back(
        {key.first, key.second, verdict, found->second, found->second == kContradicted});
  }
  return {};
}

void SortAll(ReleaseDiff& diff) {
  auto by_component = [](const ComponentChange& a, const ComponentChange& b) {
    return std::tie(a.key, a.old_version, a.new_version) <
           std::tie(b.key, b.old_version, b.new_version);
  };
  for (auto* list : {&diff.components_added, &diff.components_removed, &diff.components_upgraded,
                     &diff.components_downgraded}) {
    std::sort(list->begin(), list->end(), by_component);
  }
  auto by_finding = [](const FindingChange& a, const FindingChange& b) {
    return std::tie(a.path, a.rule, a.message, a.evidence, a.severity) <
           std::tie(b.path, b.rule, b.message, b.evidence, b.severity);
  };
  std::sort(diff.findings_new.begin(), diff.findings_new.end(), by_finding);
  std::sort(diff.findings_resolved.begin(), diff.findings_resolved.end(), by_finding);
  // Vulnerabilities, hardening, files and verdicts come out of ordered maps already.
}

}  // namespace

Result<ReleaseDiff> DiffReports(const nlohmann::json& old_report, const nlohmann::json& new_report,
                                const nlohmann::json* old_compliance,
                                const nlohmann::json* new_compliance) {
  if (auto checked = CheckLists(old_report, "old"); !checked) return Unexpected(checked.error());
  if (auto checked = CheckLists(new_report, "new"); !checked) return Unexpected(checked.error());
  ReleaseDiff diff;
  try {
    diff.old_side = SideOf(old_report, old_compliance);
    diff.new_side = SideOf(new_report, new_compliance);
    const RootfsPathNormaliser old_paths(RawPaths(old_report));
    const RootfsPathNormaliser new_paths(RawPaths(new_report));
    DiffComponents(old_report, new_report, diff);
    DiffVulnerabilities(old_report, new_report, diff);
    DiffHardening(old_report, old_paths, new_report, new_paths, diff);
    DiffFindings(old_report, old_paths, new_report, new_paths, diff);
    DiffFiles(old_report, old_paths, new_report, new_paths, diff);
    if (old_compliance != nullptr && new_compliance != nullptr) {
      if (auto compared = DiffCompliance(*old_compliance, *new_compliance, diff); !compared) {
        return Unexpected(compared.error());
      }
    }
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kMalformed, std::string("report.json: ") + e.what());
  }
  SortAll(diff);
  return diff;
}

std::size_t CountRegressions(const ReleaseDiff& diff) {
  std::size_t count = diff.vulnerabilities_introduced.size() + diff.components_downgraded.size() +
                      diff.hardening_regressions.size();
  for (const auto& f : diff.findings_new) count += f.severity != kInfoSeverity ? 1 : 0;
  for (const auto& v : diff.verdict_changes) count += v.regression ? 1 : 0;
  return count;
}

bool HasRegression(const ReleaseDiff& diff) {
  return CountRegressions(diff) > 0;
}

bool IsEmpty(const ReleaseDiff& diff) {
  return diff.components_added.empty() && diff.components_removed.empty() &&
         diff.components_upgraded.empty() && diff.components_downgraded.empty() &&
         diff.vulnerabilities_introduced.empty() && diff.vulnerabilities_fixed.empty() &&
         diff.hardening_regressions.empty() && diff.hardening_improvements.empty() &&
         diff.findings_new.empty() && diff.findings_resolved.empty() && diff.files_added.empty() &&
         diff.files_removed.empty() && diff.files_changed.empty() && diff.verdict_changes.empty();
}

Result<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view origin) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Fail(ErrorCode::kMalformed, std::string(origin) + ": not valid JSON");
  }
  if (!doc.is_object()) {
    return Fail(ErrorCode::kMalformed, std::string(origin) + ": not a JSON object");
  }
  return doc;
}

}  // namespace clearbox::diff
