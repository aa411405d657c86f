// The log over HTTP: strict tlog-tiles path parsing, and the real `clearbox log serve` on a
// free 127.0.0.1 port fetched with curl: checkpoint, tiles, an inclusion proof built only from
// fetched tiles, cache and content headers, bearer-token appends and path traversal attempts.
#include "portal/log_routes.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "ledger/checkpoint.hpp"
#include "ledger/log_store.hpp"
#include "ledger/merkle.hpp"
#include "ledger/note.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace clearbox::portal {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::ClearboxBinary;
using clearbox::testing::ReadFileBytes;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

TEST(TilePath, CanonicalPathsRoundTrip) {
  for (std::uint64_t n : {0ull, 1ull, 999ull, 1000ull, 1234067ull, 999999999999999999ull}) {
    for (std::uint64_t w : {1ull, 17ull, 255ull, 256ull}) {
      for (bool entries : {false, true}) {
        for (unsigned level : {0u, 1u, 7u, 63u}) {
          if (entries && level != 0) continue;
          const TilePath tile{entries, level, n, w};
          const std::string text = FormatTilePath(tile);
          auto back = ParseTilePath(text);
          ASSERT_TRUE(back.has_value()) << text;
          EXPECT_EQ(back->entries, entries);
          EXPECT_EQ(back->level, level);
          EXPECT_EQ(back->index, n);
          EXPECT_EQ(back->width, w);
        }
      }
    }
  }
  EXPECT_EQ(FormatTilePath(TilePath{false, 0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(FormatTilePath(TilePath{true, 0, 273, 112}), "tile/entries/273.p/112");
}

TEST(TilePath, EverythingElseIsRefused) {
  for (const char* bad : {"",
                          "tile",
                          "tile/",
                          "tile/0",
                          "tile/0/",
                          "tile/0/00",
                          "tile/0/0000",
                          "tile/0/x000/001",
                          "tile/0/x001",
                          "tile/0/001/002",
                          "tile/0/x01/002",
                          "tile/00/000",
                          "tile/64/000",
                          "tile/-1/000",
                          "tile/+1/000",
                          "tile/0/000.p/0",
                          "tile/0/000.p/256",
                          "tile/0/000.p/017",
                          "tile/0/000.p/",
                          "tile/0/000.p/5/",
                          "tile/0/000.p/5.p/6",
                          "tile/0/000/",
                          "tile//0/000",
                          "tile/0//000",
                          "tile/../checkpoint",
                          "tile/0/../../.clearbox-log/key",
                          "tile/entries/../../.clearbox-log/key",
                          "tile/0/%30%30%30",
                          "tile/data/000",
                          "tile/8/0/000",
                          "tile/0/x001/x002/x003/x004/x005/x006/007",
                          "/tile/0/000",
                          "tile/0/000 ",
                          "tile/0/00a",
                          "tile/entries/x000",
                          "tile/0/000\n"}) {
    EXPECT_FALSE(ParseTilePath(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(LogService, RoutesWithoutASocket) {
  TempDir tmp;
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 9;
  auto key = ledger::SignerKeyFromSeed("portal.example/log", seed);
  ASSERT_TRUE(ledger::LogStore::Init(tmp / "log", "portal.example/log", *key).has_value());
  LogService service(tmp / "log", "0123456789abcdef0123");
  auto get = [&](const std::string& method, const std::string& path) {
    return service.Handle(HttpRequest{method, path, {}, ""});
  };
  EXPECT_EQ(get("GET", "/checkpoint").status, 200);
  EXPECT_EQ(get("HEAD", "/checkpoint").status, 200);
  EXPECT_EQ(get("DELETE", "/checkpoint").status, 405);
  EXPECT_EQ(get("GET", "/.clearbox-log/key").status, 404);
  EXPECT_EQ(get("GET", "/tile/../.clearbox-log/key").status, 400);
  EXPECT_EQ(get("GET", "/tile/0/000").status, 404);
  EXPECT_EQ(get("GET", "/add").status, 405);
  HttpRequest add{"POST", "/add", {{"authorization", "Bearer 0123456789abcdef0123"}}, "hello"};
  auto added = service.Handle(add);
  EXPECT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(added.body, "0\n");
  EXPECT_EQ(get("GET", "/tile/entries/000.p/1").body, std::string("\0\5hello", 7));
  // Fill tile 0 one entry at a time: its partials are pruned, yet still served (from the full
  // tile) for clients holding an older checkpoint.
  add.body = "e";
  for (int i = 1; i < 257; ++i) ASSERT_EQ(service.Handle(add).status, 200);
  EXPECT_FALSE(std::filesystem::exists(tmp / "log/tile/0/000.p"));
  const std::string full = get("GET", "/tile/0/000").body;
  ASSERT_EQ(full.size(), 8192u);
  EXPECT_EQ(get("GET", "/tile/0/000.p/5").body, full.substr(0, 5 * 32));
  EXPECT_EQ(get("GET", "/tile/entries/000.p/2").body, std::string("\0\5hello\0\1e", 10));
  EXPECT_EQ(get("GET", "/tile/0/001.p/1").status, 200);
  EXPECT_EQ(get("GET", "/tile/0/001.p/2").status, 404);
  add.body = std::string(ledger::kMaxEntryBytes + 1, 'x');
  EXPECT_EQ(service.Handle(add).status, 413);
  LogService closed(tmp / "log", "");
  add.body = "x";
  EXPECT_EQ(closed.Handle(add).status, 403) << "no token configured: appends refused";
}

TEST(TilePath, CoverageBySize) {
  EXPECT_TRUE(TileCoveredBySize(TilePath{false, 0, 0, 256}, 256));
  EXPECT_FALSE(TileCoveredBySize(TilePath{false, 0, 0, 256}, 255));
  EXPECT_TRUE(TileCoveredBySize(TilePath{false, 0, 1, 44}, 300));
  EXPECT_FALSE(TileCoveredBySize(TilePath{false, 0, 1, 45}, 300));
  EXPECT_TRUE(TileCoveredBySize(TilePath{false, 1, 0, 1}, 256));
  EXPECT_FALSE(TileCoveredBySize(TilePath{false, 1, 0, 2}, 511));
  EXPECT_TRUE(TileCoveredBySize(TilePath{true, 0, 1, 44}, 300));
  EXPECT_FALSE(TileCoveredBySize(TilePath{true, 0, 2, 1}, 512));
  // No overflow at the extremes.
  const std::uint64_t max = ~std::uint64_t{0};
  EXPECT_FALSE(TileCoveredBySize(TilePath{false, 63, 999999999999999999ull, 256}, max));
  EXPECT_FALSE(TileCoveredBySize(TilePath{true, 0, 999999999999999999ull, 256}, max));
  EXPECT_TRUE(TileCoveredBySize(TilePath{false, 7, 0, 255}, max));
  EXPECT_FALSE(TileCoveredBySize(TilePath{false, 8, 0, 1}, max));
}

// Tiles on disk past the checkpoint (an append in progress or one that failed before its
// checkpoint) are never served, least of all as immutable.
TEST(LogService, TilesPastTheCheckpointAreNotServed) {
  TempDir tmp;
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 11;
  auto key = ledger::SignerKeyFromSeed("portal.example/size", seed);
  ASSERT_TRUE(ledger::LogStore::Init(tmp / "log", "portal.example/size", *key).has_value());
  {
    auto store = ledger::LogStore::OpenForAppend(tmp / "log");
    ASSERT_TRUE(store.has_value());
    std::vector<std::string> entries;
    for (int i = 0; i < 300; ++i) entries.push_back("entry " + std::to_string(i));
    ASSERT_TRUE((*store)->Append(entries).has_value());
  }
  LogService service(tmp / "log", "");
  auto get = [&](const std::string& path) {
    return service.Handle(HttpRequest{"GET", path, {}, ""});
  };
  auto cache_of = [](const HttpResponse& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "Cache-Control") return value;
    }
    return std::string();
  };
  const auto full = get("/tile/0/000");
  ASSERT_EQ(full.status, 200);
  EXPECT_EQ(cache_of(full), kImmutableCache);
  EXPECT_EQ(get("/tile/0/001.p/44").status, 200);
  // Files a later append would write, planted before the checkpoint moves.
  const std::string tile1 = full.body;
  WriteFileBytes(tmp / "log/tile/0/001", tile1);
  WriteFileBytes(tmp / "log/tile/0/001.p/45", tile1.substr(0, 45 * 32));
  WriteFileBytes(tmp / "log/tile/entries/001", get("/tile/entries/000").body);
  fs::create_directories(tmp / "log/tile/1");
  WriteFileBytes(tmp / "log/tile/1/000.p/2", tile1.substr(0, 64));
  for (const char* path :
       {"/tile/0/001", "/tile/0/001.p/45", "/tile/entries/001", "/tile/1/000.p/2", "/tile/0/002"}) {
    const auto r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(cache_of(r), kUncoveredCache) << path;
  }
  EXPECT_EQ(get("/tile/1/000.p/1").status, 200);
  EXPECT_EQ(get("/tile/entries/001.p/44").status, 200);
}

// `clearbox log serve` running as its own process, stopped with SIGTERM.
class ServerProcess {
 public:
  ServerProcess(const fs::path& dir, const fs::path& token_file, const fs::path& out) {
    std::vector<std::string> args = {
        ClearboxBinary(), "log",         "serve",        dir.string(),
        "--listen",       "127.0.0.1:0", "--token-file", token_file.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    // The server prints its address once it is bound.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = ReadFileBytes(out);
      const auto at = text.find("http://127.0.0.1:");
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        port_ = std::stoi(text.substr(at + 17));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~ServerProcess() {
    if (pid_ > 0) Stop();
  }
  int Stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct Fetched {
  int status = 0;
  std::string headers;  // lower-cased
  std::string body;
};

// One request with curl (a real HTTP client), paths sent as written (--path-as-is).
Fetched Curl(const TempDir& tmp, int port, const std::string& path, const std::string& extra = "") {
  const fs::path body = tmp / "curl.body", headers = tmp / "curl.headers";
  std::string out;
  const int rc = RunShell("curl -sS --path-as-is -o '" + body.string() + "' -D '" +
                              headers.string() + "' -w '%{http_code}' " + extra +
                              " 'http://127.0.0.1:" + std::to_string(port) + path + "'",
                          &out);
  EXPECT_EQ(rc, 0) << path << ": " << out;
  Fetched f;
  f.status = std::atoi(out.c_str());
  f.body = ReadFileBytes(body);
  f.headers = ReadFileBytes(headers);
  for (char& c : f.headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return f;
}

TEST(LogServe, RealServerServesTilesAndGuardsAppends) {
  ASSERT_TRUE(clearbox::testing::HaveTool("curl")) << "curl missing: bash scripts/install-deps.sh";
  TempDir tmp;
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 42;
  auto key = ledger::SignerKeyFromSeed("serve.example/log", seed);
  ASSERT_TRUE(key.has_value());
  const fs::path dir = tmp / "log";
  ASSERT_TRUE(ledger::LogStore::Init(dir, "serve.example/log", *key).has_value());
  {
    auto store = ledger::LogStore::OpenForAppend(dir);
    ASSERT_TRUE(store.has_value());
    std::vector<std::string> entries;
    for (int i = 0; i < 600; ++i) entries.push_back("served entry " + std::to_string(i));
    ASSERT_TRUE((*store)->Append(entries).has_value());
  }
  const std::string token = "s3cret-token-for-the-test";
  WriteFileBytes(tmp / "token", token + "\n");
  ServerProcess server(dir, tmp / "token", tmp / "serve.out");
  ASSERT_GT(server.port(), 0) << ReadFileBytes(tmp / "serve.out");
  const int port = server.port();

  // The checkpoint, verified with the log's public key.
  auto cp_resp = Curl(tmp, port, "/checkpoint");
  ASSERT_EQ(cp_resp.status, 200);
  EXPECT_NE(cp_resp.headers.find("content-type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(cp_resp.headers.find("cache-control: no-cache"), std::string::npos);
  auto opened = ledger::OpenNote(cp_resp.body, {ledger::PublicKeyOf(*key)});
  ASSERT_TRUE(opened.has_value());
  auto cp = ledger::ParseCheckpoint(opened->text);
  ASSERT_TRUE(cp.has_value());
  ASSERT_EQ(cp->size, 600u);

  // Tiles: full ones immutable, partial ones not.
  auto full = Curl(tmp, port, "/tile/0/001");
  EXPECT_EQ(full.status, 200);
  EXPECT_EQ(full.body.size(), 8192u);
  EXPECT_NE(full.headers.find("content-type: application/octet-stream"), std::string::npos);
  EXPECT_NE(full.headers.find("cache-control: public, max-age=31536000, immutable"),
            std::string::npos)
      << full.headers;
  auto partial = Curl(tmp, port, "/tile/0/002.p/88");
  EXPECT_EQ(partial.status, 200);
  EXPECT_EQ(partial.body.size(), 88u * 32);
  EXPECT_EQ(partial.headers.find("immutable"), std::string::npos) << partial.headers;
  EXPECT_EQ(Curl(tmp, port, "/tile/1/000.p/2").body.size(), 64u);
  EXPECT_EQ(Curl(tmp, port, "/tile/0/003").status, 404);

  // An inclusion proof built purely from fetched tiles and entry bundles.
  int fetches = 0;
  ledger::TileHashSource tiles(cp->size, [&](const std::string& path) -> Result<std::string> {
    ++fetches;
    auto r = Curl(tmp, port, "/" + path);
    if (r.status != 200) return Fail(ErrorCode::kIo, path + ": HTTP " + std::to_string(r.status));
    return r.body;
  });
  for (std::uint64_t index : {0ull, 255ull, 256ull, 511ull, 512ull, 599ull}) {
    const std::uint64_t bundle = index / 256;
    const std::uint64_t width = std::min<std::uint64_t>(256, cp->size - bundle * 256);
    auto bundle_resp = Curl(tmp, port, "/" + ledger::EntryBundlePath(bundle, width));
    ASSERT_EQ(bundle_resp.status, 200);
    auto entries = ledger::ParseEntryBundle(bundle_resp.body);
    ASSERT_TRUE(entries.has_value());
    ASSERT_EQ(entries->size(), width);
    const std::string& entry = (*entries)[index % 256];
    EXPECT_EQ(entry, "served entry " + std::to_string(index));
    auto proof = ledger::InclusionProof(index, cp->size, tiles.Source());
    ASSERT_TRUE(proof.has_value()) << proof.error().message;
    EXPECT_TRUE(ledger::VerifyInclusion(index, cp->size, ledger::HashLeaf(entry), *proof, cp->root))
        << index;
  }
  EXPECT_GT(fetches, 2);

  // Appends: no token 401, wrong token or scheme 403/401, the right token 200.
  WriteFileBytes(tmp / "entry", "posted entry");
  const std::string post = "-X POST --data-binary @'" + (tmp / "entry").string() + "'";
  EXPECT_EQ(Curl(tmp, port, "/add", post).status, 401);
  EXPECT_EQ(Curl(tmp, port, "/add", post + " -H 'Authorization: Bearer wrong-token'").status, 403);
  EXPECT_EQ(Curl(tmp, port, "/add", post + " -H 'Authorization: Basic " + token + "'").status, 401);
  EXPECT_EQ(Curl(tmp, port, "/add", post + " -H 'Authorization: Bearer " + token + "x'").status,
            403);
  EXPECT_EQ(Curl(tmp, port, "/checkpoint").body, cp_resp.body) << "a refused append changed it";
  auto added = Curl(tmp, port, "/add", post + " -H 'Authorization: Bearer " + token + "'");
  EXPECT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(added.body, "600\n");
  auto cp2 = ledger::ParseCheckpoint(
      ledger::OpenNote(Curl(tmp, port, "/checkpoint").body, {ledger::PublicKeyOf(*key)})->text);
  ASSERT_TRUE(cp2.has_value());
  EXPECT_EQ(cp2->size, 601u);
  auto last = ledger::ParseEntryBundle(Curl(tmp, port, "/tile/entries/002.p/89").body);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->back(), "posted entry");
  auto head = Curl(tmp, port, "/tile/0/001", "-I");
  EXPECT_EQ(head.status, 200);
  EXPECT_LT(head.body.size(), 1000u) << "curl -I writes only the headers; no tile bytes";
  EXPECT_NE(head.headers.find("content-length: 8192"), std::string::npos) << head.headers;
  EXPECT_EQ(Curl(tmp, port, "/checkpoint", "-X PUT --data x").status, 405);
  EXPECT_EQ(Curl(tmp, port, "/add").status, 405);

  // Path traversal and other spellings: never the private key, never a 200.
  for (const char* path :
       {"/.clearbox-log/key", "/tile/../.clearbox-log/key", "/tile/0/../../.clearbox-log/key",
        "/tile/entries/../../.clearbox-log/key", "/tile/0/%2e%2e/%2e%2e/.clearbox-log/key",
        "/tile/%2e%2e/.clearbox-log/key", "/tile/0/x000/001", "/tile/0/000/", "//checkpoint",
        "/checkpoint/"}) {
    auto r = Curl(tmp, port, path);
    EXPECT_NE(r.status, 200) << path;
    EXPECT_EQ(r.body.find("PRIVATE+KEY"), std::string::npos) << path;
  }
  EXPECT_EQ(server.Stop(), 0);
}

// An independent tlog-tiles client: Go's golang.org/x/mod/sumdb/tlog (TileHashReader
// authenticates every fetched tile against the checkpoint) proves entries over HTTP.
TEST(LogServe, GoTlogClientProvesEntriesOverHttp) {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
#ifdef CLEARBOX_LEDGER_SOURCE_DIR
  if (src == nullptr) src = CLEARBOX_LEDGER_SOURCE_DIR;
#endif
  ASSERT_NE(src, nullptr);
  ASSERT_TRUE(clearbox::testing::HaveTool("go")) << "go missing: bash scripts/install-deps.sh";
  TempDir tmp;
  std::string out;
  const fs::path bin = tmp / "goverify";
  ASSERT_EQ(RunShell("cd '" + tmp.path().string() +
                         "' && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE='" +
                         (tmp / "gocache").string() + "' go build -o '" + bin.string() + "' '" +
                         (fs::path(src) / "src/ledger/goverify/main.go").string() + "' 2>&1",
                     &out),
            0)
      << out;
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 43;
  auto key = ledger::SignerKeyFromSeed("go.serve.example/log", seed);
  const fs::path dir = tmp / "log";
  ASSERT_TRUE(ledger::LogStore::Init(dir, "go.serve.example/log", *key).has_value());
  {
    auto store = ledger::LogStore::OpenForAppend(dir);
    ASSERT_TRUE(store.has_value());
    std::uint64_t next = 0;
    for (std::uint64_t batch : {1, 255, 1, 300, 7, 436}) {  // ends at 1000, partial tiles
      std::vector<std::string> entries;
      for (std::uint64_t i = 0; i < batch; ++i)
        entries.push_back("go entry " + std::to_string(next++));
      ASSERT_TRUE((*store)->Append(entries).has_value());
    }
  }
  WriteFileBytes(tmp / "token", "0123456789abcdef0123456789\n");
  ServerProcess server(dir, tmp / "token", tmp / "serve.out");
  ASSERT_GT(server.port(), 0) << ReadFileBytes(tmp / "serve.out");
  const std::string vkey = ledger::FormatVerifierKey(ledger::PublicKeyOf(*key));
  ASSERT_EQ(RunShell("'" + bin.string() + "' http '" + vkey + "' http://127.0.0.1:" +
                         std::to_string(server.port()) + " 0 1 255 256 511 512 768 999 2>&1",
                     &out),
            0)
      << out;
  EXPECT_NE(out.find("entry 999 of 1000 included: \"go entry 999\""), std::string::npos) << out;
  EXPECT_NE(out.find("entry 0 of 1000 included: \"go entry 0\""), std::string::npos) << out;
  // A wrong log key is refused by the Go client.
  auto other = ledger::SignerKeyFromSeed("go.serve.example/log", std::array<std::uint8_t, 32>{});
  EXPECT_NE(RunShell("'" + bin.string() + "' http '" +
                         ledger::FormatVerifierKey(ledger::PublicKeyOf(*other)) +
                         "' http://127.0.0.1:" + std::to_string(server.port()) + " 0 2>&1",
                     &out),
            0)
      << out;
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace clearbox::portal
