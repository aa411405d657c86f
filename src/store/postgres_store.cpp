// Organisations, people, projects, shares, sessions and tokens in the PostgreSQL portal store.
// Every statement is a constant string with $n parameters (postgres_connection.hpp).
#include "store/postgres_store.hpp"

#include "store/postgres_connection.hpp"
#include "store/row_readers.hpp"

namespace clearbox::store {
namespace {

using postgres::AllRows;
using postgres::Concat;
using postgres::Connection;
using postgres::Discard;
using postgres::FirstRow;
using postgres::ReturnedId;
using postgres::RowView;
using rows::kMembershipColumns;
using rows::kOrganisationColumns;
using rows::kProjectColumns;
using rows::kSessionColumns;
using rows::kShareColumns;
using rows::kTokenColumns;
using rows::kUserColumns;

// Any constant; the lock serialises migrations of servers and workers starting together.
constexpr std::int64_t kMigrationLock = 0x636c656172626f78;  // "clearbox"

Result<std::int64_t> AppliedVersion(Connection& db) {
  auto rows = db.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!rows) return Forward(rows);
  return rows->Int(0, 0);
}

// Applies one migration unless applied; refuses a database newer than `latest`.
Result<void> ApplyMigration(Connection& db, const Migration& migration, int latest) {
  return postgres::InTransaction(db, [&]() -> Result<void> {
    CLEARBOX_TRY(Discard(db.Exec("SELECT pg_advisory_xact_lock($1)", {kMigrationLock})));
    auto version = AppliedVersion(db);
    if (!version) return Forward(version);
    if (*version > latest) {
      return Fail(ErrorCode::kUnsupported,
                  "the portal database has schema version " + std::to_string(*version) +
                      ", newer than this clearbox knows (" + std::to_string(latest) +
                      "): a newer clearbox wrote it; run that version or restore a backup");
    }
    if (*version >= migration.version) return {};
    if (*version != migration.version - 1) {
      return Fail(ErrorCode::kInternal, "portal migrations are not numbered 1, 2, 3, ...");
    }
    auto applied = db.ExecScript(migration.sql);
    if (!applied) {
      return Fail(applied.error().code, "migration " + std::to_string(migration.version) + " (" +
                                            std::string(migration.name) +
                                            "): " + applied.error().message);
    }
    return Discard(
        db.Exec("INSERT INTO schema_version (version, name, applied_at) "
                "VALUES ($1, $2, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))",
                {std::int64_t{migration.version}, migration.name}));
  });
}

Result<void> Migrate(Connection& db, std::span<const Migration> migrations) {
  auto created = postgres::InTransaction(db, [&]() -> Result<void> {
    CLEARBOX_TRY(Discard(db.Exec("SELECT pg_advisory_xact_lock($1)", {kMigrationLock})));
    return db.ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  });
  if (!created) return created;
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  for (const Migration& migration : migrations) {
    CLEARBOX_TRY(ApplyMigration(db, migration, latest));
  }
  auto version = AppliedVersion(db);
  if (!version) return Forward(version);
  if (*version > latest) {
    return Fail(ErrorCode::kUnsupported,
                "the portal database has schema version " + std::to_string(*version) +
                    ", newer than this clearbox knows (" + std::to_string(latest) + ")");
  }
  return {};
}

}  // namespace

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

PostgresPortalStore::PostgresPortalStore(std::unique_ptr<postgres::Connection> db)
    : db_(std::move(db)) {}

PostgresPortalStore::~PostgresPortalStore() = default;

Result<std::unique_ptr<PostgresPortalStore>> PostgresPortalStore::Open(
    const std::string& url, std::span<const Migration> migrations) {
  auto connection = Connection::Open(url);
  if (!connection) return Forward(connection);
  std::unique_ptr<PostgresPortalStore> store(new PostgresPortalStore(std::move(*connection)));
  CLEARBOX_TRY(store->db_->ExecScript("SET client_min_messages = warning"));
  CLEARBOX_TRY(Migrate(*store->db_, migrations));
  return store;
}

Result<int> PostgresPortalStore::SchemaVersion() {
  std::lock_guard lock(mutex_);
  auto version = AppliedVersion(*db_);
  if (!version) return Forward(version);
  return static_cast<int>(*version);
}

Result<Id> PostgresPortalStore::CreateOrganisation(std::string_view name, OrganisationKind kind) {
  std::lock_guard lock(mutex_);
  return ReturnedId(db_->Exec("INSERT INTO organisations (name, kind) VALUES ($1, $2) RETURNING id",
                              {name, OrganisationKindName(kind)}));
}

Result<std::optional<Organisation>> PostgresPortalStore::FindOrganisationLocked(Id id) {
  return FirstRow<Organisation>(db_->Exec(Concat(kOrganisationColumns, " WHERE id = $1"), {id}),
                                rows::ReadOrganisation<RowView>);
}

Result<std::optional<Organisation>> PostgresPortalStore::FindOrganisation(Id id) {
  std::lock_guard lock(mutex_);
  return FindOrganisationLocked(id);
}

Result<std::vector<Organisation>> PostgresPortalStore::ListOrganisations() {
  std::lock_guard lock(mutex_);
  return AllRows<Organisation>(db_->Exec(Concat(kOrganisationColumns, " ORDER BY name, id")),
                               rows::ReadOrganisation<RowView>);
}

Result<Id> PostgresPortalStore::CreateUser(std::string_view name, std::string_view password_hash,
                                           UnixSeconds now) {
  std::lock_guard lock(mutex_);
  return ReturnedId(db_->Exec(
      "INSERT INTO users (name, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
      {name, password_hash, now}));
}

Result<std::optional<User>> PostgresPortalStore::FindUser(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<User>(db_->Exec(Concat(kUserColumns, " WHERE id = $1"), {id}),
                        rows::ReadUser<RowView>);
}

Result<std::optional<User>> PostgresPortalStore::FindUserByName(std::string_view name) {
  std::lock_guard lock(mutex_);
  return FirstRow<User>(db_->Exec(Concat(kUserColumns, " WHERE name = $1"), {name}),
                        rows::ReadUser<RowView>);
}

Result<std::vector<User>> PostgresPortalStore::ListUsers() {
  std::lock_guard lock(mutex_);
  return AllRows<User>(db_->Exec(Concat(kUserColumns, " ORDER BY name, id")),
                       rows::ReadUser<RowView>);
}

Result<void> PostgresPortalStore::SetPasswordHash(Id user_id, std::string_view password_hash) {
  std::lock_guard lock(mutex_);
  auto updated =
      db_->Exec("UPDATE users SET password_hash = $1 WHERE id = $2", {password_hash, user_id});
  if (!updated) return Forward(updated);
  if (updated->Affected() == 0) return Fail(ErrorCode::kInvalidArgument, "no such user");
  return {};
}

Result<void> PostgresPortalStore::AddMembership(const Membership& membership) {
  std::lock_guard lock(mutex_);
  auto organisation = FindOrganisationLocked(membership.organisation_id);
  if (!organisation) return Forward(organisation);
  CLEARBOX_TRY(CheckMembershipOrganisation(*organisation, membership.role));
  return Discard(
      db_->Exec("INSERT INTO memberships (user_id, organisation_id, role) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING",
                {membership.user_id, membership.organisation_id, RoleName(membership.role)}));
}

Result<void> PostgresPortalStore::RemoveMembership(const Membership& membership) {
  std::lock_guard lock(mutex_);
  return Discard(
      db_->Exec("DELETE FROM memberships WHERE user_id = $1 AND organisation_id = $2 AND role = $3",
                {membership.user_id, membership.organisation_id, RoleName(membership.role)}));
}

Result<std::vector<Membership>> PostgresPortalStore::MembershipsOfUser(Id user_id) {
  std::lock_guard lock(mutex_);
  return AllRows<Membership>(
      db_->Exec(Concat(kMembershipColumns, " WHERE user_id = $1 ORDER BY organisation_id, role"),
                {user_id}),
      rows::ReadMembership<RowView>);
}

Result<std::vector<Membership>> PostgresPortalStore::ListMemberships() {
  std::lock_guard lock(mutex_);
  return AllRows<Membership>(
      db_->Exec(Concat(kMembershipColumns, " ORDER BY user_id, organisation_id, role")),
      rows::ReadMembership<RowView>);
}

Result<Id> PostgresPortalStore::CreateProject(Id vendor_organisation_id, std::string_view name,
                                              std::string_view description, UnixSeconds now) {
  std::lock_guard lock(mutex_);
  auto organisation = FindOrganisationLocked(vendor_organisation_id);
  if (!organisation) return Forward(organisation);
  CLEARBOX_TRY(CheckProjectOrganisation(*organisation));
  return ReturnedId(
      db_->Exec("INSERT INTO projects (vendor_organisation_id, name, description, created_at) "
                "VALUES ($1, $2, $3, $4) RETURNING id",
                {vendor_organisation_id, name, description, now}));
}

Result<std::optional<Project>> PostgresPortalStore::FindProject(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Project>(db_->Exec(Concat(kProjectColumns, " WHERE id = $1"), {id}),
                           rows::ReadProject<RowView>);
}

Result<std::vector<Project>> PostgresPortalStore::ListProjects() {
  std::lock_guard lock(mutex_);
  return AllRows<Project>(db_->Exec(Concat(kProjectColumns, " ORDER BY name, id")),
                          rows::ReadProject<RowView>);
}

Result<void> PostgresPortalStore::AddShare(const Share& share) {
  std::lock_guard lock(mutex_);
  auto organisation = FindOrganisationLocked(share.organisation_id);
  if (!organisation) return Forward(organisation);
  CLEARBOX_TRY(CheckShareOrganisation(*organisation));
  return Discard(db_->Exec(
      "INSERT INTO shares (project_id, organisation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      {share.project_id, share.organisation_id}));
}

Result<void> PostgresPortalStore::RemoveShare(const Share& share) {
  std::lock_guard lock(mutex_);
  return Discard(db_->Exec("DELETE FROM shares WHERE project_id = $1 AND organisation_id = $2",
                           {share.project_id, share.organisation_id}));
}

Result<std::vector<Share>> PostgresPortalStore::SharesOfProject(Id project_id) {
  std::lock_guard lock(mutex_);
  return AllRows<Share>(
      db_->Exec(Concat(kShareColumns, " WHERE project_id = $1 ORDER BY organisation_id"),
                {project_id}),
      rows::ReadShare<RowView>);
}

Result<std::vector<Share>> PostgresPortalStore::ListShares() {
  std::lock_guard lock(mutex_);
  return AllRows<Share>(db_->Exec(Concat(kShareColumns, " ORDER BY project_id, organisation_id")),
                        rows::ReadShare<RowView>);
}

Result<void> PostgresPortalStore::CreateSession(const Session& session) {
  std::lock_guard lock(mutex_);
  return Discard(
      db_->Exec("INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                {session.id_hash, session.user_id, session.csrf_token, session.created_at,
                 session.expires_at}));
}

Result<std::optional<Session>> PostgresPortalStore::FindSession(std::string_view id_hash) {
  std::lock_guard lock(mutex_);
  return FirstRow<Session>(db_->Exec(Concat(kSessionColumns, " WHERE id_hash = $1"), {id_hash}),
                           rows::ReadSession<RowView>);
}

Result<void> PostgresPortalStore::DeleteSession(std::string_view id_hash) {
  std::lock_guard lock(mutex_);
  return Discard(db_->Exec("DELETE FROM sessions WHERE id_hash = $1", {id_hash}));
}

Result<std::int64_t> PostgresPortalStore::DeleteExpiredSessions(UnixSeconds now) {
  std::lock_guard lock(mutex_);
  auto deleted = db_->Exec("DELETE FROM sessions WHERE expires_at <= $1", {now});
  if (!deleted) return Forward(deleted);
  return deleted->Affected();
}

Result<Id> PostgresPortalStore::CreateApiToken(const ApiToken& token) {
  std::lock_guard lock(mutex_);
  return ReturnedId(
      db_->Exec("INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                {token.token_hash, token.user_id, token.name, token.created_at, token.expires_at}));
}

Result<std::optional<ApiToken>> PostgresPortalStore::FindApiToken(std::string_view token_hash) {
  std::lock_guard lock(mutex_);
  return FirstRow<ApiToken>(
      db_->Exec(Concat(kTokenColumns, " WHERE token_hash = $1"), {token_hash}),
      rows::ReadApiToken<RowView>);
}

Result<std::vector<ApiToken>> PostgresPortalStore::ListApiTokensOfUser(Id user_id) {
  std::lock_guard lock(mutex_);
  return AllRows<ApiToken>(
      db_->Exec(Concat(kTokenColumns, " WHERE user_id = $1 ORDER BY id"), {user_id}),
      rows::ReadApiToken<RowView>);
}

Result<bool> PostgresPortalStore::DeleteApiToken(Id user_id, Id token_id) {
  std::lock_guard lock(mutex_);
  auto deleted =
      db_->Exec("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2", {token_id, user_id});
  if (!deleted) return Forward(deleted);
  return deleted->Affected() > 0;
}

}  // namespace clearbox::store
