// libFuzzer target: version comparison (must be antisymmetric and reflexive on any bytes) and
// the CPE / purl parsers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vuln/identifiers.hpp"
#include "vuln/version.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto nl = text.find('\n');
  const std::string_view a = text.substr(0, nl);
  const std::string_view b = nl == std::string_view::npos ? text : text.substr(nl + 1);
  const int ab = clearbox::vuln::CompareVersions(a, b);
  const int ba = clearbox::vuln::CompareVersions(b, a);
  if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)) std::abort();
  if (clearbox::vuln::CompareVersions(a, a) != 0) std::abort();
  (void)clearbox::vuln::IsKnownVersion(a);
  (void)clearbox::vuln::ParseCpe(text);
  (void)clearbox::vuln::ParsePurl(text);
  return 0;
}
