// libFuzzer target: version comparisons (generic, dpkg's and apk's: each must be antisymmetric
// and reflexive on any bytes), the CPE / purl parsers and the distribution release of a purl.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vuln/distro_version.hpp"
#include "vuln/identifiers.hpp"
#include "vuln/version.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto nl = text.find('\n');
  const std::string_view a = text.substr(0, nl);
  const std::string_view b = nl == std::string_view::npos ? text : text.substr(nl + 1);
  using Compare = int (*)(std::string_view, std::string_view);
  for (Compare compare :
       {Compare(clearbox::vuln::CompareVersions), Compare(clearbox::vuln::CompareDebianVersions),
        Compare(clearbox::vuln::CompareApkVersions)}) {
    const int ab = compare(a, b);
    const int ba = compare(b, a);
    if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)) std::abort();
    if (compare(a, a) != 0) std::abort();
  }
  (void)clearbox::vuln::IsKnownVersion(a);
  (void)clearbox::vuln::IsValidApkVersion(a);
  (void)clearbox::vuln::ParseCpe(text);
  if (auto purl = clearbox::vuln::ParsePurl(text)) (void)clearbox::vuln::DistroPackageOf(*purl);
  return 0;
}
