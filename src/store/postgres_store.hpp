// PortalStore on PostgreSQL (issue 19): `clearbox serve --db postgresql://...` and
// `clearbox worker --db ...` share one database, so the portal and any number of scan workers
// on other machines see one state. The same migrations as SQLite (translated by
// PostgresDialect), the same behaviour (the same test suite runs against both); jobs are
// claimed with FOR UPDATE SKIP LOCKED. One connection per store, used under a mutex, and
// re-established by the next call after the server went away.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "store/migrations.hpp"
#include "store/portal_store.hpp"

namespace clearbox::store {

namespace postgres {
class Connection;
}

// True if `url` names a PostgreSQL database (postgresql:// or postgres://).
bool IsPostgresUrl(std::string_view url);

// The portal's state in one PostgreSQL database.
class PostgresPortalStore final : public PortalStore {
 public:
  // Connects to `url` and applies the missing migrations (each in its own transaction with its
  // schema_version row, under an advisory lock so servers starting together migrate once).
  // kUnsupported if the database's schema is newer than `migrations`, kIo if it cannot be
  // reached or migrated.
  static Result<std::unique_ptr<PostgresPortalStore>> Open(
      const std::string& url, std::span<const Migration> migrations = PostgresMigrations());
  ~PostgresPortalStore() override;

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
  explicit PostgresPortalStore(std::unique_ptr<postgres::Connection> db);
  Result<std::optional<Organisation>> FindOrganisationLocked(Id id);

  std::mutex mutex_;  // one statement at a time on the connection
  std::unique_ptr<postgres::Connection> db_;
};

}  // namespace clearbox::store
