#include "identify/pkgdb.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace clearbox::identify {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls `line_fn(line)` for each '\n'-separated line of `text` (no terminator included).
template <class Fn>
void ForEachLine(std::string_view text, Fn&& line_fn) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (!line_fn(text.substr(pos, end - pos))) return;
    pos = end + 1;
  }
}

// First whitespace-delimited word ("openssl (3.0.1-1)" -> "openssl").
std::string_view FirstWord(std::string_view s) {
  s = Trim(s);
  const std::size_t end = s.find_first_of(" \t(");
  return end == std::string_view::npos ? s : s.substr(0, end);
}

}  // namespace

std::string_view FieldValue(const ControlStanza& stanza, std::string_view field) {
  for (const auto& [name, value] : stanza) {
    if (EqualsIgnoreCase(name, field)) return value;
  }
  return {};
}

Result<std::vector<ControlStanza>> ParseControlStanzas(std::string_view text) {
  if (text.size() > kMaxPackageDbBytes) {
    return Fail(ErrorCode::kLimitExceeded, "package database larger than the cap");
  }
  std::vector<ControlStanza> out;
  ControlStanza current;
  bool over_limit = false;
  auto flush = [&] {
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
  };
  ForEachLine(text, [&](std::string_view line) {
    if (Trim(line).empty()) {
      flush();
      if (out.size() > kMaxPackages) {
        over_limit = true;
        return false;
      }
      return true;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      // Continuation of the previous field; orphan continuations are ignored.
      if (current.empty()) return true;
      std::string& value = current.back().second;
      if (value.size() + line.size() + 1 > kMaxFieldBytes) return true;
      value.push_back('\n');
      value.append(Trim(line));
      return true;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return true;  // not a field: skip
    if (current.size() >= kMaxFieldsPerStanza) return true;
    std::string_view value = Trim(line.substr(colon + 1));
    if (value.size() > kMaxFieldBytes) value = value.substr(0, kMaxFieldBytes);
    current.emplace_back(std::string(Trim(line.substr(0, colon))), std::string(value));
    return true;
  });
  if (over_limit) return Fail(ErrorCode::kLimitExceeded, "too many packages in database");
  flush();
  if (out.size() > kMaxPackages) {
    return Fail(ErrorCode::kLimitExceeded, "too many packages in database");
  }
  return out;
}

std::size_t CountNonFieldLines(std::string_view text) {
  std::size_t bad = 0;
  ForEachLine(text, [&](std::string_view line) {
    if (Trim(line).empty() || line.front() == ' ' || line.front() == '\t') return true;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) ++bad;
    return true;
  });
  return bad;
}

Result<std::vector<PackageRecord>> ParseDpkgStatus(std::string_view text) {
  auto stanzas = ParseControlStanzas(text);
  if (!stanzas) return Forward(stanzas);
  std::vector<PackageRecord> out;
  for (const ControlStanza& stanza : *stanzas) {
    PackageRecord record;
    record.name = std::string(Trim(FieldValue(stanza, "Package")));
    record.version = std::string(Trim(FieldValue(stanza, "Version")));
    record.arch = std::string(Trim(FieldValue(stanza, "Architecture")));
    record.status = std::string(Trim(FieldValue(stanza, "Status")));
    std::string_view source = FieldValue(stanza, "Source");
    if (source.empty()) source = FieldValue(stanza, "SourceName");  // OpenWrt control files
    record.source = std::string(FirstWord(source));
    // "Source: openssl (3.0.11-1~deb12u2)": the source version, when it differs (binNMUs).
    if (auto open = source.find('('); open != std::string_view::npos) {
      const auto close = source.find(')', open);
      if (close != std::string_view::npos) {
        record.source_version = std::string(Trim(source.substr(open + 1, close - open - 1)));
      }
    }
    // Names and architectures become file names (info/<name>[:<arch>].list): no separators.
    if (record.name.empty() || record.name.find_first_of(" \t/\n\\") != std::string::npos ||
        record.name == "." || record.name == "..") {
      continue;
    }
    if (record.arch.find_first_of(" \t/\n\\") != std::string::npos) record.arch.clear();
    // "want flag state": keep what is (at least partly) on disk.
    const std::string_view state =
        record.status.empty()
            ? std::string_view("installed")
            : std::string_view(record.status)
                  .substr(std::min(record.status.size(), record.status.rfind(' ') + 1));
    if (state == "not-installed" || state == "config-files") continue;
    out.push_back(std::move(record));
  }
  return out;
}

Result<std::vector<std::string>> ParseFileList(std::string_view text) {
  if (text.size() > kMaxPackageDbBytes) {
    return Fail(ErrorCode::kLimitExceeded, "file list larger than the cap");
  }
  std::vector<std::string> out;
  bool over_limit = false;
  ForEachLine(text, [&](std::string_view line) {
    // opkg lists may carry "\t<mode>" or "\t<symlink target>" after the path.
    const std::size_t tab = line.find('\t');
    if (tab != std::string_view::npos) line = line.substr(0, tab);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line == "/." || line == "/") return true;
    if (out.size() >= kMaxFilesPerPackage) {
      over_limit = true;
      return false;
    }
    out.emplace_back(line);
    return true;
  });
  if (over_limit) return Fail(ErrorCode::kLimitExceeded, "too many entries in file list");
  return out;
}

Result<std::vector<PackageRecord>> ParseApkInstalled(std::string_view text) {
  if (text.size() > kMaxPackageDbBytes) {
    return Fail(ErrorCode::kLimitExceeded, "apk database larger than the cap");
  }
  std::vector<PackageRecord> out;
  PackageRecord current;
  std::string dir;
  bool over_limit = false;
  auto flush = [&] {
    if (!current.name.empty()) out.push_back(std::move(current));
    current = PackageRecord{};
    dir.clear();
  };
  ForEachLine(text, [&](std::string_view line) {
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      flush();
      if (out.size() > kMaxPackages) {
        over_limit = true;
        return false;
      }
      return true;
    }
    if (line.size() < 2 || line[1] != ':') return true;
    const char key = line[0];
    const std::string_view value = line.substr(2);
    switch (key) {
      case 'P': current.name = std::string(value); break;
      case 'V': current.version = std::string(value); break;
      case 'A': current.arch = std::string(value); break;
      case 'o': current.source = std::string(value); break;
      case 'F': dir = std::string(value); break;
      case 'R':
        if (current.files.size() >= kMaxFilesPerPackage) break;
        if (value.empty() || value.find('/') != std::string_view::npos) break;
        current.files.push_back("/" + (dir.empty() ? std::string() : dir + "/") +
                                std::string(value));
        break;
      default: break;
    }
    return true;
  });
  if (over_limit) return Fail(ErrorCode::kLimitExceeded, "too many packages in apk database");
  flush();
  if (out.size() > kMaxPackages) {
    return Fail(ErrorCode::kLimitExceeded, "too many packages in apk database");
  }
  return out;
}

Result<UdebSources> ParseUdebSources(std::string_view json) {
  UdebSources out;
  try {
    const auto root = nlohmann::json::parse(json);
    for (const auto& [udeb, source] : root.at("sources").items()) {
      std::string name = source.get<std::string>();
      if (udeb.empty() || name.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "udeb sources: empty name for '" + udeb + "'");
      }
      out.emplace(udeb, std::move(name));
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("udeb sources: ") + e.what());
  }
  return out;
}

std::string DebianUpstreamVersion(std::string_view version) {
  version = Trim(version);
  const std::size_t colon = version.find(':');
  if (colon != std::string_view::npos) {
    const std::string_view epoch = version.substr(0, colon);
    if (!epoch.empty() && std::all_of(epoch.begin(), epoch.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      version = version.substr(colon + 1);
    }
  }
  const std::size_t dash = version.rfind('-');
  if (dash != std::string_view::npos && dash > 0) version = version.substr(0, dash);
  return std::string(version);
}

std::string ApkUpstreamVersion(std::string_view version) {
  version = Trim(version);
  const std::size_t dash = version.rfind("-r");
  if (dash != std::string_view::npos && dash > 0 && dash + 2 < version.size() &&
      std::all_of(version.begin() + static_cast<std::ptrdiff_t>(dash + 2), version.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    version = version.substr(0, dash);
  }
  return std::string(version);
}

std::string StripRepackSuffix(std::string_view upstream) {
  // "1.0+really0.9" is upstream 0.9 shipped under a higher number.
  const std::size_t really = upstream.find("+really");
  if (really != std::string_view::npos) upstream = upstream.substr(really + 7);
  // OpenWrt writes some versions as "v1.20"; libevent's upstream name is "2.1.12-stable".
  if (upstream.size() > 1 && (upstream[0] == 'v' || upstream[0] == 'V') &&
      std::isdigit(static_cast<unsigned char>(upstream[1]))) {
    upstream.remove_prefix(1);
  }
  if (upstream.ends_with("-stable")) upstream.remove_suffix(7);
  for (std::string_view marker : {"+dfsg", ".dfsg", "~dfsg", "+ds", ".ds", "~ds", "+repack",
                                  "~repack", ".repack", "+git", "~git"}) {
    const std::size_t at = upstream.find(marker);
    if (at != std::string_view::npos && at > 0) upstream = upstream.substr(0, at);
  }
  return std::string(upstream);
}

}  // namespace clearbox::identify
