// Strict text encodings shared by the ledger formats: canonical base64 and decimals.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox::ledger {

using Bytes = std::vector<std::uint8_t>;

// Standard base64 (RFC 4648 §4) with padding.
std::string Base64Encode(std::string_view bytes);
std::string Base64Encode(const Bytes& bytes);

// Decodes canonical standard base64: padding required, no whitespace, unused bits zero;
// anything else is kMalformed.
[[nodiscard]] Result<std::string> Base64Decode(std::string_view text);

// Like Base64Decode but also accepts the URL-safe alphabet (as DSSE verifiers must).
[[nodiscard]] Result<std::string> Base64DecodeAnyAlphabet(std::string_view text);

// Parses a canonical non-negative decimal (no sign, no leading zeros, fits in 63 bits).
[[nodiscard]] Result<std::uint64_t> ParseDecimal(std::string_view text);

// Bytes of a string as a vector, and back.
Bytes ToBytes(std::string_view text);
std::string ToString(const Bytes& bytes);

}  // namespace clearbox::ledger
