// The terminal summary of a scan: counts, hardening totals, components, top findings.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "report/renderers.hpp"

namespace clearbox::report {
namespace {

constexpr std::size_t kMaxComponentsShown = 40;
constexpr std::size_t kMaxFindingsShown = 25;

}  // namespace

std::string RenderSummary(const Evidence& evidence) {
  std::ostringstream out;
  const auto& image = evidence.manifest.image;
  out << "image      " << image.path << "  " << image.size << " bytes  sha256 " << image.sha256
      << "\n";
  out << "unpacked   " << evidence.manifest.chunks.size() << " chunks, " << evidence.files.size()
      << " objects, " << evidence.manifest.problems.size() << " problems\n";

  std::size_t nx = 0, pie = 0, full_relro = 0, canary = 0, fortified = 0;
  for (const auto& b : evidence.binaries) {
    nx += b.facts.nx;
    pie += b.facts.pie;
    full_relro += b.facts.relro == "full";
    canary += b.facts.canary;
    fortified += b.facts.fortify.verdict == "yes" || b.facts.fortify.verdict == "partial";
  }
  out << "binaries   " << evidence.binaries.size() << " ELF: NX " << nx << ", PIE " << pie
      << ", full RELRO " << full_relro << ", canary " << canary << ", fortified " << fortified
      << (evidence.libc_path.empty() ? "" : "  (libc " + evidence.libc_path + ")") << "\n";

  out << "components " << evidence.components.size() << "\n";
  std::size_t shown = 0;
  for (const auto& c : evidence.components) {
    if (shown++ == kMaxComponentsShown) {
      out << "  ... and " << evidence.components.size() - kMaxComponentsShown << " more\n";
      break;
    }
    out << "  " << c.name << " " << (c.version.empty() ? "(version unknown)" : c.version);
    if (!c.evidence.empty()) out << "  [" << c.evidence.front().method << "]";
    out << "\n";
  }

  std::size_t kev = 0, vex_cleared = 0;
  for (const auto& v : evidence.vulnerabilities) {
    kev += v.match.kev;
    vex_cleared += v.vex_status == "not_affected" || v.vex_status == "fixed";
  }
  out << "vulnerabilities " << evidence.vulnerabilities.size() << " (" << kev
      << " known exploited, " << vex_cleared << " not affected or fixed per VEX)"
      << (evidence.vuln_database.empty() ? "" : "  [" + evidence.vuln_database + "]") << "\n";
  std::vector<const VulnerabilityRecord*> worst;
  for (const auto& v : evidence.vulnerabilities) worst.push_back(&v);
  std::stable_sort(worst.begin(), worst.end(), [](const auto* a, const auto* b) {
    return a->match.cvss_score > b->match.cvss_score;
  });
  for (std::size_t i = 0; i < worst.size() && i < kMaxFindingsShown; ++i) {
    const auto& c = evidence.components[worst[i]->component];
    char score[16];
    std::snprintf(score, sizeof score, "%.1f", worst[i]->match.cvss_score);
    out << "  " << worst[i]->match.id << "  " << score << (worst[i]->match.kev ? " KEV" : "")
        << "  " << c.name << " " << c.version
        << (worst[i]->vex_status.empty() ? "" : "  (VEX " + worst[i]->vex_status + ")") << "\n";
  }
  if (worst.size() > kMaxFindingsShown) {
    out << "  ... and " << worst.size() - kMaxFindingsShown << " more in report.json\n";
  }

  std::map<Severity, std::size_t> by_severity;
  for (const auto& f : evidence.findings) ++by_severity[f.severity];
  out << "findings   " << evidence.findings.size();
  for (const Severity s : kSeveritiesWorstFirst) {
    if (by_severity.count(s)) out << "  " << ToString(s) << " " << by_severity[s];
  }
  out << "\n";
  std::vector<const inspect::Finding*> ordered;
  for (const auto& f : evidence.findings) ordered.push_back(&f);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return a->severity > b->severity;  // worst first
  });
  for (std::size_t i = 0; i < ordered.size() && i < kMaxFindingsShown; ++i) {
    out << "  " << ToString(ordered[i]->severity) << "  " << ordered[i]->rule << "  "
        << ordered[i]->path << "  " << ordered[i]->message << "\n";
  }
  if (ordered.size() > kMaxFindingsShown) {
    out << "  ... and " << ordered.size() - kMaxFindingsShown << " more in report.json\n";
  }
  return out.str();
}

}  // namespace clearbox::report
