// Triage items, comments and published verdicts in the SQLite portal store.
#include <sqlite3.h>

#include "store/row_readers.hpp"
#include "store/sqlite_statement.hpp"
#include "store/sqlite_store.hpp"

namespace clearbox::store {
namespace {

using sqlite::Concat;
using sqlite::Exec;
using sqlite::FirstRow;
using sqlite::InTransaction;
using sqlite::Prepare;
using sqlite::Rows;
using sqlite::Statement;

using rows::kCommentColumns;
using rows::kItemColumns;
using rows::kVerdictColumns;
constexpr auto* ReadItem = &rows::ReadItem<Statement>;
constexpr auto* ReadVerdict = &rows::ReadVerdict<Statement>;

}  // namespace

Result<std::int64_t> SqlitePortalStore::ImportTriageItems(Id release_id,
                                                          const std::vector<TriageItem>& items) {
  std::lock_guard lock(mutex_);
  return InTransaction(db_, [&]() -> Result<std::int64_t> {
    std::int64_t added = 0;
    for (const auto& item : items) {
      CLEARBOX_TRY(Exec(db_,
                        "INSERT INTO triage_items (release_id, item_key, kind, title, severity) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        {release_id, item.item_key, item.kind, item.title, item.severity}));
      added += sqlite3_changes(db_);
    }
    return added;
  });
}

Result<std::vector<TriageItem>> SqlitePortalStore::ListTriageItems(Id release_id) {
  std::lock_guard lock(mutex_);
  return Rows<TriageItem>(
      Prepare(db_, Concat(kItemColumns, " WHERE release_id = ? ORDER BY kind DESC, id"),
              {release_id}),
      ReadItem);
}

Result<std::optional<TriageItem>> SqlitePortalStore::FindTriageItem(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<TriageItem>(Prepare(db_, Concat(kItemColumns, " WHERE id = ?"), {id}), ReadItem);
}

Result<void> SqlitePortalStore::AnswerTriageItem(const TriageItem& answer, Id user_id,
                                                 UnixSeconds now) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_,
                    "UPDATE triage_items SET vendor_status = ?, justification = ?, detail = ?, "
                    "fix_version = ?, answered_by = ?, answered_at = ?, lab_decision = 'pending', "
                    "lab_reason = '', decided_by = NULL, decided_at = 0 WHERE id = ?",
                    {answer.vendor_status, answer.justification, answer.detail, answer.fix_version,
                     user_id, now, answer.id}));
  if (sqlite3_changes(db_) == 0) return Fail(ErrorCode::kInvalidArgument, "no such triage item");
  return {};
}

Result<void> SqlitePortalStore::DecideTriageItem(Id item_id, std::string_view decision,
                                                 std::string_view reason, Id user_id,
                                                 UnixSeconds now) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_,
                    "UPDATE triage_items SET lab_decision = ?, lab_reason = ?, decided_by = ?, "
                    "decided_at = ? WHERE id = ? AND vendor_status <> ''",
                    {decision, reason, user_id, now, item_id}));
  if (sqlite3_changes(db_) == 0) {
    return Fail(ErrorCode::kInvalidArgument, "no answered triage item " + std::to_string(item_id));
  }
  return {};
}

Result<Id> SqlitePortalStore::AddTriageComment(const TriageComment& comment) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_,
                    "INSERT INTO triage_comments (item_id, author, body, created_at) "
                    "VALUES (?, NULLIF(?, 0), ?, ?)",
                    {comment.item_id, comment.author, comment.body, comment.created_at}));
  return sqlite3_last_insert_rowid(db_);
}

Result<std::vector<TriageComment>> SqlitePortalStore::ListTriageComments(Id item_id) {
  std::lock_guard lock(mutex_);
  return Rows<TriageComment>(
      Prepare(db_, Concat(kCommentColumns, " WHERE item_id = ? ORDER BY id"), {item_id}),
      rows::ReadComment<Statement>);
}

Result<Id> SqlitePortalStore::CreateVerdict(const Verdict& verdict) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_,
                    "INSERT INTO verdicts (release_id, outcome, summary, published_by, "
                    "published_at, envelope, log_index) VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?)",
                    {verdict.release_id, verdict.outcome, verdict.summary, verdict.published_by,
                     verdict.published_at, verdict.envelope, verdict.log_index}));
  return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<Verdict>> SqlitePortalStore::FindVerdict(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Verdict>(Prepare(db_, Concat(kVerdictColumns, " WHERE id = ?"), {id}),
                           ReadVerdict);
}

Result<std::optional<Verdict>> SqlitePortalStore::FindVerdictOfRelease(Id release_id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Verdict>(
      Prepare(db_, Concat(kVerdictColumns, " WHERE release_id = ?"), {release_id}), ReadVerdict);
}

}  // namespace clearbox::store
