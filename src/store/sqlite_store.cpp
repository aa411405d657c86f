// Every statement is a constant string with ? parameters; user text only ever reaches SQLite
// through sqlite3_bind_*.
#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include "store/row_readers.hpp"
#include "store/sqlite_statement.hpp"

namespace clearbox::store {
namespace {

using sqlite::Concat;
using sqlite::Exec;
using sqlite::ExecScript;
using sqlite::FirstRow;
using sqlite::Prepare;
using sqlite::Rows;
using sqlite::Statement;

using rows::kMembershipColumns;
using rows::kOrganisationColumns;
using rows::kProjectColumns;
using rows::kSessionColumns;
using rows::kShareColumns;
using rows::kTokenColumns;
using rows::kUserColumns;
constexpr auto* ReadOrganisation = &rows::ReadOrganisation<Statement>;
constexpr auto* ReadUser = &rows::ReadUser<Statement>;
constexpr auto* ReadMembership = &rows::ReadMembership<Statement>;
constexpr auto* ReadProject = &rows::ReadProject<Statement>;
constexpr auto* ReadShare = &rows::ReadShare<Statement>;
constexpr auto* ReadSession = &rows::ReadSession<Statement>;
constexpr auto* ReadApiToken = &rows::ReadApiToken<Statement>;

// Applies the migrations `db` lacks; refuses a schema newer than `migrations`.
Result<void> Migrate(sqlite3* db, std::span<const Migration> migrations) {
  CLEARBOX_TRY(ExecScript(db,
                          "CREATE TABLE IF NOT EXISTS schema_version ("
                          "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                          "applied_at INTEGER NOT NULL)"));
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  for (const Migration& migration : migrations) {
    // BEGIN IMMEDIATE: two servers opening one new file cannot both apply a migration.
    CLEARBOX_TRY(ExecScript(db, "BEGIN IMMEDIATE"));
    auto applied = [&]() -> Result<bool> {
      auto current = FirstRow<std::int64_t>(
          Prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", {}),
          [](const Statement& s) { return s.Int(0); });
      if (!current) return Forward(current);
      const std::int64_t version = current->value_or(0);
      if (version > latest) {
        return Fail(ErrorCode::kUnsupported,
                    "the portal database has schema version " + std::to_string(version) +
                        ", newer than this clearbox knows (" + std::to_string(latest) +
                        "): a newer clearbox wrote it; run that version or restore a backup");
      }
      if (version >= migration.version) return false;
      if (version != migration.version - 1) {
        return Fail(ErrorCode::kInternal, "portal migrations are not numbered 1, 2, 3, ...");
      }
      CLEARBOX_TRY(ExecScript(db, std::string(migration.sql)));
      CLEARBOX_TRY(Exec(db,
                        "INSERT INTO schema_version (version, name, applied_at) "
                        "VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER))",
                        {std::int64_t{migration.version}, migration.name}));
      return true;
    }();
    if (!applied) {
      (void)ExecScript(db, "ROLLBACK");
      if (applied.error().code == ErrorCode::kUnsupported) return Forward(applied);
      return Fail(applied.error().code, "migration " + std::to_string(migration.version) + " (" +
                                            std::string(migration.name) +
                                            "): " + applied.error().message);
    }
    CLEARBOX_TRY(ExecScript(db, "COMMIT"));
  }
  if (migrations.empty()) {
    // Still refuse a newer database when the binary knows no migrations at all.
    auto current = FirstRow<std::int64_t>(
        Prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", {}),
        [](const Statement& s) { return s.Int(0); });
    if (!current) return Forward(current);
    if (current->value_or(0) > 0) {
      return Fail(ErrorCode::kUnsupported, "the portal database has a newer schema version");
    }
  }
  return {};
}

}  // namespace

std::string_view OrganisationKindName(OrganisationKind kind) {
  switch (kind) {
    case OrganisationKind::kLab: return "lab";
    case OrganisationKind::kVendor: return "vendor";
    case OrganisationKind::kCustomer: return "customer";
    case OrganisationKind::kRegulator: return "regulator";
  }
  return "vendor";
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin: return "admin";
    case Role::kLabAnalyst: return "lab_analyst";
    case Role::kVendor: return "vendor";
    case Role::kCustomer: return "customer";
    case Role::kRegulator: return "regulator";
  }
  return "customer";
}

std::optional<OrganisationKind> FindOrganisationKind(std::string_view name) {
  for (OrganisationKind kind : kAllOrganisationKinds) {
    if (OrganisationKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::optional<Role> FindRole(std::string_view name) {
  for (Role role : kAllRoles) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

OrganisationKind OrganisationKindOfRole(Role role) {
  switch (role) {
    case Role::kAdmin:
    case Role::kLabAnalyst: return OrganisationKind::kLab;
    case Role::kVendor: return OrganisationKind::kVendor;
    case Role::kCustomer: return OrganisationKind::kCustomer;
    case Role::kRegulator: return OrganisationKind::kRegulator;
  }
  return OrganisationKind::kCustomer;
}

Result<void> CheckMembershipOrganisation(const std::optional<Organisation>& organisation,
                                         Role role) {
  if (!organisation) return Fail(ErrorCode::kInvalidArgument, "no such organisation");
  if (organisation->kind != OrganisationKindOfRole(role)) {
    return Fail(ErrorCode::kInvalidArgument,
                "role " + std::string(RoleName(role)) + " belongs to a " +
                    std::string(OrganisationKindName(OrganisationKindOfRole(role))) +
                    " organisation, not a " +
                    std::string(OrganisationKindName(organisation->kind)) + " one");
  }
  return {};
}

Result<void> CheckProjectOrganisation(const std::optional<Organisation>& organisation) {
  if (!organisation || organisation->kind != OrganisationKind::kVendor) {
    return Fail(ErrorCode::kInvalidArgument, "a project belongs to a vendor organisation");
  }
  return {};
}

Result<void> CheckShareOrganisation(const std::optional<Organisation>& organisation) {
  if (!organisation || (organisation->kind != OrganisationKind::kCustomer &&
                        organisation->kind != OrganisationKind::kRegulator)) {
    return Fail(ErrorCode::kInvalidArgument,
                "a project is shared with a customer or regulator organisation");
  }
  return {};
}

SqlitePortalStore::SqlitePortalStore(sqlite3* db) : db_(db) {}

SqlitePortalStore::~SqlitePortalStore() {
  sqlite3_close(db_);
}

Result<std::unique_ptr<SqlitePortalStore>> SqlitePortalStore::Open(
    const std::filesystem::path& path, std::span<const Migration> migrations) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<SqlitePortalStore> store(new SqlitePortalStore(db));
  if (rc != SQLITE_OK) {
    return Fail(ErrorCode::kIo, "cannot open the portal database " + path.string() + ": " +
                                    (db ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_busy_timeout(db, static_cast<int>(kSqliteBusyTimeout.count()));
  auto set_up =
      ExecScript(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!set_up) {
    return Fail(ErrorCode::kIo, path.string() + ": " + set_up.error().message);
  }
  auto migrated = Migrate(db, migrations);
  if (!migrated) {
    return Fail(migrated.error().code, path.string() + ": " + migrated.error().message);
  }
  return store;
}

Result<int> SqlitePortalStore::SchemaVersion() {
  std::lock_guard lock(mutex_);
  auto version = FirstRow<std::int64_t>(
      Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version", {}),
      [](const Statement& s) { return s.Int(0); });
  if (!version) return Forward(version);
  return static_cast<int>(version->value_or(0));
}

Result<Id> SqlitePortalStore::CreateOrganisation(std::string_view name, OrganisationKind kind) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_, "INSERT INTO organisations (name, kind) VALUES (?, ?)",
                    {name, OrganisationKindName(kind)}));
  return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<Organisation>> SqlitePortalStore::FindOrganisationLocked(Id id) {
  return FirstRow<Organisation>(Prepare(db_, Concat(kOrganisationColumns, " WHERE id = ?"), {id}),
                                ReadOrganisation);
}

Result<std::optional<Organisation>> SqlitePortalStore::FindOrganisation(Id id) {
  std::lock_guard lock(mutex_);
  return FindOrganisationLocked(id);
}

Result<std::vector<Organisation>> SqlitePortalStore::ListOrganisations() {
  std::lock_guard lock(mutex_);
  return Rows<Organisation>(Prepare(db_, Concat(kOrganisationColumns, " ORDER BY name, id"), {}),
                            ReadOrganisation);
}

Result<Id> SqlitePortalStore::CreateUser(std::string_view name, std::string_view password_hash,
                                         UnixSeconds now) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_, "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                    {name, password_hash, now}));
  return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<User>> SqlitePortalStore::FindUser(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<User>(Prepare(db_, Concat(kUserColumns, " WHERE id = ?"), {id}), ReadUser);
}

Result<std::optional<User>> SqlitePortalStore::FindUserByName(std::string_view name) {
  std::lock_guard lock(mutex_);
  return FirstRow<User>(Prepare(db_, Concat(kUserColumns, " WHERE name = ?"), {name}), ReadUser);
}

Result<std::vector<User>> SqlitePortalStore::ListUsers() {
  std::lock_guard lock(mutex_);
  return Rows<User>(Prepare(db_, Concat(kUserColumns, " ORDER BY name, id"), {}), ReadUser);
}

Result<void> SqlitePortalStore::SetPasswordHash(Id user_id, std::string_view password_hash) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(
      Exec(db_, "UPDATE users SET password_hash = ? WHERE id = ?", {password_hash, user_id}));
  if (sqlite3_changes(db_) == 0) return Fail(ErrorCode::kInvalidArgument, "no such user");
  return {};
}

Result<void> SqlitePortalStore::AddMembership(const Membership& membership) {
  std::lock_guard lock(mutex_);
  auto organisation = FindOrganisationLocked(membership.organisation_id);
  if (!organisation) return Forward(organisation);
  CLEARBOX_TRY(CheckMembershipOrganisation(*organisation, membership.role));
  return Exec(db_,
              "INSERT OR IGNORE INTO memberships (user_id, organisation_id, role) VALUES (?, ?, ?)",
              {membership.user_id, membership.organisation_id, RoleName(membership.role)});
}

Result<void> SqlitePortalStore::RemoveMembership(const Membership& membership) {
  std::lock_guard lock(mutex_);
  return Exec(db_, "DELETE FROM memberships WHERE user_id = ? AND organisation_id = ? AND role = ?",
              {membership.user_id, membership.organisation_id, RoleName(membership.role)});
}

Result<std::vector<Membership>> SqlitePortalStore::MembershipsOfUser(Id user_id) {
  std::lock_guard lock(mutex_);
  return Rows<Membership>(
      Prepare(db_, Concat(kMembershipColumns, " WHERE user_id = ? ORDER BY organisation_id, role"),
              {user_id}),
      ReadMembership);
}

Result<std::vector<Membership>> SqlitePortalStore::ListMemberships() {
  std::lock_guard lock(mutex_);
  return Rows<Membership>(
      Prepare(db_, Concat(kMembershipColumns, " ORDER BY user_id, organisation_id, role"), {}),
      ReadMembership);
}

Result<Id> SqlitePortalStore::CreateProject(Id vendor_organisation_id, std::string_view name,
                                            std::string_view description, UnixSeconds now) {
  std::lock_guard lock(mutex_);
  auto organisation = FindOrganisationLocked(vendor_organisation_id);
  if (!organisation) return Forward(organisation);
  CLEARBOX_TRY(CheckProjectOrganisation(*organisation));
  CLEARBOX_TRY(Exec(db_,
                    "INSERT INTO projects (vendor_organisation_id, name, description, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    {vendor_organisation_id, name, description, now}));
  return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<Project>> SqlitePortalStore::FindProject(Id id) {
  std::lock_guard lock(mutex_);
  return FirstRow<Project>(Prepare(db_, Concat(kProjectColumns, " WHERE id = ?"), {id}),
                           ReadProject);
}

Result<std::vector<Project>> SqlitePortalStore::ListProjects() {
  std::lock_guard lock(mutex_);
  return Rows<Project>(Prepare(db_, Concat(kProjectColumns, " ORDER BY name, id"), {}),
                       ReadProject);
}

Result<void> SqlitePortalStore::AddShare(const Share& share) {
  std::lock_guard lock(mutex_);
  auto organisation = FindOrganisationLocked(share.organisation_id);
  if (!organisation) return Forward(organisation);
  CLEARBOX_TRY(CheckShareOrganisation(*organisation));
  return Exec(db_, "INSERT OR IGNORE INTO shares (project_id, organisation_id) VALUES (?, ?)",
              {share.project_id, share.organisation_id});
}

Result<void> SqlitePortalStore::RemoveShare(const Share& share) {
  std::lock_guard lock(mutex_);
  return Exec(db_, "DELETE FROM shares WHERE project_id = ? AND organisation_id = ?",
              {share.project_id, share.organisation_id});
}

Result<std::vector<Share>> SqlitePortalStore::SharesOfProject(Id project_id) {
  std::lock_guard lock(mutex_);
  return Rows<Share>(
      Prepare(db_, Concat(kShareColumns, " WHERE project_id = ? ORDER BY organisation_id"),
              {project_id}),
      ReadShare);
}

Result<std::vector<Share>> SqlitePortalStore::ListShares() {
  std::lock_guard lock(mutex_);
  return Rows<Share>(
      Prepare(db_, Concat(kShareColumns, " ORDER BY project_id, organisation_id"), {}), ReadShare);
}

Result<void> SqlitePortalStore::CreateSession(const Session& session) {
  std::lock_guard lock(mutex_);
  return Exec(db_,
              "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) "
              "VALUES (?, ?, ?, ?, ?)",
              {session.id_hash, session.user_id, session.csrf_token, session.created_at,
               session.expires_at});
}

Result<std::optional<Session>> SqlitePortalStore::FindSession(std::string_view id_hash) {
  std::lock_guard lock(mutex_);
  return FirstRow<Session>(Prepare(db_, Concat(kSessionColumns, " WHERE id_hash = ?"), {id_hash}),
                           ReadSession);
}

Result<void> SqlitePortalStore::DeleteSession(std::string_view id_hash) {
  std::lock_guard lock(mutex_);
  return Exec(db_, "DELETE FROM sessions WHERE id_hash = ?", {id_hash});
}

Result<std::int64_t> SqlitePortalStore::DeleteExpiredSessions(UnixSeconds now) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(Exec(db_, "DELETE FROM sessions WHERE expires_at <= ?", {now}));
  return std::int64_t{sqlite3_changes(db_)};
}

Result<Id> SqlitePortalStore::CreateApiToken(const ApiToken& token) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(
      Exec(db_,
           "INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) "
           "VALUES (?, ?, ?, ?, ?)",
           {token.token_hash, token.user_id, token.name, token.created_at, token.expires_at}));
  return sqlite3_last_insert_rowid(db_);
}

Result<std::optional<ApiToken>> SqlitePortalStore::FindApiToken(std::string_view token_hash) {
  std::lock_guard lock(mutex_);
  return FirstRow<ApiToken>(
      Prepare(db_, Concat(kTokenColumns, " WHERE token_hash = ?"), {token_hash}), ReadApiToken);
}

Result<std::vector<ApiToken>> SqlitePortalStore::ListApiTokensOfUser(Id user_id) {
  std::lock_guard lock(mutex_);
  return Rows<ApiToken>(
      Prepare(db_, Concat(kTokenColumns, " WHERE user_id = ? ORDER BY id"), {user_id}),
      ReadApiToken);
}

Result<bool> SqlitePortalStore::DeleteApiToken(Id user_id, Id token_id) {
  std::lock_guard lock(mutex_);
  CLEARBOX_TRY(
      Exec(db_, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", {token_id, user_id}));
  return sqlite3_changes(db_) > 0;
}

}  // namespace clearbox::store
