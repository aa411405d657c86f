// libFuzzer target: the package-database parsers (dpkg/opkg status and control, file lists,
// apk installed) and the version helpers on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "identify/pkgdb.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace clearbox::identify;
  if (auto records = ParseDpkgStatus(text)) {
    for (const auto& r : *records) {
      (void)StripRepackSuffix(DebianUpstreamVersion(r.version));
    }
  }
  (void)ParseFileList(text);
  if (auto records = ParseApkInstalled(text)) {
    for (const auto& r : *records) (void)ApkUpstreamVersion(r.version);
  }
  return 0;
}
