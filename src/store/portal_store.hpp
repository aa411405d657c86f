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

// What a release upload holds.
enum class ReleaseKind : std::uint8_t { kImage, kSbom };
// Stable lower-case names ("image", "sbom"); nullopt for anything else.
std::string_view ReleaseKindName(ReleaseKind kind);
std::optional<ReleaseKind> FindReleaseKind(std::string_view name);

// One uploaded release of a project: a firmware image or an SBOM, kept as a content-addressed
// blob (its SHA-256) in the portal's blob store.
struct Release {
  Id id = 0;
  Id project_id = 0;
  std::string version;  // unique within the project
  ReleaseKind kind = ReleaseKind::kImage;
  std::string file_name;    // as uploaded (shown, never used as a path)
  std::string blob_sha256;  // lower-case hex
  std::int64_t size = 0;
  Id uploaded_by = 0;  // 0 when the user was deleted
  UnixSeconds created_at = 0;
};

// Where a scan job is: queued -> running -> done | failed; a running job whose lease expires
// goes back to the queue (or to failed past its attempts).
enum class JobState : std::uint8_t { kQueued, kRunning, kDone, kFailed };
// Stable lower-case names ("queued", "running", "done", "failed").
std::string_view JobStateName(JobState state);
std::optional<JobState> FindJobState(std::string_view name);

// The scan of one release.
struct Job {
  Id id = 0;
  Id release_id = 0;
  JobState state = JobState::kQueued;
  std::int64_t attempts = 0;  // claims so far
  std::string worker;         // who holds (or last held) it
  UnixSeconds lease_expires_at = 0;
  std::string error;  // why it failed
  UnixSeconds created_at = 0;
  UnixSeconds started_at = 0;   // last claim
  UnixSeconds finished_at = 0;  // done or failed
};

// How ClaimJob hands out work.
struct ClaimOptions {
  std::string_view worker;         // the claimant's name (host:pid:thread)
  UnixSeconds now = 0;             //
  UnixSeconds lease_seconds = 60;  // the claim lasts this long unless renewed
  std::int64_t max_attempts = 3;   // a job lost this many times is failed, not re-queued
};

// One thing of a release the vendor answers and the lab decides on: a vulnerability (key
// "CVE-...@purl", as the scan's VEX names it) or a finding (key "rule@path").
struct TriageItem {
  Id id = 0;
  Id release_id = 0;
  std::string item_key;
  std::string kind;  // "vulnerability" or "finding"
  std::string title;
  std::string severity;
  // The vendor's answer: "" (none yet), not_affected, affected, fixed, under_investigation.
  std::string vendor_status;
  std::string justification;  // CycloneDX analysis justification (not_affected)
  std::string detail;         // free text
  std::string fix_version;    // fixed
  Id answered_by = 0;
  UnixSeconds answered_at = 0;
  std::string lab_decision = "pending";  // pending, accepted, rejected
  std::string lab_reason;
  Id decided_by = 0;
  UnixSeconds decided_at = 0;
};

// A comment in an item's thread.
struct TriageComment {
  Id id = 0;
  Id item_id = 0;
  Id author = 0;  // 0 when the user was deleted
  std::string body;
  UnixSeconds created_at = 0;
};

// A published verdict on a release: the DSSE envelope of its in-toto statement, as appended to
// the portal's verdict log at `log_index`.
struct Verdict {
  Id id = 0;
  Id release_id = 0;
  std::string outcome;  // pass, fail, conditional
  std::string summary;
  Id published_by = 0;
  UnixSeconds published_at = 0;
  std::string envelope;
  std::int64_t log_index = 0;
};

// The rules both backends check before a write, kInvalidArgument saying why: a member's role
// belongs to its organisation's kind; a project belongs to a vendor; a project is shared with a
// customer or a regulator. nullopt: there is no such organisation.
Result<void> CheckMembershipOrganisation(const std::optional<Organisation>& organisation,
                                         Role role);
Result<void> CheckProjectOrganisation(const std::optional<Organisation>& organisation);
Result<void> CheckShareOrganisation(const std::optional<Organisation>& organisation);

// The portal's storage. Every method is safe to call from several threads; text arguments are
// stored verbatim (always bound as parameters, never spliced into SQL). Errors: kInvalidArgument
// for a reference to a missing row or a duplicate name, kIo for the database.
class PortalStore {
 public:
  virtual ~PortalStore() = default;

  // The highest applied migration version (readiness checks, tests).
  virtual Result<int> SchemaVersion() = 0;

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

  // Releases: versions are unique within a project. The release and its queued scan job are
  // stored in one transaction, so an upload never exists without its job; returns the release.
  virtual Result<Id> CreateReleaseWithJob(const Release& release, UnixSeconds now) = 0;
  virtual Result<std::optional<Release>> FindRelease(Id id) = 0;
  // A project's releases, oldest first.
  virtual Result<std::vector<Release>> ListReleasesOfProject(Id project_id) = 0;

  // Jobs. ClaimJob takes the oldest queued job, or a running one whose lease expired (a lost
  // worker), marks it running for `options.worker` and returns it; a lost job that reached
  // max_attempts is marked failed instead. nullopt when there is nothing to do.
  virtual Result<std::optional<Job>> ClaimJob(const ClaimOptions& options) = 0;
  // Extends the lease of a job `worker` still holds; false if it lost the job.
  virtual Result<bool> RenewJobLease(Id job_id, std::string_view worker,
                                     UnixSeconds lease_expires_at) = 0;
  // Ends a job `worker` holds as done (error empty) or failed; false if it no longer held it,
  // so every job completes exactly once.
  virtual Result<bool> FinishJob(Id job_id, std::string_view worker, std::string_view error,
                                 UnixSeconds now) = 0;
  // Finishes a job `worker` holds as done and adds its release's triage items (kept, like
  // ImportTriageItems, where the release has them already) in one transaction: the results and
  // the completion are stored together or not at all. false, with nothing written, if the worker
  // no longer held the job.
  virtual Result<bool> CompleteJob(Id job_id, std::string_view worker,
                                   const std::vector<TriageItem>& items, UnixSeconds now) = 0;
  // Gives a job `worker` holds back to the queue at once (a worker shutting down), without
  // counting the attempt; false if it no longer held it.
  virtual Result<bool> ReturnJob(Id job_id, std::string_view worker) = 0;
  virtual Result<std::optional<Job>> FindJobOfRelease(Id release_id) = 0;
  // Jobs per state, for the queue page and metrics.
  virtual Result<std::vector<Job>> ListJobs() = 0;

  // Triage. Importing adds the items a release lacks (by key) and keeps existing ones with their
  // answers, so it may run again; returns how many were added.
  virtual Result<std::int64_t> ImportTriageItems(Id release_id,
                                                 const std::vector<TriageItem>& items) = 0;
  virtual Result<std::vector<TriageItem>> ListTriageItems(Id release_id) = 0;
  virtual Result<std::optional<TriageItem>> FindTriageItem(Id id) = 0;
  // Records the vendor's answer (status, justification, detail, fix version) and sets the lab's
  // decision back to pending: a new answer is decided anew.
  virtual Result<void> AnswerTriageItem(const TriageItem& answer, Id user_id, UnixSeconds now) = 0;
  // Records the lab's decision ("accepted" or "rejected") on the current answer.
  virtual Result<void> DecideTriageItem(Id item_id, std::string_view decision,
                                        std::string_view reason, Id user_id, UnixSeconds now) = 0;
  virtual Result<Id> AddTriageComment(const TriageComment& comment) = 0;
  virtual Result<std::vector<TriageComment>> ListTriageComments(Id item_id) = 0;

  // Verdicts: one per release (a second is kInvalidArgument).
  virtual Result<Id> CreateVerdict(const Verdict& verdict) = 0;
  virtual Result<std::optional<Verdict>> FindVerdict(Id id) = 0;
  virtual Result<std::optional<Verdict>> FindVerdictOfRelease(Id release_id) = 0;
};

}  // namespace clearbox::store
