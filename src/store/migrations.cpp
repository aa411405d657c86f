#include "store/migrations.hpp"

#include <array>
#include <string>
#include <vector>

namespace clearbox::store {
namespace {

// Never edit a migration that has shipped: add a new one.
constexpr std::array kMigrations{
    Migration{1, "organisations, users, memberships, projects, shares, sessions, api tokens",
              R"sql(
CREATE TABLE organisations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('lab', 'vendor', 'customer', 'regulator'))
);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE memberships (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  role TEXT NOT NULL
    CHECK (role IN ('admin', 'lab_analyst', 'vendor', 'customer', 'regulator')),
  PRIMARY KEY (user_id, organisation_id, role)
);
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  vendor_organisation_id INTEGER NOT NULL REFERENCES organisations(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (vendor_organisation_id, name)
);
CREATE TABLE shares (
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, organisation_id)
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
)sql"},
    Migration{2, "audit_events placeholder (filled and logged in a later step)", R"sql(
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  log_index INTEGER
);
)sql"},
    Migration{3, "releases and their scan jobs", R"sql(
CREATE TABLE releases (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  version TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('image', 'sbom')),
  file_name TEXT NOT NULL,
  blob_sha256 TEXT NOT NULL CHECK (length(blob_sha256) = 64),
  size INTEGER NOT NULL CHECK (size >= 0),
  uploaded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (project_id, version)
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT NOT NULL DEFAULT '',
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs(state, id);
CREATE INDEX jobs_by_release ON jobs(release_id);
)sql"},
    Migration{4, "triage items of a release (vendor answers, lab decisions) and their comments",
              R"sql(
CREATE TABLE triage_items (
  id INTEGER PRIMARY KEY,
  release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
  item_key TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('vulnerability', 'finding')),
  title TEXT NOT NULL,
  severity TEXT NOT NULL,
  vendor_status TEXT NOT NULL DEFAULT ''
    CHECK (vendor_status IN ('', 'not_affected', 'affected', 'fixed', 'under_investigation')),
  justification TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  fix_version TEXT NOT NULL DEFAULT '',
  answered_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  answered_at INTEGER NOT NULL DEFAULT 0,
  lab_decision TEXT NOT NULL DEFAULT 'pending'
    CHECK (lab_decision IN ('pending', 'accepted', 'rejected')),
  lab_reason TEXT NOT NULL DEFAULT '',
  decided_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  decided_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (release_id, item_key)
);
CREATE TABLE triage_comments (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES triage_items(id) ON DELETE CASCADE,
  author INTEGER REFERENCES users(id) ON DELETE SET NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX triage_comments_by_item ON triage_comments(item_id, id);
)sql"},
    Migration{5, "published verdicts: one per release, its signed envelope and log index", R"sql(
CREATE TABLE verdicts (
  id INTEGER PRIMARY KEY,
  release_id INTEGER NOT NULL UNIQUE REFERENCES releases(id) ON DELETE CASCADE,
  outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'conditional')),
  summary TEXT NOT NULL,
  published_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
  published_at INTEGER NOT NULL,
  envelope TEXT NOT NULL,
  log_index INTEGER NOT NULL
);
)sql"},
};

}  // namespace

std::span<const Migration> SqliteMigrations() {
  return kMigrations;
}

std::string PostgresDialect(std::string_view sqlite_sql) {
  // The shipped SQL uses only what both engines read alike except two things: SQLite's rowid
  // alias "INTEGER PRIMARY KEY" (an identity column in PostgreSQL) and INTEGER, which is 64-bit
  // in SQLite and 32-bit in PostgreSQL (BIGINT).
  constexpr std::string_view kRowid = "INTEGER PRIMARY KEY";
  constexpr std::string_view kInteger = "INTEGER";
  std::string out;
  out.reserve(sqlite_sql.size() + 256);
  for (std::size_t i = 0; i < sqlite_sql.size();) {
    if (sqlite_sql.substr(i, kRowid.size()) == kRowid) {
      out += "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
      i += kRowid.size();
    } else if (sqlite_sql.substr(i, kInteger.size()) == kInteger) {
      out += "BIGINT";
      i += kInteger.size();
    } else {
      out += sqlite_sql[i++];
    }
  }
  return out;
}

std::span<const Migration> PostgresMigrations() {
  // Built once from the SQLite list: same versions, same names, the same tables and checks.
  static const std::vector<std::string> kTexts = [] {
    std::vector<std::string> texts;
    for (const Migration& migration : kMigrations) texts.push_back(PostgresDialect(migration.sql));
    return texts;
  }();
  static const std::vector<Migration> kTranslated = [] {
    std::vector<Migration> migrations;
    for (std::size_t i = 0; i < kMigrations.size(); ++i) {
      migrations.push_back(Migration{kMigrations[i].version, kMigrations[i].name, kTexts[i]});
    }
    return migrations;
  }();
  return kTranslated;
}

int LatestSchemaVersion() {
  return kMigrations.back().version;
}

}  // namespace clearbox::store
