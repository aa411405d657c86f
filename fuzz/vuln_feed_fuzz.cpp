// libFuzzer target: the vulnerability feed parsers (NVD API 2.0, CVE 5, OSV, KEV, EPSS CSV).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vuln/feeds.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  clearbox::vuln::FeedSink sink;
  std::size_t seen = 0;
  sink.on_vuln = [&](clearbox::vuln::VulnRecord&& r) -> clearbox::Result<void> {
    seen += r.cpe_matches.size() + r.packages.size();
    return {};
  };
  (void)clearbox::vuln::ParseFeedBytes(text, sink);
  return 0;
}
