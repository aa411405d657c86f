#include <algorithm>
#include <tuple>

#include "report/evidence.hpp"

namespace clearbox::report {

void Canonicalize(Evidence& evidence) {
  unpack::Canonicalize(evidence.manifest);
  std::sort(evidence.files.begin(), evidence.files.end(),
            [](const FileRecord& a, const FileRecord& b) { return a.path < b.path; });
  std::sort(evidence.binaries.begin(), evidence.binaries.end(),
            [](const BinaryRecord& a, const BinaryRecord& b) { return a.path < b.path; });
  std::sort(evidence.components.begin(), evidence.components.end(),
            [](const identify::Component& a, const identify::Component& b) {
              return std::tie(a.name, a.version, a.purl) < std::tie(b.name, b.version, b.purl);
            });
  std::sort(evidence.findings.begin(), evidence.findings.end(),
            [](const inspect::Finding& a, const inspect::Finding& b) {
              return std::tie(a.path, a.rule, a.offset, a.evidence, a.message) <
                     std::tie(b.path, b.rule, b.offset, b.evidence, b.message);
            });
}

}  // namespace clearbox::report
