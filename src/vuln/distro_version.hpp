// Version ordering of Linux distributions' packages, and which distribution release a
// package URL belongs to. A distribution's own vulnerability data (OSV's Debian, Ubuntu and
// Alpine ecosystems) names fixed versions in the distribution's numbering; only its own
// ordering decides whether a backported fix is installed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vuln/identifiers.hpp"

namespace clearbox::vuln {

// How a distribution orders its package versions.
enum class VersionScheme { kDebian, kApk };

// dpkg's ordering (Debian policy 5.6.12): epoch numerically, then upstream version and
// revision with verrevcmp ('~' before everything, letters before other characters, digit
// runs as numbers). Returns <0, 0 or >0.
int CompareDebianVersions(std::string_view a, std::string_view b);

// apk-tools' ordering of Alpine versions (digit{.digit}{letter}{_suffix{N}}{~hash}{-rN}):
// pre-release suffixes (_alpha, _beta, _pre, _rc) sort before the bare version, post-release
// ones (_cvs, _svn, _git, _hg, _p) after it; a part with a leading zero compares as text.
// Returns <0, 0 or >0; an invalid tail compares as apk-tools does (token by token).
int CompareApkVersions(std::string_view a, std::string_view b);

// True when `version` is a valid apk version string.
bool IsValidApkVersion(std::string_view version);

// Compares with the scheme's ordering.
int CompareDistroVersions(VersionScheme scheme, std::string_view a, std::string_view b);

// The distribution release a package came from, as the vulnerability data names it.
struct DistroPackage {
  std::string
      ecosystem;  // OSV ecosystem of the release: "Debian:12", "Ubuntu:22.04", "Alpine:v3.19"
  std::string purl_key;  // the store's key of the source package: "pkg:deb/debian/openssl"
  // A second key to try when the source is unknown: a Debian installer package ("busybox-udeb",
  // whose status stanza has no Source field) under the name without "-udeb".
  std::string fallback_key;
  std::string name;     // source (origin) package name: what distributions' advisories name
  std::string version;  // the source package's version (else the binary package's)
  VersionScheme scheme = VersionScheme::kDebian;
};

// The release of a deb or apk purl with a distro qualifier ("distro=debian-12",
// "distro=ubuntu-22.04", "distro=alpine-3.19.1"; Debian code names are accepted), with the
// source package from the "upstream" qualifier ("openssl" or "openssl@3.0.11-1"). nullopt
// for other purls or an unknown distribution.
std::optional<DistroPackage> DistroPackageOf(const Purl& purl);

// True when OSV ecosystem `row_ecosystem` ("Ubuntu:22.04:LTS", "Debian:12") is the release
// `ecosystem` names ("Ubuntu:22.04", "Debian:12").
bool SameDistroRelease(std::string_view row_ecosystem, std::string_view ecosystem);

// True for OSV ecosystems whose versions are a distribution's (Debian, Ubuntu, Alpine ...).
bool IsDistroEcosystem(std::string_view ecosystem);

}  // namespace clearbox::vuln
