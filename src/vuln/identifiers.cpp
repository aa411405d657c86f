#include "vuln/identifiers.hpp"

#include <array>
#include <utility>
#include <vector>

namespace clearbox::vuln {
namespace {

constexpr std::size_t kMaxIdentifierLength = 4096;
constexpr std::size_t kMaxPurlQualifiers = 32;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Cpe::VersionWithUpdate() const {
  if (update.empty() || update == "*" || update == "-") return version;
  return version + "-" + update;
}

Result<Cpe> ParseCpe(std::string_view text) {
  if (text.size() > kMaxIdentifierLength) return Fail(ErrorCode::kLimitExceeded, "CPE too long");
  std::vector<std::string> fields;
  bool uri = false;
  if (text.starts_with("cpe:2.3:")) {
    text.remove_prefix(8);
  } else if (text.starts_with("cpe:/")) {
    text.remove_prefix(5);
    uri = true;
  } else {
    return Fail(ErrorCode::kMalformed, "not a CPE name: " + std::string(text.substr(0, 80)));
  }
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && !uri && i + 1 < text.size()) {
      current.push_back(text[++i]);  // quoted character: kept literally
    } else if (c == ':') {
      fields.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  fields.push_back(std::move(current));
  if (uri) {
    for (auto& f : fields) {
      f = PercentDecode(f);
      if (f.empty()) f = "*";
    }
  }
  if (fields.size() < 3 || fields.size() > 11) {
    return Fail(ErrorCode::kMalformed, "CPE has " + std::to_string(fields.size()) + " fields");
  }
  fields.resize(11, "*");
  for (auto& f : fields) f = AsciiLower(f);
  if (fields[0] != "a" && fields[0] != "o" && fields[0] != "h" && fields[0] != "*") {
    return Fail(ErrorCode::kMalformed, "CPE part must be a, o or h");
  }
  if (fields[1].empty() || fields[2].empty()) return Fail(ErrorCode::kMalformed, "empty CPE field");
  Cpe cpe;
  cpe.part = fields[0];
  cpe.vendor = fields[1];
  cpe.product = fields[2];
  cpe.version = fields[3].empty() ? "*" : fields[3];
  cpe.update = fields[4].empty() ? "*" : fields[4];
  cpe.edition = fields[5];
  cpe.language = fields[6];
  cpe.sw_edition = fields[7];
  cpe.target_sw = fields[8];
  cpe.target_hw = fields[9];
  cpe.other = fields[10];
  return cpe;
}

std::string Purl::Key() const {
  std::string key = "pkg:" + type + "/";
  if (!name_space.empty()) key += name_space + "/";
  return key + name;
}

Result<Purl> ParsePurl(std::string_view text) {
  if (text.size() > kMaxIdentifierLength) return Fail(ErrorCode::kLimitExceeded, "purl too long");
  if (!text.starts_with("pkg:")) return Fail(ErrorCode::kMalformed, "not a purl");
  text.remove_prefix(4);
  while (text.starts_with("/")) text.remove_prefix(1);
  if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  Purl purl;
  if (auto q = text.find('?'); q != std::string_view::npos) {
    std::string_view query = text.substr(q + 1);
    text = text.substr(0, q);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0 || eq + 1 == pair.size()) continue;
      if (purl.qualifiers.size() >= kMaxPurlQualifiers) {
        return Fail(ErrorCode::kLimitExceeded, "purl with too many qualifiers");
      }
      purl.qualifiers[AsciiLower(pair.substr(0, eq))] = PercentDecode(pair.substr(eq + 1));
    }
  }
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    purl.version = PercentDecode(text.substr(at + 1));
    text = text.substr(0, at);
  }
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    return Fail(ErrorCode::kMalformed, "purl without type/name");
  }
  purl.type = AsciiLower(text.substr(0, slash));
  text.remove_prefix(slash + 1);
  // An empty segment ("pkg:deb//x", "pkg:deb/ns/@1") means a missing namespace or name.
  if (text.empty() || text.ends_with("/") || text.starts_with("/") ||
      text.find("//") != std::string_view::npos) {
    return Fail(ErrorCode::kMalformed, "purl with an empty namespace or name segment");
  }
  const auto last = text.rfind('/');
  if (last != std::string_view::npos) {
    purl.name_space = AsciiLower(PercentDecode(text.substr(0, last)));
    text.remove_prefix(last + 1);
  }
  purl.name = AsciiLower(PercentDecode(text));
  if (purl.name.empty()) return Fail(ErrorCode::kMalformed, "purl without name");
  return purl;
}

std::string_view EcosystemOfPurlType(std::string_view type) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kMap = {{
      {"deb", "Debian"},
      {"pypi", "PyPI"},
      {"npm", "npm"},
      {"maven", "Maven"},
      {"golang", "Go"},
      {"cargo", "crates.io"},
      {"gem", "RubyGems"},
      {"nuget", "NuGet"},
      {"apk", "Alpine"},
      {"alpine", "Alpine"},
      {"composer", "Packagist"},
      {"hex", "Hex"},
      {"pub", "Pub"},
      {"rpm", "Red Hat"},
  }};
  for (const auto& [t, eco] : kMap) {
    if (t == type) return eco;
  }
  return "";
}

}  // namespace clearbox::vuln
