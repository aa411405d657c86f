// Self-contained HTML pages: escaping, one document skeleton with a strict CSP, the shared
// stylesheet, inline-SVG bar charts and tables. Report and diff pages are built from these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clearbox::html {

// `text` as valid UTF-8: each invalid byte, NUL and C0/C1 control (tab and newline kept) and
// each bidirectional override becomes U+FFFD, so hostile names cannot reorder or hide text.
std::string SanitizeUtf8(std::string_view text);

// `text` sanitised (SanitizeUtf8) and escaped for element content: & < > " ' become entities.
std::string EscapeText(std::string_view text);

// `text` escaped for a double-quoted attribute value (same rules as EscapeText).
std::string EscapeAttribute(std::string_view text);

// Standard base64 (RFC 4648, padded) of `bytes`.
std::string Base64(std::string_view bytes);

// The CSP source expression 'sha256-<base64>' of an inline <style> or <script> body.
std::string CspHash(std::string_view body);

// One bar of a BarChart; `text` is shown after the bar (default: the value).
struct Bar {
  std::string label;
  std::uint64_t value = 0;
  std::string text;       // e.g. "12 / 15 (80%)"; "" = the value
  std::string css_class;  // colour class from the shared stylesheet (sev-critical, ok, bad, ...)
};

// A horizontal bar chart as inline SVG with a <title> for screen readers; bars are scaled to
// `max` (0 = the largest value). Every label is escaped.
std::string BarChart(std::string_view title, const std::vector<Bar>& bars, std::uint64_t max = 0);

// One table cell: escaped text, or trusted markup the caller built from escaped parts.
struct Cell {
  std::string html;      // already escaped
  std::string sort_key;  // data-sort value for the sorting script ("" = the cell's text)
  std::string css_class;

  // A text cell (escaped here).
  static Cell Text(std::string_view text, std::string_view css_class = {});
  // A number cell, sorted numerically.
  static Cell Number(std::int64_t value);
  // A cell of markup the caller built from Escape* output.
  static Cell Markup(std::string html, std::string sort_key = {}, std::string css_class = {});
};

// A table; with `sortable`, the inline script sorts it when a header is clicked (the page
// reads the same without JavaScript).
struct Table {
  std::string id;  // element id, "" = none
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
  bool sortable = false;
};

// The <table> markup of `table`.
std::string RenderTable(const Table& table);

// One section of a page: <section id=... data-count=...> with a heading and trusted body.
struct Section {
  std::string id;
  std::string heading;
  std::string body;                    // markup built from Escape* output
  std::optional<std::uint64_t> count;  // data-count (the number of items the section is about)
};

// A whole page: title, optional subtitle line, sections in order, a footer line.
struct Page {
  std::string title;
  std::string subtitle;
  std::vector<Section> sections;
  std::string footer;
};

// The complete document: doctype, charset, a Content-Security-Policy that allows only the
// page's own inline <style> and <script> (by hash) and data: images, a table of contents,
// the sections and the footer. Deterministic: the same Page gives the same bytes.
std::string RenderPage(const Page& page);

// The shared stylesheet (screen and print) and sorting script, as RenderPage inlines them.
std::string_view Stylesheet();
std::string_view SortScript();

}  // namespace clearbox::html
