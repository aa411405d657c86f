#include "core/hex.hpp"

namespace clearbox {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HexEncode(ByteView bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) AppendHexByte(out, b);
  return out;
}

std::string HexEncode(std::string_view bytes) {
  return HexEncode(ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Fail(ErrorCode::kMalformed, "hex text of odd length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kMalformed, "not a hex digit at " + std::to_string(i));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

bool IsLowerHex(std::string_view text) {
  return text.find_first_not_of(kHexDigitsLower) == std::string_view::npos;
}

std::string PathUriReference(std::string_view path) {
  std::string out;
  for (const char c : path) {
    const auto ch = static_cast<unsigned char>(c);
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                       (ch >= '0' && ch <= '9') || ch == '/' || ch == '-' || ch == '.' ||
                       ch == '_' || ch == '~';
    if (plain) {
      out.push_back(c);
    } else {
      out += '%';
      AppendHexByte(out, ch, /*upper=*/true);
    }
  }
  return out;
}

}  // namespace clearbox
