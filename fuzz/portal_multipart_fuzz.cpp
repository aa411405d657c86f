// libFuzzer target: the streaming multipart/form-data reader of portal uploads. The input's
// first byte picks the piece size the body is fed in; the rest is the body. Checks the
// contracts: fields stay within kMaxMultipartFieldBytes and kMaxMultipartParts, and a body
// that parses gives the same fields and file bytes whatever the piece size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "portal/multipart.hpp"

namespace {

struct Outcome {
  bool ok = false;
  std::string file;
  std::map<std::string, std::string> fields;
};

Outcome Feed(std::string_view body, std::size_t piece) {
  using namespace clearbox::portal;
  Outcome out;
  MultipartReader reader(
      "b", [](const std::string&, const std::string&) { return clearbox::Result<void>(); },
      [&](std::string_view bytes) {
        out.file.append(bytes);
        return clearbox::Result<void>();
      });
  for (std::size_t at = 0; at < body.size(); at += piece) {
    if (!reader.Feed(body.substr(at, piece))) return out;
  }
  out.ok = reader.Finish().has_value();
  out.fields = reader.fields();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clearbox::portal;
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome pieces = Feed(body, piece);
  if (pieces.fields.size() > kMaxMultipartParts) std::abort();
  for (const auto& [name, value] : pieces.fields) {
    if (value.size() > kMaxMultipartFieldBytes) std::abort();
  }
  const Outcome whole = Feed(body, body.size() + 1);
  if (pieces.ok != whole.ok) std::abort();
  if (pieces.ok && (pieces.file != whole.file || pieces.fields != whole.fields)) std::abort();
  return 0;
}
