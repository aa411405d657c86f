// The portal schema as ordered migrations: version N's SQL turns a version N-1 database into a
// version N one. Applied versions are recorded in the schema_version table; a backend applies
// the ones it lacks, in order, each in the same transaction as its schema_version row.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace clearbox::store {

// One step of the schema; `version` numbers are 1, 2, 3, ... without gaps.
struct Migration {
  int version = 0;
  std::string_view name;  // what it adds, for messages
  std::string_view sql;   // one or more statements
};

// The SQLite migrations, oldest first.
std::span<const Migration> SqliteMigrations();
// The same migrations (versions, names, tables, checks) in PostgreSQL's dialect.
std::span<const Migration> PostgresMigrations();
// `sqlite_sql` for PostgreSQL: rowid keys become identity columns, INTEGER becomes BIGINT.
std::string PostgresDialect(std::string_view sqlite_sql);

// The version the running binary's schema has (the last migration's).
int LatestSchemaVersion();

}  // namespace clearbox::store
