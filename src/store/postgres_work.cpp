// Releases, scan jobs, triage and verdicts in the PostgreSQL portal store. A claim picks its job
// with FOR UPDATE SKIP LOCKED, so workers on many machines claim different jobs without waiting
// on each other; a renewal and a finish check the job's state and worker in their WHERE clause,
// so a job finishes exactly once.
#include "store/postgres_connection.hpp"
#include "store/postgres_store.hpp"
#include "store/row_readers.hpp"

namespace clearbox::store {
namespace {

using postgres::AllRows;
using postgres::Concat;
using postgres::Discard;
using postgres::FirstRow;
using postgres::InTransaction;
using postgres::ReturnedId;
using postgres::RowView;

}  // namespace

Result<Id> PostgresPortalStore::CreateReleaseWithJob(const Release& release, UnixSeconds now) {
  std::lock_guard lock(mutex_);
  return InTransaction(*db_, [&]() -> Result<Id> {
    auto project = db_->Exec("SELECT id FROM projects WHERE id = $1", {release.project_id});
    if (!project) return Forward(project);
    if (project->size() == 0) return Fail(ErrorCode::kInvalidArgument, "no such project");
    const std::int64_t uploader = release.uploaded_by;
    auto release_id = ReturnedId(db_->Exec(
        "INSERT INTO releases (project_id, version, kind, file_name, blob_sha256, size, "
        "uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7::BIGINT, 0), $8) "
        "RETURNING id",
        {release.project_id, release.version, ReleaseKindName(release.kind), release.file_name,
         release.blob_sha256, release.size, uploader, now}));
    if (!release_id) return Forward(release_id);
    CLEARBOX_TRY(
        Discard(db_->Exec("INSERT INTO jobs (release_id, state, created_at) VALUES ($1, $2, $3)",
                          {*release_id, JobStateName(JobState::kQueued), now})));
    return *release_id;
  });
}

Result<std::optional<Release>> PostgresPortalStore::FindRelease(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Release>(db_->Exec(Concat(rows::kReleaseColumns, " WHERE id = $1"), {id}),
                           rows::ReadRelease<RowView>);
}

Result<std::vector<Release>> PostgresPortalStore::ListReleasesOfProject(Id project_id) {
  std::lock_guard lock(mutex_);
  return AllRows<Release>(
      db_->Exec(Concat(rows::kReleaseColumns, " WHERE project_id = $1 ORDER BY created_at, id"),
                {project_id}),
      rows::ReadRelease<RowView>);
}

Result<std::optional<Job>> PostgresPortalStore::ClaimJob(const ClaimOptions& options) {
  std::lock_guard lock(mutex_);
  return InTransaction(*db_, [&]() -> Result<std::optional<Job>> {
    // Lost jobs that used up their attempts fail first, so they are never handed out again.
    // SKIP LOCKED: a job another worker is claiming right now is left to it.
    CLEARBOX_TRY(Discard(db_->Exec(
        "UPDATE jobs SET state = 'failed', finished_at = $1, error = "
        "'the worker was lost ' || attempts || ' times (last: ' || worker || ')' "
        "WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at <= $2 "
        "AND attempts >= $3 FOR UPDATE SKIP LOCKED)",
        {options.now, options.now, options.max_attempts})));
    auto next = db_->Exec(
        "SELECT id FROM jobs WHERE state = 'queued' OR "
        "(state = 'running' AND lease_expires_at <= $1) ORDER BY id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED",
        {options.now});
    if (!next) return Forward(next);
    if (next->size() == 0) return std::optional<Job>();
    const Id job_id = next->Int(0, 0);
    CLEARBOX_TRY(Discard(
        db_->Exec("UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $1, "
                  "lease_expires_at = $2, started_at = $3 WHERE id = $4",
                  {options.worker, options.now + options.lease_seconds, options.now, job_id})));
    return FirstRow<Job>(db_->Exec(Concat(rows::kJobColumns, " WHERE id = $1"), {job_id}),
                         rows::ReadJob<RowView>);
  });
}

Result<bool> PostgresPortalStore::RenewJobLease(Id job_id, std::string_view worker,
                                                UnixSeconds lease_expires_at) {
  std::lock_guard lock(mutex_);
  auto renewed = db_->Exec(
      "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND state = 'running' AND worker = $3",
      {lease_expires_at, job_id, worker});
  if (!renewed) return Forward(renewed);
  return renewed->Affected() > 0;
}

Result<bool> PostgresPortalStore::FinishJob(Id job_id, std::string_view worker,
                                            std::string_view error, UnixSeconds now) {
  std::lock_guard lock(mutex_);
  const std::string_view state = error.empty() ? "done" : "failed";
  auto finished = db_->Exec(
      "UPDATE jobs SET state = $1, error = $2, finished_at = $3, lease_expires_at = 0 "
      "WHERE id = $4 AND state = 'running' AND worker = $5",
      {state, error, now, job_id, worker});
  if (!finished) return Forward(finished);
  return finished->Affected() > 0;
}

Result<bool> PostgresPortalStore::CompleteJob(Id job_id, std::string_view worker,
                                              const std::vector<TriageItem>& items,
                                              UnixSeconds now) {
  std::lock_guard lock(mutex_);
  return InTransaction(*db_, [&]() -> Result<bool> {
    auto finished = db_->Exec(
        "UPDATE jobs SET state = 'done', error = '', finished_at = $1, lease_expires_at = 0 "
        "WHERE id = $2 AND state = 'running' AND worker = $3 RETURNING release_id",
        {now, job_id, worker});
    if (!finished) return Forward(finished);
    if (finished->size() == 0) return false;
    const Id release_id = finished->Int(0, 0);
    for (const auto& item : items) {
      CLEARBOX_TRY(Discard(
          db_->Exec("INSERT INTO triage_items (release_id, item_key, kind, title, severity) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    {release_id, item.item_key, item.kind, item.title, item.severity})));
    }
    return true;
  });
}

Result<bool> PostgresPortalStore::ReturnJob(Id job_id, std::string_view worker) {
  std::lock_guard lock(mutex_);
  auto returned = db_->Exec(
      "UPDATE jobs SET state = 'queued', attempts = GREATEST(attempts - 1, 0), "
      "lease_expires_at = 0 WHERE id = $1 AND state = 'running' AND worker = $2",
      {job_id, worker});
  if (!returned) return Forward(returned);
  return returned->Affected() > 0;
}

Result<std::optional<Job>> PostgresPortalStore::FindJobOfRelease(Id release_id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Job>(
      db_->Exec(Concat(rows::kJobColumns, " WHERE release_id = $1 ORDER BY id DESC LIMIT 1"),
                {release_id}),
      rows::ReadJob<RowView>);
}

Result<std::vector<Job>> PostgresPortalStore::ListJobs() {
  std::lock_guard lock(mutex_);
  return AllRows<Job>(db_->Exec(Concat(rows::kJobColumns, " ORDER BY id")), rows::ReadJob<RowView>);
}

Result<std::int64_t> PostgresPortalStore::ImportTriageItems(Id release_id,
                                                            const std::vector<TriageItem>& items) {
  std::lock_guard lock(mutex_);
  return InTransaction(*db_, [&]() -> Result<std::int64_t> {
    std::int64_t added = 0;
    for (const auto& item : items) {
      auto inserted = db_->Exec(
          "INSERT INTO triage_items (release_id, item_key, kind, title, severity) "
          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
          {release_id, item.item_key, item.kind, item.title, item.severity});
      if (!inserted) return Forward(inserted);
      added += inserted->Affected();
    }
    return added;
  });
}

Result<std::vector<TriageItem>> PostgresPortalStore::ListTriageItems(Id release_id) {
  std::lock_guard lock(mutex_);
  return AllRows<TriageItem>(
      db_->Exec(Concat(rows::kItemColumns, " WHERE release_id = $1 ORDER BY kind DESC, id"),
                {release_id}),
      rows::ReadItem<RowView>);
}

Result<std::optional<TriageItem>> PostgresPortalStore::FindTriageItem(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<TriageItem>(db_->Exec(Concat(rows::kItemColumns, " WHERE id = $1"), {id}),
                              rows::ReadItem<RowView>);
}

Result<void> PostgresPortalStore::AnswerTriageItem(const TriageItem& answer, Id user_id,
                                                   UnixSeconds now) {
  std::lock_guard lock(mutex_);
  auto updated = db_->Exec(
      "UPDATE triage_items SET vendor_status = $1, justification = $2, detail = $3, "
      "fix_version = $4, answered_by = $5, answered_at = $6, lab_decision = 'pending', "
      "lab_reason = '', decided_by = NULL, decided_at = 0 WHERE id = $7",
      {answer.vendor_status, answer.justification, answer.detail, answer.fix_version, user_id, now,
       answer.id});
  if (!updated) return Forward(updated);
  if (updated->Affected() == 0) return Fail(ErrorCode::kInvalidArgument, "no such triage item");
  return {};
}

Result<void> PostgresPortalStore::DecideTriageItem(Id item_id, std::string_view decision,
                                                   std::string_view reason, Id user_id,
                                                   UnixSeconds now) {
  std::lock_guard lock(mutex_);
  auto updated = db_->Exec(
      "UPDATE triage_items SET lab_decision = $1, lab_reason = $2, decided_by = $3, "
      "decided_at = $4 WHERE id = $5 AND vendor_status <> ''",
      {decision, reason, user_id, now, item_id});
  if (!updated) return Forward(updated);
  if (updated->Affected() == 0) {
    return Fail(ErrorCode::kInvalidArgument, "no answered triage item " + std::to_string(item_id));
  }
  return {};
}

Result<Id> PostgresPortalStore::AddTriageComment(const TriageComment& comment) {
  std::lock_guard lock(mutex_);
  return ReturnedId(
      db_->Exec("INSERT INTO triage_comments (item_id, author, body, created_at) "
                "VALUES ($1, NULLIF($2::BIGINT, 0), $3, $4) RETURNING id",
                {comment.item_id, comment.author, comment.body, comment.created_at}));
}

Result<std::vector<TriageComment>> PostgresPortalStore::ListTriageComments(Id item_id) {
  std::lock_guard lock(mutex_);
  return AllRows<TriageComment>(
      db_->Exec(Concat(rows::kCommentColumns, " WHERE item_id = $1 ORDER BY id"), {item_id}),
      rows::ReadComment<RowView>);
}

Result<Id> PostgresPortalStore::CreateVerdict(const Verdict& verdict) {
  std::lock_guard lock(mutex_);
  return ReturnedId(db_->Exec(
      "INSERT INTO verdicts (release_id, outcome, summary, published_by, published_at, envelope, "
      "log_index) VALUES ($1, $2, $3, NULLIF($4::BIGINT, 0), $5, $6, $7) RETURNING id",
      {verdict.release_id, verdict.outcome, verdict.summary, verdict.published_by,
       verdict.published_at, verdict.envelope, verdict.log_index}));
}

Result<std::optional<Verdict>> PostgresPortalStore::FindVerdict(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Verdict>(db_->Exec(Concat(rows::kVerdictColumns, " WHERE id = $1"), {id}),
                           rows::ReadVerdict<RowView>);
}

Result<std::optional<Verdict>> PostgresPortalStore::FindVerdictOfRelease(Id release_id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Verdict>(
      db_->Exec(Concat(rows::kVerdictColumns, " WHERE release_id = $1"), {release_id}),
      rows::ReadVerdict<RowView>);
}

}  // namespace clearbox::store
