// libFuzzer target: VEX documents (OpenVEX, CycloneDX) and SBOM input (CycloneDX, SPDX).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vuln/sbom_input.hpp"
#include "vuln/vex.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto vex = clearbox::vuln::ParseVex(text);
  if (vex) (void)vex->Find("CVE-2022-0778", {"openssl", "1.1.1m", "", "pkg:generic/openssl@1"});
  (void)clearbox::vuln::ParseSbomComponents(text);
  return 0;
}
