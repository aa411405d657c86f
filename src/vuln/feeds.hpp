// Parsers of the public vulnerability feeds into neutral records: NVD API 2.0 (single
// records, API response pages, bulk files), CVE JSON 5.x, OSV, CISA KEV and EPSS CSV.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "vuln/identifiers.hpp"

namespace clearbox::vuln {

// Caps on hostile input (named so that tests and fuzzers can reason about them).
inline constexpr std::size_t kMaxFieldBytes = 64 * 1024;       // one text field
inline constexpr std::size_t kMaxCpeMatchesPerRecord = 20000;  // NVD's largest has ~5k
inline constexpr std::size_t kMaxListPerRecord = 5000;         // references, metrics, ...
inline constexpr std::size_t kMaxCsvLineBytes = 4096;
inline constexpr std::size_t kMaxInMemoryFeedBytes = 1u << 30;  // larger feeds are streamed

// One CVSS metric.
struct Metric {
  std::string version;  // "2.0", "3.0", "3.1", "4.0"
  std::string vector;
  double score = 0;
  std::string severity;  // upper-case: LOW MEDIUM HIGH CRITICAL (v2: from the NVD record)
  std::string source;
  std::string type;  // Primary / Secondary
};

// One cpeMatch of an NVD configuration (or a CPE derived from a CVE 5 "affected" entry).
struct CpeMatch {
  int config = 0;
  int node = 0;
  std::string op = "OR";  // the configuration's operator
  bool vulnerable = true;
  Cpe cpe;
  std::string criteria;
  std::string start_incl, start_excl, end_incl, end_excl;
  std::string context;  // space-separated not-vulnerable criteria an AND configuration needs
};

// One affected range (or exact version list) of an OSV package.
struct PackageRange {
  std::string ecosystem, name, purl;  // purl: "pkg:type/ns/name" lower-case, or ""
  std::string range_type;             // SEMVER / ECOSYSTEM / GIT / "" (versions only)
  std::string introduced, fixed, last_affected;
  std::vector<std::string> versions;
};

// One vulnerability record from any feed.
struct VulnRecord {
  std::string id;      // CVE id (or OSV id when it has no CVE alias)
  std::string source;  // "nvd", "cve5", "osv"
  std::string status, published, modified, description;
  std::vector<std::string> aliases;
  std::vector<Metric> metrics;
  std::vector<std::string> cwes;
  std::vector<std::string> references;
  std::vector<CpeMatch> cpe_matches;
  std::vector<PackageRange> packages;
};

// One CISA KEV catalogue entry.
struct KevEntry {
  std::string cve_id, date_added, due_date, ransomware, name;
};

// One EPSS score line.
struct EpssEntry {
  std::string cve_id;
  double score = 0;
  double percentile = 0;
  std::string date;
};

// Receives what a feed holds, one item at a time (bulk files are streamed).
struct FeedSink {
  std::function<Result<void>(VulnRecord&&)> on_vuln;
  std::function<Result<void>(KevEntry&&)> on_kev;
  std::function<Result<void>(EpssEntry&&)> on_epss;
};

// What a parse saw: the detected format and counts.
struct FeedStats {
  std::string format;  // "nvd", "cve5", "osv", "kev", "epss", or "mixed"
  std::uint64_t vulns = 0, kev = 0, epss = 0, skipped = 0;
  std::string newest_modified;
  std::int64_t total_results = -1;  // an NVD API page's totalResults (-1 when absent)
};

// Parses one feed file (optionally gzip-compressed), streaming records into `sink`.
Result<FeedStats> ParseFeedFile(const std::filesystem::path& path, const FeedSink& sink);

// Parses a feed held in memory (uncompressed); same detection as ParseFeedFile.
Result<FeedStats> ParseFeedBytes(std::string_view bytes, const FeedSink& sink);

// Every item of a parsed feed, held in memory.
struct CollectedFeed {
  std::vector<VulnRecord> vulns;
  std::vector<KevEntry> kev;
  std::vector<EpssEntry> epss;
};

// A sink that appends every item to `out` (which must outlive the sink).
FeedSink CollectInto(CollectedFeed& out);

}  // namespace clearbox::vuln
