#include "identify/signature_matcher.hpp"

#include <hs.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <tuple>

namespace clearbox::identify {
namespace {

using nlohmann::json;

Result<std::string> ReadSmallFile(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot stat " + path.string() + ": " + ec.message());
  if (size > kMaxRuleFileBytes) return Fail(ErrorCode::kLimitExceeded, "rule file too large");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kIo, "cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

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

struct ScratchHolder {
  hs_scratch_t* scratch = nullptr;
  ~ScratchHolder() {
    if (scratch) hs_free_scratch(scratch);
  }
};

}  // namespace

struct SignatureMatcher::Impl {
  hs_database_t* database = nullptr;
  ~Impl() {
    if (database) hs_free_database(database);
  }
};

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
        pattern.confidence = std::clamp(c->get<double>(), 0.0, 1.0);
      }
      if (auto s = p.find("single"); s != p.end() && s->is_boolean()) pattern.single = *s;
      if (auto j = p.find("join_groups"); j != p.end() && j->is_boolean()) {
        pattern.join_groups = *j;
      }
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
    auto text = ReadSmallFile(file);
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
  matcher->impl_ = std::make_unique<Impl>();
  matcher->rules_ = std::move(rules);
  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
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
      ids.push_back(static_cast<unsigned>(matcher->content_.size()));
      matcher->content_.push_back(std::move(compiled));
      flags.push_back(0);
    }
  }
  // Pointers into rules_ stay valid: the vector is not modified after this point.
  for (const Compiled& c : matcher->content_) {
    expressions.push_back(matcher->rules_[c.rule].patterns[c.pattern].regex.c_str());
  }
  if (expressions.empty()) return Fail(ErrorCode::kInvalidArgument, "no content patterns");
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr,
                       &matcher->impl_->database, &error) != HS_SUCCESS) {
    std::string message = error ? error->message : "unknown error";
    if (error && error->expression >= 0 &&
        static_cast<std::size_t>(error->expression) < matcher->content_.size()) {
      const Compiled& c = matcher->content_[static_cast<std::size_t>(error->expression)];
      message += " in " + matcher->rules_[c.rule].origin + " " + matcher->rules_[c.rule].component +
                 " pattern " + std::to_string(c.pattern);
    }
    hs_free_compile_error(error);
    return Fail(ErrorCode::kMalformed, "vectorscan compile failed: " + message);
  }
  return std::shared_ptr<const SignatureMatcher>(std::move(matcher));
}

Result<std::vector<SignatureHit>> SignatureMatcher::Scan(ByteView data, std::string_view path,
                                                         bool* capped) const {
  std::vector<SignatureHit> hits;
  if (capped) *capped = false;
  if (data.empty()) return hits;
  thread_local ScratchHolder holder;
  if (hs_alloc_scratch(impl_->database, &holder.scratch) != HS_SUCCESS) {
    return Fail(ErrorCode::kInternal, "vectorscan scratch allocation failed");
  }
  // Every match end per pattern (vectorscan without start-of-match tracking, which costs
  // ten times the scan speed); starts are found below by the end-anchored std::regex.
  struct Ctx {
    std::vector<std::pair<unsigned, std::uint64_t>> ends;  // (pattern id, absolute end)
    std::uint64_t base = 0;
    bool capped = false;
  } ctx;
  auto on_match = [](unsigned id, unsigned long long, unsigned long long to, unsigned,
                     void* user) -> int {
    auto* c = static_cast<Ctx*>(user);
    if (c->ends.size() >= kMaxRawMatchesPerFile) {
      c->capped = true;
      return 1;
    }
    c->ends.emplace_back(id, c->base + to);
    return 0;
  };
  // vectorscan takes 32-bit lengths: scan in slices overlapping by the longest match.
  constexpr std::uint64_t kSlice = 256ULL << 20;
  for (std::uint64_t pos = 0; pos < data.size(); pos += kSlice) {
    const std::uint64_t end = std::min<std::uint64_t>(data.size(), pos + kSlice + kMaxMatchBytes);
    ctx.base = pos;
    const hs_error_t rc =
        hs_scan(impl_->database, reinterpret_cast<const char*>(data.data() + pos),
                static_cast<unsigned>(end - pos), 0, holder.scratch, on_match, &ctx);
    if (rc == HS_SCAN_TERMINATED) break;
    if (rc != HS_SUCCESS) return Fail(ErrorCode::kInternal, "vectorscan scan failed");
    if (end == data.size()) break;
  }
  // Per pattern, from the last end backwards: an end inside an already confirmed match is a
  // shorter match of the same text ("2.10" inside "2.10.1") and is skipped; any other end is
  // confirmed by the end-anchored regex over the window before it, whose leftmost match is
  // the longest one ending there.
  std::sort(ctx.ends.begin(), ctx.ends.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  ctx.ends.erase(std::unique(ctx.ends.begin(), ctx.ends.end()), ctx.ends.end());
  struct Confirmed {
    std::uint32_t rule, pattern;
    std::uint64_t start, end;
    std::string version;
  };
  std::vector<Confirmed> confirmed;
  const std::string path_string(path);
  std::size_t confirmations = 0;
  unsigned current_id = ~0u;
  bool path_ok = false;
  std::uint64_t covered_start = 0;
  for (const auto& [id, match_end] : ctx.ends) {
    const Compiled& compiled = content_[id];
    if (id != current_id) {
      current_id = id;
      path_ok = !compiled.has_path || std::regex_search(path_string, compiled.path);
      covered_start = ~0ull;
    }
    if (!path_ok || match_end > data.size()) continue;
    if (covered_start != ~0ull && match_end > covered_start) continue;  // inside the last match
    if (++confirmations > kMaxConfirmationsPerFile) {
      ctx.capped = true;
      break;
    }
    const std::uint64_t window_start = match_end > kMaxMatchBytes ? match_end - kMaxMatchBytes : 0;
    const std::string_view window(reinterpret_cast<const char*>(data.data() + window_start),
                                  match_end - window_start);
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(window.begin(), window.end(), m, compiled.content_at_end)) continue;
    const std::uint64_t start = window_start + static_cast<std::uint64_t>(m.position(0));
    covered_start = start;
    std::string version =
        VersionFromGroups(m, rules_[compiled.rule].patterns[compiled.pattern].join_groups);
    while (!version.empty() && (version.back() == '.' || version.back() == '-')) {
      version.pop_back();
    }
    if (!PlausibleVersion(version)) continue;
    confirmed.push_back({compiled.rule, compiled.pattern, start, match_end, std::move(version)});
  }
  std::sort(confirmed.begin(), confirmed.end(), [](const Confirmed& a, const Confirmed& b) {
    return std::tie(a.rule, a.pattern, a.start) < std::tie(b.rule, b.pattern, b.start);
  });
  if (capped) *capped = ctx.capped;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::string>, SignatureHit> unique;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::set<std::string>> versions;
  for (const Confirmed& c : confirmed) {
    versions[{c.rule, c.pattern}].insert(c.version);
    auto ukey = std::make_tuple(c.rule, c.pattern, c.version);
    if (unique.contains(ukey)) continue;  // the first offset wins
    const std::string_view text(reinterpret_cast<const char*>(data.data() + c.start),
                                c.end - c.start);
    unique.emplace(ukey, SignatureHit{c.rule, c.pattern, c.version, EscapeMatched(text), c.start});
  }
  for (auto& [key, hit] : unique) {
    const SignaturePattern& pattern = rules_[hit.rule].patterns[hit.pattern];
    if (pattern.single && versions[{hit.rule, hit.pattern}].size() > 1) continue;
    hits.push_back(std::move(hit));
  }
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
    hits.push_back({compiled.rule, compiled.pattern, version, EscapeMatched(m[0].str()), 0});
  }
  return hits;
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
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string EscapeMatched(std::string_view bytes, std::size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
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
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace clearbox::identify
