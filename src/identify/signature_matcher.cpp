#include "identify/signature_matcher.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/hex.hpp"
#include "core/read_file.hpp"

namespace clearbox::identify {
namespace {

using nlohmann::json;

std::string GetString(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// A captured version is usable when it is short, has a digit and only version characters.
bool PlausibleVersion(std::string_view v) {
  if (v.empty() || v.size() > kMaxVersionLength) return false;
  bool digit = false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isdigit(u)) digit = true;
    if (!std::isalnum(u) && c != '.' && c != '-' && c != '_' && c != '+' && c != '~') {
      return false;
    }
  }
  return digit;
}

// The version from a match: the first group that matched, or all groups joined by '.'
// with leading zeros dropped ("2", "09", "14" -> "2.9.14").
template <class Match>
std::string VersionFromGroups(const Match& m, bool join) {
  std::string version;
  for (std::size_t g = 1; g < m.size(); ++g) {
    if (!m[g].matched) continue;
    std::string part = m[g].str();
    if (!join) return part;
    while (part.size() > 1 && part.front() == '0') part.erase(part.begin());
    if (!version.empty()) version.push_back('.');
    version += part;
  }
  return version;
}

bool PrintableByte(std::uint8_t c) {
  return (c >= 0x20 && c < 0x7f) || c == '\t';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Words that, right before a product-and-version string, make it a mention of that version
// rather than the program's own identity ("added in curl 7.66.0", "requires OpenSSL 1.1.1",
// "fixed since 1.2", "older than 3.0").
bool MentionWord(std::string_view word) {
  static constexpr std::string_view kWords[] = {
      "in",     "since", "before",  "after",      "from",      "than",      "until",    "till",
      "to",     "added", "removed", "deprecated", "requires",  "require",   "required", "needs",
      "need",   "prior", "older",   "newer",      "least",     "and",       "or",       "vs",
      "versus", "below", "above",   "upto",       "obsoleted", "introduced"};
  for (std::string_view w : kWords) {
    if (word == w) return true;
  }
  return false;
}

// Whether the match [start, end) sits in text that only mentions its version: the word before
// it in the same string is a MentionWord, or the text after it says "or later" and the like.
bool IsMention(ByteView data, std::uint64_t start, std::uint64_t end) {
  std::uint64_t b = start;
  while (b > 0 && start - b < 64 && PrintableByte(data[b - 1])) --b;
  std::string_view before(reinterpret_cast<const char*>(data.data() + b), start - b);
  while (!before.empty() && !std::isalnum(static_cast<unsigned char>(before.back()))) {
    before.remove_suffix(1);
  }
  std::size_t w = before.size();
  while (w > 0 && std::isalpha(static_cast<unsigned char>(before[w - 1]))) --w;
  const bool whole_word =
      w < before.size() && (w == 0 || !std::isalnum(static_cast<unsigned char>(before[w - 1])));
  if (whole_word && MentionWord(Lower(before.substr(w)))) return true;
  std::uint64_t e = end;
  while (e < data.size() && e - end < 24 && PrintableByte(data[e])) ++e;
  const std::string after =
      Lower(std::string_view(reinterpret_cast<const char*>(data.data() + end), e - end));
  for (std::string_view tail : {" or later", " or newer", " or higher", " or above", " or greater",
                                " and later", " and newer", " and above", " and higher"}) {
    if (after.starts_with(tail)) return true;
  }
  return false;
}

// Orders versions by their numeric and word runs ("1.10" > "1.9", "9.3p1" > "9.3").
int CompareVersions(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i >= a.size()) return -1;
    if (j >= b.size()) return 1;
    const bool da = std::isdigit(static_cast<unsigned char>(a[i]));
    const bool db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      while (i < a.size() && a[i] == '0') ++i;
      while (j < b.size() && b[j] == '0') ++j;
      std::size_t ei = i, ej = j;
      while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
      while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
      if (ei - i != ej - j) return ei - i < ej - j ? -1 : 1;
      if (int c = a.substr(i, ei - i).compare(b.substr(j, ej - j)); c != 0) return c < 0 ? -1 : 1;
      i = ei;
      j = ej;
    } else if (a[i] != b[j]) {
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
    } else {
      ++i;
      ++j;
    }
  }
  return 0;
}

// The leading "A.B[.C]" of a release string, or empty.
std::string LeadingNumericVersion(std::string_view s) {
  std::size_t i = 0, dots = 0;
  while (i < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (s[i] == '.' && i > 0 && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
               i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) && dots < 2) {
      ++dots;
      ++i;
    } else {
      break;
    }
  }
  return dots >= 1 ? std::string(s.substr(0, i)) : std::string();
}

}  // namespace

SignatureMatcher::~SignatureMatcher() = default;

Result<std::vector<SignatureRule>> ParseSignatureRules(std::string_view text,
                                                       std::string_view origin) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("rules") ||
      !doc["rules"].is_array()) {
    return Fail(ErrorCode::kMalformed,
                std::string(origin) + ": not a rule file (object with a \"rules\" array)");
  }
  std::vector<SignatureRule> out;
  std::size_t index = 0;
  for (const json& entry : doc["rules"]) {
    const std::string where = std::string(origin) + " rule " + std::to_string(index++);
    if (!entry.is_object()) return Fail(ErrorCode::kMalformed, where + ": not an object");
    SignatureRule rule;
    rule.origin = std::string(origin);
    rule.component = GetString(entry, "component");
    rule.vendor = GetString(entry, "vendor");
    rule.product = GetString(entry, "product");
    rule.purl_name = GetString(entry, "purl_name");
    if (rule.purl_name.empty()) rule.purl_name = rule.component;
    if (rule.component.empty() || rule.vendor.empty() || rule.product.empty()) {
      return Fail(ErrorCode::kMalformed, where + ": component, vendor and product are required");
    }
    if (auto it = entry.find("packages"); it != entry.end() && it->is_array()) {
      for (const json& p : *it) {
        if (p.is_string()) rule.packages.push_back(p.get<std::string>());
      }
    }
    if (auto it = entry.find("linked_as"); it != entry.end() && it->is_array()) {
      for (const json& p : *it) {
        if (p.is_string()) rule.linked_as.push_back(p.get<std::string>());
      }
    }
    auto patterns = entry.find("patterns");
    if (patterns == entry.end() || !patterns->is_array() ||
        (patterns->empty() && rule.packages.empty())) {
      return Fail(ErrorCode::kMalformed, where + " (" + rule.component + "): no patterns");
    }
    for (const json& p : *patterns) {
      if (!p.is_object()) return Fail(ErrorCode::kMalformed, where + ": pattern not an object");
      SignaturePattern pattern;
      pattern.regex = GetString(p, "regex");
      pattern.path_regex = GetString(p, "path");
      if (std::string method = GetString(p, "method"); !method.empty()) pattern.method = method;
      if (auto c = p.find("confidence"); c != p.end() && c->is_number()) {
        pattern.confidence = Confidence(c->get<double>());
      }
      if (auto s = p.find("single"); s != p.end() && s->is_boolean()) pattern.single = *s;
      if (auto j = p.find("join_groups"); j != p.end() && j->is_boolean()) {
        pattern.join_groups = *j;
      }
      if (auto c = p.find("copies"); c != p.end() && c->is_boolean()) pattern.copies = *c;
      if (pattern.regex.empty() && pattern.path_regex.empty()) {
        return Fail(ErrorCode::kMalformed, where + ": pattern without regex or path");
      }
      if (pattern.regex.empty() && pattern.method == "signature") pattern.method = "filename";
      rule.patterns.push_back(std::move(pattern));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

Result<std::vector<SignatureRule>> LoadSignatureRules(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) return Fail(ErrorCode::kIo, "cannot list " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<SignatureRule> rules;
  for (const auto& file : files) {
    auto text = ReadFileCapped(file, kMaxRuleFileBytes);
    if (!text) return Forward(text);
    auto parsed = ParseSignatureRules(*text, file.filename().string());
    if (!parsed) return Forward(parsed);
    for (auto& rule : *parsed) rules.push_back(std::move(rule));
  }
  if (rules.empty())
    return Fail(ErrorCode::kInvalidArgument, "no signature rules in " + dir.string());
  return rules;
}

Result<std::shared_ptr<const SignatureMatcher>> SignatureMatcher::Build(
    std::vector<SignatureRule> rules) {
  std::shared_ptr<SignatureMatcher> matcher(new SignatureMatcher());
  matcher->rules_ = std::move(rules);
  std::vector<std::string> names;  // how compile errors name each content pattern
  for (std::uint32_t r = 0; r < matcher->rules_.size(); ++r) {
    const SignatureRule& rule = matcher->rules_[r];
    for (std::uint32_t p = 0; p < rule.patterns.size(); ++p) {
      const SignaturePattern& pattern = rule.patterns[p];
      Compiled compiled;
      compiled.rule = r;
      compiled.pattern = p;
      const std::string where =
          rule.origin + " " + rule.component + " pattern " + std::to_string(p);
      try {
        if (!pattern.regex.empty()) {
          compiled.content_at_end =
              std::regex("(?:" + pattern.regex + ")$", std::regex::ECMAScript);
          if (compiled.content_at_end.mark_count() < 1) {
            return Fail(ErrorCode::kMalformed, where + ": regex has no version group");
          }
        }
        if (!pattern.path_regex.empty()) {
          compiled.path = std::regex(pattern.path_regex, std::regex::ECMAScript);
          compiled.has_path = true;
          if (pattern.regex.empty() && compiled.path.mark_count() < 1) {
            return Fail(ErrorCode::kMalformed, where + ": path pattern has no version group");
          }
        }
      } catch (const std::regex_error& e) {
        return Fail(ErrorCode::kMalformed, where + ": bad regex: " + e.what());
      }
      if (pattern.regex.empty()) {
        matcher->path_only_.push_back(std::move(compiled));
        continue;
      }
      matcher->content_.push_back(std::move(compiled));
      names.push_back(where);
    }
  }
  if (matcher->content_.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "no content patterns");
  }
  // Views into rules_ stay valid: the vector is not modified after this point.
  std::vector<RegexPattern> expressions;
  for (std::size_t id = 0; id < matcher->content_.size(); ++id) {
    const Compiled& c = matcher->content_[id];
    expressions.push_back({.expression = matcher->rules_[c.rule].patterns[c.pattern].regex,
                           .id = static_cast<std::uint32_t>(id),
                           .name = names[id]});
  }
  auto set = PatternSet::CompileRegexes(expressions);
  if (!set) return Fail(ErrorCode::kMalformed, set.error().message);
  matcher->content_set_.emplace(std::move(*set));
  return std::shared_ptr<const SignatureMatcher>(std::move(matcher));
}

namespace {

// Match ends of every pattern, (pattern id, absolute end), from one vectorscan pass (without
// start-of-match tracking, which costs ten times the scan speed); `capped` past the cap.
Result<std::vector<std::pair<unsigned, std::uint64_t>>> CollectMatchEnds(const PatternSet& set,
                                                                         ByteView data,
                                                                         bool& capped) {
  std::vector<std::pair<unsigned, std::uint64_t>> ends;
  std::uint64_t base = 0;  // where the current slice starts
  bool ends_capped = false;
  auto on_match = [&](std::uint32_t id, std::uint64_t, std::uint64_t to) {
    if (ends.size() >= kMaxRawMatchesPerFile) {
      ends_capped = true;
      return ScanControl::kStop;
    }
    ends.emplace_back(id, base + to);
    return ScanControl::kContinue;
  };
  // vectorscan takes 32-bit lengths: scan in slices overlapping by the longest match.
  constexpr std::uint64_t kSlice = 256ULL << 20;
  for (std::uint64_t pos = 0; pos < data.size(); pos += kSlice) {
    const std::uint64_t end = std::min<std::uint64_t>(data.size(), pos + kSlice + kMaxMatchBytes);
    base = pos;
    auto scanned = set.Scan(data.subspan(pos, end - pos), on_match);
    if (!scanned) return Forward(scanned);
    if (*scanned == ScanOutcome::kStopped) break;
    if (end == data.size()) break;
  }
  capped = ends_capped;
  return ends;
}

// A match confirmed by the end-anchored regex, before versions are chosen.
struct ConfirmedMatch {
  std::uint32_t rule = 0, pattern = 0;
  std::uint64_t start = 0, end = 0;
  std::string version;
  bool mention = false;
  std::string release, distro_version;
};

// A kernel banner or vermagic match: the whole string holding it gives the upstream version,
// the release and the distribution's version (which follow the match).
void ReadKernelString(ByteView data, const std::string& method, ConfirmedMatch& c) {
  std::uint64_t string_end = c.start;
  while (string_end < data.size() && string_end - c.start < kMaxMatchBytes &&
         data[string_end] != 0 && data[string_end] != '\n') {
    ++string_end;
  }
  std::string_view text(reinterpret_cast<const char*>(data.data() + c.start), string_end - c.start);
  if (method == "vermagic") {
    if (auto eq = text.find('='); eq != std::string_view::npos) text.remove_prefix(eq + 1);
    text = text.substr(0, text.find(' '));
  }
  const KernelRelease kernel = ParseKernelBanner(text);
  if (!kernel.upstream.empty()) c.version = kernel.upstream;
  c.release = kernel.release;
  c.distro_version = kernel.distro_version;
}

// One hit per (rule, pattern, version), at its first identifying offset, counting its
// occurrences; patterns marked `single` that saw several versions give none.
std::vector<SignatureHit> UniqueHits(std::vector<ConfirmedMatch>& confirmed, ByteView data,
                                     const std::vector<SignatureRule>& rules) {
  std::sort(confirmed.begin(), confirmed.end(),
            [](const ConfirmedMatch& a, const ConfirmedMatch& b) {
              return std::tie(a.rule, a.pattern, a.start) < std::tie(b.rule, b.pattern, b.start);
            });
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::string>, SignatureHit> unique;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::set<std::string>> versions;
  for (const ConfirmedMatch& c : confirmed) {
    if (!c.mention) versions[{c.rule, c.pattern}].insert(c.version);
    auto ukey = std::make_tuple(c.rule, c.pattern, c.version);
    auto it = unique.find(ukey);
    if (it != unique.end()) {
      ++it->second.occurrences;
      if (!it->second.mention || c.mention) continue;  // the first identifying offset wins
    }
    std::uint64_t shown_end = c.end;
    if (!c.distro_version.empty()) {  // show the banner up to its distribution version
      while (shown_end < data.size() && shown_end - c.start < kMaxMatchBytes &&
             data[shown_end] != 0 && data[shown_end] != '\n') {
        ++shown_end;
      }
    }
    const std::string_view text(reinterpret_cast<const char*>(data.data() + c.start),
                                shown_end - c.start);
    SignatureHit hit;
    hit.rule = c.rule;
    hit.pattern = c.pattern;
    hit.version = c.version;
    hit.matched = EscapeMatched(text, c.distro_version.empty() ? 160 : 320);
    hit.offset = c.start;
    hit.mention = c.mention;
    hit.release = c.release;
    hit.distro_version = c.distro_version;
    if (it != unique.end()) {
      hit.occurrences = it->second.occurrences;
      it->second = std::move(hit);
    } else {
      unique.emplace(ukey, std::move(hit));
    }
  }
  std::vector<SignatureHit> hits;
  for (auto& [key, hit] : unique) {
    const SignaturePattern& pattern = rules[hit.rule].patterns[hit.pattern];
    if (pattern.single && versions[{hit.rule, hit.pattern}].size() > 1) continue;
    hits.push_back(std::move(hit));
  }
  return hits;
}

}  // namespace

Result<std::vector<SignatureHit>> SignatureMatcher::Scan(ByteView data, std::string_view path,
                                                         bool* capped) const {
  if (capped) *capped = false;
  if (data.empty()) return std::vector<SignatureHit>{};
  bool ends_capped = false;
  auto collected = CollectMatchEnds(*content_set_, data, ends_capped);
  if (!collected) return Forward(collected);
  std::vector<std::pair<unsigned, std::uint64_t>>& ends = *collected;
  // Per pattern, from the last end backwards: an end inside an already confirmed match is a
  // shorter match of the same text ("2.10" inside "2.10.1") and is skipped; any other end is
  // confirmed by the end-anchored regex over the window before it, whose leftmost match is
  // the longest one ending there.
  std::sort(ends.begin(), ends.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
  std::vector<ConfirmedMatch> confirmed;
  const std::string path_string(path);
  std::size_t confirmations = 0;
  unsigned current_id = ~0u;
  bool path_ok = false;
  std::uint64_t covered_start = 0;
  for (const auto& [id, match_end] : ends) {
    const Compiled& compiled = content_[id];
    if (id != current_id) {
      current_id = id;
      path_ok = !compiled.has_path || std::regex_search(path_string, compiled.path);
      covered_start = ~0ull;
    }
    if (!path_ok || match_end > data.size()) continue;
    if (covered_start != ~0ull && match_end > covered_start) continue;  // inside the last match
    if (++confirmations > kMaxConfirmationsPerFile) {
      ends_capped = true;
      break;
    }
    const std::uint64_t window_start = match_end > kMaxMatchBytes ? match_end - kMaxMatchBytes : 0;
    const std::string_view window(reinterpret_cast<const char*>(data.data() + window_start),
                                  match_end - window_start);
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(window.begin(), window.end(), m, compiled.content_at_end)) continue;
    const std::uint64_t start = window_start + static_cast<std::uint64_t>(m.position(0));
    covered_start = start;
    ConfirmedMatch c;
    c.rule = compiled.rule;
    c.pattern = compiled.pattern;
    c.start = start;
    c.end = match_end;
    c.version = VersionFromGroups(m, rules_[compiled.rule].patterns[compiled.pattern].join_groups);
    while (!c.version.empty() && (c.version.back() == '.' || c.version.back() == '-')) {
      c.version.pop_back();
    }
    const std::string& method = rules_[compiled.rule].patterns[compiled.pattern].method;
    if (method == "kernel-banner" || method == "vermagic") {
      ReadKernelString(data, method, c);
    } else {
      c.mention = IsMention(data, start, match_end);
    }
    if (!PlausibleVersion(c.version)) continue;
    confirmed.push_back(std::move(c));
  }
  if (capped) *capped = ends_capped;
  std::vector<SignatureHit> hits = UniqueHits(confirmed, data, rules_);
  SelectVersions(hits, rules_);
  return hits;
}

std::vector<SignatureHit> SignatureMatcher::ScanPath(std::string_view path) const {
  std::vector<SignatureHit> hits;
  const std::string path_string(path);
  for (const Compiled& compiled : path_only_) {
    std::smatch m;
    if (!std::regex_search(path_string, m, compiled.path)) continue;
    const std::string version =
        VersionFromGroups(m, rules_[compiled.rule].patterns[compiled.pattern].join_groups);
    if (!PlausibleVersion(version)) continue;
    SignatureHit hit;
    hit.rule = compiled.rule;
    hit.pattern = compiled.pattern;
    hit.version = version;
    hit.matched = EscapeMatched(m[0].str());
    // A version that starts a path segment names a release directory ("lib/modules/<release>/").
    const auto at = static_cast<std::size_t>(m.position(1));
    if (at > 0 && path_string[at - 1] == '/') {
      hit.release = path_string.substr(at, path_string.find('/', at) - at);
    }
    hits.push_back(std::move(hit));
  }
  return hits;
}

KernelRelease ParseKernelBanner(std::string_view banner) {
  KernelRelease out;
  std::string_view text = banner;
  if (text.starts_with("Ubuntu ")) {  // the version signature alone: "Ubuntu <package> <upstream>"
    text.remove_prefix(7);
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return out;
    const std::string_view package = text.substr(0, space);  // "5.15.0-91.101-generic"
    out.upstream = LeadingNumericVersion(text.substr(space + 1));
    const std::size_t dash = package.find('-');
    const std::size_t flavour =
        dash == std::string_view::npos ? std::string_view::npos : package.find('-', dash + 1);
    out.distro_version = std::string(package.substr(0, flavour));
    // The release drops the upload number: "5.15.0-91.101-generic" -> "5.15.0-91-generic".
    const std::size_t dot = out.distro_version.find('.', dash == std::string_view::npos ? 0 : dash);
    out.release = std::string(package.substr(0, std::min(dot, flavour)));
    if (flavour != std::string_view::npos) out.release += std::string(package.substr(flavour));
    if (out.release.size() > kMaxVersionLength || out.distro_version.size() > kMaxVersionLength) {
      return KernelRelease{};
    }
    return out;
  }
  if (text.starts_with("Linux version ")) text.remove_prefix(14);
  out.release = std::string(text.substr(0, text.find(' ')));
  if (out.release.size() > kMaxVersionLength) out.release.resize(kMaxVersionLength);
  out.upstream = LeadingNumericVersion(out.release);
  // The distribution part follows the build number "#N".
  const std::size_t hash = text.find(" #");
  if (hash == std::string_view::npos) return out;
  const std::string_view tail = text.substr(hash);
  // Ubuntu: "(Ubuntu 5.15.0-91.101-generic 5.15.131)".
  if (auto u = tail.rfind("(Ubuntu "); u != std::string_view::npos) {
    std::string_view sig = tail.substr(u + 8);
    sig = sig.substr(0, sig.find(')'));
    const std::size_t space = sig.find(' ');
    if (space != std::string_view::npos) {
      const std::string upstream = LeadingNumericVersion(sig.substr(space + 1));
      if (!upstream.empty()) {
        std::string_view package = sig.substr(0, space);  // "5.15.0-91.101-generic"
        const std::size_t dash = package.find('-');
        const std::size_t flavour =
            dash == std::string_view::npos ? std::string_view::npos : package.find('-', dash + 1);
        out.distro_version = std::string(package.substr(0, flavour));
        out.upstream = upstream;
        return out;
      }
    }
  }
  // Debian: "... #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2025-...)".
  if (auto d = tail.rfind(" Debian "); d != std::string_view::npos) {
    std::string_view v = tail.substr(d + 8);
    v = v.substr(0, v.find(' '));
    const std::string upstream = LeadingNumericVersion(v);
    if (!upstream.empty() && v.size() <= kMaxVersionLength) {
      out.upstream = upstream;
      out.distro_version = std::string(v);
    }
  }
  return out;
}

void SelectVersions(std::vector<SignatureHit>& hits, const std::vector<SignatureRule>& rules) {
  std::erase_if(hits, [](const SignatureHit& h) { return h.mention; });
  std::map<std::uint32_t, std::vector<SignatureHit*>> by_rule;
  for (SignatureHit& h : hits) by_rule[h.rule].push_back(&h);
  std::set<std::pair<std::uint32_t, std::string>> keep;  // (rule, version)
  for (auto& [rule, group] : by_rule) {
    const SignatureHit* best = nullptr;
    for (const SignatureHit* h : group) {
      if (!best) {
        best = h;
        continue;
      }
      const Confidence ch = rules[rule].patterns[h->pattern].confidence;
      const Confidence cb = rules[rule].patterns[best->pattern].confidence;
      if (ch != cb) {
        if (ch > cb) best = h;
        continue;
      }
      if (h->occurrences != best->occurrences) {
        if (h->occurrences > best->occurrences) best = h;
        continue;
      }
      const int order = CompareVersions(h->version, best->version);
      if (order > 0 || (order == 0 && h->version > best->version)) best = h;
    }
    keep.insert({rule, best->version});
    for (const SignatureHit* h : group) {
      if (rules[rule].patterns[h->pattern].copies) keep.insert({rule, h->version});
    }
  }
  std::erase_if(hits, [&](const SignatureHit& h) { return !keep.contains({h.rule, h.version}); });
  std::sort(hits.begin(), hits.end(), [](const SignatureHit& a, const SignatureHit& b) {
    return std::tie(a.rule, a.pattern, a.version, a.offset) <
           std::tie(b.rule, b.pattern, b.version, b.offset);
  });
}

std::string MakeCpe(std::string_view vendor, std::string_view product, std::string_view version) {
  auto escape = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '_' || c == '-' || c == '.') {
        out.push_back(static_cast<char>(std::tolower(u)));
      } else {
        out.push_back('\\');
        out.push_back(c);
      }
    }
    return out.empty() ? std::string("*") : out;
  };
  return "cpe:2.3:a:" + escape(vendor) + ":" + escape(product) + ":" + escape(version) +
         ":*:*:*:*:*:*:*";
}

std::string PurlEncode(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':') {
      out.push_back(c);
    } else {
      out.push_back('%');
      AppendHexByte(out, u, /*upper=*/true);
    }
  }
  return out;
}

std::string EscapeMatched(std::string_view bytes, std::size_t max_chars) {
  std::string out;
  for (char c : bytes) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      AppendHexByte(out, u);
    }
  }
  return out;
}

}  // namespace clearbox::identify
