// Hex: the one encoder and decoder of bytes as hexadecimal digits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox {

inline constexpr char kHexDigitsLower[] = "0123456789abcdef";
inline constexpr char kHexDigitsUpper[] = "0123456789ABCDEF";

// Appends the two hex digits of `byte` to `out`, lower case unless `upper` (percent-encoding).
inline void AppendHexByte(std::string& out, std::uint8_t byte, bool upper = false) {
  const char* digits = upper ? kHexDigitsUpper : kHexDigitsLower;
  out.push_back(digits[byte >> 4]);
  out.push_back(digits[byte & 15]);
}

// Lower-case hex of arbitrary bytes (two digits per byte).
std::string HexEncode(ByteView bytes);
std::string HexEncode(std::string_view bytes);

// The bytes spelt by `hex` (either case); kMalformed for an odd length or a non-hex digit.
Result<std::string> HexDecode(std::string_view hex);

// True when `text` is made only of the digits 0-9 and a-f (the empty text included).
bool IsLowerHex(std::string_view text);

// A URI reference for a '/'-separated relative path: every byte but letters, digits and
// "/-._~" percent-encoded with upper-case digits (RFC 3986), as SARIF locations want.
std::string PathUriReference(std::string_view path);

}  // namespace clearbox
