#include <algorithm>
#include <set>
#include <tuple>

#include "report/evidence.hpp"

namespace clearbox::report {

void Canonicalize(Evidence& evidence) {
  unpack::Canonicalize(evidence.manifest);
  CanonicalizeProblems(evidence.analysis_problems);
  std::stable_sort(evidence.files.begin(), evidence.files.end(),
                   [](const FileRecord& a, const FileRecord& b) { return a.path < b.path; });
  std::stable_sort(evidence.binaries.begin(), evidence.binaries.end(),
                   [](const BinaryRecord& a, const BinaryRecord& b) { return a.path < b.path; });
  std::stable_sort(evidence.components.begin(), evidence.components.end(),
                   [](const identify::Component& a, const identify::Component& b) {
                     return std::tie(a.name, a.version, a.purl) <
                            std::tie(b.name, b.version, b.purl);
                   });
  std::stable_sort(evidence.findings.begin(), evidence.findings.end(),
                   [](const inspect::Finding& a, const inspect::Finding& b) {
                     return std::tie(a.path, a.rule, a.offset, a.evidence, a.message) <
                            std::tie(b.path, b.rule, b.offset, b.evidence, b.message);
                   });
  std::stable_sort(evidence.vulnerabilities.begin(), evidence.vulnerabilities.end(),
                   [](const VulnerabilityRecord& a, const VulnerabilityRecord& b) {
                     return std::tie(a.component, a.match.id) < std::tie(b.component, b.match.id);
                   });
}

std::vector<std::string> ComponentRefs(const Evidence& evidence) {
  std::vector<std::string> refs;
  std::set<std::string> used{"image"};
  for (const auto& c : evidence.components) {
    const std::string base = !c.purl.empty() ? c.purl : "component:" + c.name + "@" + c.version;
    std::string ref = base;
    for (int n = 2; used.count(ref); ++n) ref = base + "#" + std::to_string(n);
    used.insert(ref);
    refs.push_back(std::move(ref));
  }
  return refs;
}

}  // namespace clearbox::report
