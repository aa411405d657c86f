// OSV records (ecosystem packages, distributions' advisories).
#include "vuln/cvss.hpp"
#include "vuln/feed_json.hpp"
#include "vuln/identifiers.hpp"

namespace clearbox::vuln::feed_json {

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

// The record's id and aliases: a CVE id when the record is one CVE (OSV's own id joins the
// aliases), else OSV's id; an advisory fixing several CVEs lists them among its aliases.
void AssignIdAndAliases(Elem doc, VulnRecord& rec) {
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
    if (upstream_cves.size() == 1) {
      cve_aliases = std::move(upstream_cves);
    } else {
      // An advisory fixing several CVEs (DSA-..., DLA-...) keeps its own id (one record
      // cannot be several CVEs) and names each CVE it fixes among its aliases.
      for (auto& cve : upstream_cves) {
        if (Room(rec.aliases)) rec.aliases.push_back(std::move(cve));
      }
    }
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
}

VulnRecord ParseOsv(Elem doc) {
  VulnRecord rec;
  rec.source = "osv";
  AssignIdAndAliases(doc, rec);
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

}  // namespace clearbox::vuln::feed_json
