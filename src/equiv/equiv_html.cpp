// equiv.html from equiv.json.
#include "equiv/equiv_html.hpp"

#include <string_view>
#include <vector>

#include "html/page.hpp"

namespace clearbox::equiv {
namespace {

using html::Cell;
using Json = nlohmann::json;

std::string Text(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string Paragraph(std::string_view text) {
  return "<p class=\"note\">" + html::EscapeText(text) + "</p>";
}

bool IsFailing(std::string_view verdict) {
  return verdict != "IDENTICAL" && verdict != "EQUIVALENT";
}

std::string VerdictClass(std::string_view verdict) {
  if (verdict == "IDENTICAL" || verdict == "EQUIVALENT") return "ok";
  return "bad";
}

// One line per side: input, kind, digest.
std::string SideLine(std::string_view label, const Json& side) {
  std::string line = std::string(label) + ": " + Text(side, "input") + " (" + Text(side, "kind");
  if (!Text(side, "sha256").empty()) line += ", sha256 " + Text(side, "sha256");
  if (!Text(side, "tree_sha256").empty()) line += ", tree sha256 " + Text(side, "tree_sha256");
  return line + ")";
}

html::Section OverviewSection(const Json& doc) {
  static constexpr std::string_view kVerdicts[] = {"IDENTICAL",       "EQUIVALENT",
                                                   "DIFFERENT",       "ONLY_IN_DELIVERED",
                                                   "ONLY_IN_REBUILT", "UNCOMPARABLE"};
  std::vector<html::Bar> bars;
  std::uint64_t failing = 0;
  const Json counts = doc.contains("counts") ? doc["counts"] : Json::object();
  for (std::string_view v : kVerdicts) {
    const std::uint64_t n = counts.is_object() && counts.contains(std::string(v)) &&
                                    counts[std::string(v)].is_number_unsigned()
                                ? counts[std::string(v)].get<std::uint64_t>()
                                : 0;
    if (IsFailing(v)) failing += n;
    bars.push_back({std::string(v), n, "", VerdictClass(v)});
  }
  std::string body = Paragraph("Verdict: " + Text(doc, "verdict"));
  body += Paragraph(SideLine("Delivered", doc.value("delivered", Json::object())));
  body += Paragraph(SideLine("Rebuilt", doc.value("rebuilt", Json::object())));
  std::string strict;
  if (doc.contains("strict_classes") && doc["strict_classes"].is_array()) {
    for (const auto& c : doc["strict_classes"]) {
      if (c.is_string()) strict += (strict.empty() ? "" : ", ") + c.get<std::string>();
    }
  }
  body += Paragraph("Classes switched off: " + (strict.empty() ? std::string("none") : strict));
  body += html::BarChart("Paths by verdict", bars);
  return {"overview", "Overview", body, failing};
}

// What one path's entry says, as escaped markup: classes, differences, reason, diff excerpt.
std::string Details(const Json& file) {
  std::string out;
  if (file.contains("classes") && file["classes"].is_array()) {
    for (const auto& c : file["classes"]) {
      std::string where;
      if (c.contains("where") && c["where"].is_array()) {
        for (const auto& w : c["where"]) {
          if (w.is_string()) where += (where.empty() ? "" : ", ") + w.get<std::string>();
        }
      }
      out += "<div>tolerated " + html::EscapeText(Text(c, "class")) + ": " +
             html::EscapeText(where) + "</div>";
    }
  }
  if (file.contains("differences") && file["differences"].is_array()) {
    for (const auto& d : file["differences"]) {
      std::string line = Text(d, "where");
      if (d.contains("bytes") && d["bytes"].is_number()) {
        line += ": " + std::to_string(d["bytes"].get<std::uint64_t>()) + " bytes";
      }
      if (d.contains("functions") && d["functions"].is_array() && !d["functions"].empty()) {
        std::string functions;
        for (const auto& f : d["functions"]) {
          if (f.is_string()) functions += (functions.empty() ? "" : ", ") + f.get<std::string>();
        }
        line += " in " + functions;
      }
      if (!Text(d, "detail").empty()) line += " (" + Text(d, "detail") + ")";
      out += "<div class=\"bad\">" + html::EscapeText(line) + "</div>";
    }
  }
  if (!Text(file, "reason").empty())
    out += "<div>" + html::EscapeText(Text(file, "reason")) + "</div>";
  if (!Text(file, "text_diff").empty()) {
    out += "<pre>" + html::EscapeText(Text(file, "text_diff")) + "</pre>";
  }
  return out;
}

html::Section PathsSection(const Json& doc) {
  html::Table table{"paths", {"verdict", "path", "kind", "details"}, {}, true};
  std::size_t unlisted = 0;
  const Json files =
      doc.contains("files") && doc["files"].is_array() ? doc["files"] : Json::array();
  // Failing paths first, then the others, each in equiv.json's (path) order.
  for (const bool failing : {true, false}) {
    for (const auto& file : files) {
      const std::string verdict = Text(file, "verdict");
      if (IsFailing(verdict) != failing) continue;
      if (table.rows.size() >= kMaxHtmlRows) {
        ++unlisted;
        continue;
      }
      table.rows.push_back({Cell::Text(verdict, VerdictClass(verdict)),
                            Cell::Text(Text(file, "path")), Cell::Text(Text(file, "kind")),
                            Cell::Markup(Details(file))});
    }
  }
  std::string body = table.rows.empty() ? Paragraph("No paths.") : html::RenderTable(table);
  if (unlisted > 0) {
    body += Paragraph(std::to_string(unlisted) + " more paths are listed in equiv.json only.");
  }
  return {"paths", "Paths", body, files.size()};
}

}  // namespace

std::string RenderEquivHtml(const nlohmann::json& document) {
  static const Json kEmpty = Json::object();
  const Json& equiv_json = document.is_object() ? document : kEmpty;
  html::Page page;
  page.title = "Binary equivalence";
  page.subtitle = SideLine("delivered", equiv_json.value("delivered", Json::object())) + " / " +
                  SideLine("rebuilt", equiv_json.value("rebuilt", Json::object()));
  page.sections.push_back(OverviewSection(equiv_json));
  page.sections.push_back(PathsSection(equiv_json));
  page.footer = "Rendered from equiv.json (docs/equiv-schema.md) by clearbox equiv.";
  return html::RenderPage(page);
}

}  // namespace clearbox::equiv
