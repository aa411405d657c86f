// `clearbox db update` against a local HTTP server standing in for the NVD API and OSV:
// incremental windows, resumption, and an old database that survives SIGKILL mid-download,
// mid-write and just before the swap.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "support/test_support.hpp"
#include "vuln/store.hpp"
#include "vuln/update.hpp"
#include "vuln/vuln_test_util.hpp"

namespace clearbox::vuln {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::ClearboxBinary;
using clearbox::testing::FileSha256;
using clearbox::testing::ReadFileBytes;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

constexpr const char* kServer = R"PY(
import http.server, os, sys, time, urllib.parse
root = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        with open(os.path.join(root, "requests.log"), "a") as log:
            log.write(self.path + "\n")
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/nvd":
            prefix = "nvd-inc-" if "lastModStartDate" in query else "nvd-"
            name = prefix + query.get("startIndex", ["0"])[0] + ".json"
        else:
            name = url.path.strip("/").replace("/", "__")
        path = os.path.join(root, "srv", name)
        with open(os.path.join(root, "headers.log"), "a") as log:
            log.write(self.path + " apiKey=" + str(self.headers.get("apiKey")) + "\n")
        if os.path.exists(path + ".redirect"):
            self.send_response(302)
            self.send_header("Location", open(path + ".redirect").read())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not os.path.exists(path):
            self.send_response(404)
            self.end_headers()
            return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if os.path.exists(path + ".stall"):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            open(os.path.join(root, "stalled"), "w").write("1")
            time.sleep(60)
            return
        self.wfile.write(body)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(root, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(root, "port.tmp"), os.path.join(root, "port"))
server.serve_forever()
)PY";

bool WaitForFile(const fs::path& path, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool Alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

std::string NvdPage(const std::vector<std::string>& ids, int start, int total) {
  std::string page = "{\"resultsPerPage\":" + std::to_string(ids.size()) +
                     ",\"startIndex\":" + std::to_string(start) +
                     ",\"totalResults\":" + std::to_string(total) +
                     ",\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"vulnerabilities\":[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    page += (i ? "," : "") + std::string("{\"cve\":") +
            testing::ReadText(testing::OracleDir() / "nvd" / (ids[i] + ".json")) + "}";
  }
  return page + "]}";
}

class VulnUpdate : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(clearbox::testing::HaveTool("python3"));
    WriteFileBytes(dir_ / "server.py", kServer);
    fs::create_directories(dir_ / "srv");
    ASSERT_EQ(RunShell("python3 " + (dir_ / "server.py").string() + " " + dir_.path().string() +
                       " >/dev/null 2>&1 & echo $! > " + (dir_ / "server.pid").string()),
              0);
    ASSERT_TRUE(WaitForFile(dir_ / "port", 30));
    server_pid_ = std::stoi(ReadFileBytes(dir_ / "server.pid"));
    port_ = ReadFileBytes(dir_ / "port");
  }
  void TearDown() override {
    if (server_pid_ > 0) ::kill(server_pid_, SIGKILL);
  }

  std::string Update(const std::string& extra) const {
    return ClearboxBinary() + " db update --db " + db_.string() +
           " --nvd-url http://127.0.0.1:" + port_ + "/nvd --osv-url http://127.0.0.1:" + port_ +
           "/osv --page-size 2 --request-delay 0 " + extra;
  }

  // Starts an update in the background and SIGKILLs it once `marker` appears.
  void KillWhen(const std::string& env, const std::string& extra, const fs::path& marker) {
    fs::remove(marker);
    const auto pidfile = dir_ / "update.pid";
    ASSERT_EQ(RunShell(env + " " + Update(extra) + " >" + (dir_ / "update.log").string() +
                       " 2>&1 & echo $! > " + pidfile.string()),
              0);
    const int pid = std::stoi(ReadFileBytes(pidfile));
    const bool reached = WaitForFile(marker, 60);
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 200 && Alive(pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(reached) << "update never reached " << marker << ": "
                         << ReadFileBytes(dir_ / "update.log");
  }

  std::set<std::string> Ids(const ComponentQuery& q) const {
    auto store = VulnStore::Open(db_);
    EXPECT_TRUE(store) << store.error().message;
    std::set<std::string> ids;
    if (!store) return ids;
    auto m = store->Match(q);
    EXPECT_TRUE(m) << m.error().message;
    if (m) {
      for (const auto& v : *m) ids.insert(v.id);
    }
    return ids;
  }

  void ExpectOldDatabaseIntact(const std::string& sha) const {
    EXPECT_EQ(FileSha256(db_), sha);
    EXPECT_FALSE(fs::exists(fs::path(db_.string() + "-journal")));
    EXPECT_EQ(Ids({"dropbear", "2016.72", "", ""}),
              (std::set<std::string>{"CVE-2016-7406", "CVE-2016-7407"}));
    EXPECT_TRUE(Ids({"openssl", "1.1.1m", "", ""}).empty());
  }

  TempDir dir_;
  fs::path db_ = dir_ / "vuln.db";
  int server_pid_ = -1;
  std::string port_;
};

TEST_F(VulnUpdate, SurvivesKillsResumesAndSwapsAtomically) {
  // The old database: two dropbear records imported from files.
  const auto oracle = testing::OracleDir() / "nvd";
  ASSERT_EQ(RunShell(ClearboxBinary() + " db import --db " + db_.string() + " " +
                     (oracle / "CVE-2016-7406.json").string() + " " +
                     (oracle / "CVE-2016-7407.json").string() + " >/dev/null"),
            0);
  const std::string sha = FileSha256(db_);
  ExpectOldDatabaseIntact(sha);

  // The feed: 6 records in pages of 2 (a first update fetches everything).
  const std::vector<std::string> all = {"CVE-2016-2842",  "CVE-2016-7408", "CVE-2021-42373",
                                        "CVE-2021-42374", "CVE-2022-0778", "CVE-2023-0286"};
  for (int start = 0; start < 6; start += 2) {
    WriteFileBytes(dir_ / "srv" / ("nvd-" + std::to_string(start) + ".json"),
                   NvdPage({all[start], all[start + 1]}, start, 6));
  }
  const std::string now = "--now 2025-01-01T00:00:00";

  // 1. Killed mid-download: the server sends half of the second page, then stalls.
  WriteFileBytes(dir_ / "srv" / "nvd-2.json.stall", "");
  KillWhen("", now, dir_ / "stalled");
  fs::remove(dir_ / "srv" / "nvd-2.json.stall");
  ExpectOldDatabaseIntact(sha);
  EXPECT_TRUE(fs::exists(dir_ / "vuln.db.update"));

  // 2. Killed mid-write: inside the transaction of a page, after one record is written.
  const std::string marker = (dir_ / "marker").string();
  KillWhen("CLEARBOX_UPDATE_TEST_STALL=write CLEARBOX_UPDATE_TEST_MARKER=" + marker, now, marker);
  ExpectOldDatabaseIntact(sha);

  // 3. Killed after the copy is complete and synced, just before the rename.
  KillWhen("CLEARBOX_UPDATE_TEST_STALL=swap CLEARBOX_UPDATE_TEST_MARKER=" + marker, now, marker);
  ExpectOldDatabaseIntact(sha);

  // 4. An uninterrupted run resumes and swaps the new database in.
  std::string out;
  ASSERT_EQ(RunShell(Update(now) + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("resumed"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "vuln.db.update"));
  EXPECT_NE(FileSha256(db_), sha);
  EXPECT_EQ(Ids({"dropbear", "2016.72", "", ""}),
            (std::set<std::string>{"CVE-2016-7406", "CVE-2016-7407", "CVE-2016-7408"}));
  EXPECT_EQ(Ids({"openssl", "1.1.1m", "", ""}),
            (std::set<std::string>{"CVE-2022-0778", "CVE-2023-0286"}));
  EXPECT_TRUE(Ids({"busybox", "1.33.1", "", ""}).contains("CVE-2021-42374"));
  ASSERT_EQ(RunShell(ClearboxBinary() + " db info --json --db " + db_.string(), &out), 0);
  EXPECT_NE(out.find("\"update_end\": \"2025-01-01T00:00:00.000Z\""), std::string::npos) << out;

  // 5. The next update is incremental: it asks for the window since the last one.
  WriteFileBytes(dir_ / "srv" / "nvd-inc-0.json", NvdPage({"CVE-2016-7409"}, 0, 1));
  ASSERT_EQ(RunShell(Update("--now 2025-02-01T00:00:00") + " 2>&1", &out), 0) << out;
  EXPECT_TRUE(Ids({"dropbear", "2016.72", "", ""}).contains("CVE-2016-7409"));
  const std::string log = ReadFileBytes(dir_ / "requests.log");
  EXPECT_NE(log.find("lastModStartDate=2025-01-01T00%3A00%3A00.000Z&lastModEndDate=2025-02-01T00%"
                     "3A00%3A00.000Z"),
            std::string::npos)
      << log;

  // 6. OSV: the ecosystem's modified_id.csv names what changed; each record is fetched.
  WriteFileBytes(dir_ / "srv" / "osv__Debian__modified_id.csv",
                 "2026-01-01T00:00:00Z,DSA-9999-2\n2024-06-01T00:00:00Z,DSA-9999-1\n");
  WriteFileBytes(dir_ / "srv" / "osv__Debian__DSA-9999-1.json", R"({
    "id": "DSA-9999-1", "modified": "2024-06-01T00:00:00Z", "aliases": ["CVE-2099-7777"],
    "affected": [{"package": {"ecosystem": "Debian:12", "name": "tarball"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
                                                             {"fixed": "1.2-3"}]}]}]})");
  ASSERT_EQ(RunShell(Update("--skip-nvd --osv-ecosystem Debian " + now) + " 2>&1", &out), 0) << out;
  // A range of a distribution release applies to packages of that release.
  EXPECT_EQ(Ids({"", "", "", "pkg:deb/debian/tarball@1.2-2?distro=debian-12"}),
            std::set<std::string>{"CVE-2099-7777"});
  EXPECT_TRUE(Ids({"", "", "", "pkg:deb/debian/tarball@1.2-3?distro=debian-12"}).empty());
  EXPECT_TRUE(Ids({"", "", "", "pkg:deb/debian/tarball@1.2-2"}).empty());  // release unknown
  EXPECT_EQ(ReadFileBytes(dir_ / "requests.log").find("DSA-9999-2"), std::string::npos);

  // 7. A feed error leaves the database as it was.
  const std::string before = FileSha256(db_);
  fs::remove(dir_ / "srv" / "nvd-inc-0.json");
  EXPECT_NE(RunShell(Update("--now 2025-03-01T00:00:00") + " >/dev/null 2>&1"), 0);
  EXPECT_EQ(FileSha256(db_), before);
}

// The API key header never leaves the origin it was meant for: a same-origin redirect keeps
// it, a redirect to another origin over plain http is refused before any request is made.
TEST_F(VulnUpdate, RedirectsKeepTheApiKeyOnItsOrigin) {
  const std::string base = "http://127.0.0.1:" + port_;
  WriteFileBytes(dir_ / "srv" / "target", "ok");
  WriteFileBytes(dir_ / "srv" / "same.redirect", "/target");
  WriteFileBytes(dir_ / "srv" / "elsewhere.redirect", "http://localhost:" + port_ + "/target");
  auto same = HttpGet(base + "/same", {"apiKey: k-123"});
  ASSERT_TRUE(same.has_value()) << same.error().message;
  EXPECT_EQ(*same, "ok");
  auto elsewhere = HttpGet(base + "/elsewhere", {"apiKey: k-123"});
  ASSERT_FALSE(elsewhere.has_value());
  EXPECT_NE(elsewhere.error().message.find("refused redirect"), std::string::npos)
      << elsewhere.error().message;
  EXPECT_EQ(ReadFileBytes(dir_ / "headers.log"),
            "/same apiKey=k-123\n/target apiKey=k-123\n/elsewhere apiKey=k-123\n");
}

}  // namespace
}  // namespace clearbox::vuln
