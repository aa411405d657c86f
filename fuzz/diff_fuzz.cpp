// libFuzzer target: two arbitrary JSON documents (split at the first NUL byte) as old and new
// report.json (and as each other's compliance.json); DiffReports must return a diff or an error,
// the renderers must not crash, and a document diffed against itself must be empty.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "diff/diff_html.hpp"
#include "diff/diff_json.hpp"
#include "diff/release_diff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto nul = text.find('\0');
  const std::string_view first = text.substr(0, nul);
  const std::string_view second = nul == std::string_view::npos ? first : text.substr(nul + 1);
  auto old_report = clearbox::diff::ParseJsonObject(first, "old");
  auto new_report = clearbox::diff::ParseJsonObject(second, "new");
  if (!old_report || !new_report) return 0;
  auto diff = clearbox::diff::DiffReports(*old_report, *new_report, &*old_report, &*new_report);
  if (diff) {
    (void)clearbox::diff::RenderDiffJson(*diff);
    (void)clearbox::diff::RenderDiffSummary(*diff);
    (void)clearbox::diff::RenderDiffHtml(*diff);
  }
  auto self = clearbox::diff::DiffReports(*old_report, *old_report, &*old_report, &*old_report);
  if (self && !clearbox::diff::IsEmpty(*self)) std::abort();
  return 0;
}
