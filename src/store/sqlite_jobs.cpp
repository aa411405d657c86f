// Releases and their scan jobs in the SQLite portal store. A claim, a lease renewal and a
// finish each check the job's state and worker inside one BEGIN IMMEDIATE transaction, so two
// workers never hold one job and a job finishes exactly once.
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

using rows::kJobColumns;
using rows::kReleaseColumns;
constexpr auto* ReadRelease = &rows::ReadRelease<Statement>;
constexpr auto* ReadJob = &rows::ReadJob<Statement>;

}  // namespace

std::string_view ReleaseKindName(ReleaseKind kind) {
  return kind == ReleaseKind::kSbom ? "sbom" : "image";
}

std::optional<ReleaseKind> FindReleaseKind(std::string_view name) {
  if (name == "image") return ReleaseKind::kImage;
  if (name == "sbom") return ReleaseKind::kSbom;
  return std::nullopt;
}

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
  }
  return "failed";
}

std::optional<JobState> FindJobState(std::string_view name) {
  for (JobState state :
       {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed}) {
    if (JobStateName(state) == name) return state;
  }
  return std::nullopt;
}

Result<Id> SqlitePortalStore::CreateReleaseWithJob(const Release& release, UnixSeconds now) {
  std::lock_guard lock(mutex_);
  return InTransaction(db_, [&]() -> Result<Id> {
    auto project = FirstRow<std::int64_t>(
        Prepare(db_, "SELECT id FROM projects WHERE id = ?", {release.project_id}),
        [](const Statement& s) { return s.Int(0); });
    if (!project) return Forward(project);
    if (!*project) return Fail(ErrorCode::kInvalidArgument, "no such project");
    const std::int64_t uploader = release.uploaded_by;
    CLEARBOX_TRY(Exec(db_,
                      "INSERT INTO releases (project_id, version, kind, file_name, blob_sha256, "
                      "size, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?)",
                      {release.project_id, release.version, ReleaseKindName(release.kind),
                       release.file_name, release.blob_sha256, release.size, uploader, now}));
    const Id release_id = sqlite3_last_insert_rowid(db_);
    CLEARBOX_TRY(Exec(db_, "INSERT INTO jobs (release_id, state, created_at) VALUES (?, ?, ?)",
                      {release_id, JobStateName(JobState::kQueued), now}));
    return release_id;
  });
}

Result<std::optional<Release>> SqlitePortalStore::FindRelease(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Release>(Prepare(db_, Concat(kReleaseColumns, " WHERE id = ?"), {id}),
                           ReadRelease);
}

Result<std::vector<Release>> SqlitePortalStore::ListReleasesOfProject(Id project_id) {
  std::lock_guard lock(mutex_);
  return Rows<Release>(
      Prepare(db_, Concat(kReleaseColumns, " WHERE project_id = ? ORDER BY created_at, id"),
              {project_id}),
      ReadRelease);
}

Result<std::optional<Job>> SqlitePortalStore::ClaimJob(const ClaimOptions& options) {
  std::lock_guard lock(mutex_);
  return InTransaction(db_, [&]() -> Result<std::optional<Job>> {
    // Lost jobs that used up their attempts fail first, so they are never handed out again.
    CLEARBOX_TRY(Exec(db_,
                      "UPDATE jobs SET state = 'failed', finished_at = ?, error = "
                      "'the worker was lost ' || attempts || ' times (last: ' || worker || ')' "
                      "WHERE state = 'running' AND lease_expires_at <= ? AND attempts >= ?",
                      {options.now, options.now, options.max_attempts}));
    auto next = FirstRow<std::int64_t>(
        Prepare(db_,
                "SELECT id FROM jobs WHERE state = 'queued' OR "
                "(state = 'running' AND lease_expires_at <= ?) ORDER BY id LIMIT 1",
                {options.now}),
        [](const Statement& s) { return s.Int(0); });
    if (!next) return Forward(next);
    if (!*next) return std::optional<Job>();
    CLEARBOX_TRY(Exec(db_,
                      "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?, "
                      "lease_expires_at = ?, started_at = ? WHERE id = ?",
                      {options.worker, options.now + options.lease_seconds, options.now, **next}));
    return FirstRow<Job>(Prepare(db_, Concat(kJobColumns, " WHERE id = ?"), {**next}), ReadJob);
  });
}

Result<bool> SqlitePortalStore::RenewJobLease(Id job_id, std::string_view worker,
                                              UnixSeconds lease_expires_at) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_,
                    "UPDATE jobs SET lease_expires_at = ? "
                    "WHERE id = ? AND state = 'running' AND worker = ?",
                    {lease_expires_at, job_id, worker}));
  return sqlite3_changes(db_) > 0;
}

Result<bool> SqlitePortalStore::FinishJob(Id job_id, std::string_view worker,
                                          std::string_view error, UnixSeconds now) {
  std::lock_guard lock(mutex_);
  const std::string_view state = error.empty() ? "done" : "failed";
  CLEARBOX_TRY(Exec(db_,
                    "UPDATE jobs SET state = ?, error = ?, finished_at = ?, lease_expires_at = 0 "
                    "WHERE id = ? AND state = 'running' AND worker = ?",
                    {state, error, now, job_id, worker}));
  return sqlite3_changes(db_) > 0;
}

Result<bool> SqlitePortalStore::CompleteJob(Id job_id, std::string_view worker,
                                            const std::vector<TriageItem>& items, UnixSeconds now) {
  std::lock_guard lock(mutex_);
  return InTransaction(db_, [&]() -> Result<bool> {
    CLEARBOX_TRY(Exec(db_,
                      "UPDATE jobs SET state = 'done', error = '', finished_at = ?, "
                      "lease_expires_at = 0 WHERE id = ? AND state = 'running' AND worker = ?",
                      {now, job_id, worker}));
    if (sqlite3_changes(db_) == 0) return false;
    for (const auto& item : items) {
      CLEARBOX_TRY(Exec(db_,
                        "INSERT INTO triage_items (release_id, item_key, kind, title, severity) "
                        "SELECT release_id, ?, ?, ?, ? FROM jobs WHERE id = ? "
                        "ON CONFLICT DO NOTHING",
                        {item.item_key, item.kind, item.title, item.severity, job_id}));
    }
    return true;
  });
}

Result<bool> SqlitePortalStore::ReturnJob(Id job_id, std::string_view worker) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_,
                    "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), "
                    "lease_expires_at = 0 WHERE id = ? AND state = 'running' AND worker = ?",
                    {job_id, worker}));
  return sqlite3_changes(db_) > 0;
}

Result<std::optional<Job>> SqlitePortalStore::FindJobOfRelease(Id release_id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Job>(
      Prepare(db_, Concat(kJobColumns, " WHERE release_id = ? ORDER BY id DESC LIMIT 1"),
              {release_id}),
      ReadJob);
}

Result<std::vector<Job>> SqlitePortalStore::ListJobs() {
  std::lock_guard lock(mutex_);
  return Rows<Job>(Prepare(db_, Concat(kJobColumns, " ORDER BY id"), {}), ReadJob);
}

}  // namespace clearbox::store
