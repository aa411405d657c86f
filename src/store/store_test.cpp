// The SQLite portal store on a real file in a temporary directory: migrations applied once and
// idempotent, a newer schema refused, constraints (kinds, uniqueness, foreign keys), and text
// full of SQL metacharacters and HTML stored and read back verbatim.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "core/hashing.hpp"
#include "store/blob_store.hpp"
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

// A release and its queued job are stored together; versions are unique per project; a
// release of a missing project stores neither.
TEST(PortalStore, ReleasesAreStoredWithTheirJob) {
  TempDir tmp;
  auto store = OpenOrDie(tmp / "portal.db");
  ASSERT_TRUE(store);
  const Id vendor = *store->CreateOrganisation("Acme", OrganisationKind::kVendor);
  const Id user = *store->CreateUser("vera", "h", 1);
  const Id project = *store->CreateProject(vendor, "router", "", 1);
  const std::string digest(64, 'a');
  Release release{0, project, "1.0", ReleaseKind::kImage, "fw<1>.bin", digest, 42, user, 0};
  const auto id = store->CreateReleaseWithJob(release, 100);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  const auto found = *store->FindRelease(*id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->file_name, "fw<1>.bin");
  EXPECT_EQ(found->size, 42);
  EXPECT_EQ(found->uploaded_by, user);
  EXPECT_EQ(found->created_at, 100);
  const auto job = *store->FindJobOfRelease(*id);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(store->CreateReleaseWithJob(release, 101).error().code, ErrorCode::kInvalidArgument)
      << "same version twice";
  release.version = "1.1";
  release.kind = ReleaseKind::kSbom;
  ASSERT_TRUE(store->CreateReleaseWithJob(release, 102).has_value());
  release.project_id = project + 100;
  EXPECT_FALSE(store->CreateReleaseWithJob(release, 103).has_value());
  EXPECT_EQ(store->ListJobs()->size(), 2u) << "a refused release leaves no job behind";
  const auto releases = *store->ListReleasesOfProject(project);
  ASSERT_EQ(releases.size(), 2u);
  EXPECT_EQ(releases[0].version, "1.0");
  EXPECT_EQ(releases[1].kind, ReleaseKind::kSbom);
}

// Claims hand out each job once; a lost worker's job is re-queued when its lease expires and
// failed after max_attempts; only the holder may renew or finish, and only once.
TEST(PortalStore, JobsAreClaimedLeasedAndFinishedOnce) {
  TempDir tmp;
  auto store = OpenOrDie(tmp / "portal.db");
  ASSERT_TRUE(store);
  const Id vendor = *store->CreateOrganisation("Acme", OrganisationKind::kVendor);
  const Id project = *store->CreateProject(vendor, "router", "", 1);
  const std::string digest(64, 'b');
  const Id r1 = *store->CreateReleaseWithJob(
      {0, project, "1", ReleaseKind::kImage, "a", digest, 1, 0, 0}, 10);
  const Id r2 = *store->CreateReleaseWithJob(
      {0, project, "2", ReleaseKind::kImage, "b", digest, 1, 0, 0}, 11);

  auto a = *store->ClaimJob({"A", 100, 60, 2});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->release_id, r1) << "oldest first";
  EXPECT_EQ(a->attempts, 1);
  EXPECT_EQ(a->lease_expires_at, 160);
  auto b = *store->ClaimJob({"B", 100, 60, 2});
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->release_id, r2);
  EXPECT_FALSE(store->ClaimJob({"C", 100, 60, 2})->has_value()) << "nothing left";

  EXPECT_TRUE(*store->RenewJobLease(b->id, "B", 500));
  EXPECT_FALSE(*store->RenewJobLease(b->id, "A", 900)) << "not A's job";
  // A is lost: at 161 its job goes to C, and A can no longer finish it.
  auto c = *store->ClaimJob({"C", 161, 60, 2});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->id, a->id);
  EXPECT_EQ(c->attempts, 2);
  EXPECT_FALSE(*store->FinishJob(a->id, "A", "", 162)) << "A lost the job";
  EXPECT_TRUE(*store->FinishJob(b->id, "B", "", 163));
  EXPECT_FALSE(*store->FinishJob(b->id, "B", "", 164)) << "a job finishes once";
  EXPECT_EQ((*store->FindJobOfRelease(r2))->state, JobState::kDone);
  // C is lost too: two attempts used, so the job fails instead of going round again.
  EXPECT_FALSE(store->ClaimJob({"D", 300, 60, 2})->has_value());
  const auto failed = *store->FindJobOfRelease(r1);
  EXPECT_EQ(failed->state, JobState::kFailed);
  EXPECT_NE(failed->error.find("lost 2 times"), std::string::npos) << failed->error;
  EXPECT_FALSE(*store->FinishJob(a->id, "C", "", 301));
}

// Several threads claiming at once: every job is handed out exactly once.
TEST(PortalStore, ConcurrentClaimsNeverShareAJob) {
  TempDir tmp;
  auto store = OpenOrDie(tmp / "portal.db");
  ASSERT_TRUE(store);
  const Id vendor = *store->CreateOrganisation("Acme", OrganisationKind::kVendor);
  const Id project = *store->CreateProject(vendor, "router", "", 1);
  const std::string digest(64, 'c');
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(
        store
            ->CreateReleaseWithJob(
                {0, project, std::to_string(i), ReleaseKind::kImage, "f", digest, 1, 0, 0}, i)
            .has_value());
  }
  std::mutex mutex;
  std::vector<Id> claimed;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "w" + std::to_string(t);
      for (;;) {
        auto job = store->ClaimJob({name, 1000, 600, 3});
        if (!job || !*job) return;
        EXPECT_TRUE(*store->FinishJob((*job)->id, name, "", 1001));
        std::lock_guard lock(mutex);
        claimed.push_back((*job)->id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::sort(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::adjacent_find(claimed.begin(), claimed.end()), claimed.end());
}

// Blobs: written under their digest, one copy per content, capped, verified on read, and
// temporary files of a crashed writer removed when the store opens.
TEST(BlobStore, ContentAddressedCappedAndVerified) {
  TempDir tmp;
  auto blobs = BlobStore::Open(tmp / "blobs");
  ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
  const std::string data = clearbox::testing::PseudoRandomBytes(5, 300'000);
  auto write = [&](const std::string& bytes, std::uint64_t cap) -> Result<BlobInfo> {
    auto writer = blobs->NewWriter(cap);
    if (!writer) return Forward(writer);
    for (std::size_t at = 0; at < bytes.size(); at += 4096) {
      CLEARBOX_TRY((*writer)->Write(std::string_view(bytes).substr(at, 4096)));
    }
    return (*writer)->Commit();
  };
  const auto first = write(data, 1 << 20);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->size, data.size());
  EXPECT_EQ(first->sha256,
            Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(data.data()), data.size())));
  const auto path = blobs->PathOf(first->sha256);
  EXPECT_EQ(path.parent_path().filename(), first->sha256.substr(0, 2));
  EXPECT_EQ(clearbox::testing::ReadFileBytes(path), data);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  ASSERT_TRUE(write(data, 1 << 20).has_value()) << "the same bytes again";
  EXPECT_EQ(write(data, 1000).error().code, ErrorCode::kLimitExceeded);
  std::size_t temporaries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp / "blobs/tmp")) {
    ++temporaries;
  }
  EXPECT_EQ(temporaries, 0u) << "committed and refused writers leave no temporary file";
  EXPECT_TRUE(blobs->Verified(first->sha256).has_value());
  EXPECT_EQ(blobs->Verified(std::string(64, '0')).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(blobs->PathOf("../../etc/passwd").empty());
  // One flipped byte behind the store's back is found on read.
  std::string damaged = data;
  damaged[1234] ^= 1;
  clearbox::testing::WriteFileBytes(path, damaged);
  EXPECT_EQ(blobs->Verified(first->sha256).error().code, ErrorCode::kMalformed);
  // A crashed writer's temporary file is removed at the next open.
  {
    auto writer = blobs->NewWriter(100);
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE((*writer)->Write("partial").has_value());
    std::filesystem::copy(tmp / "blobs/tmp", tmp / "crash",
                          std::filesystem::copy_options::recursive);
  }
  std::filesystem::copy(
      tmp / "crash", tmp / "blobs/tmp",
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  ASSERT_FALSE(std::filesystem::is_empty(tmp / "blobs/tmp"));
  ASSERT_TRUE(BlobStore::Open(tmp / "blobs").has_value());
  EXPECT_TRUE(std::filesystem::is_empty(tmp / "blobs/tmp"));
}

}  // namespace
}  // namespace clearbox::store
