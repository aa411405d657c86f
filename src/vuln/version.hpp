// Version ordering for the schemes firmware components really use (issue 4).
#pragma once

#include <string_view>

namespace clearbox::vuln {

// Compares two version strings; returns <0, 0 or >0. Case-insensitive, surrounding blanks
// ignored. Rules, in order:
// - a leading "N:" is a Debian epoch and is compared first (absent = 0);
// - the rest is split at '-' into parts (upstream, Debian revision, kernel local suffix,
//   ...) compared part by part;
// - inside a part, digit runs are numbers (any length), letter runs are words, '~' sorts
//   before everything (even the end), other characters only separate;
// - at one position: '~' < pre-release word (dev < alpha < beta < pre < rc) < end <
//   other word < number; words compare as text (OpenSSL 1.0.2k < 1.0.2za);
// - trailing zero numbers are insignificant (1.0 == 1.0.0).
int CompareVersions(std::string_view a, std::string_view b);

// False for strings that carry no version: empty, blank, "unknown", "*", "-".
bool IsKnownVersion(std::string_view version);

}  // namespace clearbox::vuln
