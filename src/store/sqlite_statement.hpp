// Internal to src/store's SQLite backend: one prepared statement with bound parameters and the
// few helpers every SqlitePortalStore method uses. Every statement is a constant string with ?
// parameters; user text only ever reaches SQLite through sqlite3_bind_*.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace clearbox::store::sqlite {

using Param = std::variant<std::int64_t, std::string_view>;

// One prepared statement with its parameters bound; finalised on destruction.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  // True while a row is available; kInvalidArgument for a constraint violation.
  Result<bool> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const ErrorCode code =
        (rc & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kInvalidArgument : ErrorCode::kIo;
    return Fail(code, std::string("portal database: ") + sqlite3_errmsg(db_));
  }
  Result<void> Run() {
    for (;;) {
      auto row = Step();
      if (!row) return Forward(row);
      if (!*row) return {};
    }
  }
  std::string Text(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    if (text == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

inline Result<Statement> Prepare(sqlite3* db, std::string_view sql,
                                 std::initializer_list<Param> params) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return Fail(ErrorCode::kIo, std::string("portal database: ") + sqlite3_errmsg(db));
  }
  Statement statement(db, stmt);
  int index = 1;
  for (const Param& param : params) {
    if (const auto* number = std::get_if<std::int64_t>(&param)) {
      sqlite3_bind_int64(stmt, index, *number);
    } else {
      const auto text = std::get<std::string_view>(param);
      sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
    ++index;
  }
  return statement;
}

inline Result<void> Exec(sqlite3* db, std::string_view sql,
                         std::initializer_list<Param> params = {}) {
  auto statement = Prepare(db, sql, params);
  if (!statement) return Forward(statement);
  return statement->Run();
}

// Runs a whole script (migrations, pragmas): no parameters.
inline Result<void> ExecScript(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return Fail(ErrorCode::kIo, "portal database: " + text);
  }
  return {};
}

// Reads every row of `statement` with `read`.
template <class T, class Read>
Result<std::vector<T>> Rows(Result<Statement> statement, Read read) {
  if (!statement) return Forward(statement);
  std::vector<T> rows;
  for (;;) {
    auto row = statement->Step();
    if (!row) return Forward(row);
    if (!*row) return rows;
    rows.push_back(read(*statement));
  }
}

// The first row of `statement`, or nullopt.
template <class T, class Read>
Result<std::optional<T>> FirstRow(Result<Statement> statement, Read read) {
  if (!statement) return Forward(statement);
  auto row = statement->Step();
  if (!row) return Forward(row);
  if (!*row) return std::optional<T>();
  return std::optional<T>(read(*statement));
}

// `a` followed by `b` (column lists and their WHERE clauses).
inline std::string Concat(std::string_view a, std::string_view b) {
  return std::string(a) + std::string(b);
}

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when it fails): all or nothing.
template <class Body>
auto InTransaction(sqlite3* db, Body body) -> decltype(body()) {
  CLEARBOX_TRY(ExecScript(db, "BEGIN IMMEDIATE"));
  auto result = body();
  if (!result) {
    (void)ExecScript(db, "ROLLBACK");
    return result;
  }
  auto committed = ExecScript(db, "COMMIT");
  if (!committed) {
    (void)ExecScript(db, "ROLLBACK");
    return Forward(committed);
  }
  return result;
}

}  // namespace clearbox::store::sqlite
