// The portal store's contract, run against both backends: SQLite on a real file in a temporary
// directory, and PostgreSQL in a fresh database of the throw-away cluster the ctest run
// started (scripts/pg-test-cluster.sh). Migrations applied once and idempotent, an older
// schema upgraded, a newer one refused; constraints (kinds, uniqueness, foreign keys); text
// full of SQL metacharacters and HTML stored verbatim; releases with their jobs; claims,
// leases and exactly-once completion, also from several connections at once; and, for
// PostgreSQL, a server killed mid-run and started again.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "core/hashing.hpp"
#include "store/blob_store.hpp"
#include "store/migrations.hpp"
#include "store/open_store.hpp"
#include "store/postgres_store.hpp"
#include "store/postgres_test_database.hpp"
#include "store/sqlite_store.hpp"
#include "support/test_support.hpp"

namespace clearbox::store {
namespace {

using clearbox::testing::TempDir;

// Runs one SQL statement on the file with the plain SQLite API (behind the store's back).
int RawExec(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

// A parameterised test runs once per backend ("sqlite", "postgresql").
class Backend : public ::testing::TestWithParam<std::string_view> {
 protected:
  bool postgres() const { return GetParam() == "postgresql"; }

  void SetUp() override {
    if (postgres()) {
      database_ = std::make_unique<testing::PostgresTestDatabase>();
      ASSERT_FALSE(database_->url().empty()) << database_->error();
    }
  }

  std::span<const Migration> AllMigrations() const {
    return postgres() ? PostgresMigrations() : SqliteMigrations();
  }

  // Opens the backend's database with `migrations` (another connection each time).
  Result<std::unique_ptr<PortalStore>> TryOpen(std::span<const Migration> migrations) {
    if (postgres()) {
      auto store = PostgresPortalStore::Open(database_->url(), migrations);
      if (!store) return Forward(store);
      return std::unique_ptr<PortalStore>(std::move(*store));
    }
    auto store = SqlitePortalStore::Open(tmp_ / "portal.db", migrations);
    if (!store) return Forward(store);
    return std::unique_ptr<PortalStore>(std::move(*store));
  }

  // The store with every migration; nullptr (and a failure) if it cannot be opened.
  std::unique_ptr<PortalStore> OpenLatest() {
    auto store = TryOpen(AllMigrations());
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  // Runs `sql` behind the store's back; true if it succeeded.
  bool Raw(const std::string& sql) {
    if (postgres()) {
      auto db = postgres::Connection::Open(database_->url());
      return db && (*db)->ExecScript(sql).has_value();
    }
    return RawExec(tmp_ / "portal.db", sql.c_str()) == SQLITE_OK;
  }

  // The integer in the first column of the first row of `sql`; -1 if it failed.
  std::int64_t RawCount(const std::string& sql) {
    if (postgres()) {
      auto db = postgres::Connection::Open(database_->url());
      if (!db) return -1;
      auto rows = (*db)->Exec(sql);
      return rows && rows->size() > 0 ? rows->Int(0, 0) : -1;
    }
    sqlite3* db = nullptr;
    sqlite3_open((tmp_ / "portal.db").c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    std::int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  TempDir tmp_;
  std::unique_ptr<testing::PostgresTestDatabase> database_;
};

INSTANTIATE_TEST_SUITE_P(, Backend, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& backend) { return std::string(backend.param); });

TEST_P(Backend, MigrationsApplyOnceAndAreIdempotent) {
  {
    auto store = OpenLatest();
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
    ASSERT_TRUE(store->CreateOrganisation("Acme", OrganisationKind::kVendor).has_value());
  }
  for (int i = 0; i < 2; ++i) {
    auto store = OpenLatest();
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
    auto organisations = store->ListOrganisations();
    ASSERT_TRUE(organisations.has_value());
    EXPECT_EQ(organisations->size(), 1u) << "reopening must not re-run a migration";
  }
  EXPECT_EQ(RawCount("SELECT COUNT(*) FROM schema_version"),
            static_cast<std::int64_t>(AllMigrations().size()))
      << "one schema_version row per migration";
}

TEST(PortalStore, SqliteKeepsAWriteAheadLog) {
  TempDir tmp;
  { ASSERT_TRUE(SqlitePortalStore::Open(tmp / "portal.db").has_value()); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((tmp / "portal.db").c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  // WAL journal mode is persistent in the file.
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST_P(Backend, AnOlderDatabaseIsUpgradedStepByStep) {
  const auto all = AllMigrations();
  ASSERT_GE(all.size(), 2u);
  {
    auto first = TryOpen(all.first(1));
    ASSERT_TRUE(first.has_value()) << first.error().message;
    EXPECT_EQ(*(*first)->SchemaVersion(), 1);
  }
  EXPECT_FALSE(Raw("SELECT * FROM audit_events")) << "not yet migrated";
  auto store = OpenLatest();
  ASSERT_TRUE(store);
  EXPECT_EQ(*store->SchemaVersion(), LatestSchemaVersion());
  EXPECT_TRUE(Raw("SELECT * FROM audit_events"));
}

TEST_P(Backend, ANewerSchemaIsRefusedWithAClearError) {
  { ASSERT_TRUE(OpenLatest()); }
  ASSERT_TRUE(Raw("INSERT INTO schema_version (version, name, applied_at) VALUES (" +
                  std::to_string(LatestSchemaVersion() + 1) + ", 'future', 0)"));
  auto store = TryOpen(AllMigrations());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(store.error().message.find("newer than this clearbox"), std::string::npos)
      << store.error().message;
  // The refusal changed nothing.
  auto again = TryOpen(AllMigrations());
  ASSERT_FALSE(again.has_value());
}

TEST_P(Backend, KindsRolesAndUniquenessAreEnforced) {
  auto store = OpenLatest();
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

TEST_P(Backend, SessionsAndTokens) {
  auto store = OpenLatest();
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
TEST_P(Backend, HostileTextIsStoredVerbatim) {
  auto store = OpenLatest();
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
  if (postgres()) {
    // PostgreSQL text holds no NUL: refused, never stored cut short.
    EXPECT_EQ(store->CreateUser(std::string("nul\0byte", 8), "", 1).error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(store->CreateUser("bad \xff utf-8", "", 1).error().code, ErrorCode::kInvalidArgument);
  }
}

// A release and its queued job are stored together; versions are unique per project; a
// release of a missing project stores neither.
TEST_P(Backend, ReleasesAreStoredWithTheirJob) {
  auto store = OpenLatest();
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
TEST_P(Backend, JobsAreClaimedLeasedAndFinishedOnce) {
  auto store = OpenLatest();
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
  // A worker shutting down returns its job: queued again at once, the attempt not counted.
  const Id r3 = *store->CreateReleaseWithJob(
      {0, project, "3", ReleaseKind::kImage, "c", digest, 1, 0, 0}, 12);
  auto e = *store->ClaimJob({"E", 400, 60, 2});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->release_id, r3);
  EXPECT_FALSE(*store->ReturnJob(e->id, "F")) << "only the holder returns it";
  EXPECT_TRUE(*store->ReturnJob(e->id, "E"));
  EXPECT_FALSE(*store->FinishJob(e->id, "E", "", 401)) << "returned, no longer E's";
  auto f = *store->ClaimJob({"F", 401, 60, 2});
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, e->id);
  EXPECT_EQ(f->attempts, 1);
}

// Completion and results in one transaction: the holder's completion stores the items; a worker
// that lost the job stores nothing.
TEST_P(Backend, ACompletedJobStoresItsTriageItemsInTheSameTransaction) {
  auto store = OpenLatest();
  ASSERT_TRUE(store);
  const Id vendor = *store->CreateOrganisation("Acme", OrganisationKind::kVendor);
  const Id project = *store->CreateProject(vendor, "router", "", 1);
  const Id release = *store->CreateReleaseWithJob(
      {0, project, "1", ReleaseKind::kImage, "fw", std::string(64, 'f'), 1, 0, 0}, 10);
  std::vector<TriageItem> items(2);
  items[0].item_key = "CVE-2024-2@pkg:generic/openssl@3.0.0";
  items[0].kind = "vulnerability";
  items[1].item_key = "weak-hash@/etc/shadow";
  items[1].kind = "finding";
  auto lost = *store->ClaimJob({"A", 100, 60, 3});
  ASSERT_TRUE(lost.has_value());
  auto taken = *store->ClaimJob({"B", 161, 60, 3});  // A's lease ran out: B holds it now
  ASSERT_TRUE(taken.has_value());
  EXPECT_FALSE(*store->CompleteJob(lost->id, "A", items, 170)) << "A no longer holds it";
  EXPECT_TRUE(store->ListTriageItems(release)->empty()) << "nothing of A's is stored";
  EXPECT_TRUE(*store->CompleteJob(taken->id, "B", items, 171));
  EXPECT_EQ(store->ListTriageItems(release)->size(), 2u);
  const auto job = *store->FindJobOfRelease(release);
  EXPECT_EQ(job->state, JobState::kDone);
  EXPECT_EQ(job->finished_at, 171);
  EXPECT_FALSE(*store->CompleteJob(taken->id, "B", items, 172)) << "a job completes once";
  // A bad item (a kind the schema refuses) rolls the completion back with it.
  const Id second = *store->CreateReleaseWithJob(
      {0, project, "2", ReleaseKind::kImage, "fw", std::string(64, 'f'), 1, 0, 0}, 20);
  auto next = *store->ClaimJob({"C", 200, 60, 3});
  ASSERT_TRUE(next.has_value());
  items[1].kind = "rumour";
  EXPECT_FALSE(store->CompleteJob(next->id, "C", items, 201).has_value());
  EXPECT_EQ((*store->FindJobOfRelease(second))->state, JobState::kRunning);
  EXPECT_TRUE(store->ListTriageItems(second)->empty());
}

// Several workers, each with its own connection, claiming at once: every job is handed out
// exactly once.
TEST_P(Backend, ConcurrentClaimsNeverShareAJob) {
  auto store = OpenLatest();
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
  std::vector<std::string> errors;
  std::vector<std::unique_ptr<PortalStore>> workers;
  for (int t = 0; t < 4; ++t) {
    workers.push_back(OpenLatest());
    ASSERT_TRUE(workers.back());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "w" + std::to_string(t);
      for (;;) {
        auto job = workers[t]->ClaimJob({name, 1000, 600, 3});
        std::lock_guard lock(mutex);
        if (!job) errors.push_back(job.error().message);
        if (!job || !*job) return;
        claimed.push_back((*job)->id);
        auto finished = workers[t]->FinishJob((*job)->id, name, "", 1001);
        if (!finished || !*finished)
          errors.push_back("finish of job " + std::to_string((*job)->id));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  std::sort(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::adjacent_find(claimed.begin(), claimed.end()), claimed.end());
}

// Triage: an import adds what a release lacks and keeps answers; a new answer is decided anew;
// only an answered item can be decided; comments keep their order; one verdict per release.
TEST_P(Backend, TriageAnswersDecisionsCommentsAndOneVerdict) {
  auto store = OpenLatest();
  ASSERT_TRUE(store);
  const Id vendor = *store->CreateOrganisation("Acme", OrganisationKind::kVendor);
  const Id project = *store->CreateProject(vendor, "router", "", 1);
  const Id vera = *store->CreateUser("vera", "h", 1);
  const Id release = *store->CreateReleaseWithJob(
      {0, project, "1", ReleaseKind::kImage, "fw", std::string(64, 'd'), 1, vera, 0}, 10);
  std::vector<TriageItem> items(2);
  items[0].item_key = "CVE-2024-1@pkg:generic/busybox@1.36.1";
  items[0].kind = "vulnerability";
  items[0].title = "<b>overflow</b> ' OR 1=1 --";
  items[0].severity = "high";
  items[1].item_key = "telnet@/etc/inetd.conf";
  items[1].kind = "finding";
  EXPECT_EQ(*store->ImportTriageItems(release, items), 2);
  const auto listed = *store->ListTriageItems(release);
  ASSERT_EQ(listed.size(), 2u);
  const Id cve = listed[0].kind == "vulnerability" ? listed[0].id : listed[1].id;
  EXPECT_FALSE(store->DecideTriageItem(cve, "accepted", "", vera, 11).has_value())
      << "nothing to decide before an answer";
  TriageItem answer = *(*store->FindTriageItem(cve));
  answer.vendor_status = "not_affected";
  answer.justification = "code_not_reachable";
  ASSERT_TRUE(store->AnswerTriageItem(answer, vera, 12).has_value());
  ASSERT_TRUE(store->DecideTriageItem(cve, "accepted", "ok", vera, 13).has_value());
  EXPECT_EQ((*store->FindTriageItem(cve))->lab_decision, "accepted");
  EXPECT_EQ(*store->ImportTriageItems(release, items), 0) << "a re-import keeps the answers";
  EXPECT_EQ((*store->FindTriageItem(cve))->title, items[0].title);
  ASSERT_TRUE(store->AnswerTriageItem(answer, vera, 14).has_value());
  EXPECT_EQ((*store->FindTriageItem(cve))->lab_decision, "pending") << "decided anew";
  answer.vendor_status = "maybe";
  EXPECT_EQ(store->AnswerTriageItem(answer, vera, 15).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(store->AddTriageComment({0, cve, vera, "first", 16}).has_value());
  ASSERT_TRUE(store->AddTriageComment({0, cve, 0, "second", 17}).has_value());
  const auto comments = *store->ListTriageComments(cve);
  ASSERT_EQ(comments.size(), 2u);
  EXPECT_EQ(comments[0].body, "first");
  EXPECT_EQ(comments[1].author, 0) << "no author stays 0";
  Verdict verdict{0, release, "pass", "all answered", vera, 20, "{}", 7};
  const auto id = store->CreateVerdict(verdict);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ((*store->FindVerdictOfRelease(release))->log_index, 7);
  EXPECT_EQ(store->CreateVerdict(verdict).error().code, ErrorCode::kInvalidArgument);
  verdict.release_id = release + 1;
  verdict.outcome = "excellent";
  EXPECT_FALSE(store->CreateVerdict(verdict).has_value());
}

// The PostgreSQL server dies (SIGKILL to every process) and comes back: what was committed is
// there, and the same store object reconnects by itself.
TEST(PostgresStore, AServerKilledAndRestartedLosesNothingAndTheStoreReconnects) {
  TempDir tmp;
  testing::PostgresTestCluster cluster(tmp / "cluster");
  ASSERT_TRUE(cluster.ok());
  auto store = PostgresPortalStore::Open(cluster.url());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*store)
                    ->CreateOrganisation("org" + std::to_string(i), OrganisationKind::kVendor)
                    .has_value());
  }
  ASSERT_TRUE(cluster.Kill());
  auto down = (*store)->ListOrganisations();
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code, ErrorCode::kIo);
  ASSERT_TRUE(cluster.Restart());
  Result<std::vector<Organisation>> listed = Fail(ErrorCode::kIo, "not tried");
  for (int attempt = 0; attempt < 3 && !listed; ++attempt) listed = (*store)->ListOrganisations();
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  EXPECT_EQ(listed->size(), 20u);
  EXPECT_TRUE((*store)->CreateOrganisation("after", OrganisationKind::kLab).has_value());
}

TEST(PortalStore, DatabaseUrlsChooseTheBackendAndHidePasswords) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://u@h/db"));
  EXPECT_TRUE(IsPostgresUrl("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:///x.db"));
  EXPECT_EQ(RedactDatabaseUrl("postgresql://lab:s3cret@db.example:5432/portal"),
            "postgresql://lab:***@db.example:5432/portal");
  EXPECT_EQ(RedactDatabaseUrl("postgresql://lab@db/portal"), "postgresql://lab@db/portal");
  EXPECT_EQ(RedactDatabaseUrl("postgresql:///portal?host=/tmp"), "postgresql:///portal?host=/tmp");
  TempDir tmp;
  auto refused = OpenPortalStore("mysql://x", tmp.path());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  auto unreachable = OpenPortalStore("postgresql://nobody:pw@/x?host=/nonexistent", tmp.path());
  ASSERT_FALSE(unreachable.has_value());
  EXPECT_EQ(unreachable.error().code, ErrorCode::kIo);
  EXPECT_EQ(unreachable.error().message.find("pw@"), std::string::npos)
      << unreachable.error().message;
  auto sqlite = OpenPortalStore("", tmp.path());
  ASSERT_TRUE(sqlite.has_value()) << sqlite.error().message;
  EXPECT_TRUE(std::filesystem::exists(tmp / "portal.db"));
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
