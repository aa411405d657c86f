// libFuzzer target: tlog-tiles HTTP paths. Accepted paths must re-format to the same bytes,
// and the log routes must never serve anything for a path under a missing log directory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "portal/log_routes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clearbox::portal;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tile = ParseTilePath(text);
  if (tile && FormatTilePath(*tile) != text) __builtin_trap();
  static LogService service("/nonexistent/clearbox-fuzz-log", "0123456789abcdef");
  const auto response = service.Handle(HttpRequest{"GET", "/" + std::string(text), {}, ""});
  if (response.status == 200) __builtin_trap();
  return 0;
}
