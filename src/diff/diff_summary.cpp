// The terminal summary of a ReleaseDiff (RenderDiffSummary, declared in diff_json.hpp).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/hex.hpp"
#include "diff/diff_json.hpp"

namespace clearbox::diff {
namespace {

// Entries shown per list; the rest are counted.
constexpr std::size_t kShownPerList = 5;

// Text from the image, made harmless for a terminal: control bytes become \xNN.
std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<std::uint8_t>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      AppendHexByte(out, byte);
    } else {
      out += c;
    }
  }
  return out;
}

template <class T>
void AppendList(std::string& out, const std::vector<T>& list,
                const std::function<std::string(const T&)>& line) {
  for (std::size_t i = 0; i < list.size() && i < kShownPerList; ++i) {
    out += "  " + TerminalSafe(line(list[i])) + "\n";
  }
  if (list.size() > kShownPerList) {
    out += "  ... and " + std::to_string(list.size() - kShownPerList) + " more\n";
  }
}

std::string Side(const ReleaseSide& side) {
  return side.image_path + " (sha256 " + side.image_sha256.substr(0, 12) + ")";
}

std::string Count(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what;
}

void AppendComponents(std::string& out, const ReleaseDiff& d) {
  out += "components: " + Count(d.components_added.size(), "added") + ", " +
         Count(d.components_removed.size(), "removed") + ", " +
         Count(d.components_upgraded.size(), "upgraded") + ", " +
         Count(d.components_downgraded.size(), "downgraded") + "\n";
  std::function<std::string(const ComponentChange&)> versions = [](const ComponentChange& c) {
    return c.name + " " + c.old_version + " -> " + c.new_version;
  };
  AppendList<ComponentChange>(out, d.components_downgraded, [&](const ComponentChange& c) {
    return "downgraded " + versions(c);
  });
  AppendList<ComponentChange>(out, d.components_upgraded,
                              [&](const ComponentChange& c) { return "upgraded " + versions(c); });
  AppendList<ComponentChange>(out, d.components_added, [](const ComponentChange& c) {
    return "added " + c.name + " " + c.new_version;
  });
  AppendList<ComponentChange>(out, d.components_removed, [](const ComponentChange& c) {
    return "removed " + c.name + " " + c.old_version;
  });
}

void AppendVulnerabilities(std::string& out, const ReleaseDiff& d) {
  out += "vulnerabilities: " + Count(d.vulnerabilities_introduced.size(), "introduced") + ", " +
         Count(d.vulnerabilities_fixed.size(), "fixed") + "\n";
  auto line = [](const char* verb) {
    return [verb](const VulnerabilityChange& v) {
      return std::string(verb) + " " + v.id + " (" + (v.severity.empty() ? "?" : v.severity) +
             (v.kev ? ", known exploited" : "") + ") in " + v.component + " " + v.version;
    };
  };
  AppendList<VulnerabilityChange>(out, d.vulnerabilities_introduced, line("introduced"));
  AppendList<VulnerabilityChange>(out, d.vulnerabilities_fixed, line("fixed"));
}

void AppendHardening(std::string& out, const ReleaseDiff& d) {
  out += "hardening: " + Count(d.hardening_regressions.size(), "regressions") + ", " +
         Count(d.hardening_improvements.size(), "improvements") + "\n";
  auto line = [](const char* verb) {
    return [verb](const HardeningChange& h) {
      return std::string(verb) + " " + h.path + ": " + h.property + " " + h.old_value + " -> " +
             h.new_value;
    };
  };
  AppendList<HardeningChange>(out, d.hardening_regressions, line("regressed"));
  AppendList<HardeningChange>(out, d.hardening_improvements, line("improved"));
}

void AppendFindings(std::string& out, const ReleaseDiff& d) {
  out += "findings: " + Count(d.findings_new.size(), "new") + ", " +
         Count(d.findings_resolved.size(), "resolved") + "\n";
  auto line = [](const char* verb) {
    return [verb](const FindingChange& f) {
      return std::string(verb) + " " + f.severity + " " + f.rule + " " + f.path;
    };
  };
  AppendList<FindingChange>(out, d.findings_new, line("new"));
  AppendList<FindingChange>(out, d.findings_resolved, line("resolved"));
}

void AppendFiles(std::string& out, const ReleaseDiff& d) {
  out += "files: " + Count(d.files_added.size(), "added") + ", " +
         Count(d.files_removed.size(), "removed") + ", " +
         Count(d.files_changed.size(), "changed") + "\n";
  auto line = [](const char* verb) {
    return [verb](const FileChange& f) { return std::string(verb) + " " + f.path; };
  };
  AppendList<FileChange>(out, d.files_added, line("added"));
  AppendList<FileChange>(out, d.files_removed, line("removed"));
  AppendList<FileChange>(out, d.files_changed, [](const FileChange& f) {
    std::string what;
    for (const auto& field : f.changed) what += (what.empty() ? "" : ", ") + field;
    return "changed " + f.path + " (" + what + ")";
  });
}

void AppendCompliance(std::string& out, const ReleaseDiff& d) {
  if (!d.compliance_compared) {
    out += "compliance: not compared (needs compliance.json on both sides)\n";
    return;
  }
  out += "compliance: " + Count(d.verdict_changes.size(), "verdict changes") + "\n";
  AppendList<VerdictChange>(out, d.verdict_changes, [](const VerdictChange& v) {
    return v.standard + " " + v.clause + ": " + v.old_verdict + " -> " + v.new_verdict;
  });
}

}  // namespace

std::string RenderDiffSummary(const ReleaseDiff& diff) {
  std::string out = "diff: " + TerminalSafe(Side(diff.old_side)) + " -> " +
                    TerminalSafe(Side(diff.new_side)) + "\n";
  if (IsEmpty(diff)) return out + "no changes\n";
  AppendComponents(out, diff);
  AppendVulnerabilities(out, diff);
  AppendHardening(out, diff);
  AppendFindings(out, diff);
  AppendFiles(out, diff);
  AppendCompliance(out, diff);
  const std::size_t regressions = CountRegressions(diff);
  out += regressions == 0 ? std::string("regressions: none\n")
                          : "regressions: " + std::to_string(regressions) + "\n";
  return out;
}

}  // namespace clearbox::diff
