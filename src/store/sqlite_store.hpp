// PortalStore on one SQLite file (the default backend: `clearbox serve --data DIR` keeps
// DIR/portal.db). WAL journal, a busy timeout, foreign keys on; one connection shared by the
// server's threads under a mutex.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>

#include "store/migrations.hpp"
#include "store/portal_store.hpp"

struct sqlite3;

namespace clearbox::store {

// How long a statement waits for another process's write lock before failing with kIo.
inline constexpr std::chrono::milliseconds kSqliteBusyTimeout{5'000};
// The database file's name inside the portal's data directory.
inline constexpr std::string_view kPortalDatabaseName = "portal.db";

// The portal's state in one SQLite database file.
class SqlitePortalStore final : public PortalStore {
 public:
  // Opens or creates `path` and applies the missing migrations of `migrations` (each in its own
  // transaction with its schema_version row). kUnsupported if the file's schema is newer than
  // `migrations` know (a newer clearbox wrote it), kIo if it cannot be opened or migrated.
  static Result<std::unique_ptr<SqlitePortalStore>> Open(
      const std::filesystem::path& path,
      std::span<const Migration> migrations = SqliteMigrations());
  ~SqlitePortalStore() override;

  Result<int> SchemaVersion() override;

  Result<Id> CreateOrganisation(std::string_view name, OrganisationKind kind) override;
  Result<std::optional<Organisation>> FindOrganisation(Id id) override;
  Result<std::vector<Organisation>> ListOrganisations() override;
  Result<Id> CreateUser(std::string_view name, std::string_view password_hash,
                        UnixSeconds now) override;
  Result<std::optional<User>> FindUser(Id id) override;
  Result<std::optional<User>> FindUserByName(std::string_view name) override;
  Result<std::vector<User>> ListUsers() override;
  Result<void> SetPasswordHash(Id user_id, std::string_view password_hash) override;
  Result<void> AddMembership(const Membership& membership) override;
  Result<void> RemoveMembership(const Membership& membership) override;
  Result<std::vector<Membership>> MembershipsOfUser(Id user_id) override;
  Result<std::vector<Membership>> ListMemberships() override;
  Result<Id> CreateProject(Id vendor_organisation_id, std::string_view name,
                           std::string_view description, UnixSeconds now) override;
  Result<std::optional<Project>> FindProject(Id id) override;
  Result<std::vector<Project>> ListProjects() override;
  Result<void> AddShare(const Share& share) override;
  Result<void> RemoveShare(const Share& share) override;
  Result<std::vector<Share>> SharesOfProject(Id project_id) override;
  Result<std::vector<Share>> ListShares() override;
  Result<void> CreateSession(const Session& session) override;
  Result<std::optional<Session>> FindSession(std::string_view id_hash) override;
  Result<void> DeleteSession(std::string_view id_hash) override;
  Result<std::int64_t> DeleteExpiredSessions(UnixSeconds now) override;
  Result<Id> CreateApiToken(const ApiToken& token) override;
  Result<std::optional<ApiToken>> FindApiToken(std::string_view token_hash) override;
  Result<std::vector<ApiToken>> ListApiTokensOfUser(Id user_id) override;
  Result<bool> DeleteApiToken(Id user_id, Id token_id) override;
  Result<Id> CreateReleaseWithJob(const Release& release, UnixSeconds now) override;
  Result<std::optional<Release>> FindRelease(Id id) override;
  Result<std::vector<Release>> ListReleasesOfProject(Id project_id) override;
  Result<std::optional<Job>> ClaimJob(const ClaimOptions& options) override;
  Result<bool> RenewJobLease(Id job_id, std::string_view worker,
                             UnixSeconds lease_expires_at) override;
  Result<bool> FinishJob(Id job_id, std::string_view worker, std::string_view error,
                         UnixSeconds now) override;
  Result<bool> CompleteJob(Id job_id, std::string_view worker, const std::vector<TriageItem>& items,
                           UnixSeconds now) override;
  Result<bool> ReturnJob(Id job_id, std::string_view worker) override;
  Result<std::optional<Job>> FindJobOfRelease(Id release_id) override;
  Result<std::vector<Job>> ListJobs() override;
  Result<std::int64_t> ImportTriageItems(Id release_id,
                                         const std::vector<TriageItem>& items) override;
  Result<std::vector<TriageItem>> ListTriageItems(Id release_id) override;
  Result<std::optional<TriageItem>> FindTriageItem(Id id) override;
  Result<void> AnswerTriageItem(const TriageItem& answer, Id user_id, UnixSeconds now) override;
  Result<void> DecideTriageItem(Id item_id, std::string_view decision, std::string_view reason,
                                Id user_id, UnixSeconds now) override;
  Result<Id> AddTriageComment(const TriageComment& comment) override;
  Result<std::vector<TriageComment>> ListTriageComments(Id item_id) override;
  Result<Id> CreateVerdict(const Verdict& verdict) override;
  Result<std::optional<Verdict>> FindVerdict(Id id) override;
  Result<std::optional<Verdict>> FindVerdictOfRelease(Id release_id) override;

 private:
  explicit SqlitePortalStore(sqlite3* db);
  Result<std::optional<Organisation>> FindOrganisationLocked(Id id);

  std::mutex mutex_;  // one statement at a time on the shared connection
  sqlite3* db_;
};

}  // namespace clearbox::store
