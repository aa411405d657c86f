// Releases end to end: uploads through the API (raw body, Bearer) and the browser form
// (multipart, session + CSRF) streamed into a real blob store, in-process scan workers running
// the real `clearbox scan` on the demo image, the release page, result files and the diff
// against the previous release; refusals (size, authorisation, CSRF, path tricks) and a job
// that fails without taking the portal down.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <optional>

#include "portal/audit_trail.hpp"
#include "portal/portal_test_fixture.hpp"
#include "portal/scan_worker.hpp"
#include "portal/triage.hpp"
#include "portal/verdict_ledger.hpp"
#include "store/blob_store.hpp"

namespace clearbox::portal {
namespace {

using namespace test;  // NOLINT: the shared fixture
using Json = nlohmann::json;

// Uploads in these tests are capped at 2 MiB (the demo image is about 1.5 MiB).
constexpr std::uint64_t kTestUploadCap = 2 << 20;

class PortalReleases : public PortalServer {
 protected:
  static void SetUpTestSuite() {
    demo_dir_ = new TempDir();
    const std::string command = "bash " +
                                ShellQuote((kSourceDir / "scripts/make-demo-image.sh").string()) +
                                " " + ShellQuote(demo_dir_->path().string());
    ASSERT_EQ(RunShell(command), 0) << command;
  }
  static void TearDownTestSuite() {
    delete demo_dir_;
    demo_dir_ = nullptr;
  }
  static fs::path DemoImage() { return demo_dir_->path() / "router.bin"; }

  void Configure(PortalConfig& config) override {
    auto blobs = store::BlobStore::Open(tmp_ / "blobs");
    ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
    blobs_.emplace(std::move(*blobs));
    config.blobs = &*blobs_;
    config.results_root = tmp_ / "results";
    config.max_upload_bytes = kTestUploadCap;
    ScanWorkerOptions options;
    options.store = store_.get();
    options.blobs = &*blobs_;
    options.results_root = config.results_root;
    options.clearbox_binary = ClearboxBinary();
    options.idle_poll = std::chrono::milliseconds(100);
    options.collect_triage = TriageItemsOfResults;
    options.now = [] { return static_cast<store::UnixSeconds>(std::time(nullptr)); };
    workers_ = std::make_unique<ScanWorkers>(options);
    workers_->Start();
    config.on_release_queued = [this] { workers_->Wake(); };
    auto verdicts = VerdictLedger::Open(tmp_.path());
    ASSERT_TRUE(verdicts.has_value()) << verdicts.error().message;
    verdicts_ = std::move(*verdicts);
    config.verdicts = verdicts_.get();
    // The seeded world counts as made through the portal: its memberships and shares are the
    // audit log's first entries.
    auto audit = AuditTrail::Open(tmp_.path());
    ASSERT_TRUE(audit.has_value()) << audit.error().message;
    audit_ = std::move(*audit);
    const auto memberships = store_->ListMemberships();
    const auto shares = store_->ListShares();
    ASSERT_TRUE(memberships && shares);
    for (const auto& m : *memberships) {
      ASSERT_TRUE(audit_->Record(1, "seed", "membership.add", "seed",
                                 {{"user", m.user_id},
                                  {"organisation", m.organisation_id},
                                  {"role", store::RoleName(m.role)}}));
    }
    for (const auto& sh : *shares) {
      ASSERT_TRUE(
          audit_->Record(1, "seed", "share.add", "seed",
                         {{"project", sh.project_id}, {"organisation", sh.organisation_id}}));
    }
    config.audit = audit_.get();
  }
  void TearDown() override {
    if (workers_) workers_->Stop();
    PortalServer::TearDown();
  }

  // A fresh API token of `user`: the secret for the Authorization header.
  std::string Token(const std::string& user) {
    const auto found = store_->FindUserByName(user);
    EXPECT_TRUE(found && *found);
    const std::string secret = std::string(kApiTokenPrefix) + *RandomHex(kSecretBytes);
    EXPECT_TRUE(store_->CreateApiToken({0, SecretHash(secret), (*found)->id, "ci", 1, 0}));
    return secret;
  }

  // POSTs `file` as a release of `project` through the API.
  Response ApiUpload(const std::string& token, store::Id project, const std::string& version,
                     const fs::path& file, const std::string& kind = "image",
                     const std::string& extra = {}) {
    return Curl("POST",
                "/api/v1/projects/" + std::to_string(project) +
                    "/releases?version=" + UrlEncode(version) + "&kind=" + kind +
                    "&file_name=" + UrlEncode(file.filename().string()),
                "", {},
                "--data-binary @" + ShellQuote(file.string()) + " -H " +
                    ShellQuote("Authorization: Bearer " + token) +
                    " -H 'Content-Type: application/octet-stream' " + extra);
  }

  // Polls the release until its scan is done or failed (at most 3 minutes under ASan).
  Json WaitForScan(const std::string& token, store::Id release) {
    Json json;
    for (int i = 0; i < 720; ++i) {
      const auto r = Curl("GET", "/api/v1/releases/" + std::to_string(release), "", {},
                          "-H " + ShellQuote("Authorization: Bearer " + token));
      json = Json::parse(r.body, nullptr, false);
      if (json.is_object() && (json["scan"] == "done" || json["scan"] == "failed")) return json;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ADD_FAILURE() << "the scan did not finish: " << json.dump();
    return json;
  }

  std::size_t TempFiles() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(tmp_ / "blobs" / "tmp")) ++n;
    return n;
  }

  // The lab publishes a verdict on `release`; the vendor may not. The public page needs no
  // login and its files verify offline with the real `clearbox verify`; one changed byte of
  // the envelope does not.
  void PublishAndVerifyOffline(store::Id release) {
    auto publish = [&](const std::string& user) {
      return Curl(
          "POST", "/releases/" + std::to_string(release) + "/verdict", Jar(user),
          FormBody({{"csrf", Csrf(user)}, {"outcome", "conditional"}, {"summary", kHostile}}));
    };
    EXPECT_EQ(publish("vendor").status, 403);
    const auto published = publish("analyst");
    ASSERT_EQ(published.status, 303) << published.body;
    const std::string verdict = published.Header("location");
    EXPECT_EQ(publish("analyst").status, 409) << "one verdict per release";
    const auto public_page = Curl("GET", verdict, "");
    ASSERT_EQ(public_page.status, 200);
    EXPECT_NE(public_page.body.find("clearbox verify envelope.json"), std::string::npos);
    EXPECT_EQ(public_page.body.find("<script>alert"), std::string::npos);
    for (const char* name : {"envelope.json", "proof", "log-key.vkey", "attester-key.vkey"}) {
      const auto file = Curl("GET", verdict + "/" + name, "");
      ASSERT_EQ(file.status, 200) << name;
      WriteFileBytes(tmp_ / name, file.body);
    }
    const std::string verify = ShellQuote(ClearboxBinary()) + " verify " +
                               ShellQuote((tmp_ / "envelope.json").string()) + " --proof " +
                               ShellQuote((tmp_ / "proof").string()) + " --log-key " +
                               ShellQuote((tmp_ / "log-key.vkey").string()) + " --attester-key " +
                               ShellQuote((tmp_ / "attester-key.vkey").string());
    std::string output;
    EXPECT_EQ(RunShell(verify, &output), 0) << output;
    std::string envelope = ReadFileBytes(tmp_ / "envelope.json");
    envelope[envelope.size() / 2] ^= 1;
    WriteFileBytes(tmp_ / "envelope.json", envelope);
    EXPECT_NE(RunShell(verify, &output), 0) << output;
  }

  // The audit log holds the whole exchange, passes the log check, and agrees with the
  // database until a row is edited behind the portal's back (item `item`'s decision, a role).
  void ExpectAuditCatchesEditsBehindThePortal(store::Id item) {
    std::string output;
    const auto entries = audit_->CheckedEntries();
    ASSERT_TRUE(entries.has_value()) << entries.error().message;
    std::vector<std::string> actions;
    for (const auto& e : *entries) actions.push_back(e["action"]);
    for (const char* action :
         {"release.upload", "triage.answer", "triage.decision", "comment.add", "verdict.publish"}) {
      EXPECT_NE(std::find(actions.begin(), actions.end(), action), actions.end()) << action;
    }
    EXPECT_TRUE(CompareAuditWithStore(*entries, *store_).empty());
    EXPECT_EQ(RunShell(ShellQuote(ClearboxBinary()) + " log check " +
                           ShellQuote((tmp_ / "audit-log").string()),
                       &output),
              0)
        << output;
    const std::string check = ShellQuote(ClearboxBinary()) + " serve --data " +
                              ShellQuote(tmp_.path().string()) + DbOption() + " --check-audit";
    EXPECT_EQ(RunShell(check, &output), 0) << output;
    ASSERT_TRUE(RawSql("UPDATE triage_items SET lab_decision = 'rejected' WHERE id = " +
                       std::to_string(item)));
    ASSERT_TRUE(RawSql("INSERT INTO memberships VALUES (" +
                       std::to_string((*store_->FindUserByName("vendor-b"))->id) + ", " +
                       std::to_string(w_.lab) + ", 'admin')"));
    const auto problems = CompareAuditWithStore(*entries, *store_);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_NE(problems[0].find("role admin is in the database but not in the audit log"),
              std::string::npos)
        << problems[0];
    EXPECT_NE(problems[1].find("the log says accepted"), std::string::npos) << problems[1];
    EXPECT_EQ(RunShell(check, &output), 1) << output;
    EXPECT_NE(output.find("FAIL"), std::string::npos);
  }

  static TempDir* demo_dir_;
  std::optional<store::BlobStore> blobs_;
  std::unique_ptr<ScanWorkers> workers_;
  std::unique_ptr<VerdictLedger> verdicts_;
  std::unique_ptr<AuditTrail> audit_;
};

TempDir* PortalReleases::demo_dir_ = nullptr;

TEST_F(PortalReleases, ApiUploadIsScannedAndTheNextReleaseIsDiffed) {
  const std::string token = Token("vendor");
  const auto first = ApiUpload(token, w_.project_a, "1.0", DemoImage());
  ASSERT_EQ(first.status, 201) << first.body;
  const Json created = Json::parse(first.body);
  EXPECT_EQ(created["sha256"], clearbox::testing::FileSha256(DemoImage()));
  EXPECT_EQ(created["size"], fs::file_size(DemoImage()));
  EXPECT_EQ(first.Header("location"), "/api/v1/releases/" + created["id"].dump());
  const Json done = WaitForScan(token, created["id"]);
  ASSERT_EQ(done["scan"], "done") << done.dump();
  EXPECT_GT(done["summary"]["vulnerabilities"].get<int>(), 0);
  EXPECT_GT(done["summary"]["components"].get<int>(), 0);

  // The release page shows the counts, and the report files are served from the results.
  const std::string id = created["id"].dump();
  Login("customer");  // the project is shared with the customer: it may read the results
  const auto page = Curl("GET", "/releases/" + id, Jar("customer"));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(
      page.body.find("data-key=\"vulnerabilities\">" + done["summary"]["vulnerabilities"].dump()),
      std::string::npos);
  const auto report = Curl("GET", "/releases/" + id + "/files/report.json", Jar("customer"));
  ASSERT_EQ(report.status, 200);
  EXPECT_EQ(Json::parse(report.body)["summary"], done["summary"]);
  const auto html = Curl("GET", "/releases/" + id + "/files/report.html", Jar("customer"));
  EXPECT_EQ(html.status, 200);
  EXPECT_TRUE(html.Header("content-security-policy").starts_with("sandbox;"));
  EXPECT_EQ(Curl("GET", "/releases/" + id + "/files/diff.json", Jar("customer")).status, 404)
      << "the first release has nothing to compare with";

  // The second release is compared with the first.
  const auto second = ApiUpload(token, w_.project_a, "1.1", DemoImage());
  ASSERT_EQ(second.status, 201) << second.body;
  const std::string id2 = Json::parse(second.body)["id"].dump();
  EXPECT_EQ(WaitForScan(token, std::stoll(id2))["scan"], "done");
  const auto diff = Curl("GET", "/releases/" + id2 + "/files/diff.json", Jar("customer"));
  ASSERT_EQ(diff.status, 200);
  EXPECT_EQ(Json::parse(diff.body)["summary"]["vulnerabilities_introduced"], 0);
  EXPECT_NE(Curl("GET", "/releases/" + id2, Jar("customer")).body.find("diff-summary"),
            std::string::npos);
  // One blob for two uploads of the same bytes.
  EXPECT_TRUE(fs::exists(blobs_->PathOf(created["sha256"].get<std::string>())));
  EXPECT_EQ(ApiUpload(token, w_.project_a, "1.1", DemoImage()).status, 409) << "version taken";
}

TEST_F(PortalReleases, UploadsAreRefusedBeforeTheBodyByRoleAndSize) {
  const std::string vendor = Token("vendor");
  EXPECT_EQ(ApiUpload(Token("vendor-b"), w_.project_a, "1", DemoImage()).status, 404)
      << "another vendor's project does not exist for it";
  EXPECT_EQ(ApiUpload(Token("customer"), w_.project_a, "1", DemoImage()).status, 403);
  EXPECT_EQ(ApiUpload("cbx_" + std::string(64, '0'), w_.project_a, "1", DemoImage()).status, 401);
  EXPECT_EQ(ApiUpload(vendor, w_.project_a, "", DemoImage()).status, 400) << "no version";
  EXPECT_EQ(ApiUpload(vendor, w_.project_a, "1", DemoImage(), "firmware").status, 400);
  const fs::path big = tmp_ / "big.bin";
  WriteFileBytes(big, clearbox::testing::PseudoRandomBytes(7, kTestUploadCap + 1));
  EXPECT_EQ(ApiUpload(vendor, w_.project_a, "big", big).status, 413) << "declared length";
  EXPECT_EQ(ApiUpload(vendor, w_.project_a, "big", big, "image", "-H 'Transfer-Encoding: chunked'")
                .status,
            413)
      << "chunked: counted while streaming";
  EXPECT_EQ(TempFiles(), 0u) << "a refused upload leaves no temporary file";
  EXPECT_TRUE(store_->ListReleasesOfProject(w_.project_a)->empty());
}

TEST_F(PortalReleases, FormUploadNeedsTheCsrfTokenBeforeTheFile) {
  Login("vendor");
  const std::string csrf = Csrf("vendor");
  const std::string path = "/projects/" + std::to_string(w_.project_a) + "/releases";
  auto form = [&](const std::string& token) {
    return Curl("POST", path, Jar("vendor"), {},
                "-F " + ShellQuote("csrf=" + token) + " -F version=2.0 -F kind=image -F " +
                    ShellQuote("file=@" + DemoImage().string()));
  };
  EXPECT_EQ(form(std::string(64, 'a')).status, 400);
  EXPECT_TRUE(store_->ListReleasesOfProject(w_.project_a)->empty());
  const auto accepted = form(csrf);
  ASSERT_EQ(accepted.status, 303) << accepted.body;
  const auto releases = *store_->ListReleasesOfProject(w_.project_a);
  ASSERT_EQ(releases.size(), 1u);
  EXPECT_EQ(releases[0].file_name, "router.bin");
  EXPECT_EQ(accepted.Header("location"), "/releases/" + std::to_string(releases[0].id));
  // The project page lists it; paths outside the fixed file list are not found.
  EXPECT_NE(
      Curl("GET", "/projects/" + std::to_string(w_.project_a), Jar("vendor")).body.find("2.0"),
      std::string::npos);
  const std::string base = "/releases/" + std::to_string(releases[0].id) + "/files/";
  for (const char* trick : {"..%2f..%2fportal.db", "..", "report.json%00", "unpacked", "%2e%2e"}) {
    const int status = Curl("GET", base + trick, Jar("vendor"), {}, "--path-as-is").status;
    EXPECT_TRUE(status == 404 || status == 400) << trick << ": " << status;
  }
  Login("vendor-b");
  EXPECT_EQ(Curl("GET", "/releases/" + std::to_string(releases[0].id), Jar("vendor-b")).status,
            404);
}

TEST_F(PortalReleases, AFailedScanIsRecordedAndThePortalStaysUp) {
  const std::string token = Token("vendor");
  const fs::path junk = tmp_ / "junk.json";
  // Starts like a CycloneDX document, then breaks off: the scanner refuses it (exit 4).
  WriteFileBytes(junk, R"({"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":)");
  const auto upload = ApiUpload(token, w_.project_a, "junk", junk, "sbom");
  ASSERT_EQ(upload.status, 201) << upload.body;
  const Json done = WaitForScan(token, Json::parse(upload.body)["id"]);
  EXPECT_EQ(done["scan"], "failed");
  EXPECT_NE(done["scan_error"].get<std::string>().find("clearbox scan exited"), std::string::npos)
      << done.dump();
  EXPECT_EQ(
      Curl("GET", "/api/v1/whoami", "", {}, "-H " + ShellQuote("Authorization: Bearer " + token))
          .status,
      200);
}

// The triage dialogue: items from the scan; the vendor answers a vulnerability not_affected,
// the lab accepts, the VEX says so; who may do what; comments escaped; a new answer is decided
// anew.
TEST_F(PortalReleases, VendorAnswersLabDecidesAndTheVexFollows) {
  const std::string token = Token("vendor");
  const auto upload = ApiUpload(token, w_.project_a, "3.0", DemoImage());
  ASSERT_EQ(upload.status, 201) << upload.body;
  const store::Id release = Json::parse(upload.body)["id"];
  const Json done = WaitForScan(token, release);
  ASSERT_EQ(done["scan"], "done");
  const auto items = *store_->ListTriageItems(release);
  EXPECT_EQ(items.size(), done["summary"]["vulnerabilities"].get<std::size_t>() +
                              done["summary"]["findings"].get<std::size_t>());
  const auto cve = std::find_if(items.begin(), items.end(),
                                [](const auto& i) { return i.kind == "vulnerability"; });
  ASSERT_NE(cve, items.end());
  const std::string item = "/items/" + std::to_string(cve->id);
  for (const char* user : {"vendor", "vendor-b", "analyst", "customer"}) Login(user);
  auto post = [&](const std::string& user, const std::string& what,
                  std::vector<std::pair<std::string, std::string>> fields) {
    fields.emplace_back("csrf", Csrf(user));
    return Curl("POST", item + "/" + what, Jar(user), FormBody(fields)).status;
  };
  const std::vector<std::pair<std::string, std::string>> answer = {
      {"status", "not_affected"}, {"justification", "code_not_reachable"}, {"detail", kHostile}};
  EXPECT_EQ(post("vendor-b", "answer", answer), 404) << "another vendor's item does not exist";
  EXPECT_EQ(post("customer", "answer", answer), 403);
  EXPECT_EQ(post("analyst", "answer", answer), 403);
  EXPECT_EQ(post("vendor", "answer", {{"status", "not_affected"}}), 400) << "needs a justification";
  EXPECT_EQ(post("vendor", "answer", answer), 303);
  EXPECT_EQ(post("vendor", "decision", {{"decision", "accepted"}}), 403);
  // Not yet accepted: the VEX keeps it in triage.
  auto vex_state = [&] {
    const auto vex = Json::parse(
        Curl("GET", "/releases/" + std::to_string(release) + "/vex.json", Jar("customer")).body);
    for (const auto& v : vex["vulnerabilities"]) {
      if (v["bom-ref"] == cve->item_key) return v["analysis"];
    }
    return Json();
  };
  EXPECT_EQ(vex_state()["state"], "in_triage");
  EXPECT_EQ(post("analyst", "decision", {{"decision", "accepted"}, {"reason", "checked"}}), 303);
  const Json analysis = vex_state();
  EXPECT_EQ(analysis["state"], "not_affected");
  EXPECT_EQ(analysis["justification"], "code_not_reachable");
  EXPECT_EQ(analysis["detail"], kHostile);
  // Everyone who sees the project may comment; text is escaped on the page.
  EXPECT_EQ(post("customer", "comments", {{"body", kHostile}}), 303);
  const auto page = Curl("GET", item, Jar("vendor"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;alert"), std::string::npos);
  EXPECT_EQ(Curl("GET", item, Jar("vendor-b")).status, 404);
  // A new answer goes back to pending.
  EXPECT_EQ(post("vendor", "answer", {{"status", "fixed"}, {"fix_version", "3.1"}}), 303);
  EXPECT_EQ((*store_->FindTriageItem(cve->id))->lab_decision, "pending");
  EXPECT_EQ(vex_state()["state"], "in_triage");
  EXPECT_EQ(post("analyst", "decision", {{"decision", "accepted"}}), 303);
  EXPECT_EQ(vex_state()["state"], "resolved");
  PublishAndVerifyOffline(release);
  // The triage page counts what is still open.
  const auto triage =
      Curl("GET", "/releases/" + std::to_string(release) + "/triage", Jar("customer"));
  EXPECT_NE(
      triage.body.find(std::to_string(items.size() - 1) + " of " + std::to_string(items.size())),
      std::string::npos);

  ExpectAuditCatchesEditsBehindThePortal(cve->id);
}

// The authorisation matrix of the release, triage and verdict routes: every route × every role
// of the seeded world, on a project the role owns, shares or does not see (vendor-b: 404).
TEST_F(PortalReleases, EveryNewRouteAnswersEachRoleAsTheTableSays) {
  const std::string token = Token("vendor");
  const auto upload = ApiUpload(token, w_.project_a, "m1", DemoImage());
  ASSERT_EQ(upload.status, 201) << upload.body;
  const store::Id release = Json::parse(upload.body)["id"];
  ASSERT_EQ(WaitForScan(token, release)["scan"], "done");
  const auto items = *store_->ListTriageItems(release);
  ASSERT_FALSE(items.empty());
  const std::string r = "/releases/" + std::to_string(release);
  const std::string item = "/items/" + std::to_string(items[0].id);
  const std::vector<std::string> users = {"admin",    "analyst",  "vendor",
                                          "vendor-b", "customer", "regulator"};
  for (const auto& user : users) Login(user);
  // Reads: everyone who sees the project; the foreign vendor gets 404.
  for (const std::string& path :
       {r, r + "/files/report.json", r + "/triage", r + "/vex.json", item}) {
    for (const auto& user : users) {
      EXPECT_EQ(Curl("GET", path, Jar(user)).status, user == "vendor-b" ? 404 : 200)
          << user << " GET " << path;
    }
  }
  auto post = [&](const std::string& user, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> fields) {
    fields.emplace_back("csrf", Csrf(user));
    return Curl("POST", path, Jar(user), FormBody(fields)).status;
  };
  // Writes, in an order that keeps each one meaningful: expected status per user.
  struct Row {
    std::string path;
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<std::pair<std::string, int>> expected;  // in this order
  };
  const std::vector<Row> rows = {
      {item + "/answer",
       {{"status", "affected"}},
       {{"admin", 403},
        {"analyst", 403},
        {"vendor-b", 404},
        {"customer", 403},
        {"regulator", 403},
        {"vendor", 303}}},
      {item + "/decision",
       {{"decision", "rejected"}},
       {{"vendor", 403},
        {"vendor-b", 404},
        {"customer", 403},
        {"regulator", 403},
        {"analyst", 303},
        {"admin", 303}}},
      {item + "/comments",
       {{"body", "c"}},
       {{"admin", 303},
        {"analyst", 303},
        {"vendor", 303},
        {"vendor-b", 404},
        {"customer", 303},
        {"regulator", 303}}},
      {r + "/verdict",
       {{"outcome", "fail"}, {"summary", "s"}},
       {{"vendor", 403},
        {"vendor-b", 404},
        {"customer", 403},
        {"regulator", 403},
        {"analyst", 303},
        {"admin", 409}}},
  };
  for (const auto& row : rows) {
    for (const auto& [user, status] : row.expected) {
      EXPECT_EQ(post(user, row.path, row.fields), status) << user << " POST " << row.path;
    }
  }
  // Uploads (the form): the project's vendor and the lab; not customers, regulators or others.
  const std::string form = "/projects/" + std::to_string(w_.project_a) + "/releases";
  int version = 0;
  for (const auto& user : users) {
    const int expected = user == "vendor-b"                            ? 404
                         : (user == "customer" || user == "regulator") ? 403
                                                                       : 303;
    const auto response = Curl("POST", form, Jar(user), {},
                               "-F " + ShellQuote("csrf=" + Csrf(user)) + " -F version=u" +
                                   std::to_string(++version) + " -F kind=sbom -F " +
                                   ShellQuote("file=@" + (kSourceDir / "README.md").string()));
    EXPECT_EQ(response.status, expected) << user << " uploads";
  }
}

}  // namespace
}  // namespace clearbox::portal
