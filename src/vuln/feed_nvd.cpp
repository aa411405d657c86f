// NVD API 2.0 records and CVE JSON 5.x records.
#include "vuln/cvss.hpp"
#include "vuln/feed_json.hpp"

namespace clearbox::vuln::feed_json {

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

}  // namespace clearbox::vuln::feed_json
