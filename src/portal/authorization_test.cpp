// The authorisation matrix: every action × role × (own or shared project, foreign project,
// no project), against an expectation table written out here independently of the code's.
#include "portal/authorization.hpp"

#include <gtest/gtest.h>

#include <map>

namespace clearbox::portal {
namespace {

using store::Role;

// Per action, per role (admin, lab_analyst, vendor, customer, regulator):
// 'A' any project, 'O' only its own (vendor) or shared-with (customer, regulator) project,
// '-' never.
const std::map<std::string, std::string> kExpected = {
    {"view_project", "AAOOO"},    {"create_project", "A-O--"}, {"share_project", "A-O--"},
    {"upload_release", "AAO--"},  {"answer_finding", "--O--"}, {"triage_finding", "AA---"},
    {"publish_verdict", "AA---"}, {"comment", "AAOOO"},        {"administer", "A----"},
};

constexpr store::Id kLab = 1, kVendor = 2, kOtherVendor = 3, kCustomer = 4, kOtherCustomer = 5,
                    kRegulator = 6;

store::Id OrganisationFor(Role role) {
  switch (role) {
    case Role::kAdmin:
    case Role::kLabAnalyst: return kLab;
    case Role::kVendor: return kVendor;
    case Role::kCustomer: return kCustomer;
    case Role::kRegulator: return kRegulator;
  }
  return 0;
}

TEST(Authorization, MatrixOfEveryActionRoleAndProject) {
  // The caller's own project: its vendor organisation's, shared with its customer/regulator.
  const ProjectAccess own{kVendor, {kCustomer, kRegulator}};
  // A foreign project: another vendor's, shared with another customer only.
  const ProjectAccess foreign{kOtherVendor, {kOtherCustomer}};
  ASSERT_EQ(kExpected.size(), std::size(kAllActions)) << "every action has a row";
  for (Action action : kAllActions) {
    const auto row = kExpected.find(std::string(ActionName(action)));
    ASSERT_NE(row, kExpected.end()) << ActionName(action);
    for (std::size_t r = 0; r < std::size(store::kAllRoles); ++r) {
      const Role role = store::kAllRoles[r];
      const Principal who{7, {{7, OrganisationFor(role), role}}};
      const char cell = row->second[r];
      SCOPED_TRACE(std::string(ActionName(action)) + " as " + std::string(store::RoleName(role)));
      EXPECT_EQ(Authorize(who, action, &own), cell != '-') << "own project";
      EXPECT_EQ(Authorize(who, action, &foreign), cell == 'A') << "foreign project";
      EXPECT_EQ(Authorize(who, action, nullptr), cell == 'A') << "no project";
      // Nobody without a membership may do anything.
      EXPECT_FALSE(Authorize(Principal{7, {}}, action, &own));
      // A membership of another user (a bug upstream) grants nothing.
      EXPECT_FALSE(Authorize(Principal{8, {{7, OrganisationFor(role), role}}}, action, &own));
    }
  }
}

TEST(Authorization, RolesCombineAcrossOrganisations) {
  // A consultant who is a customer of one vendor and the vendor of another project.
  const Principal who{1, {{1, kCustomer, Role::kCustomer}, {1, kOtherVendor, Role::kVendor}}};
  const ProjectAccess shared{kVendor, {kCustomer}};
  const ProjectAccess owned{kOtherVendor, {}};
  const ProjectAccess neither{kVendor, {kOtherCustomer}};
  EXPECT_TRUE(Authorize(who, Action::kViewProject, &shared));
  EXPECT_FALSE(Authorize(who, Action::kShareProject, &shared));
  EXPECT_TRUE(Authorize(who, Action::kShareProject, &owned));
  EXPECT_FALSE(Authorize(who, Action::kViewProject, &neither));
  EXPECT_TRUE(HoldsRole(who, Role::kVendor));
  EXPECT_FALSE(HoldsRole(who, Role::kAdmin));
}

}  // namespace
}  // namespace clearbox::portal
