// Who may do what, decided in one place: a table of actions × roles, each cell a scope (no
// project, every project, the caller's own vendor organisation's projects, projects shared
// with the caller's organisation). Every route asks Authorize before it reads or writes.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "store/portal_store.hpp"

namespace clearbox::portal {

// What a caller wants to do. Actions marked "later" belong to steps not built yet; their rows
// are fixed now so that the matrix test covers them from the start.
enum class Action : std::uint8_t {
  kViewProject,     // project page and API
  kCreateProject,   // a project owned by a vendor organisation
  kShareProject,    // share a project with a customer or regulator organisation
  kUploadRelease,   // later: upload an image or SBOM into a project
  kAnswerFinding,   // later: the vendor's VEX answer to a finding
  kTriageFinding,   // later: the lab accepts or rejects an answer
  kPublishVerdict,  // later: the lab publishes a verdict
  kComment,         // later: comment on a finding's thread
  kAdminister,      // organisations, users, memberships and every share (no project)
};

inline constexpr Action kAllActions[] = {
    Action::kViewProject,    Action::kCreateProject, Action::kShareProject,
    Action::kUploadRelease,  Action::kAnswerFinding, Action::kTriageFinding,
    Action::kPublishVerdict, Action::kComment,       Action::kAdminister};

// Which projects a role may act on for one action.
enum class Scope : std::uint8_t {
  kNone,    // never
  kAll,     // any project (and project-less actions)
  kOwn,     // projects of an organisation in which the caller holds this role
  kShared,  // projects shared with an organisation in which the caller holds this role
};

// Stable name of an action ("view_project", ...).
std::string_view ActionName(Action action);
std::string_view ScopeName(Scope scope);

// The cell of the table for `action` and `role`.
Scope ScopeOf(Action action, store::Role role);

// The caller: a user and every (organisation, role) it holds.
struct Principal {
  store::Id user_id = 0;
  std::vector<store::Membership> memberships;
};

// The facts about one project that decide access: its owner and who it is shared with. For
// kCreateProject, the project that would be created (owner = the chosen organisation).
struct ProjectAccess {
  store::Id vendor_organisation_id = 0;
  std::vector<store::Id> shared_with;  // customer and regulator organisation ids
};

// True when some membership of `who` allows `action` on `project` (nullptr for project-less
// actions, which only kAll allows).
bool Authorize(const Principal& who, Action action, const ProjectAccess* project);

// True when `who` holds `role` in any organisation.
bool HoldsRole(const Principal& who, store::Role role);

}  // namespace clearbox::portal
