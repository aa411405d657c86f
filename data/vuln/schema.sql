-- clearbox vulnerability store (src/vuln). One SQLite file; read by VulnStore, written by
-- `clearbox db import|update`. Compiled into the program at build time; this file is the
-- single definition. Bump user_version when the layout changes.
PRAGMA user_version = 1;

-- Free-form facts about the database (schema version, creation time).
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per data source ("nvd", "cve5", "osv", "kev", "epss"): what was loaded and when.
CREATE TABLE IF NOT EXISTS source (
  name TEXT PRIMARY KEY,
  records INTEGER NOT NULL DEFAULT 0,       -- records stored from this source
  imported_at TEXT,                         -- UTC time of the last import or update
  newest_modified TEXT,                     -- newest last-modified date seen in its records
  update_end TEXT,                          -- end of the last complete update window
  origin TEXT                               -- last file or URL imported
) WITHOUT ROWID;

-- Which source holds which record, with its last-modified date (for counts and updates).
CREATE TABLE IF NOT EXISTS record (
  vuln_id TEXT NOT NULL,
  source TEXT NOT NULL,
  modified TEXT,
  PRIMARY KEY (vuln_id, source)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_source ON record(source);

-- One row per vulnerability (CVE id, or the OSV id when no CVE alias exists).
CREATE TABLE IF NOT EXISTS vulnerability (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,                     -- source of the descriptive fields below
  status TEXT,                              -- NVD vulnStatus / CVE state
  published TEXT,
  modified TEXT,
  description TEXT,
  cvss_score REAL,                          -- the preferred metric (v4 > v3.1 > v3.0 > v2)
  cvss_version TEXT,
  cvss_vector TEXT,
  severity TEXT,
  aliases TEXT                              -- space-separated other ids (GHSA-..., OSV ids)
) WITHOUT ROWID;

-- Every CVSS metric of a vulnerability (v2, v3.0, v3.1, v4.0; primary and secondary).
CREATE TABLE IF NOT EXISTS metric (
  vuln_id TEXT NOT NULL,
  version TEXT NOT NULL,
  vector TEXT,
  score REAL,
  severity TEXT,
  source TEXT,
  type TEXT
);
CREATE INDEX IF NOT EXISTS metric_vuln ON metric(vuln_id);

CREATE TABLE IF NOT EXISTS weakness (
  vuln_id TEXT NOT NULL,
  cwe TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS weakness_vuln ON weakness(vuln_id);

CREATE TABLE IF NOT EXISTS reference (
  vuln_id TEXT NOT NULL,
  url TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reference_vuln ON reference(vuln_id);

-- NVD configurations flattened: one row per cpeMatch. `context` lists the criteria of the
-- not-vulnerable CPEs that an AND configuration requires (running on / with).
CREATE TABLE IF NOT EXISTS cpe_match (
  vuln_id TEXT NOT NULL,
  source TEXT NOT NULL,
  config INTEGER NOT NULL,
  node INTEGER NOT NULL,
  operator TEXT NOT NULL,                   -- configuration operator: OR / AND
  vulnerable INTEGER NOT NULL,
  part TEXT NOT NULL,
  vendor TEXT NOT NULL,
  product TEXT NOT NULL,
  version TEXT NOT NULL,
  update_ TEXT NOT NULL,
  criteria TEXT NOT NULL,                   -- the full cpe:2.3 string
  start_incl TEXT,
  start_excl TEXT,
  end_incl TEXT,
  end_excl TEXT,
  context TEXT
);
-- Covering index for the matcher's lookup: all the columns it reads, so a product's rows are
-- read from consecutive index pages instead of one table page per row.
CREATE INDEX IF NOT EXISTS cpe_match_vendor_product ON cpe_match(vendor, product, vulnerable,
  vuln_id, version, update_, start_incl, start_excl, end_incl, end_excl, context, criteria);
CREATE INDEX IF NOT EXISTS cpe_match_product ON cpe_match(product);
CREATE INDEX IF NOT EXISTS cpe_match_vuln ON cpe_match(vuln_id);

-- OSV affected packages: one row per range (or one row holding only exact versions).
CREATE TABLE IF NOT EXISTS package_range (
  vuln_id TEXT NOT NULL,
  source TEXT NOT NULL,
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  purl TEXT NOT NULL,                       -- pkg:type/namespace/name, lower-case, no version
  range_type TEXT,                          -- SEMVER / ECOSYSTEM / GIT / "" (versions only)
  introduced TEXT,
  fixed TEXT,
  last_affected TEXT,
  versions TEXT                             -- exact affected versions, one per line
);
CREATE INDEX IF NOT EXISTS package_range_purl ON package_range(purl);
CREATE INDEX IF NOT EXISTS package_range_name ON package_range(name);
CREATE INDEX IF NOT EXISTS package_range_vuln ON package_range(vuln_id);

-- CISA Known Exploited Vulnerabilities.
CREATE TABLE IF NOT EXISTS kev (
  cve_id TEXT PRIMARY KEY,
  date_added TEXT,
  due_date TEXT,
  ransomware TEXT,
  name TEXT
) WITHOUT ROWID;

-- FIRST EPSS scores.
CREATE TABLE IF NOT EXISTS epss (
  cve_id TEXT PRIMARY KEY,
  score REAL NOT NULL,
  percentile REAL,
  score_date TEXT
) WITHOUT ROWID;
