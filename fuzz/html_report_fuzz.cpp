// libFuzzer target: report.html from arbitrary JSON (report.json and compliance.json are
// untrusted: RenderReportHtml must neither throw nor crash) and escaping of arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "html/page.hpp"
#include "html/report_page.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Escaped text never holds a character that could open markup or leave an attribute.
  const std::string escaped = clearbox::html::EscapeText(text);
  if (escaped.find_first_of("<>\"'") != std::string::npos) __builtin_trap();
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  clearbox::html::ReportPageOptions options;
  options.max_rows = 50;
  (void)clearbox::html::RenderReportHtml(json, nullptr, options);
  (void)clearbox::html::RenderReportHtml(json, &json, options);
  return 0;
}
