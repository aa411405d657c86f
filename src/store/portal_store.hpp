// The portal's state behind one interface: organisations, users, memberships, projects,
// shares, sessions, API tokens and (later) the audit trail. SQLite implements it today
// (sqlite_store.hpp); a PostgreSQL backend (issue 19) implements the same interface and runs
// the same migrations by version number and the same test suite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox::store {

// Database row ids; 0 is never a valid id.
using Id = std::int64_t;
// Seconds since the Unix epoch (UTC).
using UnixSeconds = std::int64_t;

// What an organisation is to the lab: it decides which roles its members may hold.
enum class OrganisationKind : std::uint8_t { kLab, kVendor, kCustomer, kRegulator };
// The roles of a member in an organisation (issue 18).
enum class Role : std::uint8_t { kAdmin, kLabAnalyst, kVendor, kCustomer, kRegulator };

inline constexpr OrganisationKind kAllOrganisationKinds[] = {
    OrganisationKind::kLab, OrganisationKind::kVendor, OrganisationKind::kCustomer,
    OrganisationKind::kRegulator};
inline constexpr Role kAllRoles[] = {Role::kAdmin, Role::kLabAnalyst, Role::kVendor,
                                     Role::kCustomer, Role::kRegulator};

// Stable lower-case names, as stored and shown ("lab", "lab_analyst", ...).
std::string_view OrganisationKindName(OrganisationKind kind);
std::string_view RoleName(Role role);
// The kind or role named `name`; nullopt for anything else.
std::optional<OrganisationKind> FindOrganisationKind(std::string_view name);
std::optional<Role> FindRole(std::string_view name);
// The kind of organisation a role belongs to (admin and lab analyst: the lab).
OrganisationKind OrganisationKindOfRole(Role role);

struct Organisation {
  Id id = 0;
  std::string name;
  OrganisationKind kind = OrganisationKind::kVendor;
};

struct User {
  Id id = 0;
  std::string name;
  std::string password_hash;  // Argon2id PHC string; "" = cannot log in with a password
  UnixSeconds created_at = 0;
};

// `user` holds `role` in `organisation`.
struct Membership {
  Id user_id = 0;
  Id organisation_id = 0;
  Role role = Role::kVendor;
};

// A product line of a vendor organisation; releases hang off it in later steps.
struct Project {
  Id id = 0;
  Id vendor_organisation_id = 0;
  std::string name;
  std::string description;
  UnixSeconds created_at = 0;
};

// `project` is visible to the customer or regulator organisation `organisation`.
struct Share {
  Id project_id = 0;
  Id organisation_id = 0;
};

// A login session; only the SHA-256 of its random id is stored.
struct Session {
  std::string id_hash;  // lower-case hex SHA-256 of the cookie value
  Id user_id = 0;
  std::string csrf_token;  // random, sent back in every state-changing form
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
};

// A bearer token for CI; only the SHA-256 of the secret is stored.
struct ApiToken {
  Id id = 0;
  std::string token_hash;  // lower-case hex SHA-256 of the secret
  Id user_id = 0;
  std::string name;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;  // 0 = does not expire
};

// The portal's storage. Every method is safe to call from several threads; text arguments are
// stored verbatim (always bound as parameters, never spliced into SQL). Errors: kInvalidArgument
// for a reference to a missing row or a duplicate name, kIo for the database.
class PortalStore {
 public:
  virtual ~PortalStore() = default;

  // Organisations: names are unique.
  virtual Result<Id> CreateOrganisation(std::string_view name, OrganisationKind kind) = 0;
  virtual Result<std::optional<Organisation>> FindOrganisation(Id id) = 0;
  virtual Result<std::vector<Organisation>> ListOrganisations() = 0;

  // Users: names are unique.
  virtual Result<Id> CreateUser(std::string_view name, std::string_view password_hash,
                                UnixSeconds now) = 0;
  virtual Result<std::optional<User>> FindUser(Id id) = 0;
  virtual Result<std::optional<User>> FindUserByName(std::string_view name) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;
  virtual Result<void> SetPasswordHash(Id user_id, std::string_view password_hash) = 0;

  // Memberships: a (user, organisation, role) triple is stored once; adding it again is a no-op.
  virtual Result<void> AddMembership(const Membership& membership) = 0;
  virtual Result<void> RemoveMembership(const Membership& membership) = 0;
  virtual Result<std::vector<Membership>> MembershipsOfUser(Id user_id) = 0;
  virtual Result<std::vector<Membership>> ListMemberships() = 0;

  // Projects: names are unique within their vendor organisation.
  virtual Result<Id> CreateProject(Id vendor_organisation_id, std::string_view name,
                                   std::string_view description, UnixSeconds now) = 0;
  virtual Result<std::optional<Project>> FindProject(Id id) = 0;
  virtual Result<std::vector<Project>> ListProjects() = 0;

  // Shares: adding an existing share is a no-op.
  virtual Result<void> AddShare(const Share& share) = 0;
  virtual Result<void> RemoveShare(const Share& share) = 0;
  virtual Result<std::vector<Share>> SharesOfProject(Id project_id) = 0;
  virtual Result<std::vector<Share>> ListShares() = 0;

  // Sessions, looked up by the hash of their id.
  virtual Result<void> CreateSession(const Session& session) = 0;
  virtual Result<std::optional<Session>> FindSession(std::string_view id_hash) = 0;
  virtual Result<void> DeleteSession(std::string_view id_hash) = 0;
  // Deletes sessions whose expires_at <= now; returns how many.
  virtual Result<std::int64_t> DeleteExpiredSessions(UnixSeconds now) = 0;

  // API tokens, looked up by the hash of their secret.
  virtual Result<Id> CreateApiToken(const ApiToken& token) = 0;
  virtual Result<std::optional<ApiToken>> FindApiToken(std::string_view token_hash) = 0;
  virtual Result<std::vector<ApiToken>> ListApiTokensOfUser(Id user_id) = 0;
  // Deletes token `token_id` if it belongs to `user_id`; false if there was none.
  virtual Result<bool> DeleteApiToken(Id user_id, Id token_id) = 0;
};

}  // namespace clearbox::store
