-- clearbox vulnerability store (src/vuln). One SQLite file; read by VulnStore, written by
-- `clearbox db import|update`. Compiled into the program at build time; this file is the
-- single definition. Bump user_version when the layout changes.
PRAGMA user_version = 2;

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

-- Which source holds which record, with its last-modified date (for counts and updates) and
-- the (product TAB vendor) keys of its cpe_match rows, one per line (to replace them).
CREATE TABLE IF NOT EXISTS record (
  vuln_id TEXT NOT NULL,
  source TEXT NOT NULL,
  modified TEXT,
  cpe_keys TEXT,
  PRIMARY KEY (vuln_id, source)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_source ON record(source);

-- One row per vulnerability (CVE id, or the OSV id when no CVE alias exists). A rowid table:
-- its rows are long (description, references), which WITHOUT ROWID tables store badly.
CREATE TABLE IF NOT EXISTS vulnerability (
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,                     -- source of the descriptive fields below
  status TEXT,                              -- NVD vulnStatus / CVE state
  published TEXT,
  modified TEXT,
  description TEXT,
  cvss_score REAL,                          -- the preferred metric (v4 > v3.1 > v3.0 > v2)
  cvss_version TEXT,
  cvss_vector TEXT,
  severity TEXT,
  aliases TEXT,                             -- space-separated other ids (GHSA-..., OSV ids)
  -- Every CVSS metric (v2, v3.0, v3.1, v4.0; primary and secondary), one per line:
  -- version TAB score TAB severity TAB type TAB source TAB vector.
  metrics TEXT,
  cwes TEXT,                                -- space-separated CWE ids, in record order
  refs TEXT                                 -- reference URLs, one per line
);

-- NVD configurations flattened: one row per cpeMatch, clustered by product then vendor so
-- that a component's rows are read from consecutive pages (by product alone for name
-- matches, by product and vendor for CPE matches). `seq` is the row's position in its
-- record. `context` lists the criteria of the not-vulnerable CPEs that an AND
-- configuration requires (running on / with).
CREATE TABLE IF NOT EXISTS cpe_match (
  product TEXT NOT NULL,
  vendor TEXT NOT NULL,
  vuln_id TEXT NOT NULL,
  source TEXT NOT NULL,
  seq INTEGER NOT NULL,
  config INTEGER NOT NULL,
  node INTEGER NOT NULL,
  operator TEXT NOT NULL,                   -- configuration operator: OR / AND
  vulnerable INTEGER NOT NULL,
  part TEXT NOT NULL,
  version TEXT NOT NULL,
  update_ TEXT NOT NULL,
  criteria TEXT NOT NULL,                   -- the full cpe:2.3 string
  start_incl TEXT,
  start_excl TEXT,
  end_incl TEXT,
  end_excl TEXT,
  context TEXT,
  PRIMARY KEY (product, vendor, vuln_id, source, seq)
) WITHOUT ROWID;

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
-- Whether a distribution release has its own data ("Debian:12"): decides how its packages match.
CREATE INDEX IF NOT EXISTS package_range_ecosystem ON package_range(ecosystem);

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
