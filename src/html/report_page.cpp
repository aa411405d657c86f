#include "html/report_page.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/hashing.hpp"
#include "core/read_file.hpp"
#include "html/page.hpp"

namespace clearbox::html {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// report.json of a large image lists every file; the cap bounds memory like `assess` does.
constexpr std::uint64_t kMaxInputBytes = std::uint64_t{1} << 30;
constexpr std::size_t kWorstItems = 5;
constexpr std::array<std::string_view, 5> kSeverities = {"critical", "high", "medium", "low",
                                                         "info"};

// --- Non-throwing reads of untrusted JSON: a missing field or a wrong type is an empty value.

const Json& Null() {
  static const Json kNull;
  return kNull;
}

const Json& Get(const Json& object, const char* key) {
  if (!object.is_object()) return Null();
  const auto it = object.find(key);
  return it == object.end() ? Null() : *it;
}

const Json& Items(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& value = Get(object, key);
  return value.is_array() ? value : kEmpty;
}

std::string FormatDouble(double value, int decimals) {
  if (!std::isfinite(value)) return "";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string Str(const Json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>();
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_float()) return FormatDouble(value.get<double>(), 2);
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return "";
}

std::string Str(const Json& object, const char* key) {
  return Str(Get(object, key));
}

std::uint64_t Count(const Json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer())
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, value.get<std::int64_t>()));
  return 0;
}

std::uint64_t Count(const Json& object, const char* key) {
  return Count(Get(object, key));
}

double Number(const Json& object, const char* key) {
  const Json& value = Get(object, key);
  if (!value.is_number()) return 0;
  const double number = value.get<double>();
  return std::isfinite(number) ? number : 0;
}

bool Flag(const Json& object, const char* key) {
  const Json& value = Get(object, key);
  return value.is_boolean() && value.get<bool>();
}

std::string Join(const Json& array, std::string_view separator) {
  std::string out;
  if (!array.is_array()) return out;
  for (const Json& item : array) {
    if (!out.empty()) out += separator;
    out += Str(item);
  }
  return out;
}

// --- Small markup pieces.

std::string Code(std::string_view text) {
  return "<code>" + EscapeText(text) + "</code>";
}

std::string Paragraph(std::string_view text) {
  return "<p>" + EscapeText(text) + "</p>\n";
}

std::string Note(std::string_view text) {
  return "<p class=\"note\">" + EscapeText(text) + "</p>\n";
}

int SeverityRank(std::string_view severity) {
  for (std::size_t i = 0; i < kSeverities.size(); ++i) {
    if (kSeverities[i] == severity) return static_cast<int>(i);
  }
  return static_cast<int>(kSeverities.size());
}

Cell SeverityCell(std::string_view severity) {
  const std::string name = severity.empty() ? "unknown" : std::string(severity);
  const bool known = SeverityRank(severity) < static_cast<int>(kSeverities.size());
  return Cell::Markup("<span class=\"badge" + (known ? " sev-" + name : std::string()) + "\">" +
                          EscapeText(name) + "</span>",
                      std::to_string(SeverityRank(severity)));
}

Cell YesNo(bool yes, bool yes_is_good = true) {
  return Cell::Text(yes ? "yes" : "no", yes == yes_is_good ? "ok" : "bad");
}

// "N more not listed" after a capped table.
std::string Capped(std::size_t total, std::size_t shown, std::string_view what) {
  if (total <= shown) return {};
  return Note(std::to_string(total - shown) + " more " + std::string(what) +
              " not listed here (the page lists " + std::to_string(shown) +
              "); report.json has them all.");
}

std::string Percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "0 / 0";
  return std::to_string(part) + " / " + std::to_string(whole) + " (" +
         std::to_string((part * 100 + whole / 2) / whole) + "%)";
}

// The first version that is no longer affected, from a range such as "[2.36, 2.39)"; the last
// affected one as "after X" for "(*, X]"; "" when the range does not say.
std::string FixedIn(std::string_view matched) {
  if (matched.empty()) return "";
  const char close = matched.back();
  if (close != ')' && close != ']') return "";
  const auto comma = matched.rfind(", ");
  if (comma == std::string_view::npos) return "";
  const std::string_view bound = matched.substr(comma + 2, matched.size() - comma - 3);
  if (bound.empty() || bound == "*" || bound.find(' ') != std::string_view::npos) return "";
  return close == ')' ? std::string(bound) : "after " + std::string(bound);
}

// --- Sections.

struct Context {
  const Json& report;
  const Json* compliance;
  const ReportPageOptions& options;
};

std::string SummaryCards(const Json& summary, const Json& report) {
  struct Item {
    const char* key;
    const char* label;
    std::uint64_t value;
  };
  const std::vector<Item> items = {
      {"files", "files", Count(summary, "files")},
      {"binaries", "ELF binaries", Count(summary, "binaries")},
      {"components", "components", Count(summary, "components")},
      {"vulnerabilities", "vulnerabilities", Count(summary, "vulnerabilities")},
      {"known_exploited", "known exploited (KEV)", Count(summary, "known_exploited")},
      {"findings", "findings", Count(summary, "findings")},
      {"problems", "unpack problems", Count(summary, "problems")},
      {"analysis_problems", "analysis problems", Count(summary, "analysis_problems")},
  };
  std::string out = "<div class=\"cards\">";
  for (const auto& item : items) {
    out += "<div class=\"card\" data-key=\"" + std::string(item.key) + "\"><span class=\"n\">" +
           std::to_string(item.value) + "</span><span class=\"l\">" + EscapeText(item.label) +
           "</span></div>";
  }
  out += "</div>\n";
  (void)report;
  return out;
}

std::string SeverityCharts(const Json& report) {
  const Json& by_severity = Get(Get(report, "summary"), "findings_by_severity");
  std::vector<Bar> findings;
  for (const auto severity : kSeverities) {
    const std::string name(severity);
    findings.push_back({name, Count(by_severity, name.c_str()), "", "sev-" + name});
  }
  std::array<std::uint64_t, kSeverities.size() + 1> vulns{};
  for (const Json& v : Items(report, "vulnerabilities")) {
    ++vulns[static_cast<std::size_t>(SeverityRank(Str(Get(v, "cvss"), "severity")))];
  }
  std::vector<Bar> vuln_bars;
  for (std::size_t i = 0; i < kSeverities.size(); ++i) {
    const std::string name(kSeverities[i]);
    vuln_bars.push_back({name, vulns[i], "", "sev-" + name});
  }
  vuln_bars.push_back({"no rating", vulns[kSeverities.size()], "", "sev-info"});
  return "<div class=\"charts\"><figure><figcaption>Findings by severity</figcaption>" +
         BarChart("Findings by severity", findings) +
         "</figure><figure><figcaption>Vulnerabilities by CVSS rating</figcaption>" +
         BarChart("Vulnerabilities by CVSS rating", vuln_bars) + "</figure></div>\n";
}

std::string WorstFindings(const Json& report) {
  std::vector<const Json*> findings;
  for (const Json& f : Items(report, "findings")) findings.push_back(&f);
  std::stable_sort(findings.begin(), findings.end(), [](const Json* a, const Json* b) {
    return SeverityRank(Str(*a, "severity")) < SeverityRank(Str(*b, "severity"));
  });
  if (findings.size() > kWorstItems) findings.resize(kWorstItems);
  Table table{"worst-findings", {"severity", "rule", "path", "message"}, {}, false};
  for (const Json* f : findings) {
    table.rows.push_back({SeverityCell(Str(*f, "severity")), Cell::Markup(Code(Str(*f, "rule"))),
                          Cell::Markup(Code(Str(*f, "path"))), Cell::Text(Str(*f, "message"))});
  }
  return "<h3>Worst findings</h3>\n" +
         (findings.empty() ? Paragraph("No findings.") : RenderTable(table));
}

// KEV first, then the CVSS score, then the id: the order a person would triage in.
std::vector<const Json*> VulnerabilitiesWorstFirst(const Json& report) {
  std::vector<const Json*> vulns;
  for (const Json& v : Items(report, "vulnerabilities")) vulns.push_back(&v);
  std::stable_sort(vulns.begin(), vulns.end(), [](const Json* a, const Json* b) {
    const bool kev_a = Flag(*a, "kev"), kev_b = Flag(*b, "kev");
    if (kev_a != kev_b) return kev_a;
    const double score_a = Number(Get(*a, "cvss"), "score");
    const double score_b = Number(Get(*b, "cvss"), "score");
    if (score_a != score_b) return score_a > score_b;
    return Str(*a, "id") < Str(*b, "id");
  });
  return vulns;
}

std::string VexStatus(const Json& v) {
  return Str(Get(v, "vex"), "status");
}

std::string ComponentName(const Json& v) {
  const Json& component = Get(v, "component");
  const std::string version = Str(component, "version");
  return Str(component, "name") + (version.empty() ? "" : " " + version);
}

std::string WorstVulnerabilities(const Json& report) {
  auto vulns = VulnerabilitiesWorstFirst(report);
  if (vulns.size() > kWorstItems) vulns.resize(kWorstItems);
  Table table{"worst-vulnerabilities", {"id", "component", "CVSS", "KEV", "VEX"}, {}, false};
  for (const Json* v : vulns) {
    const Json& cvss = Get(*v, "cvss");
    table.rows.push_back(
        {Cell::Markup(Code(Str(*v, "id"))), Cell::Text(ComponentName(*v)),
         Cell::Text(FormatDouble(Number(cvss, "score"), 1) + " " + Str(cvss, "severity")),
         Cell::Text(Flag(*v, "kev") ? "yes" : "no", Flag(*v, "kev") ? "bad" : ""),
         Cell::Text(VexStatus(*v))});
  }
  return "<h3>Worst vulnerabilities</h3>\n" +
         (vulns.empty() ? Paragraph("No known vulnerabilities matched.") : RenderTable(table));
}

std::string ComplianceSummary(const Json& compliance) {
  static constexpr std::array<const char*, 5> kVerdicts = {
      "CONTRADICTED", "PARTIALLY_SUPPORTED", "SUPPORTED", "NOT_DETERMINABLE", "NOT_APPLICABLE"};
  Table table{"compliance-summary", {"standard", "title"}, {}, false};
  for (const char* verdict : kVerdicts) table.columns.emplace_back(verdict);
  for (const Json& standard : Items(compliance, "standards")) {
    std::vector<Cell> row{Cell::Markup(Code(Str(standard, "id"))),
                          Cell::Text(Str(standard, "title") + " " + Str(standard, "version"))};
    for (const char* verdict : kVerdicts) {
      const std::uint64_t n = Count(Get(standard, "counts"), verdict);
      Cell cell = Cell::Number(static_cast<std::int64_t>(n));
      if (std::string_view(verdict) == "CONTRADICTED" && n > 0) cell.css_class += " bad";
      row.push_back(std::move(cell));
    }
    table.rows.push_back(std::move(row));
  }
  return "<h3>Compliance per standard</h3>\n" + RenderTable(table) +
         Note(
             "Clause verdicts from compliance.json (docs/compliance.md); the contradicted "
             "clauses are listed under Compliance.");
}

Section VerdictSection(const Context& context) {
  const Json& report = context.report;
  std::string body = SummaryCards(Get(report, "summary"), report) + SeverityCharts(report) +
                     WorstFindings(report) + WorstVulnerabilities(report);
  if (context.compliance != nullptr) body += ComplianceSummary(*context.compliance);
  return {"verdict", "Verdict at a glance", std::move(body), std::nullopt};
}

Section VulnerabilitiesSection(const Context& context) {
  const auto vulns = VulnerabilitiesWorstFirst(context.report);
  Table table{"vulnerability-table",
              {"id", "component", "CVSS", "rating", "KEV", "EPSS", "VEX status", "fixed in",
               "matched", "description"},
              {},
              true};
  for (const Json* v : vulns) {
    if (table.rows.size() >= context.options.max_rows) break;
    const Json& cvss = Get(*v, "cvss");
    const double epss = Number(*v, "epss");
    const std::string vex = VexStatus(*v);
    const std::string justification = Str(Get(*v, "vex"), "justification");
    table.rows.push_back(
        {Cell::Markup(Code(Str(*v, "id")), "", "nowrap"), Cell::Text(ComponentName(*v)),
         Cell::Markup("<span title=\"" + EscapeAttribute(Str(cvss, "vector")) + "\">" +
                          EscapeText(FormatDouble(Number(cvss, "score"), 1)) + "</span>",
                      FormatDouble(Number(cvss, "score"), 1), "num"),
         SeverityCell(Str(cvss, "severity")), YesNo(Flag(*v, "kev"), false),
         Cell::Markup(EscapeText(FormatDouble(epss * 100, 2) + "%"), FormatDouble(epss, 5), "num"),
         Cell::Text(vex.empty() ? ""
                                : vex + (justification.empty() ? "" : " (" + justification + ")")),
         Cell::Text(FixedIn(Str(*v, "matched"))), Cell::Text(Str(*v, "matched")),
         Cell::Text(Str(*v, "description"))});
  }
  std::string body = Paragraph(
      "Known vulnerabilities of the identified components, known-exploited (CISA KEV) "
      "first, then by CVSS score. \"fixed in\" is read from the matched range.");
  body += vulns.empty() ? Paragraph("No known vulnerabilities matched.") : RenderTable(table);
  body += Capped(vulns.size(), table.rows.size(), "vulnerabilities");
  const std::string database = Str(context.report, "vulnerability_database");
  if (!database.empty()) body += Note("Vulnerability data: " + database + ".");
  return {"vulnerabilities", "Vulnerabilities", std::move(body), vulns.size()};
}

Section ComponentsSection(const Context& context) {
  const Json& components = Items(context.report, "components");
  Table table{"component-table",
              {"name", "version", "identifier", "confidence", "evidence", "files"},
              {},
              true};
  for (const Json& c : components) {
    if (table.rows.size() >= context.options.max_rows) break;
    std::string evidence;
    for (const Json& e : Items(c, "evidence")) {
      evidence += "<div>" + EscapeText(Str(e, "method")) + ": " + Code(Str(e, "path"));
      if (const std::string detail = Str(e, "detail"); !detail.empty())
        evidence += " — " + EscapeText(detail);
      evidence += "</div>";
    }
    const std::string purl = Str(c, "purl");
    table.rows.push_back({Cell::Text(Str(c, "name")), Cell::Text(Str(c, "version")),
                          Cell::Markup(Code(purl.empty() ? Str(c, "cpe") : purl)),
                          Cell::Text(FormatDouble(Number(c, "confidence"), 2), "num"),
                          Cell::Markup(std::move(evidence)),
                          Cell::Number(static_cast<std::int64_t>(Items(c, "files").size()))});
  }
  std::string body =
      components.empty() ? Paragraph("No components identified.") : RenderTable(table);
  body += Capped(components.size(), table.rows.size(), "components");
  return {"components", "Components", std::move(body), components.size()};
}

bool Judged(const Json& binary) {
  const std::string type = Str(binary, "type");
  return type == "exec" || type == "pie" || type == "shared";
}

std::string HardeningChart(const Json& binaries) {
  std::uint64_t judged = 0, executables = 0, nx = 0, pie = 0, relro = 0, canary = 0;
  std::uint64_t fortifiable = 0, fortified = 0;
  for (const Json& b : binaries) {
    if (!Judged(b)) continue;
    ++judged;
    nx += Flag(b, "nx");
    relro += Str(b, "relro") == "full";
    canary += Flag(b, "canary");
    if (Str(b, "type") != "shared") {
      ++executables;
      pie += Flag(b, "pie");
    }
    const std::string fortify = Str(Get(b, "fortify"), "verdict");
    if (fortify != "n/a" && !fortify.empty()) {
      ++fortifiable;
      fortified += fortify == "yes";
    }
  }
  const auto bar = [](const char* label, std::uint64_t part, std::uint64_t whole) {
    return Bar{label, whole == 0 ? 0 : part * 1000 / whole, Percent(part, whole),
               part == whole ? "ok" : "bad"};
  };
  return "<figure><figcaption>Hardening coverage of executables and shared libraries"
         "</figcaption>" +
         BarChart("Hardening coverage",
                  {bar("NX", nx, judged), bar("PIE (executables)", pie, executables),
                   bar("full RELRO", relro, judged), bar("stack canary", canary, judged),
                   bar("FORTIFY (all)", fortified, fortifiable)},
                  1000) +
         "</figure>\n";
}

Section HardeningSection(const Context& context) {
  const Json& binaries = Items(context.report, "binaries");
  Table table{"hardening-table",
              {"path", "arch", "type", "NX", "PIE", "RELRO", "canary", "FORTIFY", "stripped",
               "RPATH/RUNPATH"},
              {},
              true};
  for (const Json& b : binaries) {
    if (table.rows.size() >= context.options.max_rows) break;
    const Json& fortify = Get(b, "fortify");
    const std::string relro = Str(b, "relro");
    const std::string verdict = Str(fortify, "verdict");
    const std::string paths =
        Join(Get(b, "rpath"), ":") +
        (Items(b, "runpath").empty() ? "" : " " + Join(Get(b, "runpath"), ":"));
    table.rows.push_back(
        {Cell::Markup(Code(Str(b, "path")), Str(b, "path")),
         Cell::Text(Str(b, "arch") + " " + Str(b, "bits") + " " + Str(b, "endian")),
         Cell::Text(Str(b, "type")), YesNo(Flag(b, "nx")), YesNo(Flag(b, "pie")),
         Cell::Text(relro, relro == "full" ? "ok" : "bad"), YesNo(Flag(b, "canary")),
         Cell::Text(
             verdict + " (" + Str(fortify, "fortified") + "/" + Str(fortify, "fortifiable") + ")",
             verdict == "no"    ? "bad"
             : verdict == "yes" ? "ok"
                                : ""),
         Cell::Text(Flag(b, "stripped") ? "yes" : "no"),
         Cell::Text(paths, paths.empty() ? "" : "bad")});
  }
  std::string body = HardeningChart(binaries);
  body += binaries.empty() ? Paragraph("No ELF binaries.") : RenderTable(table);
  body += Capped(binaries.size(), table.rows.size(), "binaries");
  body += Note(
      "Coverage counts executables and shared libraries; click a column heading to sort "
      "(with JavaScript on).");
  return {"hardening", "Hardening of every binary", std::move(body), binaries.size()};
}

Section FindingsSection(const Context& context) {
  const Json& findings = Items(context.report, "findings");
  Table table{
      "finding-table", {"severity", "rule", "path", "offset", "message", "evidence"}, {}, true};
  for (const Json& f : findings) {
    if (table.rows.size() >= context.options.max_rows) break;
    table.rows.push_back({SeverityCell(Str(f, "severity")), Cell::Markup(Code(Str(f, "rule"))),
                          Cell::Markup(Code(Str(f, "path")), Str(f, "path")),
                          Cell::Number(static_cast<std::int64_t>(Count(f, "offset"))),
                          Cell::Text(Str(f, "message")), Cell::Markup(Code(Str(f, "evidence")))});
  }
  std::string body = findings.empty() ? Paragraph("No findings.") : RenderTable(table);
  body += Capped(findings.size(), table.rows.size(), "findings");
  return {"findings", "Findings", std::move(body), findings.size()};
}

// A chunk's header metadata as "key=value; ..." (keys in the report's order), "" if none.
std::string MetadataText(const Json& metadata) {
  std::string text;
  if (!metadata.is_object()) return text;
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) continue;
    if (!text.empty()) text += "; ";
    text += key + "=" + value.get<std::string>();
  }
  return text;
}

std::string ChunksTable(const Json& chunks, std::size_t max_rows) {
  Table table{"chunk-table",
              {"container", "offset", "length", "format", "extracted to", "complete", "header"},
              {},
              false};
  for (const Json& c : chunks) {
    if (table.rows.size() >= max_rows) break;
    const std::string container = Str(c, "container");
    table.rows.push_back({Cell::Markup(Code(container.empty() ? "(the image)" : container)),
                          Cell::Number(static_cast<std::int64_t>(Count(c, "offset"))),
                          Cell::Text(Str(c, "length"), "num"), Cell::Text(Str(c, "format")),
                          Cell::Markup(Code(Str(c, "extracted_to"))), YesNo(Flag(c, "complete")),
                          Cell::Text(MetadataText(Get(c, "metadata")))});
  }
  return "<h3>Chunks</h3>\n" + RenderTable(table) +
         Capped(chunks.size(), table.rows.size(), "chunks");
}

std::string ProblemsTables(const Json& report, std::size_t max_rows) {
  const Json& problems = Items(Get(report, "unpack"), "problems");
  Table unpack{"unpack-problem-table", {"kind", "path", "offset", "handler", "message"}, {}, false};
  for (const Json& p : problems) {
    if (unpack.rows.size() >= max_rows) break;
    unpack.rows.push_back({Cell::Text(Str(p, "kind"), "bad"), Cell::Markup(Code(Str(p, "path"))),
                           Cell::Text(Str(p, "offset"), "num"), Cell::Text(Str(p, "handler")),
                           Cell::Text(Str(p, "message"))});
  }
  const Json& analysis = Items(report, "analysis_problems");
  Table analysis_table{
      "analysis-problem-table", {"path", "analyser", "kind", "message"}, {}, false};
  for (const Json& p : analysis) {
    if (analysis_table.rows.size() >= max_rows) break;
    analysis_table.rows.push_back({Cell::Markup(Code(Str(p, "path"))),
                                   Cell::Text(Str(p, "analyser")), Cell::Text(Str(p, "kind")),
                                   Cell::Text(Str(p, "message"))});
  }
  std::string out = "<h3 id=\"unpack-problems\" data-count=\"" + std::to_string(problems.size()) +
                    "\">Unpack problems (" + std::to_string(problems.size()) + ")</h3>\n";
  out += problems.empty()
             ? Paragraph("None: every chunk was unpacked within its limits.")
             : RenderTable(unpack) + Capped(problems.size(), unpack.rows.size(), "problems");
  out += "<h3 id=\"analysis-problems\" data-count=\"" + std::to_string(analysis.size()) +
         "\">Analysis problems (" + std::to_string(analysis.size()) + ")</h3>\n";
  out += analysis.empty() ? Paragraph("None.")
                          : RenderTable(analysis_table) +
                                Capped(analysis.size(), analysis_table.rows.size(), "problems");
  return out;
}

// A file's path, and a symlink's target, as plain monospace text: the file table is the
// largest part of a big image's page, so its cells carry no inner elements.
std::string FileText(const Json& f) {
  std::string text = Str(f, "path");
  if (const std::string target = Str(f, "target"); !target.empty()) text += " → " + target;
  return text;
}

Section UnpackSection(const Context& context) {
  const Json& report = context.report;
  const Json& files = Items(report, "files");
  const std::size_t max_rows = context.options.max_rows;
  Table table{"file-table", {"path", "type", "mode", "size", "sha256"}, {}, true};
  for (const Json& f : files) {
    if (table.rows.size() >= max_rows) break;
    const std::string size = Str(f, "size");
    table.rows.push_back({Cell::Text(FileText(f), "mono"), Cell::Text(Str(f, "type")),
                          Cell::Text(Str(f, "mode"), "mono"),
                          Cell::Markup(EscapeText(size), size, "num"),
                          Cell::Text(Str(f, "sha256"), "mono")});
  }
  std::string body = Paragraph(
      "What the unpacker found in the image, chunk by chunk, and every "
      "file of the extracted tree (paths relative to OUT/unpacked/).");
  body += ChunksTable(Items(Get(report, "unpack"), "chunks"), max_rows);
  body += ProblemsTables(report, max_rows);
  body +=
      "<h3>Files</h3>\n" + RenderTable(table) + Capped(files.size(), table.rows.size(), "files");
  return {"unpack", "Unpack tree", std::move(body), files.size()};
}

Section ComplianceSection(const Json& compliance) {
  std::string body = Paragraph(
      "Clauses the image contradicts, per standard, with the evidence (JSON pointers into "
      "report.json). Other verdicts and their rationale are in compliance.json.");
  std::uint64_t contradicted = 0;
  for (const Json& standard : Items(compliance, "standards")) {
    Table table{"", {"clause", "title", "rationale", "evidence"}, {}, false};
    for (const Json& clause : Items(standard, "clauses")) {
      if (Str(clause, "verdict") != "CONTRADICTED") continue;
      table.rows.push_back({Cell::Markup(Code(Str(clause, "id"))), Cell::Text(Str(clause, "title")),
                            Cell::Text(Str(clause, "rationale")),
                            Cell::Markup(Code(Join(Get(clause, "evidence"), " ")))});
    }
    contradicted += table.rows.size();
    body +=
        "<h3>" + EscapeText(Str(standard, "title")) + " (" + Code(Str(standard, "id")) + ")</h3>\n";
    body += table.rows.empty() ? Paragraph("No clause contradicted.") : RenderTable(table);
  }
  return {"compliance", "Compliance", std::move(body), contradicted};
}

Section AttestationSection(const Context& context) {
  const Json& image = Get(context.report, "image");
  const std::string& name = context.options.report_name;
  std::string body = Paragraph(
      "This page is rendered from report.json; an attestation signs report.json, not the page. "
      "To publish and check the verdict:");
  body += "<pre>clearbox attest " + EscapeText(name) +
          " --key LAB.skey -o report.dsse.json\n"
          "clearbox log append LOGDIR report.dsse.json      # prints the entry's index\n"
          "clearbox log proof LOGDIR --index N -o report.proof\n"
          "clearbox verify report.dsse.json --proof report.proof --log-key LOG.vkey "
          "--attester-key LAB.vkey</pre>\n";
  body += "<p>The statement's subject is the image ";
  body += Code(Str(image, "path")) + " with sha256 " + Code(Str(image, "sha256")) +
          "; its predicate holds the sha256 of report.json";
  if (!context.options.report_sha256.empty()) {
    body += ", which for this report is " + Code(context.options.report_sha256) +
            " (check it with <code>sha256sum " + EscapeText(name) + "</code>)";
  }
  body += ".</p>\n";
  if (context.compliance != nullptr) {
    body += Paragraph(
        "compliance.json is attested the same way (clearbox attest compliance.json "
        "--key LAB.skey); its predicate binds the verdict counts and the file's "
        "sha256.");
  }
  return {"attestation", "Verifying this report", std::move(body), std::nullopt};
}

// The services of one probe.json (docs/probe-schema.md) with a short detail each.
std::string ProbeServicesTable(const Json& probe, std::size_t max_rows) {
  const Json& services = Items(probe, "services");
  Table table{"probe-service-table", {"port", "service", "detail", "problems"}, {}, true};
  for (const Json& s : services) {
    if (table.rows.size() >= max_rows) break;
    std::string detail = Str(Get(s, "ssh"), "identification");
    const Json& http = Get(s, "http");
    if (Flag(http, "answered")) {
      detail += "HTTP " + Str(http, "status") + " " + Str(http, "server");
    }
    for (const Json& v : Items(Get(s, "tls"), "versions")) {
      if (Flag(v, "accepted")) detail += " " + Str(v, "version");
    }
    if (const Json& page = Get(s, "default_page"); page.is_object()) {
      detail += "; stock page: " + Str(page, "product");
    }
    for (const Json& a : Items(Get(s, "snmp"), "answers")) {
      detail +=
          " SNMP " + Str(a, "version") + " '" + Str(a, "community") + "': " + Str(a, "sys_descr");
    }
    for (const Json& r : Items(Get(s, "ssdp"), "responses")) {
      detail += " SERVER " + Str(r, "server") + " LOCATION " + Str(r, "location");
    }
    if (detail.empty()) detail = Str(s, "banner");
    std::size_t problems = Items(s, "problems").size();
    for (const char* check : {"ssh", "tls", "http", "mqtt", "ftp_anonymous", "snmp", "ssdp"}) {
      problems += Items(Get(s, check), "problems").size();
    }
    table.rows.push_back(
        {Cell::Markup(Code(Str(s, "port") + "/" + Str(s, "transport")), Str(s, "port")),
         Cell::Text(Str(s, "service")), Cell::Text(detail),
         Cell::Number(static_cast<std::int64_t>(problems))});
  }
  return services.empty()
             ? Paragraph("No open port answered.")
             : RenderTable(table) + Capped(services.size(), table.rows.size(), "services");
}

// The join of probe.json with this report: what the image explains of each service.
std::string ProbeJoinTable(const Json& join, std::size_t max_rows) {
  if (!join.is_object()) return {};
  Table table{"probe-join-table",
              {"port", "service", "software", "versions in the image",
               "key or certificate in "
               "the image"},
              {},
              true};
  for (const Json& s : Items(join, "services")) {
    if (table.rows.size() >= max_rows) break;
    const Json& software = Get(s, "software");
    std::string keys = Join(Get(s, "host_key_in_image"), ", ");
    for (const char* field : {"certificate_in_image", "private_key_in_image"}) {
      const std::string paths = Join(Get(s, field), ", ");
      if (!paths.empty()) keys += (keys.empty() ? "" : ", ") + paths;
    }
    table.rows.push_back({Cell::Markup(Code(Str(s, "port")), Str(s, "port")),
                          Cell::Text(Str(s, "service")),
                          Cell::Text(Str(software, "name") + " " + Str(software, "version")),
                          Cell::Text(Join(Get(s, "image_versions"), ", ")),
                          Cell::Text(keys, keys.empty() ? "" : "bad")});
  }
  return "<h3>Joined with this image</h3>\n" + RenderTable(table) +
         Note(std::to_string(Items(join, "image_host_keys").size()) + " SSH host key(s) and " +
              std::to_string(Items(join, "image_tls_keys").size()) +
              " TLS certificate(s) or key(s) found in the image.");
}

// The device probe (probe.json): what the running device answered, its findings, the join.
Section ProbeSection(const Json& probe, std::size_t max_rows) {
  const Json& target = Get(probe, "target");
  const Json& ports = Get(probe, "ports");
  std::string body =
      Paragraph("Probe of " + Str(target, "host") + " (" + Str(target, "address") + ") started " +
                Str(Get(probe, "timing"), "started_at") + " by " + Str(probe, "tool") + ": " +
                Str(target, "ports_scanned") + " TCP port(s) scanned, " +
                std::to_string(Items(ports, "open").size()) + " open (" +
                Join(Get(ports, "open"), ", ") + ").");
  const Json& active = Get(Get(probe, "settings"), "active_checks");
  std::string asked;
  if (Flag(active, "try_anonymous_ftp")) asked += " anonymous FTP login;";
  if (!Get(active, "snmp").is_null()) asked += " SNMP on UDP " + Str(active, "snmp") + ";";
  if (!Get(active, "ssdp").is_null()) asked += " SSDP on UDP " + Str(active, "ssdp") + ";";
  body += Note(asked.empty() ? "No active check was asked for (no login, no UDP)."
                             : "Active checks asked for:" + asked);
  body += "<h3>Services</h3>\n" + ProbeServicesTable(probe, max_rows);
  const Json& findings = Items(probe, "findings");
  Table table{"probe-finding-table",
              {"severity", "rule", "port", "service", "message", "evidence"},
              {},
              true};
  for (const Json& f : findings) {
    if (table.rows.size() >= max_rows) break;
    table.rows.push_back({SeverityCell(Str(f, "severity")), Cell::Markup(Code(Str(f, "rule"))),
                          Cell::Number(static_cast<std::int64_t>(Count(f, "port"))),
                          Cell::Text(Str(f, "service")), Cell::Text(Str(f, "message")),
                          Cell::Markup(Code(Str(f, "evidence")))});
  }
  body += "<h3>Findings on the wire</h3>\n" +
          (findings.empty() ? Paragraph("No findings.") : RenderTable(table)) +
          Capped(findings.size(), table.rows.size(), "probe findings");
  body += ProbeJoinTable(Get(probe, "join"), max_rows);
  return {"probe", "Device probe", std::move(body), findings.size()};
}

std::string Subtitle(const Json& report) {
  const Json& image = Get(report, "image");
  std::string subtitle = "image " + Str(image, "path") + ", " + Str(image, "size") +
                         " bytes, sha256 " + Str(image, "sha256");
  if (const std::string created = Str(report, "created"); !created.empty())
    subtitle += ", scanned " + created;
  return subtitle;
}

}  // namespace

Result<std::string> RenderReportHtml(const Json& report, const Json* compliance,
                                     const ReportPageOptions& options, const Json* probe) {
  if (!report.is_object()) return Fail(ErrorCode::kMalformed, "report.json is not a JSON object");
  if (compliance != nullptr && !compliance->is_object()) compliance = nullptr;
  const Context context{report, compliance, options};
  Page page;
  page.title = "clearbox report: " + Str(Get(report, "image"), "path");
  page.subtitle = Subtitle(report);
  page.sections.push_back(VerdictSection(context));
  page.sections.push_back(VulnerabilitiesSection(context));
  page.sections.push_back(ComponentsSection(context));
  page.sections.push_back(HardeningSection(context));
  page.sections.push_back(FindingsSection(context));
  if (compliance != nullptr) page.sections.push_back(ComplianceSection(*compliance));
  if (probe != nullptr && probe->is_object()) {
    page.sections.push_back(ProbeSection(*probe, options.max_rows));
  }
  page.sections.push_back(UnpackSection(context));
  page.sections.push_back(AttestationSection(context));
  const Json& tool = Get(report, "tool");
  page.footer = "Rendered by clearbox from " + options.report_name + " (" + Str(tool, "name") +
                " " + Str(tool, "version") + ", report schema " + Str(report, "schema_version") +
                ").";
  return RenderPage(page);
}

// Reads and parses one JSON input of the page (capped like report.json).
Result<Json> ReadJsonInput(const fs::path& path) {
  auto text = ReadFileCapped(path, kMaxInputBytes);
  if (!text) return Forward(text);
  Json json = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Fail(ErrorCode::kMalformed, path.string() + " is not valid JSON");
  return json;
}

Result<void> WriteReportHtmlFile(const fs::path& report_json, const fs::path& compliance_json,
                                 const fs::path& output, const fs::path& probe_json) {
  auto text = ReadFileCapped(report_json, kMaxInputBytes);
  if (!text) return Forward(text);
  const Json report = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) {
    return Fail(ErrorCode::kMalformed, report_json.string() + " is not valid JSON");
  }
  Json compliance;
  if (!compliance_json.empty()) {
    auto compliance_text = ReadFileCapped(compliance_json, kMaxInputBytes);
    if (!compliance_text) return Forward(compliance_text);
    compliance = Json::parse(*compliance_text, nullptr, /*allow_exceptions=*/false);
    if (compliance.is_discarded()) {
      return Fail(ErrorCode::kMalformed, compliance_json.string() + " is not valid JSON");
    }
  }
  Json probe;
  if (!probe_json.empty()) {
    auto parsed = ReadJsonInput(probe_json);
    if (!parsed) return Forward(parsed);
    probe = std::move(*parsed);
  }
  ReportPageOptions options;
  options.report_name = report_json.filename().string();
  options.report_sha256 =
      Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(text->data()), text->size()));
  auto page = RenderReportHtml(report, compliance_json.empty() ? nullptr : &compliance, options,
                               probe_json.empty() ? nullptr : &probe);
  if (!page) return Forward(page);
  return WriteWholeFile(output, *page);
}

Result<void> WriteReportHtml(const fs::path& dir) {
  std::error_code ec;
  const fs::path compliance = dir / "compliance.json";
  return WriteReportHtmlFile(dir / "report.json",
                             fs::exists(compliance, ec) ? compliance : fs::path(),
                             dir / "report.html");
}

}  // namespace clearbox::html
