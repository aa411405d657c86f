#include "html/page.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/byte_reader.hpp"
#include "core/hashing.hpp"

namespace clearbox::html {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at `text[i]` and its code point, or 0 when invalid.
std::size_t DecodeUtf8(std::string_view text, std::size_t i, char32_t& code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80, code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800, code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000, code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(k) & 0x3F);
  }
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if (code_point < min || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF))
    return 0;
  return length;
}

// Characters that are valid UTF-8 but must not reach the page as they are: controls (they
// break the HTML syntax rules) and bidirectional overrides (they make a name read differently).
bool Unsafe(char32_t c) {
  if (c == '\t' || c == '\n') return false;
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

std::string Escape(std::string_view text) {
  const std::string clean = SanitizeUtf8(text);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (const char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

ByteView Bytes(std::string_view text) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

constexpr std::string_view kStylesheet = R"css(
:root{--fg:#1d2330;--muted:#5b6473;--line:#d6dae1;--bg:#fff;--head:#f3f5f8;--accent:#1f5fbf;
--critical:#8e1b1b;--high:#d1421b;--medium:#d99a00;--low:#3b7dd8;--info:#7d8794;--ok:#2e7d32;--bad:#c62828}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.page{padding:1.2rem 2rem;border-bottom:3px solid var(--accent);background:var(--head)}
header.page h1{margin:0 0 .2rem;font-size:1.5rem}
header.page p{margin:0;color:var(--muted)}
nav.toc{padding:.6rem 2rem;border-bottom:1px solid var(--line);font-size:.9rem}
nav.toc a{margin-right:1.2rem;color:var(--accent);text-decoration:none}
main{padding:0 2rem 2rem;max-width:100rem}
section{margin-top:1.8rem}
h2{font-size:1.25rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
p.note{color:var(--muted);font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:8rem}
.card .n{font-size:1.5rem;font-weight:600;display:block}
.card .l{color:var(--muted);font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
svg.bars{max-width:38rem;width:100%;height:auto}
svg.bars text{font-size:13px;fill:var(--fg)}
svg.bars .track{fill:#eef0f3}
.sev-critical{fill:var(--critical);color:var(--critical)}.sev-high{fill:var(--high);color:var(--high)}
.sev-medium{fill:var(--medium);color:#8a6200}.sev-low{fill:var(--low);color:var(--low)}
.sev-info{fill:var(--info);color:var(--muted)}.ok{fill:var(--ok);color:var(--ok)}.bad{fill:var(--bad);color:var(--bad)}
.bar-default{fill:var(--accent)}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.4rem 0 1rem}
th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600}
th.sort{cursor:pointer}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td,code{overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:.82rem}
pre{background:var(--head);border:1px solid var(--line);padding:.6rem;overflow-x:auto;white-space:pre-wrap}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.78rem;font-weight:600;border:1px solid currentColor}
footer{margin:2rem;color:var(--muted);font-size:.8rem}
@media print{
body{font-size:10pt}
nav.toc{display:none}
header.page{background:none;border-bottom:2px solid #000}
main{padding:0 .5cm;max-width:none}
section{break-before:auto}
h2,h3{break-after:avoid}
tr,.card,svg{break-inside:avoid}
thead{display:table-header-group}
th.sort::after{content:none}
a{color:inherit;text-decoration:none}
table{font-size:8pt}
@page{margin:1.5cm 1cm}
}
)css";

constexpr std::string_view kSortScript = R"js(
"use strict";
document.querySelectorAll("table.sortable").forEach(function (table) {
  if (!table.tHead || !table.tBodies.length) return;
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, column) {
    th.tabIndex = 0;
    th.classList.add("sort");
    var sort = function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var key = function (row) {
        var cell = row.cells[column];
        if (!cell) return "";
        return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
      };
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), nx = Number(x), ny = Number(y);
        var order = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
    });
  });
});
)js";

}  // namespace

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t code_point = 0;
    const std::size_t length = DecodeUtf8(text, i, code_point);
    if (length == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (Unsafe(code_point)) {
      out += kReplacement;
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string EscapeText(std::string_view text) {
  return Escape(text);
}

std::string EscapeAttribute(std::string_view text) {
  return Escape(text);
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::string CspHash(std::string_view body) {
  Sha256 sha;
  sha.Update(Bytes(body));
  const auto digest = sha.Finish();
  return "'sha256-" +
         Base64(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size())) +
         "'";
}

std::string BarChart(std::string_view title, const std::vector<Bar>& bars, std::uint64_t max) {
  constexpr int kLabelWidth = 170;
  constexpr int kBarWidth = 300;
  constexpr int kRowHeight = 24;
  constexpr int kWidth = kLabelWidth + kBarWidth + 130;
  if (max == 0) {
    for (const auto& bar : bars) max = std::max(max, bar.value);
  }
  const int height = static_cast<int>(bars.size()) * kRowHeight + 4;
  std::string out =
      "<svg class=\"bars\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 " +
      std::to_string(kWidth) + " " + std::to_string(height) + "\" width=\"" +
      std::to_string(kWidth) + "\" height=\"" + std::to_string(height) + "\"><title>" +
      EscapeText(title) + "</title>";
  int y = 2;
  for (const auto& bar : bars) {
    const std::uint64_t value = std::min(bar.value, max);
    // Integer arithmetic keeps the bytes identical on every machine.
    const std::uint64_t width = max == 0 ? 0 : (value * kBarWidth + max / 2) / max;
    const std::string row_y = std::to_string(y);
    const std::string text_y = std::to_string(y + 16);
    out += "<text x=\"0\" y=\"" + text_y + "\">" + EscapeText(bar.label) + "</text>";
    out += "<rect class=\"track\" x=\"" + std::to_string(kLabelWidth) + "\" y=\"" + row_y +
           "\" width=\"" + std::to_string(kBarWidth) + "\" height=\"20\"/>";
    out += "<rect class=\"" +
           EscapeAttribute(bar.css_class.empty() ? "bar-default" : bar.css_class) + "\" x=\"" +
           std::to_string(kLabelWidth) + "\" y=\"" + row_y + "\" width=\"" + std::to_string(width) +
           "\" height=\"20\"/>";
    out += "<text x=\"" + std::to_string(kLabelWidth + kBarWidth + 8) + "\" y=\"" + text_y + "\">" +
           EscapeText(bar.text.empty() ? std::to_string(bar.value) : bar.text) + "</text>";
    y += kRowHeight;
  }
  out += "</svg>";
  return out;
}

Cell Cell::Text(std::string_view text, std::string_view css_class) {
  return Cell{EscapeText(text), {}, std::string(css_class)};
}

Cell Cell::Number(std::int64_t value) {
  return Cell{std::to_string(value), std::to_string(value), "num"};
}

Cell Cell::Markup(std::string html, std::string sort_key, std::string css_class) {
  return Cell{std::move(html), std::move(sort_key), std::move(css_class)};
}

std::string RenderTable(const Table& table) {
  std::string out = "<table";
  if (!table.id.empty()) out += " id=\"" + EscapeAttribute(table.id) + "\"";
  if (table.sortable) out += " class=\"sortable\"";
  out += " data-rows=\"" + std::to_string(table.rows.size()) + "\"><thead><tr>";
  for (const auto& column : table.columns)
    out += "<th scope=\"col\">" + EscapeText(column) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (const auto& cell : row) {
      out += "<td";
      if (!cell.css_class.empty()) out += " class=\"" + EscapeAttribute(cell.css_class) + "\"";
      if (!cell.sort_key.empty()) out += " data-sort=\"" + EscapeAttribute(cell.sort_key) + "\"";
      out += ">" + cell.html + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody></table>\n";
  return out;
}

std::string RenderPage(const Page& page) {
  const std::string csp = "default-src 'none'; style-src " + CspHash(kStylesheet) +
                          "; script-src " + CspHash(kSortScript) +
                          "; img-src data:; base-uri 'none'; form-action 'none'";
  // The policy is our own text (hashes are base64, no quote or ampersand): written as is.
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"" +
      csp +
      "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"referrer\" content=\"no-referrer\">\n<title>" +
      EscapeText(page.title) + "</title>\n<style>" + std::string(kStylesheet) +
      "</style>\n</head>\n<body>\n<header class=\"page\"><h1>" + EscapeText(page.title) + "</h1>";
  if (!page.subtitle.empty()) out += "<p>" + EscapeText(page.subtitle) + "</p>";
  out += "</header>\n<nav class=\"toc\" aria-label=\"Contents\">";
  for (const auto& section : page.sections) {
    out += "<a href=\"#" + EscapeAttribute(section.id) + "\">" + EscapeText(section.heading);
    if (section.count) out += " (" + std::to_string(*section.count) + ")";
    out += "</a>";
  }
  out += "</nav>\n<main>\n";
  for (const auto& section : page.sections) {
    out += "<section id=\"" + EscapeAttribute(section.id) + "\"";
    if (section.count) out += " data-count=\"" + std::to_string(*section.count) + "\"";
    out += ">\n<h2>" + EscapeText(section.heading) + "</h2>\n" + section.body + "</section>\n";
  }
  out += "</main>\n";
  if (!page.footer.empty()) out += "<footer>" + EscapeText(page.footer) + "</footer>\n";
  out += "<script>" + std::string(kSortScript) + "</script>\n</body>\n</html>\n";
  return out;
}

std::string_view Stylesheet() {
  return kStylesheet;
}

std::string_view SortScript() {
  return kSortScript;
}

}  // namespace clearbox::html
