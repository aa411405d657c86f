// Parsers of what a browser or a CI client sends the portal: HTML form bodies
// (application/x-www-form-urlencoded), the Cookie header, Bearer credentials and row ids in
// paths. Every one is bounded and total: hostile input gives an error, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox::portal {

// Fields in one form body at most; more is kLimitExceeded.
inline constexpr std::size_t kMaxFormFields = 64;
// Cookies in one Cookie header we look at; the rest are ignored.
inline constexpr std::size_t kMaxCookies = 64;
// Longest decimal row id (fits in a signed 64-bit integer).
inline constexpr std::size_t kMaxIdDigits = 18;

// Form field name → value, percent- and '+'-decoded.
using FormFields = std::map<std::string, std::string>;

// Decodes an application/x-www-form-urlencoded body; kMalformed for a bad %XX escape, a NUL or
// a field given twice (ambiguous), kLimitExceeded past kMaxFormFields.
Result<FormFields> ParseForm(std::string_view body);

// The value of `field`, or "" if absent.
std::string FormValue(const FormFields& fields, const std::string& field);

// Cookie name → value from a Cookie header ("a=1; b=2"); the first of repeated names wins,
// malformed pairs are skipped.
std::map<std::string, std::string> ParseCookies(std::string_view header);

// The token of an "Authorization: Bearer TOKEN" header value, or nullopt.
std::optional<std::string> FindBearerToken(std::string_view authorization);

// A positive decimal row id without sign, leading zeros or other bytes, or nullopt.
std::optional<std::int64_t> ParseRowId(std::string_view text);

}  // namespace clearbox::portal
