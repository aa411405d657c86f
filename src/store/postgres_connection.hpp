// Internal to src/store's PostgreSQL backend: one libpq connection with parameterised
// statements and the helpers every PostgresPortalStore method uses. Every statement is a
// constant string with $1, $2, ... parameters; user text only ever reaches the server as a
// parameter of PQexecParams, never spliced into SQL.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"

struct pg_conn;
struct pg_result;

namespace clearbox::store::postgres {

using Param = std::variant<std::int64_t, std::string_view>;

// The rows of one statement (PQclear on destruction).
class Rows {
 public:
  explicit Rows(pg_result* result);
  Rows(Rows&&) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  Rows& operator=(Rows&&) = delete;
  ~Rows();

  int size() const;
  std::string Text(int row, int column) const;
  std::int64_t Int(int row, int column) const;
  // Rows an INSERT/UPDATE/DELETE touched.
  std::int64_t Affected() const;
  // The libpq result (for its status and error fields).
  pg_result* raw() const { return result_; }

 private:
  pg_result* result_;
};

// Row `row` of `rows`, read by column like SQLite's statement (store/row_readers.hpp).
struct RowView {
  const Rows& rows;
  int row = 0;
  std::string Text(int column) const { return rows.Text(row, column); }
  std::int64_t Int(int column) const { return rows.Int(row, column); }
};

// One connection. Not thread-safe: the store serialises calls. A connection the server dropped
// (restart, network) is re-established by the next call; the failing call returns kIo.
class Connection {
 public:
  // Connects to `url` (a libpq connection URI or keyword string); kIo with the server's reason.
  static Result<std::unique_ptr<Connection>> Open(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement; kInvalidArgument for a constraint violation (SQLSTATE class 23), kIo for
  // anything else (the server's message included).
  Result<Rows> Exec(std::string_view sql, std::initializer_list<Param> params = {});
  // Runs a script of several statements without parameters (migrations).
  Result<void> ExecScript(std::string_view sql);

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  // Re-establishes a dropped connection; kIo if the server is still unreachable.
  Result<void> EnsureConnected();

  pg_conn* conn_;
};

// The first row of `rows` read with `read(RowView)`, or nullopt.
template <class T, class Read>
Result<std::optional<T>> FirstRow(Result<Rows> rows, Read read) {
  if (!rows) return Forward(rows);
  if (rows->size() == 0) return std::optional<T>();
  return std::optional<T>(read(RowView{*rows, 0}));
}

// Every row of `rows` read with `read(RowView)`.
template <class T, class Read>
Result<std::vector<T>> AllRows(Result<Rows> rows, Read read) {
  if (!rows) return Forward(rows);
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) out.push_back(read(RowView{*rows, i}));
  return out;
}

// `a` followed by `b` (column lists and their WHERE clauses).
inline std::string Concat(std::string_view a, std::string_view b) {
  return std::string(a) + std::string(b);
}

// Success or the error of `rows`, for statements whose rows nobody reads.
inline Result<void> Discard(Result<Rows> rows) {
  if (!rows) return Forward(rows);
  return {};
}

// The id column of a single-row INSERT ... RETURNING id.
inline Result<std::int64_t> ReturnedId(Result<Rows> rows) {
  if (!rows) return Forward(rows);
  if (rows->size() != 1) return Fail(ErrorCode::kIo, "portal database: no id returned");
  return rows->Int(0, 0);
}

// Runs `body` inside BEGIN ... COMMIT (ROLLBACK when it fails): all or nothing.
template <class Body>
auto InTransaction(Connection& db, Body body) -> decltype(body()) {
  CLEARBOX_TRY(db.ExecScript("BEGIN"));
  auto result = body();
  if (!result) {
    (void)db.ExecScript("ROLLBACK");
    return result;
  }
  auto committed = db.ExecScript("COMMIT");
  if (!committed) {
    (void)db.ExecScript("ROLLBACK");
    return Forward(committed);
  }
  return result;
}

}  // namespace clearbox::store::postgres
