// CPE 2.3 names and package URLs: the two identities components are matched by.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox::vuln {

// A CPE 2.3 name split into its attributes, unescaped and lower-cased ("*" = ANY,
// "-" = NA); `version_full` is version plus "-update" when the update is a value.
struct Cpe {
  std::string part, vendor, product, version, update, edition, language, sw_edition, target_sw,
      target_hw, other;
  // The version with its update field ("1.0.1" + "beta1" -> "1.0.1-beta1").
  std::string VersionWithUpdate() const;
};

// Parses a CPE 2.3 formatted string ("cpe:2.3:a:openssl:openssl:1.0.2k:*:...") or a CPE 2.2
// URI ("cpe:/a:openssl:openssl:1.0.2k"); missing trailing attributes are ANY.
Result<Cpe> ParseCpe(std::string_view text);

// A package URL (purl-spec) without subpath: type, namespace, name, version, qualifiers;
// type, namespace and name lower-cased and percent-decoded.
struct Purl {
  std::string type, name_space, name, version;
  std::map<std::string, std::string> qualifiers;  // keys lower-case, values percent-decoded
  // "pkg:type/namespace/name" (no version): the key the store indexes OSV packages by.
  std::string Key() const;
};

// Parses "pkg:type/ns/name@version?qualifiers#subpath".
Result<Purl> ParsePurl(std::string_view text);

// The OSV ecosystem name of a purl type ("deb" -> "Debian", "pypi" -> "PyPI"), or "".
std::string_view EcosystemOfPurlType(std::string_view type);

// Lower-cases ASCII.
std::string AsciiLower(std::string_view text);

}  // namespace clearbox::vuln
