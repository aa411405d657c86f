// Secrets in text and binaries: token patterns and hard-coded password assignments.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "inspect/finding.hpp"
#include "inspect/rules.hpp"

namespace clearbox::inspect {

// Longest assigned value read after a "password=" style key.
inline constexpr std::size_t kMaxAssignedValueBytes = 256;

// True when a file is text that looks like configuration or a script (by path or shebang)
// and so gets the "text-config" secret rules.
bool IsTextConfigFile(std::string_view path, ByteView bytes);

// The value assigned after data[value_start] (quotes, blanks and comments handled), or ""
// when it is absent, a placeholder, a variable reference or a common non-secret word.
std::string AssignedValue(ByteView data, std::uint64_t value_start);

// Redacts a secret to its first `keep` characters, e.g. "AKIAIOSF... (20 chars)".
std::string RedactSecret(std::string_view secret, std::size_t keep);

// Turns one pattern match of `rule` at data[start, end) into at most one finding.
// `default_passwords` lets a known default be shown in clear.
void SecretFinding(const SecretRule& rule, std::string_view path, ByteView data,
                   std::uint64_t start, std::uint64_t end,
                   const std::set<std::string, std::less<>>& default_passwords,
                   std::vector<Finding>& out);

}  // namespace clearbox::inspect
