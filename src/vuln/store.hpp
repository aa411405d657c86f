// The read side of the vulnerability store: exact matching of components to CVEs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/severity.hpp"
#include "vuln/sqlite_db.hpp"

namespace clearbox::vuln {

// A component to match: a CPE 2.3 name, a package URL, or a name and version (any subset).
struct ComponentQuery {
  std::string name, version, cpe, purl;
};

// One vulnerability that applies to a component, with the reason it matched.
struct VulnerabilityMatch {
  std::string id;       // "CVE-2022-0778"
  std::string matched;  // "cpe:2.3:a:openssl:openssl:*:... versions [1.0.2, 1.0.2zd)"
  MatchKind match_kind = MatchKind::kExact;
  // The data that decided the match: "nvd CPE configuration" (or "cve5 ..."), or
  // "OSV <ecosystem>" ("OSV Debian:12": the distribution's own data, in its version order).
  std::string decided_by;
  double cvss_score = 0;
  std::string cvss_version, cvss_vector;
  std::optional<Severity> severity;  // the CVSS rating ("NONE" = kInfo); nullopt when none given
  bool kev = false;
  double epss = 0;
  // kHigh by exact CPE/PURL, kMedium by name; one level lower when the NVD configuration
  // also needs a platform (see conditions).
  ConfidenceLevel confidence = ConfidenceLevel::kLow;
  std::vector<std::string> cwes;
  std::string published, modified, description;
  std::vector<std::string> conditions;  // not-vulnerable CPEs the AND configuration requires
  std::vector<std::string> aliases;     // other ids (GHSA-..., OSV ids)
};

// The match's severity as reports spell it ("critical" ... "info"), "" when none is known.
inline std::string_view SeverityName(const VulnerabilityMatch& match) {
  return match.severity ? ToString(*match.severity) : std::string_view();
}

// Counts and freshness of one data source.
struct SourceInfo {
  std::string name, imported_at, newest_modified, update_end, origin;
  long long records = 0;
};

// What `clearbox db info` shows.
struct StoreInfo {
  std::string location;  // file path, or "bundled snapshot (...)"
  std::string schema, created;
  long long vulnerabilities = 0, cpe_matches = 0, package_ranges = 0, kev = 0, epss = 0;
  std::vector<SourceInfo> sources;
};

// A read-only vulnerability database. Match and Info are thread-safe: calls are serialised
// on the one connection (a match takes tens of microseconds).
class VulnStore {
 public:
  VulnStore(VulnStore&&) noexcept;
  VulnStore& operator=(VulnStore&&) noexcept;
  ~VulnStore();

  // Opens an existing database file read-only; a missing file or wrong schema is an error.
  static Result<VulnStore> Open(const std::filesystem::path& sqlite_path);
  // Adopts an open connection (e.g. an in-memory database built from the snapshot).
  static Result<VulnStore> FromDatabase(SqliteDb db, std::string location);
  // The database `clearbox scan` uses: DefaultDbPath() when it exists, else the bundled
  // snapshot (DataDir()/vuln/snapshot) imported into memory.
  static Result<VulnStore> OpenDefault();

  // All vulnerabilities of `component`, sorted by id; an unknown version matches nothing.
  Result<std::vector<VulnerabilityMatch>> Match(const ComponentQuery& component) const;
  // Match for each component in order, all read in one transaction (one consistent view,
  // one lock); the first error ends the batch.
  Result<std::vector<std::vector<VulnerabilityMatch>>> MatchAll(
      const std::vector<ComponentQuery>& components) const;
  Result<StoreInfo> Info() const;

 private:
  struct Impl;
  explicit VulnStore(std::unique_ptr<Impl> impl);
  class Matcher;
  // Match without the lock and the read transaction, which the caller holds.
  Result<std::vector<VulnerabilityMatch>> MatchInTransaction(const ComponentQuery& component) const;
  std::unique_ptr<Impl> impl_;
};

// $CLEARBOX_DB, else $XDG_DATA_HOME/clearbox/vuln.db, else ~/.local/share/clearbox/vuln.db.
std::filesystem::path DefaultDbPath();

// DataDir()/vuln/snapshot: the NVD records bundled with clearbox.
std::filesystem::path SnapshotDir();

// Builds an in-memory database from every feed file in `dir` (sorted by name).
Result<SqliteDb> ImportSnapshot(const std::filesystem::path& dir);

}  // namespace clearbox::vuln
