// Package-database parsers: dpkg (status, info/*.list), opkg/ipkg (status, info/*.control,
// info/*.list) and apk (lib/apk/db/installed). Pure text parsers over untrusted bytes.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace clearbox::identify {

// Caps on hostile package databases.
inline constexpr std::size_t kMaxPackageDbBytes = 64u << 20;  // one status/installed/list file
inline constexpr std::size_t kMaxPackages = 100000;           // stanzas in one database
inline constexpr std::size_t kMaxFieldsPerStanza = 256;
inline constexpr std::size_t kMaxFieldBytes = 1u << 20;     // one field value, continuations
inline constexpr std::size_t kMaxFilesPerPackage = 200000;  // entries of one file list

// One stanza of a deb822-style control file: field names and values in file order.
using ControlStanza = std::vector<std::pair<std::string, std::string>>;

// The value of `field` (case-insensitive name) in `stanza`, or "" when absent.
std::string_view FieldValue(const ControlStanza& stanza, std::string_view field);

// Splits deb822 text (dpkg status, opkg status, *.control) into stanzas. Continuation lines
// are joined with '\n'; malformed lines are skipped. kLimitExceeded past the caps.
Result<std::vector<ControlStanza>> ParseControlStanzas(std::string_view text);

// A package as a package database records it.
struct PackageRecord {
  std::string name;
  std::string version;  // full version as recorded (e.g. "1:1.2.13.dfsg-1", "1.36.1-r15")
  std::string arch;
  std::string source;              // source/origin package name ("" when the record has none)
  std::string source_version;      // dpkg "Source: name (version)" version, or ""
  std::string status;              // dpkg/opkg Status field ("" for apk)
  std::vector<std::string> files;  // absolute paths as listed ("/usr/bin/x"), list order
};

// Packages of a dpkg or opkg status file whose Status says they are on disk (not
// "not-installed" or "config-files"); the Source field is reduced to its name.
Result<std::vector<PackageRecord>> ParseDpkgStatus(std::string_view text);

// Lines of a dpkg/opkg status text that ParseControlStanzas skips: neither blank, nor a
// continuation, nor "Field: value" (0 for a well-formed database).
std::size_t CountNonFieldLines(std::string_view text);

// Lines of a dpkg/opkg *.list file: absolute paths, trailing '\t…' and '\r' removed, empty
// lines and "/." skipped. kLimitExceeded past kMaxFilesPerPackage.
Result<std::vector<std::string>> ParseFileList(std::string_view text);

// Packages of an apk lib/apk/db/installed file, with their files (F: dir + R: name).
Result<std::vector<PackageRecord>> ParseApkInstalled(std::string_view text);

// Source packages of Debian installer packages (udebs) by binary name, from
// data/identify/debian-udeb-sources.json: the installer's dpkg database keeps no Source field.
using UdebSources = std::map<std::string, std::string, std::less<>>;

// Parses {"sources": {"<udeb>": "<source package>", ...}}; kInvalidArgument when the text is
// not that or a name is empty.
Result<UdebSources> ParseUdebSources(std::string_view json);

// The upstream part of a Debian/opkg version: without "epoch:" and without the last
// "-revision" (Debian policy 5.6.12), e.g. "1:1.2.13.dfsg-1" -> "1.2.13.dfsg".
std::string DebianUpstreamVersion(std::string_view version);

// The upstream part of an apk version: without the trailing "-rN" package release.
std::string ApkUpstreamVersion(std::string_view version);

// An upstream version without distro decorations: repack suffixes ("+dfsg", ".dfsg", "+ds",
// "~dfsg", "+repack", "+git"), "+really<v>" keeps <v>, a leading "v" before a digit and a
// trailing "-stable" go, e.g. "2.9.14+dfsg" -> "2.9.14", "2.1.12-stable" -> "2.1.12".
std::string StripRepackSuffix(std::string_view upstream);

}  // namespace clearbox::identify
