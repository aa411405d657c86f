// libFuzzer target: the portal's request parsers (form bodies, Cookie headers, Bearer
// credentials, row ids). Checks the contracts: decoded forms hold no NUL and at most
// kMaxFormFields fields; a parsed row id prints back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "portal/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clearbox::portal;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto form = ParseForm(text);
  if (form) {
    if (form->size() > kMaxFormFields) std::abort();
    for (const auto& [name, value] : *form) {
      if (name.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
        std::abort();
      }
    }
  }
  const auto cookies = ParseCookies(text);
  if (cookies.size() > kMaxCookies) std::abort();
  (void)FindBearerToken(text);
  if (auto id = ParseRowId(text)) {
    if (*id <= 0 || std::to_string(*id) != text) std::abort();
  }
  return 0;
}
