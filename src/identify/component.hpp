// Component and ComponentEvidence: what the identification step reports for one software
// component found in an unpacked firmware tree.
#pragma once

#include <compare>
#include <string>
#include <vector>

#include "core/severity.hpp"

namespace clearbox::identify {

// One reason to believe a component is present: where, how and what was seen.
struct ComponentEvidence {
  std::string path;  // relative to the tree root given to Finish, '/'-separated
  std::string
      method;  // "dpkg", "opkg", "apk", "signature", "kernel-banner", "vermagic", "filename"
  std::string detail;  // the matched text (escaped) or the package-database fields
  auto operator<=>(const ComponentEvidence&) const = default;
};

// One software component with its identity, its evidence and the files it owns.
struct Component {
  std::string name;     // package name (package databases) or rule component name (signatures)
  std::string version;  // upstream version (no epoch, no distro revision, no repack suffix)
  std::string cpe;      // "cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*" from rule data; empty
                        // when no rule maps the package (CPEs are never guessed)
  // pkg:deb/<os id>/<name>@<full version>?arch=..&distro=<id>-<version_id>, pkg:apk/...,
  // pkg:opkg/openwrt/..., pkg:generic/<rule purl name>@<version>
  std::string purl;
  Confidence confidence;                    // package db > signature with version > filename
  std::vector<ComponentEvidence> evidence;  // sorted, unique
  std::vector<std::string> files;  // tree files that belong to it, sorted: package lists; for
                                   // pkg:generic components the files with signature hits
  std::string package_version;     // full distro version (epoch:upstream-revision) or empty
  std::string source;              // distro source package name (package databases) or empty
  std::string arch;                // package architecture or empty
};

}  // namespace clearbox::identify
