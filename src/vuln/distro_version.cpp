#include "vuln/distro_version.hpp"

#include <array>
#include <cstdint>

namespace clearbox::vuln {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// dpkg's weight of one character of a non-digit run ('\0' is the end of the run).
int DpkgOrder(char c) {
  if (IsDigit(c)) return 0;
  if (IsAlpha(c)) return static_cast<unsigned char>(c);
  if (c == '~') return -1;
  if (c != '\0') return static_cast<unsigned char>(c) + 256;
  return 0;
}

// dpkg's verrevcmp over one part (upstream version or revision).
int VerRevCompare(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  auto at = [](std::string_view s, std::size_t k) { return k < s.size() ? s[k] : '\0'; };
  while (i < a.size() || j < b.size()) {
    while ((i < a.size() && !IsDigit(a[i])) || (j < b.size() && !IsDigit(b[j]))) {
      const int ac = DpkgOrder(at(a, i)), bc = DpkgOrder(at(b, j));
      if (ac != bc) return ac - bc;
      ++i, ++j;
    }
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    int first_diff = 0;
    while (IsDigit(at(a, i)) && IsDigit(at(b, j))) {
      if (first_diff == 0) first_diff = at(a, i) - at(b, j);
      ++i, ++j;
    }
    if (IsDigit(at(a, i))) return 1;
    if (IsDigit(at(b, j))) return -1;
    if (first_diff != 0) return first_diff;
  }
  return 0;
}

struct DebianVersion {
  std::uint64_t epoch = 0;
  std::string_view upstream, revision;
};

DebianVersion SplitDebian(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  DebianVersion out;
  if (auto colon = v.find(':'); colon != std::string_view::npos) {
    bool numeric = colon > 0 && colon <= 9;
    for (std::size_t k = 0; k < colon && numeric; ++k) numeric = IsDigit(v[k]);
    if (numeric) {
      for (std::size_t k = 0; k < colon; ++k) out.epoch = out.epoch * 10 + (v[k] - '0');
      v.remove_prefix(colon + 1);
    }
  }
  if (auto dash = v.rfind('-'); dash != std::string_view::npos) {
    out.revision = v.substr(dash + 1);
    v = v.substr(0, dash);
  }
  out.upstream = v;
  return out;
}

// ---- apk-tools ----

enum ApkToken {
  kInitialDigit,
  kDigit,
  kLetter,
  kSuffix,
  kSuffixNo,
  kCommitHash,
  kRevisionNo,
  kEnd,
  kInvalid,
};

// Suffix values in apk-tools' order; kSuffixNone is the bare version.
enum ApkSuffix {
  kSufInvalid,
  kSufAlpha,
  kSufBeta,
  kSufPre,
  kSufRc,
  kSufNone,
  kSufCvs,
  kSufSvn,
  kSufGit,
  kSufHg,
  kSufP
};

int ApkSuffixValue(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, ApkSuffix>, 9> kSuffixes = {{
      {"alpha", kSufAlpha},
      {"beta", kSufBeta},
      {"pre", kSufPre},
      {"rc", kSufRc},
      {"cvs", kSufCvs},
      {"svn", kSufSvn},
      {"git", kSufGit},
      {"hg", kSufHg},
      {"p", kSufP},
  }};
  for (const auto& [text, value] : kSuffixes) {
    if (s == text) return value;
  }
  return kSufInvalid;
}

struct ApkTokenState {
  ApkToken token = kInitialDigit;
  int suffix = kSufInvalid;
  std::uint64_t number = 0;
  std::string_view value;
};

void ApkParseDigits(ApkTokenState& t, std::string_view& rest) {
  std::size_t n = 0;
  t.number = 0;
  while (n < rest.size() && IsDigit(rest[n])) {
    t.number = t.number * 10 + static_cast<std::uint64_t>(rest[n] - '0');
    ++n;
  }
  t.value = rest.substr(0, n);
  rest.remove_prefix(n);
  if (n == 0) t.token = kInvalid;
}

void ApkFirst(ApkTokenState& t, std::string_view& rest) {
  t.token = kInitialDigit;
  ApkParseDigits(t, rest);
}

void ApkNext(ApkTokenState& t, std::string_view& rest) {
  if (rest.empty()) {
    t.token = kEnd;
    return;
  }
  const char c = rest.front();
  if (c >= 'a' && c <= 'z') {
    if (t.token > kDigit) {
      t.token = kInvalid;
      return;
    }
    t.value = rest.substr(0, 1);
    t.token = kLetter;
    rest.remove_prefix(1);
  } else if (c == '.' || IsDigit(c)) {
    if (c == '.') {
      if (t.token > kDigit) {
        t.token = kInvalid;
        return;
      }
      rest.remove_prefix(1);
    }
    if (t.token == kInitialDigit || t.token == kDigit) {
      t.token = kDigit;
    } else if (t.token == kSuffix) {
      t.token = kSuffixNo;
    } else {
      t.token = kInvalid;
      return;
    }
    ApkParseDigits(t, rest);
  } else if (c == '_') {
    if (t.token > kSuffixNo) {
      t.token = kInvalid;
      return;
    }
    rest.remove_prefix(1);
    std::size_t n = 0;
    while (n < rest.size() && rest[n] >= 'a' && rest[n] <= 'z') ++n;
    t.value = rest.substr(0, n);
    rest.remove_prefix(n);
    t.suffix = ApkSuffixValue(t.value);
    t.token = t.suffix == kSufInvalid ? kInvalid : kSuffix;
  } else if (c == '~') {
    if (t.token >= kCommitHash) {
      t.token = kInvalid;
      return;
    }
    rest.remove_prefix(1);
    std::size_t n = 0;
    while (n < rest.size() && (IsDigit(rest[n]) || (rest[n] >= 'a' && rest[n] <= 'f'))) ++n;
    t.value = rest.substr(0, n);
    rest.remove_prefix(n);
    t.token = n == 0 ? kInvalid : kCommitHash;
  } else if (c == '-') {
    if (t.token >= kRevisionNo || !rest.starts_with("-r")) {
      t.token = kInvalid;
      return;
    }
    rest.remove_prefix(2);
    t.token = kRevisionNo;
    ApkParseDigits(t, rest);
  } else {
    t.token = kInvalid;
  }
}

int ApkTokenCompare(const ApkTokenState& a, const ApkTokenState& b) {
  std::uint64_t x = 0, y = 0;
  bool as_text = false;
  switch (a.token) {
    case kDigit:
      // A leading zero on either side: compare as text, as Gentoo's rules do.
      if (a.value.starts_with('0') || b.value.starts_with('0')) {
        as_text = true;
        break;
      }
      [[fallthrough]];
    case kInitialDigit:
    case kSuffixNo:
    case kRevisionNo: x = a.number, y = b.number; break;
    case kLetter:
      x = static_cast<unsigned char>(a.value.front());
      y = static_cast<unsigned char>(b.value.front());
      break;
    case kSuffix:
      x = static_cast<std::uint64_t>(a.suffix), y = static_cast<std::uint64_t>(b.suffix);
      break;
    default: as_text = true;
  }
  if (as_text) {
    const int r = a.value.compare(b.value);
    return r < 0 ? -1 : (r > 0 ? 1 : 0);
  }
  return x < y ? -1 : (x > y ? 1 : 0);
}

// Debian code names of the releases OSV's Debian ecosystem covers.
std::string_view DebianReleaseOfCodename(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kNames = {{
      {"jessie", "8"},
      {"stretch", "9"},
      {"buster", "10"},
      {"bullseye", "11"},
      {"bookworm", "12"},
      {"trixie", "13"},
      {"forky", "14"},
      {"duke", "15"},
  }};
  for (const auto& [codename, release] : kNames) {
    if (name == codename) return release;
  }
  return "";
}

// "12.4" -> "12", "3.19.1" -> "3.19" (parts = 2), "22.04" -> "22.04".
std::string LeadingParts(std::string_view version, int parts) {
  std::size_t end = 0;
  int seen = 0;
  while (end < version.size()) {
    if (version[end] == '.' && ++seen == parts) break;
    ++end;
  }
  return std::string(version.substr(0, end));
}

}  // namespace

int CompareDebianVersions(std::string_view a, std::string_view b) {
  const DebianVersion x = SplitDebian(a), y = SplitDebian(b);
  if (x.epoch != y.epoch) return x.epoch < y.epoch ? -1 : 1;
  if (int r = VerRevCompare(x.upstream, y.upstream); r != 0) return r < 0 ? -1 : 1;
  const int r = VerRevCompare(x.revision, y.revision);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

int CompareApkVersions(std::string_view a, std::string_view b) {
  ApkTokenState ta, tb;
  ApkFirst(ta, a);
  ApkFirst(tb, b);
  while (ta.token == tb.token && ta.token < kEnd) {
    if (int r = ApkTokenCompare(ta, tb); r != 0) return r;
    ApkNext(ta, a);
    ApkNext(tb, b);
  }
  if (ta.token == tb.token) return 0;
  // Equal so far: the longer version is newer unless it continues with a pre-release suffix.
  if (ta.token == kSuffix && ta.suffix < kSufNone) return -1;
  if (tb.token == kSuffix && tb.suffix < kSufNone) return 1;
  if (ta.token > tb.token) return -1;
  if (tb.token > ta.token) return 1;
  return 0;
}

bool IsValidApkVersion(std::string_view version) {
  ApkTokenState t;
  for (ApkFirst(t, version); t.token < kEnd; ApkNext(t, version)) {
  }
  return t.token == kEnd;
}

int CompareDistroVersions(VersionScheme scheme, std::string_view a, std::string_view b) {
  return scheme == VersionScheme::kApk ? CompareApkVersions(a, b) : CompareDebianVersions(a, b);
}

std::optional<DistroPackage> DistroPackageOf(const Purl& purl) {
  if (purl.type != "deb" && purl.type != "apk") return std::nullopt;
  auto distro_it = purl.qualifiers.find("distro");
  if (distro_it == purl.qualifiers.end()) return std::nullopt;
  std::string distro = AsciiLower(distro_it->second);
  // "debian-12", "ubuntu-22.04", "alpine-3.19.1"; a bare code name ("bookworm") for Debian.
  std::string id = purl.name_space, release;
  if (auto dash = distro.find('-'); dash != std::string::npos) {
    id = distro.substr(0, dash);
    release = distro.substr(dash + 1);
  } else {
    release = distro;
  }
  DistroPackage out;
  if (purl.type == "deb" && id == "debian") {
    if (auto named = DebianReleaseOfCodename(release); !named.empty()) release = named;
    release = LeadingParts(release, 1);
    out.ecosystem = "Debian:" + release;
  } else if (purl.type == "deb" && id == "ubuntu") {
    out.ecosystem = "Ubuntu:" + LeadingParts(release, 2);
  } else if (purl.type == "apk" && id == "alpine") {
    out.ecosystem = "Alpine:v" + LeadingParts(release, 2);
    out.scheme = VersionScheme::kApk;
  } else {
    return std::nullopt;
  }
  if (release.empty() || !IsDigit(release.front())) return std::nullopt;
  out.name = purl.name;
  out.version = purl.version;
  if (auto up = purl.qualifiers.find("upstream"); up != purl.qualifiers.end()) {
    const std::string& value = up->second;
    const auto at = value.find('@');
    const std::string name = AsciiLower(value.substr(0, at));
    if (!name.empty()) out.name = name;
    if (at != std::string::npos && at + 1 < value.size()) out.version = value.substr(at + 1);
  }
  out.purl_key = "pkg:" + purl.type + "/" + id + "/" + out.name;
  if (purl.type == "deb" && !purl.qualifiers.contains("upstream") && out.name.ends_with("-udeb")) {
    out.fallback_key = out.purl_key.substr(0, out.purl_key.size() - 5);
  }
  return out;
}

bool SameDistroRelease(std::string_view row_ecosystem, std::string_view ecosystem) {
  if (!row_ecosystem.starts_with(ecosystem)) return false;
  return row_ecosystem.size() == ecosystem.size() || row_ecosystem[ecosystem.size()] == ':';
}

bool IsDistroEcosystem(std::string_view ecosystem) {
  const std::string_view base = ecosystem.substr(0, ecosystem.find(':'));
  static constexpr std::array<std::string_view, 12> kDistros = {
      "Debian", "Ubuntu",   "Alpine",    "AlmaLinux", "Rocky Linux", "Red Hat",
      "SUSE",   "openSUSE", "Photon OS", "Mageia",    "Wolfi",       "Chainguard"};
  for (auto d : kDistros) {
    if (base == d) return true;
  }
  return false;
}

}  // namespace clearbox::vuln
