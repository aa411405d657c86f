// tlog-witness over HTTP: the status codes of each outcome in process, and one real
// `clearbox witness serve` round trip with curl.
#include "portal/witness_routes.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "ledger/checkpoint.hpp"
#include "ledger/encoding.hpp"
#include "ledger/merkle.hpp"
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

ledger::SignerKey Key(const char* name, std::uint8_t tag) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = tag;
  return *ledger::SignerKeyFromSeed(name, seed);
}

struct Log {
  ledger::SignerKey key = Key("witnessed.example/log", 50);
  ledger::MemoryTree tree;
  std::string Signed(std::uint64_t size) {
    while (tree.Size() < size) tree.AppendEntry("e" + std::to_string(tree.Size()));
    return *ledger::SignNote(
        ledger::FormatCheckpoint(ledger::Checkpoint{key.name, size, tree.Root(size), {}}), {key});
  }
  std::string Body(std::uint64_t old, std::uint64_t size, bool corrupt = false) {
    const std::string cp = Signed(size);
    std::string body = "old " + std::to_string(old) + "\n";
    if (old > 0 && old < size) {
      auto proof = *ledger::ConsistencyProof(old, size, tree.Source());
      if (corrupt) proof[0][0] ^= 1;
      for (const auto& h : proof) body += ledger::HashBase64(h) + "\n";
    }
    return body + "\n" + cp;
  }
};

TEST(WitnessService, StatusCodesFollowTlogWitness) {
  TempDir tmp;
  Log log;
  const auto cosigner = ledger::AsCosignerKey(Key("witness.example/w", 51));
  ledger::Witness witness(tmp / "state", cosigner, {ledger::PublicKeyOf(log.key)});
  WitnessService service(witness, [] { return std::uint64_t{1700000000}; });
  auto post = [&](const std::string& body) {
    return service.Handle(HttpRequest{"POST", "/add-checkpoint", {}, body});
  };
  auto first = post(log.Body(0, 5));
  ASSERT_EQ(first.status, 200) << first.body;
  // The answer is one cosignature line that verifies on the checkpoint.
  EXPECT_TRUE(first.body.starts_with("\xE2\x80\x94 witness.example/w ")) << first.body;
  EXPECT_EQ(std::count(first.body.begin(), first.body.end(), '\n'), 1);
  EXPECT_TRUE(
      ledger::OpenNote(log.Signed(5) + first.body, {ledger::PublicKeyOf(cosigner)}).has_value());
  auto conflict = post(log.Body(0, 9));
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.content_type, "text/x.tlog.size");
  EXPECT_EQ(conflict.body, "5\n");
  EXPECT_EQ(post(log.Body(5, 9, true)).status, 422);
  EXPECT_EQ(post(log.Body(5, 9)).status, 200);
  EXPECT_EQ(post(log.Body(9, 9)).status, 200);
  EXPECT_EQ(post(log.Body(10, 9)).status, 400);
  EXPECT_EQ(post("old 9\n\nnot a checkpoint\n").status, 400);
  EXPECT_EQ(post("garbage").status, 400);
  const std::string fork = *ledger::SignNote(
      ledger::FormatCheckpoint(ledger::Checkpoint{log.key.name, 9, ledger::HashLeaf("x"), {}}),
      {log.key});
  EXPECT_EQ(post("old 9\n\n" + fork).status, 409);
  const auto stranger = Key("witnessed.example/log", 52);
  const std::string unsigned_cp = *ledger::SignNote(
      ledger::FormatCheckpoint(ledger::Checkpoint{log.key.name, 9, log.tree.Root(9), {}}),
      {stranger});
  EXPECT_EQ(post("old 9\n\n" + unsigned_cp).status, 403);
  EXPECT_EQ(service.Handle(HttpRequest{"GET", "/add-checkpoint", {}, ""}).status, 405);
  EXPECT_EQ(service.Handle(HttpRequest{"POST", "/other", {}, ""}).status, 404);
}

// The header phase: wrong routes answered before any body, add-checkpoint bodies capped;
// a trusted key signing for another origin is a 403.
TEST(WitnessService, HeaderPhaseAndOriginBinding) {
  TempDir tmp;
  Log log;
  const auto other = Key("other.example/log", 52);
  ledger::Witness witness(tmp / "state", ledger::AsCosignerKey(Key("witness.example/w", 51)),
                          {ledger::PublicKeyOf(log.key), ledger::PublicKeyOf(other)});
  WitnessService service(witness, [] { return std::uint64_t{1700000000}; });
  auto check = [&](const std::string& method, const std::string& path) {
    return service.CheckHeaders(HttpRequest{method, path, {}, ""});
  };
  EXPECT_EQ(check("GET", "/add-checkpoint").response->status, 405);
  EXPECT_EQ(check("POST", "/elsewhere").response->status, 404);
  const auto ok = check("POST", "/add-checkpoint");
  EXPECT_FALSE(ok.response.has_value());
  EXPECT_EQ(ok.max_body_bytes, kMaxAddCheckpointBodyBytes);
  log.tree.AppendEntry("e0");
  const std::string foreign = *ledger::SignNote(
      ledger::FormatCheckpoint(ledger::Checkpoint{log.key.name, 1, log.tree.Root(1), {}}), {other});
  EXPECT_EQ(
      service.Handle(HttpRequest{"POST", "/add-checkpoint", {}, "old 0\n\n" + foreign}).status,
      403);
  EXPECT_EQ(service.Handle(HttpRequest{"POST", "/add-checkpoint", {}, log.Body(0, 1)}).status, 200);
}

TEST(WitnessService, AddCheckpointBodyIsParsedStrictly) {
  Log log;
  const std::string good = log.Body(2, 7);
  auto parsed = ledger::ParseAddCheckpointRequest(good);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->old_size, 2u);
  EXPECT_FALSE(parsed->proof.empty());
  for (const std::string& bad :
       {std::string("old 02\n\n") + log.Signed(7), "old 2\r\n\n" + log.Signed(7),
        "old 2\n" + log.Signed(7), std::string("old 2\nAAAA\n\n") + log.Signed(7), good + "x",
        "clearbox.dev/tlog-consistency@v1\n" + good}) {
    EXPECT_FALSE(ledger::ParseAddCheckpointRequest(bad).has_value()) << bad;
  }
}

// `clearbox witness serve` as a process, fed with curl.
TEST(WitnessServe, RealServerCosigns) {
  ASSERT_TRUE(clearbox::testing::HaveTool("curl"));
  TempDir tmp;
  Log log;
  const auto w = Key("witness.example/w", 53);
  WriteFileBytes(tmp / "w.skey", ledger::FormatSignerKey(w) + "\n");
  WriteFileBytes(tmp / "log.vkey", ledger::FormatVerifierKey(ledger::PublicKeyOf(log.key)) + "\n");
  std::vector<std::string> args = {ClearboxBinary(),
                                   "witness",
                                   "serve",
                                   "--state",
                                   (tmp / "state").string(),
                                   "--key",
                                   (tmp / "w.skey").string(),
                                   "--log-key",
                                   (tmp / "log.vkey").string(),
                                   "--listen",
                                   "127.0.0.1:0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const fs::path out = tmp / "serve.out";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  int port = 0;
  for (int i = 0; i < 600 && port == 0; ++i) {
    const std::string text = ReadFileBytes(out);
    const auto at = text.find("http://127.0.0.1:");
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port = std::stoi(text.substr(at + 17));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(port, 0) << ReadFileBytes(out);
  auto post = [&](const std::string& body, std::string* response) {
    WriteFileBytes(tmp / "body", body);
    std::string code;
    EXPECT_EQ(RunShell("curl -sS -o '" + (tmp / "resp").string() + "' -w '%{http_code}' " +
                           "--data-binary @'" + (tmp / "body").string() + "' " +
                           "http://127.0.0.1:" + std::to_string(port) + "/add-checkpoint",
                       &code),
              0);
    *response = ReadFileBytes(tmp / "resp");
    return std::atoi(code.c_str());
  };
  std::string response;
  EXPECT_EQ(post(log.Body(0, 3), &response), 200);
  auto opened =
      ledger::OpenNote(log.Signed(3) + response, {ledger::PublicKeyOf(ledger::AsCosignerKey(w))});
  ASSERT_TRUE(opened.has_value()) << response;
  EXPECT_EQ(post(log.Body(0, 8), &response), 409);
  EXPECT_EQ(response, "3\n");
  EXPECT_EQ(post(log.Body(3, 8), &response), 200);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace clearbox::portal
