// Canonical base64 and decimal codecs: every input has exactly one accepted spelling.
#include "ledger/encoding.hpp"

#include <array>

namespace clearbox::ledger {
namespace {

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int DecodeChar(char c, bool url_safe) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (!url_safe && c == '+') return 62;
  if (!url_safe && c == '/') return 63;
  if (url_safe && c == '-') return 62;
  if (url_safe && c == '_') return 63;
  return -1;
}

Result<std::string> Decode(std::string_view text, bool url_safe) {
  if (text.size() % 4 != 0) return Fail(ErrorCode::kMalformed, "base64 length not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::size_t pad = 0;
    if (last) {
      if (text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    }
    std::array<int, 4> v{};
    for (std::size_t j = 0; j < 4 - pad; ++j) {
      v[j] = DecodeChar(text[i + j], url_safe);
      if (v[j] < 0) return Fail(ErrorCode::kMalformed, "invalid base64 character");
    }
    const std::uint32_t n =
        (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
        (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    // Canonical form: the bits below the last encoded byte must be zero.
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) {
      return Fail(ErrorCode::kMalformed, "non-canonical base64 padding bits");
    }
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n =
        (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16) |
        (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8) |
        static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 2]));
    out.push_back(kStdAlphabet[(n >> 18) & 63]);
    out.push_back(kStdAlphabet[(n >> 12) & 63]);
    out.push_back(kStdAlphabet[(n >> 6) & 63]);
    out.push_back(kStdAlphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
    out.push_back(kStdAlphabet[(n >> 18) & 63]);
    out.push_back(kStdAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kStdAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string Base64Encode(const Bytes& bytes) {
  return Base64Encode(ToString(bytes));
}

Result<std::string> Base64Decode(std::string_view text) {
  return Decode(text, false);
}

Result<std::string> Base64DecodeAnyAlphabet(std::string_view text) {
  auto standard = Decode(text, false);
  if (standard) return standard;
  return Decode(text, true);
}

Result<std::uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty()) return Fail(ErrorCode::kMalformed, "empty decimal");
  if (text.size() > 1 && text[0] == '0')
    return Fail(ErrorCode::kMalformed, "decimal with leading zero");
  if (text.size() > 19) return Fail(ErrorCode::kMalformed, "decimal too large");
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Fail(ErrorCode::kMalformed, "not a decimal digit");
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > (std::uint64_t{1} << 63) - 1) return Fail(ErrorCode::kMalformed, "decimal too large");
  return value;
}

Bytes ToBytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

std::string ToString(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace clearbox::ledger
