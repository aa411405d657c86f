// libFuzzer target: the probe's SSDP (HTTPU) response parser, the FTP reply parser and the
// <title> reader of the stock-page check (all untrusted bytes from the device).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/default_pages.hpp"
#include "probe/ftp.hpp"
#include "probe/ssdp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto response = clearbox::probe::ParseSsdpResponse(text);
  if (response && response->server.size() > 4 * 256 + 3) std::abort();  // escaped, bounded
  std::size_t consumed = 0;
  auto reply = clearbox::probe::ParseFtpReply(text, &consumed);
  if (reply && (consumed > size || consumed > clearbox::probe::kMaxFtpReplyBytes)) std::abort();
  if (clearbox::probe::HtmlTitle(text).size() > clearbox::probe::kMaxTitleBytes) std::abort();
  return 0;
}
