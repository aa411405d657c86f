#include "diff/diff_html.hpp"

#include <string_view>
#include <vector>

#include "html/page.hpp"

namespace clearbox::diff {
namespace {

using html::Cell;

constexpr std::string_view kBad = "bad";
constexpr std::string_view kOk = "ok";

std::string SeverityClass(std::string_view severity) {
  return severity.empty() ? "" : "sev-" + std::string(severity);
}

std::string Paragraph(std::string_view text) {
  return "<p class=\"note\">" + html::EscapeText(text) + "</p>";
}

// A table, or a note that the list is empty.
std::string TableOrNote(html::Table table, std::string_view empty_note) {
  if (table.rows.empty()) return Paragraph(empty_note);
  table.sortable = true;
  return html::RenderTable(table);
}

html::Section OverviewSection(const ReleaseDiff& d) {
  const std::vector<html::Bar> bars{
      {"components added", d.components_added.size(), "", ""},
      {"components removed", d.components_removed.size(), "", ""},
      {"components upgraded", d.components_upgraded.size(), "", std::string(kOk)},
      {"components downgraded", d.components_downgraded.size(), "", std::string(kBad)},
      {"vulnerabilities introduced", d.vulnerabilities_introduced.size(), "", std::string(kBad)},
      {"vulnerabilities fixed", d.vulnerabilities_fixed.size(), "", std::string(kOk)},
      {"hardening regressions", d.hardening_regressions.size(), "", std::string(kBad)},
      {"hardening improvements", d.hardening_improvements.size(), "", std::string(kOk)},
      {"findings new", d.findings_new.size(), "", std::string(kBad)},
      {"findings resolved", d.findings_resolved.size(), "", std::string(kOk)},
      {"files added", d.files_added.size(), "", ""},
      {"files removed", d.files_removed.size(), "", ""},
      {"files changed", d.files_changed.size(), "", ""},
      {"verdict changes", d.verdict_changes.size(), "", ""},
  };
  const std::size_t regressions = CountRegressions(d);
  std::string body = Paragraph(IsEmpty(d)         ? "No changes."
                               : regressions == 0 ? "No regressions."
                                                  : std::to_string(regressions) + " regressions.");
  body += html::BarChart("Changes by kind", bars);
  return {"overview", "Overview", body, CountRegressions(d)};
}

html::Section ComponentsSection(const ReleaseDiff& d) {
  html::Table table{"components", {"change", "component", "old version", "new version", "key"}, {}};
  auto add = [&](std::string_view change, const std::vector<ComponentChange>& list,
                 std::string_view css) {
    for (const auto& c : list) {
      table.rows.push_back({Cell::Text(change, css), Cell::Text(c.name), Cell::Text(c.old_version),
                            Cell::Text(c.new_version), Cell::Text(c.key)});
    }
  };
  add("downgraded", d.components_downgraded, kBad);
  add("upgraded", d.components_upgraded, kOk);
  add("added", d.components_added, "");
  add("removed", d.components_removed, "");
  const std::size_t count = table.rows.size();
  return {"components", "Components", TableOrNote(std::move(table), "No component changed."),
          count};
}

html::Section VulnerabilitiesSection(const ReleaseDiff& d) {
  html::Table table{
      "vulnerabilities", {"change", "id", "severity", "KEV", "component", "version"}, {}};
  auto add = [&](std::string_view change, const std::vector<VulnerabilityChange>& list,
                 std::string_view css) {
    for (const auto& v : list) {
      table.rows.push_back({Cell::Text(change, css), Cell::Text(v.id),
                            Cell::Text(v.severity, SeverityClass(v.severity)),
                            Cell::Text(v.kev ? "yes" : "no"), Cell::Text(v.component),
                            Cell::Text(v.version)});
    }
  };
  add("introduced", d.vulnerabilities_introduced, kBad);
  add("fixed", d.vulnerabilities_fixed, kOk);
  const std::size_t count = table.rows.size();
  return {"vulnerabilities", "Vulnerabilities",
          TableOrNote(std::move(table), "No vulnerability introduced or fixed."), count};
}

html::Section HardeningSection(const ReleaseDiff& d) {
  html::Table table{"hardening", {"change", "binary", "property", "old", "new"}, {}};
  auto add = [&](std::string_view change, const std::vector<HardeningChange>& list,
                 std::string_view css) {
    for (const auto& h : list) {
      table.rows.push_back({Cell::Text(change, css), Cell::Text(h.path, "mono"),
                            Cell::Text(h.property), Cell::Text(h.old_value),
                            Cell::Text(h.new_value)});
    }
  };
  add("regressed", d.hardening_regressions, kBad);
  add("improved", d.hardening_improvements, kOk);
  const std::size_t count = table.rows.size();
  return {"hardening", "Hardening per binary",
          TableOrNote(std::move(table), "No hardening property changed."), count};
}

html::Section FindingsSection(const ReleaseDiff& d) {
  html::Table table{"findings", {"change", "severity", "rule", "path", "message"}, {}};
  auto add = [&](std::string_view change, const std::vector<FindingChange>& list,
                 std::string_view css) {
    for (const auto& f : list) {
      table.rows.push_back({Cell::Text(change, css),
                            Cell::Text(f.severity, SeverityClass(f.severity)), Cell::Text(f.rule),
                            Cell::Text(f.path, "mono"), Cell::Text(f.message)});
    }
  };
  add("new", d.findings_new, kBad);
  add("resolved", d.findings_resolved, kOk);
  const std::size_t count = table.rows.size();
  return {"findings", "Findings", TableOrNote(std::move(table), "No finding new or resolved."),
          count};
}

html::Section FilesSection(const ReleaseDiff& d) {
  html::Table table{"files", {"change", "path", "type", "what changed"}, {}};
  for (const auto& f : d.files_added) {
    table.rows.push_back({Cell::Text("added"), Cell::Text(f.path, "mono"),
                          Cell::Text(f.new_state.type), Cell::Text("")});
  }
  for (const auto& f : d.files_removed) {
    table.rows.push_back({Cell::Text("removed"), Cell::Text(f.path, "mono"),
                          Cell::Text(f.old_state.type), Cell::Text("")});
  }
  for (const auto& f : d.files_changed) {
    std::string what;
    for (const auto& field : f.changed) what += (what.empty() ? "" : ", ") + field;
    table.rows.push_back({Cell::Text("changed"), Cell::Text(f.path, "mono"),
                          Cell::Text(f.new_state.type), Cell::Text(what)});
  }
  const std::size_t count = table.rows.size();
  return {"files", "Files (by path inside the root filesystem)",
          TableOrNote(std::move(table), "No file added, removed or changed."), count};
}

html::Section ComplianceSection(const ReleaseDiff& d) {
  if (!d.compliance_compared) {
    return {"compliance", "Compliance verdicts",
            Paragraph("Not compared: both sides need a compliance.json (scan --standard)."), 0};
  }
  html::Table table{"compliance", {"standard", "clause", "old verdict", "new verdict"}, {}};
  for (const auto& v : d.verdict_changes) {
    table.rows.push_back({Cell::Text(v.standard), Cell::Text(v.clause), Cell::Text(v.old_verdict),
                          Cell::Text(v.new_verdict, v.regression ? kBad : "")});
  }
  const std::size_t count = table.rows.size();
  return {"compliance", "Compliance verdicts", TableOrNote(std::move(table), "No verdict changed."),
          count};
}

std::string SideText(const ReleaseSide& side) {
  return side.image_path + " (sha256 " + side.image_sha256 + ")";
}

}  // namespace

std::string RenderDiffHtml(const ReleaseDiff& diff) {
  html::Page page;
  page.title = "clearbox diff: " + diff.old_side.image_path + " -> " + diff.new_side.image_path;
  page.subtitle = "old: " + SideText(diff.old_side) + "; new: " + SideText(diff.new_side);
  page.sections = {OverviewSection(diff),  ComponentsSection(diff), VulnerabilitiesSection(diff),
                   HardeningSection(diff), FindingsSection(diff),   FilesSection(diff),
                   ComplianceSection(diff)};
  page.footer = "clearbox diff; fields and the regression rule: docs/diff-schema.md";
  return html::RenderPage(page);
}

}  // namespace clearbox::diff
