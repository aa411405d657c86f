#include "vuln/sqlite_db.hpp"

namespace clearbox::vuln {

void Statement::BindText(int index, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}

void Statement::BindTextNoCopy(int index, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void Statement::BindNullableTextNoCopy(int index, std::string_view text) {
  if (text.empty()) {
    sqlite3_bind_null(stmt_.get(), index);
  } else {
    BindTextNoCopy(index, text);
  }
}

void Statement::BindNullableText(int index, std::string_view text) {
  if (text.empty()) {
    sqlite3_bind_null(stmt_.get(), index);
  } else {
    BindText(index, text);
  }
}

void Statement::BindInt(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
}

void Statement::BindDouble(int index, double value) {
  sqlite3_bind_double(stmt_.get(), index, value);
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(ErrorCode::kIo, std::string("sqlite: ") + sqlite3_errmsg(db_));
}

Result<void> Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row) {
      Reset();
      return Forward(row);
    }
    if (!*row) break;
  }
  Reset();
  return {};
}

void Statement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)));
}

std::string_view Statement::TextView(int column) const {
  const auto* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(text),
                          static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)));
}

std::int64_t Statement::Int(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

double Statement::Double(int column) const {
  return sqlite3_column_double(stmt_.get(), column);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

Result<SqliteDb> SqliteDb::Open(const std::filesystem::path& path, bool read_only) {
  sqlite3* raw = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db;
  db.db_.reset(raw);
  if (rc != SQLITE_OK) {
    return Fail(ErrorCode::kIo, "cannot open database " + path.string() + ": " +
                                    (raw != nullptr ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Result<void> SqliteDb::Exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string m = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return Fail(ErrorCode::kIo, "sqlite: " + m);
  }
  return {};
}

Result<Statement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return Fail(ErrorCode::kInternal, "sqlite prepare: " + LastError());
  }
  return Statement(db_.get(), stmt);
}

Result<int> SchemaVersionOf(SqliteDb& db) {
  auto stmt = db.Prepare("PRAGMA user_version");
  if (!stmt) return Forward(stmt);
  auto row = stmt->Step();
  if (!row) return Forward(row);
  return *row ? static_cast<int>(stmt->Int(0)) : 0;
}

std::string SqliteDb::LastError() const {
  return sqlite3_errmsg(db_.get());
}

}  // namespace clearbox::vuln
