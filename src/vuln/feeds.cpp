#include "vuln/feeds.hpp"

#include "vuln/cvss.hpp"

#include <zlib.h>

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <streambuf>
#include <utility>

namespace clearbox::vuln {
namespace {

// ---- safe accessors over hostile JSON ----
//
// The items are parsed by simdjson's DOM; these helpers read it as the nlohmann::json DOM
// was read before: a missing member or one of the wrong type reads as empty, and of
// duplicate keys the last one counts.

using Elem = simdjson::dom::element;

// An empty array and an empty object for the helpers to return (read-only, shared).
struct Empties {
  simdjson::dom::parser array_parser, object_parser;
  simdjson::dom::array array;
  Elem object;
  Empties() {
    if (array_parser.parse("[]", 2).get_array().get(array) != simdjson::SUCCESS ||
        object_parser.parse("{}", 2).get(object) != simdjson::SUCCESS) {
      std::abort();  // cannot happen: both are valid JSON
    }
  }
};

const Empties& Empty() {
  static const Empties kEmpties;
  return kEmpties;
}

std::optional<Elem> Member(Elem obj, std::string_view key) {
  simdjson::dom::object o;
  if (obj.get(o) != simdjson::SUCCESS) return std::nullopt;
  std::optional<Elem> found;
  for (simdjson::dom::key_value_pair field : o) {
    if (field.key == key) found = field.value;
  }
  return found;
}

std::string_view View(Elem v) {
  std::string_view s;
  return v.get(s) == simdjson::SUCCESS ? s : std::string_view();
}

std::string Str(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  if (!v || !v->is_string()) return {};
  const std::string_view s = View(*v);
  return std::string(s.substr(0, kMaxFieldBytes));
}

simdjson::dom::array Arr(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  simdjson::dom::array a;
  if (v && v->get(a) == simdjson::SUCCESS) return a;
  return Empty().array;
}

Elem Obj(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  return (v && v->is_object()) ? *v : Empty().object;
}

double Num(Elem obj, std::string_view key) {
  const auto v = Member(obj, key);
  if (!v) return 0;
  if (v->is_number()) {
    double d = 0;
    return v->get(d) == simdjson::SUCCESS ? d : 0;
  }
  if (v->is_string()) return std::strtod(std::string(View(*v)).c_str(), nullptr);
  return 0;
}

bool Bool(Elem obj, std::string_view key, bool fallback) {
  const auto v = Member(obj, key);
  bool b = fallback;
  return (v && v->get(b) == simdjson::SUCCESS) ? b : fallback;
}

template <class T>
bool Room(const std::vector<T>& list, std::size_t cap = kMaxListPerRecord) {
  return list.size() < cap;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string EnglishText(simdjson::dom::array list, const char* text_key) {
  std::string first;
  for (const auto& d : list) {
    const std::string lang = Str(d, "lang");
    const std::string value = Str(d, text_key);
    if (lang == "en" || lang.starts_with("en-") || lang.starts_with("en_")) return value;
    if (first.empty()) first = value;
  }
  return first;
}

void AddCwe(VulnRecord& rec, std::string cwe) {
  if (!cwe.starts_with("CWE-") && !cwe.starts_with("NVD-CWE-")) return;
  if (std::find(rec.cwes.begin(), rec.cwes.end(), cwe) == rec.cwes.end() && Room(rec.cwes)) {
    rec.cwes.push_back(std::move(cwe));
  }
}

void AddReference(VulnRecord& rec, std::string url) {
  if (!url.empty() && Room(rec.references)) rec.references.push_back(std::move(url));
}

// CVSS version from a vector's prefix ("CVSS:3.1/..." -> "3.1"; v2 vectors have none).
std::string VersionOfVector(std::string_view vector) {
  if (vector.starts_with("CVSS:")) {
    auto slash = vector.find('/');
    return std::string(vector.substr(5, slash == std::string_view::npos ? 3 : slash - 5));
  }
  return "2.0";
}

// ---- NVD API 2.0 ----

void ParseNvdMetrics(Elem metrics, VulnRecord& rec) {
  static constexpr const char* kKeys[] = {"cvssMetricV40", "cvssMetricV31", "cvssMetricV30",
                                          "cvssMetricV2"};
  for (const char* key : kKeys) {
    for (const auto& m : Arr(metrics, key)) {
      if (!Room(rec.metrics)) return;
      Elem data = Obj(m, "cvssData");
      Metric metric;
      metric.version = Str(data, "version");
      metric.vector = Str(data, "vectorString");
      metric.score = Num(data, "baseScore");
      metric.severity = Upper(Str(data, "baseSeverity"));
      if (metric.severity.empty()) metric.severity = Upper(Str(m, "baseSeverity"));
      metric.source = Str(m, "source");
      metric.type = Str(m, "type");
      if (metric.version.empty()) metric.version = VersionOfVector(metric.vector);
      rec.metrics.push_back(std::move(metric));
    }
  }
}

VulnRecord ParseNvdCve(Elem cve) {
  VulnRecord rec;
  rec.source = "nvd";
  rec.id = Str(cve, "id");
  rec.status = Str(cve, "vulnStatus");
  rec.published = Str(cve, "published");
  rec.modified = Str(cve, "lastModified");
  rec.description = EnglishText(Arr(cve, "descriptions"), "value");
  ParseNvdMetrics(Obj(cve, "metrics"), rec);
  for (const auto& w : Arr(cve, "weaknesses")) {
    for (const auto& d : Arr(w, "description")) AddCwe(rec, Str(d, "value"));
  }
  for (const auto& r : Arr(cve, "references")) AddReference(rec, Str(r, "url"));
  int config_index = 0;
  for (const auto& config : Arr(cve, "configurations")) {
    const simdjson::dom::array nodes = Arr(config, "nodes");
    std::string op = Upper(Str(config, "operator"));
    if (op.empty()) op = nodes.size() > 1 ? "AND" : "OR";
    // The not-vulnerable CPEs of an AND configuration are its context (running on/with).
    std::string context;
    if (op == "AND") {
      for (const auto& node : nodes) {
        for (const auto& m : Arr(node, "cpeMatch")) {
          if (!Bool(m, "vulnerable", true) || Bool(node, "negate", false)) {
            if (context.size() < kMaxFieldBytes) {
              context += (context.empty() ? "" : " ") + Str(m, "criteria");
            }
          }
        }
      }
    }
    int node_index = 0;
    for (const auto& node : nodes) {
      const bool negated = Bool(node, "negate", false);
      for (const auto& m : Arr(node, "cpeMatch")) {
        if (!Room(rec.cpe_matches, kMaxCpeMatchesPerRecord)) break;
        CpeMatch match;
        match.config = config_index;
        match.node = node_index;
        match.op = op;
        // A negated node says "not this": never a reason to report the CVE.
        match.vulnerable = Bool(m, "vulnerable", false) && !negated;
        match.criteria = Str(m, "criteria");
        auto cpe = ParseCpe(match.criteria);
        if (!cpe) continue;
        match.cpe = std::move(*cpe);
        match.start_incl = Str(m, "versionStartIncluding");
        match.start_excl = Str(m, "versionStartExcluding");
        match.end_incl = Str(m, "versionEndIncluding");
        match.end_excl = Str(m, "versionEndExcluding");
        if (match.vulnerable) match.context = context;
        rec.cpe_matches.push_back(std::move(match));
      }
      ++node_index;
    }
    ++config_index;
  }
  return rec;
}

// ---- CVE JSON 5.x ----

void ParseCve5Metrics(simdjson::dom::array metrics, VulnRecord& rec, const std::string& source) {
  static constexpr std::pair<const char*, const char*> kKeys[] = {
      {"cvssV4_0", "4.0"}, {"cvssV3_1", "3.1"}, {"cvssV3_0", "3.0"}, {"cvssV2_0", "2.0"}};
  for (const auto& m : metrics) {
    for (const auto& [key, version] : kKeys) {
      const auto data = Member(m, key);
      if (!data || !data->is_object() || !Room(rec.metrics)) continue;
      Metric metric;
      metric.version = version;
      metric.vector = Str(*data, "vectorString");
      metric.score = Num(*data, "baseScore");
      metric.severity = Upper(Str(*data, "baseSeverity"));
      metric.source = source;
      metric.type = source == "cna" ? "Primary" : "Secondary";
      rec.metrics.push_back(std::move(metric));
    }
  }
}

std::string CpeToken(std::string s) {
  s = AsciiLower(s);
  for (char& c : s) {
    if (c == ' ') c = '_';
  }
  return s;
}

bool IsNoVersion(const std::string& v) {
  return v.empty() || v == "0" || v == "*" || v == "n/a" || v == "unspecified";
}

void ParseCve5Affected(simdjson::dom::array affected, VulnRecord& rec) {
  for (const auto& a : affected) {
    std::vector<Cpe> identities;
    for (const auto& c : Arr(a, "cpes")) {
      if (!c.is_string()) continue;
      auto cpe = ParseCpe(std::string(View(c)));
      if (cpe && identities.size() < 64) identities.push_back(std::move(*cpe));
    }
    if (identities.empty()) {
      const std::string vendor = CpeToken(Str(a, "vendor"));
      const std::string product = CpeToken(Str(a, "product"));
      if (vendor.empty() || product.empty() || vendor == "n/a" || product == "n/a") continue;
      Cpe cpe;
      cpe.part = "a";
      cpe.vendor = vendor;
      cpe.product = product;
      cpe.version = cpe.update = cpe.edition = cpe.language = cpe.sw_edition = cpe.target_sw =
          cpe.target_hw = cpe.other = "*";
      identities.push_back(std::move(cpe));
    }
    std::vector<CpeMatch> ranges;
    for (const auto& v : Arr(a, "versions")) {
      if (Str(v, "status") != "affected" || Str(v, "versionType") == "git") continue;
      CpeMatch m;
      const std::string version = Str(v, "version");
      const std::string less = Str(v, "lessThan");
      const std::string less_eq = Str(v, "lessThanOrEqual");
      if (!less.empty() || !less_eq.empty()) {
        if (!IsNoVersion(version)) m.start_incl = version;
        if (!less.empty() && less != "*") m.end_excl = less;
        if (!less_eq.empty() && less_eq != "*") m.end_incl = less_eq;
      } else if (!IsNoVersion(version)) {
        m.cpe.version = AsciiLower(version);
      } else {
        continue;
      }
      ranges.push_back(std::move(m));
    }
    if (ranges.empty() && Str(a, "defaultStatus") == "affected") ranges.emplace_back();
    for (const auto& identity : identities) {
      for (const auto& r : ranges) {
        if (!Room(rec.cpe_matches, kMaxCpeMatchesPerRecord)) return;
        CpeMatch m = r;
        const std::string version = m.cpe.version.empty() ? identity.version : m.cpe.version;
        m.cpe = identity;
        m.cpe.version = version.empty() ? "*" : version;
        if (m.cpe.version != "*" && (!m.start_incl.empty() || !m.end_excl.empty())) {
          m.cpe.version = "*";
        }
        m.criteria = "cpe:2.3:" + m.cpe.part + ":" + m.cpe.vendor + ":" + m.cpe.product + ":" +
                     m.cpe.version + ":*:*:*:*:*:*:*";
        m.config = 0;
        m.node = 0;
        rec.cpe_matches.push_back(std::move(m));
      }
    }
  }
}

void ParseCve5Container(Elem c, VulnRecord& rec, const std::string& source) {
  ParseCve5Metrics(Arr(c, "metrics"), rec, source);
  for (const auto& p : Arr(c, "problemTypes")) {
    for (const auto& d : Arr(p, "descriptions")) AddCwe(rec, Str(d, "cweId"));
  }
  for (const auto& r : Arr(c, "references")) AddReference(rec, Str(r, "url"));
  ParseCve5Affected(Arr(c, "affected"), rec);
}

VulnRecord ParseCve5(Elem doc) {
  VulnRecord rec;
  rec.source = "cve5";
  Elem meta = Obj(doc, "cveMetadata");
  rec.id = Str(meta, "cveId");
  rec.status = Str(meta, "state");
  rec.published = Str(meta, "datePublished");
  rec.modified = Str(meta, "dateUpdated");
  Elem containers = Obj(doc, "containers");
  Elem cna = Obj(containers, "cna");
  rec.description = EnglishText(Arr(cna, "descriptions"), "value");
  if (rec.status != "REJECTED") {
    ParseCve5Container(cna, rec, "cna");
    for (const auto& adp : Arr(containers, "adp")) ParseCve5Container(adp, rec, "adp");
  }
  return rec;
}

// ---- OSV ----

std::string PurlKeyForEcosystem(const std::string& ecosystem, const std::string& name) {
  const std::string base = ecosystem.substr(0, ecosystem.find(':'));
  const std::string lname = AsciiLower(name);
  if (base == "Debian") return "pkg:deb/debian/" + lname;
  if (base == "Ubuntu") return "pkg:deb/ubuntu/" + lname;
  if (base == "Alpine") return "pkg:apk/alpine/" + lname;
  if (base == "PyPI") return "pkg:pypi/" + lname;
  if (base == "npm") return "pkg:npm/" + lname;
  if (base == "Go") return "pkg:golang/" + lname;
  if (base == "crates.io") return "pkg:cargo/" + lname;
  if (base == "RubyGems") return "pkg:gem/" + lname;
  if (base == "NuGet") return "pkg:nuget/" + lname;
  if (base == "Packagist") return "pkg:composer/" + lname;
  if (base == "Maven") {
    std::string key = lname;
    std::replace(key.begin(), key.end(), ':', '/');
    return "pkg:maven/" + key;
  }
  return "";
}

VulnRecord ParseOsv(Elem doc) {
  VulnRecord rec;
  rec.source = "osv";
  const std::string osv_id = Str(doc, "id");
  std::vector<std::string> cve_aliases;
  for (const auto& a : Arr(doc, "aliases")) {
    if (!a.is_string() || !Room(rec.aliases)) continue;
    const std::string alias(View(a).substr(0, 256));
    if (alias.starts_with("CVE-")) cve_aliases.push_back(alias);
    rec.aliases.push_back(alias);
  }
  // Distributions' records (DEBIAN-CVE-..., UBUNTU-CVE-..., ALPINE-CVE-...) name their CVE
  // in "upstream" rather than "aliases".
  if (cve_aliases.empty()) {
    std::vector<std::string> upstream_cves;
    for (const auto& u : Arr(doc, "upstream")) {
      if (u.is_string() && View(u).starts_with("CVE-") && Room(upstream_cves)) {
        upstream_cves.emplace_back(View(u).substr(0, 256));
      }
    }
    if (upstream_cves.size() == 1) cve_aliases = std::move(upstream_cves);
  }
  std::sort(cve_aliases.begin(), cve_aliases.end());
  if (osv_id.starts_with("CVE-") || cve_aliases.empty()) {
    rec.id = osv_id;
  } else {
    rec.id = cve_aliases.front();
    rec.aliases.erase(std::remove(rec.aliases.begin(), rec.aliases.end(), rec.id),
                      rec.aliases.end());
    rec.aliases.push_back(osv_id);
  }
  rec.modified = Str(doc, "modified");
  rec.published = Str(doc, "published");
  rec.status = Member(doc, "withdrawn").has_value() ? "WITHDRAWN" : "";
  rec.description = Str(doc, "details");
  if (rec.description.empty()) rec.description = Str(doc, "summary");
  for (const auto& s : Arr(doc, "severity")) {
    const std::string type = Str(s, "type");
    if (!type.starts_with("CVSS_") || !Room(rec.metrics)) continue;
    Metric m;
    m.vector = Str(s, "score");
    m.version = VersionOfVector(m.vector);
    if (auto score = CvssV3BaseScore(m.vector)) {
      m.score = *score;
      m.severity = CvssSeverity(*score);
    }
    m.source = "osv";
    m.type = "Secondary";
    rec.metrics.push_back(std::move(m));
  }
  for (const auto& c : Arr(Obj(doc, "database_specific"), "cwe_ids")) {
    if (c.is_string()) AddCwe(rec, std::string(View(c)));
  }
  for (const auto& r : Arr(doc, "references")) AddReference(rec, Str(r, "url"));
  if (!rec.status.empty()) return rec;  // withdrawn: kept for the record, never matched
  for (const auto& a : Arr(doc, "affected")) {
    Elem pkg = Obj(a, "package");
    PackageRange base;
    base.ecosystem = Str(pkg, "ecosystem");
    base.name = Str(pkg, "name");
    if (auto purl = ParsePurl(Str(pkg, "purl")); purl) {
      base.purl = purl->Key();
    } else {
      base.purl = PurlKeyForEcosystem(base.ecosystem, base.name);
    }
    if (base.name.empty()) continue;
    for (const auto& r : Arr(a, "ranges")) {
      const std::string type = Str(r, "type");
      if (type == "GIT") continue;  // commit ranges need the repository; not for firmware
      std::optional<PackageRange> open;
      for (const auto& e : Arr(r, "events")) {
        if (!Room(rec.packages)) break;
        if (Member(e, "introduced").has_value()) {
          if (open) rec.packages.push_back(std::move(*open));
          open = base;
          open->range_type = type;
          open->introduced = Str(e, "introduced");
        } else if (open && (Member(e, "fixed").has_value() || Member(e, "limit").has_value())) {
          open->fixed = Member(e, "fixed").has_value() ? Str(e, "fixed") : Str(e, "limit");
          rec.packages.push_back(std::move(*open));
          open.reset();
        } else if (open && Member(e, "last_affected").has_value()) {
          open->last_affected = Str(e, "last_affected");
          rec.packages.push_back(std::move(*open));
          open.reset();
        }
      }
      if (open && Room(rec.packages)) rec.packages.push_back(std::move(*open));
    }
    PackageRange exact = base;
    for (const auto& v : Arr(a, "versions")) {
      if (v.is_string() && Room(exact.versions)) exact.versions.push_back(std::string(View(v)));
    }
    if (!exact.versions.empty() && Room(rec.packages)) rec.packages.push_back(std::move(exact));
    for (const auto& c : Arr(Obj(a, "database_specific"), "cwe_ids")) {
      if (c.is_string()) AddCwe(rec, std::string(View(c)));
    }
  }
  return rec;
}

// ---- dispatch ----

class Dispatcher {
 public:
  explicit Dispatcher(const FeedSink& sink) : sink_(sink) {}

  // Routes one JSON object by its shape; false (with error_) when the sink failed.
  // `whole_document`: the item is the feed's top-level object itself. Only there does
  // "sourceIdentifier" mark an NVD record: the nlohmann-based parser this replaces dropped
  // that key below the top level, and the output is kept identical.
  bool Handle(Elem item, bool whole_document) {
    if (!item.is_object()) {
      ++stats_.skipped;
      return true;
    }
    if (const auto cve = Member(item, "cve"); cve && cve->is_object()) {
      return Vuln(ParseNvdCve(*cve), "nvd");
    }
    if (Member(item, "cveID")) {
      KevEntry e{Str(item, "cveID"), Str(item, "dateAdded"), Str(item, "dueDate"),
                 Str(item, "knownRansomwareCampaignUse"), Str(item, "vulnerabilityName")};
      if (!e.cve_id.starts_with("CVE-")) {
        ++stats_.skipped;
        return true;
      }
      Note("kev");
      ++stats_.kev;
      return Deliver(sink_.on_kev, std::move(e));
    }
    if (Member(item, "cveMetadata")) return Vuln(ParseCve5(item), "cve5");
    const std::string id = Str(item, "id");
    if (!id.empty() &&
        (Member(item, "vulnStatus") || (whole_document && Member(item, "sourceIdentifier")) ||
         Member(item, "lastModified"))) {
      return Vuln(ParseNvdCve(item), "nvd");
    }
    if (!id.empty() && (Member(item, "modified") || Member(item, "affected"))) {
      return Vuln(ParseOsv(item), "osv");
    }
    ++stats_.skipped;
    return true;
  }

  FeedStats& stats() { return stats_; }
  std::optional<Error>& error() { return error_; }

 private:
  void Note(const char* format) {
    if (stats_.format.empty()) {
      stats_.format = format;
    } else if (stats_.format != format) {
      stats_.format = "mixed";
    }
  }

  bool Vuln(VulnRecord rec, const char* format) {
    if (rec.id.empty() || rec.id.size() > 256) {
      ++stats_.skipped;
      return true;
    }
    Note(format);
    ++stats_.vulns;
    if (rec.modified > stats_.newest_modified) stats_.newest_modified = rec.modified;
    return Deliver(sink_.on_vuln, std::move(rec));
  }

  template <class T>
  bool Deliver(const std::function<Result<void>(T&&)>& fn, T&& item) {
    if (!fn) return true;
    auto r = fn(std::move(item));
    if (!r) {
      error_ = r.error();
      return false;
    }
    return true;
  }

  const FeedSink& sink_;
  FeedStats stats_;
  std::optional<Error> error_;
};

// ---- splitting a feed into items ----
//
// A small string- and comment-aware scanner walks the top level of the feed and finds the
// byte span of each item: an element of a top-level array, an object under the top-level
// key "vulnerabilities" or "CVE_Items", or else the top-level object itself. Each span is
// parsed and fully validated by simdjson (one reused parser), so memory stays bounded by
// the largest item, and a feed larger than kMaxInMemoryFeedBytes is read chunk by chunk.
// It accepts what nlohmann::json::parse(..., ignore_comments = true) accepted before:
// RFC 8259 JSON with /* */ and // comments between tokens (blanked before simdjson sees
// them); everything else is kMalformed.
class JsonFeedParser {
 public:
  using Reader = std::function<std::size_t(char*, std::size_t)>;

  // A feed in memory; `bytes` must outlive the parser.
  JsonFeedParser(std::string_view bytes, const FeedSink& sink)
      : data_(bytes.data()), size_(bytes.size()), dispatch_(sink) {}

  // A streamed feed: `head`, then what `read` returns until it returns 0.
  JsonFeedParser(std::string head, Reader read, const FeedSink& sink)
      : own_(std::move(head)), read_(std::move(read)), dispatch_(sink) {
    data_ = own_.data();
    size_ = own_.size();
  }

  Result<FeedStats> Run() {
    CLEARBOX_TRY(SkipBlanks());
    bool is_object = false;
    if (Peek() == '[') {
      CLEARBOX_TRY(Elements());
    } else if (Peek() == '{') {
      is_object = true;
      CLEARBOX_TRY(TopObject());
    } else {
      return Malformed("expected '[' or '{'");
    }
    CLEARBOX_TRY(SkipBlanks());
    if (Peek() != kEof) return Malformed("unexpected content after the top-level value");
    if (is_object && !has_items_key_) {
      // A single record: the top-level object is the item.
      auto top = ParseSpan(top_start_, top_end_, any_comments_);
      if (!top) return Forward(top);
      if (!dispatch_.Handle(*top, true)) return Unexpected(*dispatch_.error());
    }
    if (is_object && has_cve_items_) {
      return Fail(ErrorCode::kUnsupported, "NVD JSON 1.1 feeds are retired; use API 2.0 data");
    }
    FeedStats stats = dispatch_.stats();
    if (is_object && total_results_) {
      stats.total_results = *total_results_;
      if (stats.format.empty()) stats.format = "nvd";
      if (stats.total_results >= 0 && stats.vulns == 0) return stats;  // an empty API page
    }
    if (stats.vulns + stats.kev == 0) {
      return Fail(ErrorCode::kNotThisFormat, "no NVD, CVE 5, OSV or KEV records found (" +
                                                 std::to_string(stats.skipped) +
                                                 " objects of unknown shape)");
    }
    return stats;
  }

 private:
  static constexpr int kEof = -1;
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  static constexpr std::size_t kChunk = 1 << 20;

  Unexpected Malformed(const std::string& what) const {
    return Fail(ErrorCode::kMalformed, "JSON: " + what + " at byte " + std::to_string(pos_));
  }

  // Offsets are absolute (from the start of the feed); the window data_[0, size_) holds
  // the bytes from offset base_.
  std::uint64_t End() const { return base_ + size_; }
  const char* Ptr(std::uint64_t offset) const { return data_ + (offset - base_); }

  // Reads the next chunk of a streamed feed, dropping what is no longer needed.
  bool Fill() {
    if (!read_) return false;
    const std::uint64_t keep = std::min({pos_, value_start_, top_hold_});
    if (keep > base_) {
      own_.erase(0, keep - base_);
      base_ = keep;
    }
    const std::size_t old = own_.size();
    own_.resize(old + kChunk);
    const std::size_t n = read_(own_.data() + old, kChunk);
    own_.resize(old + n);
    data_ = own_.data();
    size_ = own_.size();
    if (n == 0) read_ = nullptr;
    return n > 0;
  }

  int Peek() {
    if (pos_ == End() && !Fill()) return kEof;
    return static_cast<unsigned char>(*Ptr(pos_));
  }

  // Skips whitespace and comments (as nlohmann's lexer did: "//" ends at CR, LF or NUL).
  Result<void> SkipBlanks() {
    for (;;) {
      const int c = Peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
        continue;
      }
      if (c != '/') return {};
      any_comments_ = true;
      ++pos_;
      const int kind = Peek();
      if (kind == kEof) return Malformed("invalid comment");
      ++pos_;
      if (kind == '/') {
        for (int d = Peek(); d != kEof; d = Peek()) {
          ++pos_;
          if (d == '\n' || d == '\r' || d == '\0') break;
        }
      } else if (kind == '*') {
        for (bool star = false;;) {
          const int d = Peek();
          if (d == kEof || d == '\0') return Malformed("invalid comment; missing closing '*/'");
          ++pos_;
          if (star && d == '/') break;
          star = d == '*';
        }
      } else {
        return Malformed("invalid comment");
      }
    }
  }

  // From pos_ (the first byte of a value), finds the value's end and moves pos_ there.
  // Only finds the extent: simdjson validates the span. `comments`: the span has some.
  Result<std::uint64_t> ValueEnd(bool& comments) {
    value_start_ = pos_;
    comments = false;
    const int first = Peek();
    if (first == kEof) return Malformed("unexpected end of input");
    if (first != '{' && first != '[' && first != '"') {
      if (first == ',' || first == ']' || first == '}') return Malformed("expected a value");
      for (int c = first; c != kEof; c = Peek()) {  // a literal or number
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' || c == '}' ||
            c == '/') {
          break;
        }
        ++pos_;
      }
      return pos_;
    }
    enum State : unsigned char { kCode, kString, kEscape, kSlash, kLine, kBlock, kBlockStar };
    State state = kCode;
    std::uint64_t depth = 0;
    for (;;) {
      if (pos_ == End() && !Fill()) return Malformed("unexpected end of input");
      const char* p = Ptr(pos_);
      const char* const end = data_ + size_;
      while (p < end) {
        switch (state) {
          case kString:
            while (p < end && *p != '"' && *p != '\\') ++p;
            if (p == end) break;
            if (*p++ == '\\') {
              state = kEscape;
            } else {
              state = kCode;
              if (depth == 0) {
                pos_ = base_ + static_cast<std::uint64_t>(p - data_);
                return pos_;
              }
            }
            break;
          case kEscape:
            ++p;
            state = kString;
            break;
          case kCode: {
            const char c = *p++;
            if (c == '"') {
              state = kString;
            } else if (c == '{' || c == '[') {
              ++depth;
            } else if (c == '}' || c == ']') {
              if (--depth == 0) {
                pos_ = base_ + static_cast<std::uint64_t>(p - data_);
                return pos_;
              }
            } else if (c == '/') {
              state = kSlash;
              comments = any_comments_ = true;
            }
            break;
          }
          case kSlash: {
            const char c = *p++;
            if (c == '*') {
              state = kBlock;
            } else if (c == '/') {
              state = kLine;
            } else {
              pos_ = base_ + static_cast<std::uint64_t>(p - data_);
              return Malformed("invalid comment");
            }
            break;
          }
          case kLine: {
            const char c = *p++;
            if (c == '\n' || c == '\r' || c == '\0') state = kCode;
            break;
          }
          case kBlock:
          case kBlockStar: {
            const char c = *p++;
            if (c == '\0') {
              pos_ = base_ + static_cast<std::uint64_t>(p - data_);
              return Malformed("invalid comment; missing closing '*/'");
            }
            state = (state == kBlockStar && c == '/') ? kCode : c == '*' ? kBlockStar : kBlock;
            break;
          }
        }
      }
      pos_ = base_ + static_cast<std::uint64_t>(p - data_);
    }
  }

  // Replaces the comments of a span (copied into scratch) by spaces.
  static void BlankComments(char* p, std::size_t n) {
    bool in_string = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (in_string) {
        if (p[i] == '\\') {
          ++i;
        } else if (p[i] == '"') {
          in_string = false;
        }
      } else if (p[i] == '"') {
        in_string = true;
      } else if (p[i] == '/' && i + 1 < n && (p[i + 1] == '/' || p[i + 1] == '*')) {
        const bool line = p[i + 1] == '/';
        p[i] = p[i + 1] = ' ';
        for (i += 2; i < n; ++i) {
          if (line && (p[i] == '\n' || p[i] == '\r' || p[i] == '\0')) {
            if (p[i] == '\0') p[i] = ' ';
            break;
          }
          if (!line && p[i] == '*' && i + 1 < n && p[i + 1] == '/') {
            p[i] = p[i + 1] = ' ';
            ++i;
            break;
          }
          p[i] = ' ';
        }
      }
    }
  }

  // Copies `in` to `out` with ".0" after each integer (outside strings) that overflows 64
  // bits, so that simdjson reads it as a double; false when there is none.
  static bool WidenBigIntegers(std::string_view in, std::string& out) {
    bool changed = false;
    bool in_string = false;
    out.reserve(in.size() + 16);
    for (std::size_t i = 0; i < in.size();) {
      const char c = in[i];
      if (in_string || c == '"') {
        in_string = in_string ? c != '"' : true;
        const std::size_t step = (in_string && c == '\\' && i + 1 < in.size()) ? 2 : 1;
        out.append(in.substr(i, step));
        i += step;
        continue;
      }
      if (c != '-' && (c < '0' || c > '9')) {
        out += c;
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j < in.size() && ((in[j] >= '0' && in[j] <= '9') || in[j] == '-' || in[j] == '+' ||
                               in[j] == '.' || in[j] == 'e' || in[j] == 'E')) {
        ++j;
      }
      const std::string token(in.substr(i, j - i));
      out += token;
      i = j;
      if (token.find_first_of(".eE+") != std::string::npos ||
          token.find('-', 1) != std::string::npos || token == "-") {
        continue;
      }
      errno = 0;
      if (token[0] == '-') {
        (void)std::strtoll(token.c_str(), nullptr, 10);
      } else {
        (void)std::strtoull(token.c_str(), nullptr, 10);
      }
      if (errno == ERANGE) {
        out += ".0";
        changed = true;
      }
    }
    return changed;
  }

  // Parses the span [start, end) of the window with simdjson.
  Result<Elem> ParseSpan(std::uint64_t start, std::uint64_t end, bool comments) {
    const auto n = static_cast<std::size_t>(end - start);
    if (scratch_size_ < n) {
      scratch_ = std::make_unique<char[]>(n + simdjson::SIMDJSON_PADDING);
      scratch_size_ = n;
    }
    std::memcpy(scratch_.get(), Ptr(start), n);
    if (comments) BlankComments(scratch_.get(), n);
    value_start_ = kNone;
    Elem root;
    const char* json = scratch_.get();
    std::size_t length = n;
    bool padded = true;
    std::string widened;
    simdjson::dom::parser* parser = &parser_;
    auto error = parser->parse(json, length, !padded).get(root);
    for (int retry = 0; retry < 2 && error; ++retry) {
      if (error == simdjson::NUMBER_ERROR && widened.empty() &&
          WidenBigIntegers(std::string_view(json, length), widened)) {
        // simdjson rejects integers beyond 64 bits, which nlohmann read as doubles.
        json = widened.data();
        length = widened.size();
        padded = false;
      } else if (error == simdjson::DEPTH_ERROR && parser == &parser_) {
        // Deeper than simdjson's default of 1024 levels: nlohmann had no limit.
        deep_parser_ = std::make_unique<simdjson::dom::parser>();
        error = deep_parser_->allocate(length, length);
        if (error) break;
        parser = deep_parser_.get();
      } else {
        break;
      }
      error = parser->parse(json, length, !padded).get(root);
    }
    if (error) {
      return Fail(ErrorCode::kMalformed, std::string("JSON: ") + simdjson::error_message(error) +
                                             " (in the value at byte " + std::to_string(start) +
                                             ")");
    }
    return root;
  }

  // Parses the value at pos_ and moves past it.
  Result<Elem> Value() {
    const std::uint64_t start = pos_;
    bool comments = false;
    auto end = ValueEnd(comments);
    if (!end) return Forward(end);
    return ParseSpan(start, *end, comments);
  }

  // The array at pos_: its objects are items, its other elements are only validated.
  Result<void> Elements() {
    ++pos_;  // '['
    CLEARBOX_TRY(SkipBlanks());
    if (Peek() == ']') {
      ++pos_;
      return {};
    }
    for (;;) {
      auto element = Value();
      if (!element) return Forward(element);
      if (element->is_object() && !dispatch_.Handle(*element, false)) {
        return Unexpected(*dispatch_.error());
      }
      CLEARBOX_TRY(SkipBlanks());
      const int c = Peek();
      ++pos_;
      if (c == ']') return {};
      if (c != ',') return Malformed("expected ',' or ']'");
      CLEARBOX_TRY(SkipBlanks());
    }
  }

  // The top-level object at pos_: its "vulnerabilities"/"CVE_Items" hold the items.
  Result<void> TopObject() {
    top_start_ = top_hold_ = pos_;  // kept while it may be a single record
    ++pos_;                         // '{'
    CLEARBOX_TRY(SkipBlanks());
    if (Peek() == '}') {
      top_end_ = ++pos_;
      return {};
    }
    for (;;) {
      if (Peek() != '"') return Malformed("expected a key");
      auto key_elem = Value();
      if (!key_elem) return Forward(key_elem);
      const std::string key(View(*key_elem));
      CLEARBOX_TRY(SkipBlanks());
      if (Peek() != ':') return Malformed("expected ':'");
      ++pos_;
      CLEARBOX_TRY(SkipBlanks());
      if (key == "vulnerabilities" || key == "CVE_Items") {
        has_items_key_ = true;
        if (key == "CVE_Items") has_cve_items_ = true;
        top_hold_ = kNone;
        if (Peek() == '[') {
          CLEARBOX_TRY(Elements());
        } else {
          // Anything else is parsed whole; the objects among its members are items.
          auto value = Value();
          if (!value) return Forward(value);
          simdjson::dom::object members;
          if (value->get(members) == simdjson::SUCCESS) {
            for (simdjson::dom::key_value_pair field : members) {
              if (field.value.is_object() && !dispatch_.Handle(field.value, false)) {
                return Unexpected(*dispatch_.error());
              }
            }
          }
        }
      } else {
        auto value = Value();
        if (!value) return Forward(value);
        if (key == "totalResults") {
          std::int64_t i = 0;
          std::uint64_t u = 0;
          if (value->get(i) == simdjson::SUCCESS) {
            total_results_ = i;
          } else if (value->get(u) == simdjson::SUCCESS) {
            total_results_ = static_cast<std::int64_t>(u);
          } else {
            total_results_.reset();
          }
        }
      }
      CLEARBOX_TRY(SkipBlanks());
      const int c = Peek();
      ++pos_;
      if (c == '}') {
        top_end_ = pos_;
        return {};
      }
      if (c != ',') return Malformed("expected ',' or '}'");
      CLEARBOX_TRY(SkipBlanks());
    }
  }

  const char* data_ = nullptr;  // the window
  std::size_t size_ = 0;
  std::uint64_t base_ = 0;
  std::string own_;  // a streamed feed's window
  Reader read_;
  std::uint64_t pos_ = 0;
  std::uint64_t value_start_ = kNone;  // the value being scanned (kept in the window)
  std::uint64_t top_hold_ = kNone;     // the top-level object, while it may be the item
  std::uint64_t top_start_ = 0, top_end_ = 0;
  bool any_comments_ = false;
  bool has_items_key_ = false, has_cve_items_ = false;
  std::optional<std::int64_t> total_results_;
  std::unique_ptr<char[]> scratch_;  // the span being parsed, with simdjson's padding
  std::size_t scratch_size_ = 0;
  simdjson::dom::parser parser_;
  std::unique_ptr<simdjson::dom::parser> deep_parser_;
  Dispatcher dispatch_;
};

// EPSS CSV: "#model_version:...,score_date:...", "cve,epss,percentile", then one line per CVE.
class EpssParser {
 public:
  explicit EpssParser(const FeedSink& sink) : sink_(sink) { stats_.format = "epss"; }

  Result<void> Line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.empty()) return {};
    if (line.starts_with("#")) {
      if (auto p = line.find("score_date:"); p != std::string_view::npos) {
        date_ = std::string(line.substr(p + 11, 10));
      }
      return {};
    }
    if (line.starts_with("cve,")) return {};
    const auto c1 = line.find(',');
    if (c1 == std::string_view::npos) return Fail(ErrorCode::kMalformed, "EPSS line without ','");
    const auto c2 = line.find(',', c1 + 1);
    EpssEntry e;
    e.cve_id = std::string(line.substr(0, c1));
    if (!e.cve_id.starts_with("CVE-") || e.cve_id.size() > 64) {
      return Fail(ErrorCode::kMalformed, "EPSS line without a CVE id");
    }
    const std::string score(
        line.substr(c1 + 1, c2 == std::string_view::npos ? line.npos : c2 - c1 - 1));
    char* end = nullptr;
    e.score = std::strtod(score.c_str(), &end);
    if (end == score.c_str() || !(e.score >= 0 && e.score <= 1)) {
      return Fail(ErrorCode::kMalformed, "EPSS score out of [0,1] for " + e.cve_id);
    }
    if (c2 != std::string_view::npos) {
      e.percentile = std::strtod(std::string(line.substr(c2 + 1)).c_str(), nullptr);
    }
    e.date = date_;
    ++stats_.epss;
    if (sink_.on_epss) return sink_.on_epss(std::move(e));
    return {};
  }

  Result<FeedStats> Finish() {
    if (stats_.epss == 0) return Fail(ErrorCode::kNotThisFormat, "no EPSS lines");
    return stats_;
  }

 private:
  const FeedSink& sink_;
  FeedStats stats_;
  std::string date_;
};

// A std::streambuf over zlib's gzFile, which reads gzip and plain files alike.
class GzStreamBuf : public std::streambuf {
 public:
  explicit GzStreamBuf(gzFile file) : file_(file) {}
  bool failed() const { return failed_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const int n = gzread(file_, buffer_, sizeof(buffer_));
    if (n < 0) failed_ = true;
    if (n <= 0) return traits_type::eof();
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  gzFile file_;
  char buffer_[1 << 16];
  bool failed_ = false;
};

bool LooksLikeJson(char c) {
  return c == '{' || c == '[';
}

}  // namespace

Result<FeedStats> ParseFeedFile(const std::filesystem::path& path, const FeedSink& sink) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return Fail(ErrorCode::kIo, "cannot open " + path.string());
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  gzbuffer(file, 1 << 17);
  auto buf = std::make_unique<GzStreamBuf>(file);
  std::istream in(buf.get());
  // Skip a UTF-8 byte order mark and blanks to see what the content is.
  int c = in.peek();
  while (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0xEF || c == 0xBB || c == 0xBF) {
    in.get();
    c = in.peek();
  }
  if (c == std::char_traits<char>::eof()) {
    return Fail(ErrorCode::kMalformed, path.string() + ": empty or unreadable");
  }
  Result<FeedStats> stats = Fail(ErrorCode::kInternal, "unset");
  if (LooksLikeJson(static_cast<char>(c))) {
    // Parsing from memory is about twice as fast as from a stream: files up to
    // kMaxInMemoryFeedBytes (decompressed) are read whole, larger ones are streamed.
    std::string whole;
    char chunk[1 << 16];
    while (whole.size() <= kMaxInMemoryFeedBytes) {
      in.read(chunk, sizeof(chunk));
      if (in.gcount() <= 0) break;
      whole.append(chunk, static_cast<std::size_t>(in.gcount()));
    }
    if (whole.size() <= kMaxInMemoryFeedBytes) {
      stats = JsonFeedParser(whole, sink).Run();
    } else {
      // Too large: what was read, then the rest of the stream chunk by chunk.
      auto read = [&in](char* out, std::size_t n) -> std::size_t {
        in.read(out, static_cast<std::streamsize>(n));
        return static_cast<std::size_t>(in.gcount());
      };
      stats = JsonFeedParser(std::move(whole), read, sink).Run();
    }
  } else {
    EpssParser epss(sink);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() > kMaxCsvLineBytes) return Fail(ErrorCode::kMalformed, "CSV line too long");
      auto r = epss.Line(line);
      if (!r) return Fail(r.error().code, path.string() + ": " + r.error().message);
    }
    stats = epss.Finish();
  }
  if (buf->failed()) return Fail(ErrorCode::kMalformed, path.string() + ": gzip data is corrupt");
  if (!stats) return Fail(stats.error().code, path.string() + ": " + stats.error().message);
  return stats;
}

FeedSink CollectInto(CollectedFeed& out) {
  FeedSink sink;
  sink.on_vuln = [&out](VulnRecord&& r) -> Result<void> {
    out.vulns.push_back(std::move(r));
    return {};
  };
  sink.on_kev = [&out](KevEntry&& e) -> Result<void> {
    out.kev.push_back(std::move(e));
    return {};
  };
  sink.on_epss = [&out](EpssEntry&& e) -> Result<void> {
    out.epss.push_back(std::move(e));
    return {};
  };
  return sink;
}

Result<FeedStats> ParseFeedBytes(std::string_view bytes, const FeedSink& sink) {
  std::size_t i = 0;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) {
    ++i;
  }
  if (i == bytes.size()) return Fail(ErrorCode::kMalformed, "empty feed");
  if (LooksLikeJson(bytes[i])) return JsonFeedParser(bytes, sink).Run();
  EpssParser epss(sink);
  while (i < bytes.size()) {
    std::size_t nl = bytes.find('\n', i);
    if (nl == std::string_view::npos) nl = bytes.size();
    if (nl - i > kMaxCsvLineBytes) return Fail(ErrorCode::kMalformed, "CSV line too long");
    CLEARBOX_TRY(epss.Line(bytes.substr(i, nl - i)));
    i = nl + 1;
  }
  return epss.Finish();
}

}  // namespace clearbox::vuln
