#include "store/postgres_connection.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>

namespace clearbox::store::postgres {
namespace {

// The server's message for a failed connection or statement, without the trailing newline.
std::string ServerMessage(pg_conn* conn, pg_result* result) {
  const char* text = result != nullptr ? PQresultErrorMessage(result) : nullptr;
  if (text == nullptr || *text == '\0') text = PQerrorMessage(conn);
  std::string message = text != nullptr ? text : "unknown error";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

// Constraint violations (class 23) and data exceptions (class 22: bad encoding, value out of
// range) are the caller's input; everything else is the database's.
ErrorCode CodeOf(pg_result* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr &&
      (std::strncmp(state, "23", 2) == 0 || std::strncmp(state, "22", 2) == 0)) {
    return ErrorCode::kInvalidArgument;
  }
  return ErrorCode::kIo;
}

}  // namespace

Rows::Rows(pg_result* result) : result_(result) {}
Rows::Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
Rows::~Rows() {
  PQclear(result_);
}

int Rows::size() const {
  return PQntuples(result_);
}

std::string Rows::Text(int row, int column) const {
  if (PQgetisnull(result_, row, column)) return {};
  return std::string(PQgetvalue(result_, row, column),
                     static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::int64_t Rows::Int(int row, int column) const {
  if (PQgetisnull(result_, row, column)) return 0;
  const char* text = PQgetvalue(result_, row, column);
  std::int64_t value = 0;
  std::from_chars(text, text + PQgetlength(result_, row, column), value);
  return value;
}

std::int64_t Rows::Affected() const {
  const char* text = PQcmdTuples(result_);
  std::int64_t value = 0;
  if (text != nullptr) std::from_chars(text, text + std::strlen(text), value);
  return value;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url) {
  pg_conn* conn = PQconnectdb(url.c_str());
  std::unique_ptr<Connection> connection(new Connection(conn));
  if (conn == nullptr) return Fail(ErrorCode::kIo, "portal database: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    return Fail(ErrorCode::kIo,
                "cannot connect to the portal database: " + ServerMessage(conn, nullptr));
  }
  // Quiet NOTICEs (CREATE TABLE IF NOT EXISTS) instead of libpq printing them to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return connection;
}

Connection::~Connection() {
  PQfinish(conn_);
}

Result<void> Connection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return {};
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Fail(ErrorCode::kIo, "portal database unreachable: " + ServerMessage(conn_, nullptr));
  }
  return {};
}

Result<Rows> Connection::Exec(std::string_view sql, std::initializer_list<Param> params) {
  CLEARBOX_TRY(EnsureConnected());
  // libpq takes NUL-terminated text parameters: keep each one alive as a std::string.
  std::vector<std::string> texts;
  texts.reserve(params.size());
  for (const Param& param : params) {
    if (const auto* number = std::get_if<std::int64_t>(&param)) {
      texts.push_back(std::to_string(*number));
    } else {
      const auto text = std::get<std::string_view>(param);
      if (text.find('\0') != std::string_view::npos) {
        // PostgreSQL text cannot hold NUL; refusing beats storing a silently cut value.
        return Fail(ErrorCode::kInvalidArgument, "text with a NUL byte cannot be stored");
      }
      texts.emplace_back(text);
    }
  }
  std::vector<const char*> values;
  values.reserve(texts.size());
  for (const auto& text : texts) values.push_back(text.c_str());
  const std::string statement(sql);
  Rows rows(PQexecParams(conn_, statement.c_str(), static_cast<int>(values.size()), nullptr,
                         values.data(), nullptr, nullptr, 0));
  pg_result* raw = rows.raw();
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(CodeOf(raw), "portal database: " + ServerMessage(conn_, raw));
  }
  return rows;
}

Result<void> Connection::ExecScript(std::string_view sql) {
  CLEARBOX_TRY(EnsureConnected());
  const std::string script(sql);
  pg_result* result = PQexec(conn_, script.c_str());
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Error error{CodeOf(result), "portal database: " + ServerMessage(conn_, result)};
    PQclear(result);
    return Fail(error.code, error.message);
  }
  PQclear(result);
  return {};
}

}  // namespace clearbox::store::postgres
