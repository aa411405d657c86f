// The SQLite portal store on a real file in a temporary directory: migrations applied once and
// idempotent, a newer schema refused, constraints (kinds, uniqueness, foreign keys), and text
// full of SQL metacharacters and HTML stored and read back verbatim.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/migrations.hpp"
#include "store/sqlite_store.hpp"
#include "support/test_support.hpp"

namespace clearbox::store {
namespace {

using clearbox::testing::TempDir;

std::unique_ptr<SqlitePortalStore> OpenOrDie(const std::filesystem::path& path) {
  auto store = SqlitePortalStore::Open(path);
  EXPECT_TRUE(store.has_value()) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

// Runs one SQL statement on the file with the plain SQLite API (behind the store's back).
int RawExec(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

TEST(PortalStore, MigrationsApplyOnceAndAreIdempotent) {
  TempDir tmp;
  const auto db = tmp / "portal.db";
  {
    auto store = OpenOrDie(db);
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
    ASSERT_TRUE(store->CreateOrganisation("Acme", OrganisationKind::kVendor).has_value());
  }
  for (int i = 0; i < 2; ++i) {
    auto store = OpenOrDie(db);
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
    auto organisations = store->ListOrganisations();
    ASSERT_TRUE(organisations.has_value());
    EXPECT_EQ(organisations->size(), 1u) << "reopening must not re-run a migration";
  }
  // One schema_version row per migration.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), static_cast<int>(SqliteMigrations().size()));
  sqlite3_finalize(stmt);
  // WAL journal mode is persistent in the file.
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST(PortalStore, AnOlderDatabaseIsUpgradedStepByStep) {
  TempDir tmp;
  const auto db = tmp / "portal.db";
  const auto all = SqliteMigrations();
  ASSERT_GE(all.size(), 2u);
  {
    auto first = SqlitePortalStore::Open(db, all.first(1));
    ASSERT_TRUE(first.has_value()) << first.error().message;
    EXPECT_EQ(*(*first)->SchemaVersion(), 1);
  }
  EXPECT_NE(RawExec(db, "SELECT * FROM audit_events"), SQLITE_OK) << "not yet migrated";
  auto store = OpenOrDie(db);
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(RawExec(db, "SELECT * FROM audit_events"), SQLITE_OK);
}

TEST(PortalStore, ANewerSchemaIsRefusedWithAClearError) {
  TempDir tmp;
  const auto db = tmp / "portal.db";
  { ASSERT_TRUE(OpenOrDie(db)); }
  const std::string future = "INSERT INTO schema_version (version, name, applied_at) VALUES (" +
                             std::to_string(LatestSchemaVersion() + 1) + ", 'future', 0)";
  ASSERT_EQ(RawExec(db, future.c_str()), SQLITE_OK);
  auto store = SqlitePortalStore::Open(db);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(store.error().message.find("newer than this clearbox"), std::string::npos)
      << store.error().message;
  // The refusal changed nothing.
  auto again = SqlitePortalStore::Open(db);
  ASSERT_FALSE(again.has_value());
}

TEST(PortalStore, KindsRolesAndUniquenessAreEnforced) {
  TempDir tmp;
  auto store = OpenOrDie(tmp / "portal.db");
  ASSERT_TRUE(store);
  const Id lab = *store->CreateOrganisation("Lab", OrganisationKind::kLab);
  const Id vendor = *store->CreateOrganisation("Acme", OrganisationKind::kVendor);
  const Id customer = *store->CreateOrganisation("Buyer", OrganisationKind::kCustomer);
  const Id regulator = *store->CreateOrganisation("Agency", OrganisationKind::kRegulator);
  EXPECT_EQ(store->CreateOrganisation("Acme", OrganisationKind::kCustomer).error().code,
            ErrorCode::kInvalidArgument);
  const Id alice = *store->CreateUser("alice", "$argon2id$x", 100);
  EXPECT_EQ(store->CreateUser("alice", "", 100).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(store->AddMembership({alice, lab, Role::kAdmin}).has_value());
  EXPECT_TRUE(store->AddMembership({alice, lab, Role::kAdmin}).has_value()) << "no-op";
  EXPECT_FALSE(store->AddMembership({alice, vendor, Role::kAdmin}).has_value());
  EXPECT_FALSE(store->AddMembership({alice, lab, Role::kVendor}).has_value());
  EXPECT_FALSE(store->AddMembership({alice, 999, Role::kVendor}).has_value());
  EXPECT_FALSE(store->AddMembership({999, vendor, Role::kVendor}).has_value()) << "foreign key";
  EXPECT_EQ(store->MembershipsOfUser(alice)->size(), 1u);
  EXPECT_FALSE(store->CreateProject(customer, "p", "", 1).has_value());
  const Id project = *store->CreateProject(vendor, "Router", "", 1);
  EXPECT_FALSE(store->CreateProject(vendor, "Router", "", 1).has_value()) << "unique per vendor";
  EXPECT_FALSE(store->AddShare({project, vendor}).has_value());
  EXPECT_FALSE(store->AddShare({project, lab}).has_value());
  EXPECT_TRUE(store->AddShare({project, customer}).has_value());
  EXPECT_TRUE(store->AddShare({project, regulator}).has_value());
  EXPECT_TRUE(store->AddShare({project, customer}).has_value()) << "no-op";
  EXPECT_EQ(store->SharesOfProject(project)->size(), 2u);
  EXPECT_TRUE(store->RemoveShare({project, customer}).has_value());
  EXPECT_EQ(store->SharesOfProject(project)->size(), 1u);
  EXPECT_FALSE(store->FindProject(project + 100)->has_value());
}

TEST(PortalStore, SessionsAndTokens) {
  TempDir tmp;
  auto store = OpenOrDie(tmp / "portal.db");
  ASSERT_TRUE(store);
  const Id bob = *store->CreateUser("bob", "h", 1);
  ASSERT_TRUE(store->CreateSession({"aa", bob, "csrf", 10, 20}).has_value());
  ASSERT_TRUE(store->CreateSession({"bb", bob, "csrf2", 10, 40}).has_value());
  EXPECT_FALSE(store->CreateSession({"aa", bob, "x", 10, 20}).has_value());
  auto found = store->FindSession("aa");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->csrf_token, "csrf");
  EXPECT_EQ(*store->DeleteExpiredSessions(20), 1);
  EXPECT_FALSE(store->FindSession("aa")->has_value());
  EXPECT_TRUE(store->FindSession("bb")->has_value());
  ASSERT_TRUE(store->DeleteSession("bb").has_value());
  EXPECT_FALSE(store->FindSession("bb")->has_value());
  const Id token = *store->CreateApiToken({0, "hash1", bob, "ci", 5, 0});
  EXPECT_EQ((*store->FindApiToken("hash1"))->name, "ci");
  EXPECT_FALSE(*store->DeleteApiToken(bob + 1, token)) << "only the owner deletes";
  EXPECT_TRUE(*store->DeleteApiToken(bob, token));
  EXPECT_FALSE(store->FindApiToken("hash1")->has_value());
}

// Every text field takes SQL metacharacters, quotes, NUL-free control bytes and HTML verbatim.
TEST(PortalStore, HostileTextIsStoredVerbatim) {
  TempDir tmp;
  auto store = OpenOrDie(tmp / "portal.db");
  ASSERT_TRUE(store);
  const std::string hostile =
      "x'); DROP TABLE users; -- \" ` ; /* */ % _ \\ <script>alert(1)</script> &amp; \xc3\xa9";
  const Id vendor = *store->CreateOrganisation(hostile, OrganisationKind::kVendor);
  const Id user = *store->CreateUser(hostile, hostile, 1);
  const Id project = *store->CreateProject(vendor, hostile, hostile + "\nline 2", 1);
  ASSERT_TRUE(store->CreateApiToken({0, hostile, user, hostile, 1, 0}).has_value());
  EXPECT_EQ((*store->FindOrganisation(vendor))->name, hostile);
  EXPECT_EQ((*store->FindUserByName(hostile))->password_hash, hostile);
  EXPECT_EQ((*store->FindProject(project))->name, hostile);
  EXPECT_EQ((*store->FindProject(project))->description, hostile + "\nline 2");
  EXPECT_EQ((*store->FindApiToken(hostile))->name, hostile);
  EXPECT_FALSE(store->FindUserByName("x' OR '1'='1")->has_value());
  EXPECT_EQ(store->ListUsers()->size(), 1u);
}

}  // namespace
}  // namespace clearbox::store
