#include "vuln/feeds.hpp"

#include "vuln/cvss.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <streambuf>
#include <type_traits>
#include <utility>

namespace clearbox::vuln {
namespace {

using Json = nlohmann::json;

// ---- safe accessors over hostile JSON ----

const Json* Member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string Str(const Json& obj, const char* key) {
  const Json* v = Member(obj, key);
  if (v == nullptr || !v->is_string()) return {};
  const auto& s = v->get_ref<const std::string&>();
  return s.size() > kMaxFieldBytes ? s.substr(0, kMaxFieldBytes) : s;
}

const Json& Arr(const Json& obj, const char* key) {
  static const Json kEmpty = Json::array();
  const Json* v = Member(obj, key);
  return (v != nullptr && v->is_array()) ? *v : kEmpty;
}

const Json& Obj(const Json& obj, const char* key) {
  static const Json kEmpty = Json::object();
  const Json* v = Member(obj, key);
  return (v != nullptr && v->is_object()) ? *v : kEmpty;
}

double Num(const Json& obj, const char* key) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return 0;
  if (v->is_number()) return v->get<double>();
  if (v->is_string()) return std::strtod(v->get_ref<const std::string&>().c_str(), nullptr);
  return 0;
}

bool Bool(const Json& obj, const char* key, bool fallback) {
  const Json* v = Member(obj, key);
  return (v != nullptr && v->is_boolean()) ? v->get<bool>() : fallback;
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

std::string EnglishText(const Json& list, const char* text_key) {
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

void ParseNvdMetrics(const Json& metrics, VulnRecord& rec) {
  static constexpr const char* kKeys[] = {"cvssMetricV40", "cvssMetricV31", "cvssMetricV30",
                                          "cvssMetricV2"};
  for (const char* key : kKeys) {
    for (const auto& m : Arr(metrics, key)) {
      if (!Room(rec.metrics)) return;
      const Json& data = Obj(m, "cvssData");
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

VulnRecord ParseNvdCve(const Json& cve) {
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
    const Json& nodes = Arr(config, "nodes");
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

void ParseCve5Metrics(const Json& metrics, VulnRecord& rec, const std::string& source) {
  static constexpr std::pair<const char*, const char*> kKeys[] = {
      {"cvssV4_0", "4.0"}, {"cvssV3_1", "3.1"}, {"cvssV3_0", "3.0"}, {"cvssV2_0", "2.0"}};
  for (const auto& m : metrics) {
    for (const auto& [key, version] : kKeys) {
      const Json* data = Member(m, key);
      if (data == nullptr || !data->is_object() || !Room(rec.metrics)) continue;
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

void ParseCve5Affected(const Json& affected, VulnRecord& rec) {
  for (const auto& a : affected) {
    std::vector<Cpe> identities;
    for (const auto& c : Arr(a, "cpes")) {
      if (!c.is_string()) continue;
      auto cpe = ParseCpe(c.get_ref<const std::string&>());
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

void ParseCve5Container(const Json& c, VulnRecord& rec, const std::string& source) {
  ParseCve5Metrics(Arr(c, "metrics"), rec, source);
  for (const auto& p : Arr(c, "problemTypes")) {
    for (const auto& d : Arr(p, "descriptions")) AddCwe(rec, Str(d, "cweId"));
  }
  for (const auto& r : Arr(c, "references")) AddReference(rec, Str(r, "url"));
  ParseCve5Affected(Arr(c, "affected"), rec);
}

VulnRecord ParseCve5(const Json& doc) {
  VulnRecord rec;
  rec.source = "cve5";
  const Json& meta = Obj(doc, "cveMetadata");
  rec.id = Str(meta, "cveId");
  rec.status = Str(meta, "state");
  rec.published = Str(meta, "datePublished");
  rec.modified = Str(meta, "dateUpdated");
  const Json& containers = Obj(doc, "containers");
  const Json& cna = Obj(containers, "cna");
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

VulnRecord ParseOsv(const Json& doc) {
  VulnRecord rec;
  rec.source = "osv";
  const std::string osv_id = Str(doc, "id");
  std::vector<std::string> cve_aliases;
  for (const auto& a : Arr(doc, "aliases")) {
    if (!a.is_string() || !Room(rec.aliases)) continue;
    const std::string alias = a.get<std::string>().substr(0, 256);
    if (alias.starts_with("CVE-")) cve_aliases.push_back(alias);
    rec.aliases.push_back(alias);
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
  rec.status = Member(doc, "withdrawn") != nullptr ? "WITHDRAWN" : "";
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
    if (c.is_string()) AddCwe(rec, c.get<std::string>());
  }
  for (const auto& r : Arr(doc, "references")) AddReference(rec, Str(r, "url"));
  if (!rec.status.empty()) return rec;  // withdrawn: kept for the record, never matched
  for (const auto& a : Arr(doc, "affected")) {
    const Json& pkg = Obj(a, "package");
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
        if (Member(e, "introduced") != nullptr) {
          if (open) rec.packages.push_back(std::move(*open));
          open = base;
          open->range_type = type;
          open->introduced = Str(e, "introduced");
        } else if (open && (Member(e, "fixed") != nullptr || Member(e, "limit") != nullptr)) {
          open->fixed = Member(e, "fixed") != nullptr ? Str(e, "fixed") : Str(e, "limit");
          rec.packages.push_back(std::move(*open));
          open.reset();
        } else if (open && Member(e, "last_affected") != nullptr) {
          open->last_affected = Str(e, "last_affected");
          rec.packages.push_back(std::move(*open));
          open.reset();
        }
      }
      if (open && Room(rec.packages)) rec.packages.push_back(std::move(*open));
    }
    PackageRange exact = base;
    for (const auto& v : Arr(a, "versions")) {
      if (v.is_string() && Room(exact.versions)) exact.versions.push_back(v.get<std::string>());
    }
    if (!exact.versions.empty() && Room(rec.packages)) rec.packages.push_back(std::move(exact));
    for (const auto& c : Arr(Obj(a, "database_specific"), "cwe_ids")) {
      if (c.is_string()) AddCwe(rec, c.get<std::string>());
    }
  }
  return rec;
}

// ---- dispatch ----

class Dispatcher {
 public:
  explicit Dispatcher(const FeedSink& sink) : sink_(sink) {}

  // Routes one JSON object by its shape; false (with error_) when the sink failed.
  bool Handle(const Json& item) {
    if (!item.is_object()) {
      ++stats_.skipped;
      return true;
    }
    if (const Json* cve = Member(item, "cve"); cve != nullptr && cve->is_object()) {
      return Vuln(ParseNvdCve(*cve), "nvd");
    }
    if (Member(item, "cveID") != nullptr) {
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
    if (Member(item, "cveMetadata") != nullptr) return Vuln(ParseCve5(item), "cve5");
    const std::string id = Str(item, "id");
    if (!id.empty() &&
        (Member(item, "vulnStatus") != nullptr || Member(item, "sourceIdentifier") != nullptr ||
         Member(item, "lastModified") != nullptr)) {
      return Vuln(ParseNvdCve(item), "nvd");
    }
    if (!id.empty() &&
        (Member(item, "modified") != nullptr || Member(item, "affected") != nullptr)) {
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

// Keys of NVD/CVE 5/OSV/KEV objects that no parser here reads.
bool IsUnusedKey(const std::string& key) {
  static const std::set<std::string, std::less<>> kUnused = {"matchCriteriaId",
                                                             "exploitabilityScore",
                                                             "impactScore",
                                                             "attackVector",
                                                             "attackComplexity",
                                                             "privilegesRequired",
                                                             "userInteraction",
                                                             "scope",
                                                             "confidentialityImpact",
                                                             "integrityImpact",
                                                             "availabilityImpact",
                                                             "accessVector",
                                                             "accessComplexity",
                                                             "authentication",
                                                             "acInsufInfo",
                                                             "obtainAllPrivilege",
                                                             "obtainUserPrivilege",
                                                             "obtainOtherPrivilege",
                                                             "userInteractionRequired",
                                                             "tags",
                                                             "cveTags",
                                                             "sourceIdentifier",
                                                             "vendorComments",
                                                             "evaluatorComment",
                                                             "evaluatorImpact",
                                                             "evaluatorSolution",
                                                             "attackRequirements",
                                                             "vulnConfidentialityImpact",
                                                             "vulnIntegrityImpact",
                                                             "vulnAvailabilityImpact",
                                                             "subConfidentialityImpact",
                                                             "subIntegrityImpact",
                                                             "subAvailabilityImpact",
                                                             "exploitMaturity",
                                                             "notes"};
  return kUnused.contains(key);
}

// Thrown from inside the parser callback to stop at the first sink error.
struct StopParse {};

// `Input` is a std::istream or a std::string_view (the faster path for in-memory data).
template <class Input>
Result<FeedStats> ParseJsonStream(Input& in, const FeedSink& sink) {
  Dispatcher dispatch(sink);
  bool top_array = false;
  std::string top_key;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    using E = Json::parse_event_t;
    if (depth == 0 && event == E::array_start) top_array = true;
    if (depth == 1 && event == E::key && parsed.is_string()) top_key = parsed.get<std::string>();
    // Values no parser reads are dropped as they are met: building them is most of the cost.
    if (depth > 1 && event == E::key && parsed.is_string() &&
        IsUnusedKey(parsed.get_ref<const std::string&>())) {
      return false;
    }
    if (event == E::object_end) {
      const bool item =
          top_array ? depth == 1
                    : (depth == 2 && (top_key == "vulnerabilities" || top_key == "CVE_Items"));
      if (item) {
        if (!dispatch.Handle(parsed)) throw StopParse{};
        return false;  // processed: do not keep it in memory
      }
    }
    return true;
  };
  Json top;
  try {
    if constexpr (std::is_same_v<Input, std::string_view>) {
      top = Json::parse(in.begin(), in.end(), callback, true, true);
    } else {
      top = Json::parse(in, callback, true, true);
    }
  } catch (const StopParse&) {
    return Unexpected(*dispatch.error());
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kMalformed, std::string("JSON: ") + e.what());
  }
  if (top.is_object() && !top.contains("vulnerabilities") && !top.contains("CVE_Items")) {
    if (!dispatch.Handle(top)) return Unexpected(*dispatch.error());
  }
  if (top.is_object() && top.contains("CVE_Items")) {
    return Fail(ErrorCode::kUnsupported, "NVD JSON 1.1 feeds are retired; use API 2.0 data");
  }
  FeedStats stats = dispatch.stats();
  if (top.is_object() && top.contains("totalResults") && top["totalResults"].is_number_integer()) {
    stats.total_results = top["totalResults"].get<std::int64_t>();
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
      std::string_view view(whole);
      stats = ParseJsonStream(view, sink);
    } else {
      // Too large: parse what was read followed by the rest of the stream.
      struct JoinedBuf : std::streambuf {
        JoinedBuf(std::string& head, std::streambuf* tail) : head_(head), tail_(tail) {
          setg(head_.data(), head_.data(), head_.data() + head_.size());
        }
        int_type underflow() override {
          if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
          const auto n = tail_->sgetn(buffer_, sizeof(buffer_));
          if (n <= 0) return traits_type::eof();
          setg(buffer_, buffer_, buffer_ + n);
          return traits_type::to_int_type(*gptr());
        }
        std::string& head_;
        std::streambuf* tail_;
        char buffer_[1 << 16];
      };
      auto joined = std::make_unique<JoinedBuf>(whole, buf.get());
      std::istream rest(joined.get());
      stats = ParseJsonStream(rest, sink);
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

Result<FeedStats> ParseFeedBytes(std::string_view bytes, const FeedSink& sink) {
  std::size_t i = 0;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) {
    ++i;
  }
  if (i == bytes.size()) return Fail(ErrorCode::kMalformed, "empty feed");
  if (LooksLikeJson(bytes[i])) return ParseJsonStream(bytes, sink);
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
