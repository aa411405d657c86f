#include "portal/authorization.hpp"

#include <algorithm>
#include <array>

namespace clearbox::portal {
namespace {

using store::Role;
constexpr Scope N = Scope::kNone, A = Scope::kAll, O = Scope::kOwn, S = Scope::kShared;

// One row per Action (in enum order), one column per Role (admin, lab analyst, vendor,
// customer, regulator). docs/portal.md shows the same table.
constexpr std::array<std::array<Scope, 5>, std::size(kAllActions)> kTable{{
    /* view_project    */ {A, A, O, S, S},
    /* create_project  */ {A, N, O, N, N},
    /* share_project   */ {A, N, O, N, N},
    /* upload_release  */ {A, A, O, N, N},
    /* answer_finding  */ {N, N, O, N, N},
    /* triage_finding  */ {A, A, N, N, N},
    /* publish_verdict */ {A, A, N, N, N},
    /* comment         */ {A, A, O, S, S},
    /* administer      */ {A, N, N, N, N},
}};

}  // namespace

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kViewProject: return "view_project";
    case Action::kCreateProject: return "create_project";
    case Action::kShareProject: return "share_project";
    case Action::kUploadRelease: return "upload_release";
    case Action::kAnswerFinding: return "answer_finding";
    case Action::kTriageFinding: return "triage_finding";
    case Action::kPublishVerdict: return "publish_verdict";
    case Action::kComment: return "comment";
    case Action::kAdminister: return "administer";
  }
  return "unknown";
}

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kNone: return "none";
    case Scope::kAll: return "all";
    case Scope::kOwn: return "own";
    case Scope::kShared: return "shared";
  }
  return "none";
}

Scope ScopeOf(Action action, Role role) {
  const auto row = static_cast<std::size_t>(action);
  const auto column = static_cast<std::size_t>(role);
  if (row >= kTable.size() || column >= kTable[row].size()) return Scope::kNone;
  return kTable[row][column];
}

bool Authorize(const Principal& who, Action action, const ProjectAccess* project) {
  for (const store::Membership& membership : who.memberships) {
    if (membership.user_id != who.user_id) continue;
    switch (ScopeOf(action, membership.role)) {
      case Scope::kNone: break;
      case Scope::kAll: return true;
      case Scope::kOwn:
        if (project && project->vendor_organisation_id == membership.organisation_id) return true;
        break;
      case Scope::kShared:
        if (project && std::find(project->shared_with.begin(), project->shared_with.end(),
                                 membership.organisation_id) != project->shared_with.end()) {
          return true;
        }
        break;
    }
  }
  return false;
}

bool HoldsRole(const Principal& who, store::Role role) {
  return std::any_of(who.memberships.begin(), who.memberships.end(),
                     [&](const store::Membership& m) { return m.role == role; });
}

}  // namespace clearbox::portal
