// A thin RAII layer over the SQLite C API for the vulnerability store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox::vuln {

// One prepared statement; Bind* are 1-based; Step returns true while a row is available.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt, sqlite3_finalize) {}
  void BindText(int index, std::string_view text);
  // Binds without a copy: `text` must stay alive until the statement is reset (Run resets).
  void BindTextNoCopy(int index, std::string_view text);
  void BindNullableTextNoCopy(int index, std::string_view text);
  void BindNullableText(int index, std::string_view text);  // "" binds NULL
  void BindInt(int index, std::int64_t value);
  void BindDouble(int index, double value);
  Result<bool> Step();
  Result<void> Run();  // steps to completion, then resets
  void Reset();
  std::string Text(int column) const;  // "" for NULL
  // The column's text without a copy; valid until the next Step/Reset.
  std::string_view TextView(int column) const;
  std::int64_t Int(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt_{nullptr, sqlite3_finalize};
};

// One database connection.
class SqliteDb {
 public:
  // Opens (read_only) or opens/creates a database file; ":memory:" is accepted.
  static Result<SqliteDb> Open(const std::filesystem::path& path, bool read_only);
  Result<void> Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  sqlite3* handle() const { return db_.get(); }
  std::string LastError() const;

 private:
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_{nullptr, sqlite3_close};
};

// The schema of data/vuln/schema.sql (compiled in at build time), and its version
// (PRAGMA user_version of a database it made).
std::string_view SchemaSql();
inline constexpr int kSchemaVersion = 2;

// PRAGMA user_version of `db` (0 for a new, empty database).
Result<int> SchemaVersionOf(SqliteDb& db);

}  // namespace clearbox::vuln
