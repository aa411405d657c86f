// End to end through the clearbox binary: keygen, attest, log init/append/proof, verify;
// a byte-flip sweep over envelope, proof and checkpoint; and a SIGKILL crash test of append.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "ledger/checkpoint.hpp"
#include "ledger/ledger_test_util.hpp"
#include "ledger/log_store.hpp"
#include "ledger/note.hpp"
#include "ledger/verify.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace clearbox::ledger {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::ClearboxBinary;
using clearbox::testing::ReadFileBytes;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

std::string Q(const fs::path& p) {
  return "'" + p.string() + "'";
}

int Clearbox(const std::string& args, std::string* out = nullptr) {
  const int status = RunShell(ClearboxBinary() + " " + args + " 2>&1", out);
  return status;
}

std::string FirstLine(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// A log with one attestation and its proof, made with the CLI.
struct Fixture {
  TempDir tmp;
  fs::path envelope, proof, log_vkey, attester_vkey, dir;
  Fixture() {
    dir = tmp / "log";
    std::string out;
    EXPECT_EQ(Clearbox("keygen lab.example/attester -o " + Q(tmp / "attester"), &out), 0) << out;
    EXPECT_EQ(Clearbox("keygen lab.example/log -o " + Q(tmp / "logkey"), &out), 0) << out;
    attester_vkey = tmp / "attester.vkey";
    log_vkey = tmp / "logkey.vkey";
    WriteFileBytes(tmp / "manifest.json",
                   R"({"image":{"path":"/x/router.bin","size":1234,"sha256":")" +
                       std::string(64, 'b') + R"("},"chunks":[1,2],"files":[],"problems":[]})");
    envelope = tmp / "router.dsse.json";
    EXPECT_EQ(Clearbox("attest " + Q(tmp / "manifest.json") + " --key " + Q(tmp / "attester.skey") +
                           " -o " + Q(envelope),
                       &out),
              0)
        << out;
    EXPECT_EQ(
        Clearbox("log init " + Q(dir) + " --origin lab.example/log --key " + Q(tmp / "logkey.skey"),
                 &out),
        0)
        << out;
    WriteFileBytes(tmp / "other1", "first entry");
    WriteFileBytes(tmp / "other2", "second entry");
    EXPECT_EQ(
        Clearbox("log append " + Q(dir) + " " + Q(tmp / "other1") + " " + Q(tmp / "other2"), &out),
        0)
        << out;
    EXPECT_EQ(Clearbox("log append " + Q(dir) + " " + Q(envelope), &out), 0) << out;
    EXPECT_EQ(FirstLine(out), "2 " + envelope.string());
    WriteFileBytes(tmp / "other3", "third entry");
    EXPECT_EQ(Clearbox("log append " + Q(dir) + " " + Q(tmp / "other3"), &out), 0) << out;
    proof = tmp / "router.tlog-proof";
    EXPECT_EQ(Clearbox("log proof " + Q(dir) + " --index 2 -o " + Q(proof), &out), 0) << out;
  }
  std::string VerifyArgs(const fs::path& env, const fs::path& prf) const {
    return "verify " + Q(env) + " --proof " + Q(prf) + " --log-key " + Q(log_vkey) +
           " --attester-key " + Q(attester_vkey);
  }
};

TEST(LedgerCli, AttestAppendProveVerify) {
  Fixture f;
  std::string out;
  EXPECT_EQ(Clearbox(f.VerifyArgs(f.envelope, f.proof), &out), 0) << out;
  EXPECT_NE(out.find("PASS dsse-signature"), std::string::npos) << out;
  EXPECT_NE(out.find("PASS statement"), std::string::npos) << out;
  EXPECT_NE(out.find("router.bin sha256:" + std::string(64, 'b')), std::string::npos) << out;
  EXPECT_NE(out.find("PASS checkpoint      lab.example/log size 4"), std::string::npos) << out;
  EXPECT_NE(out.find("PASS inclusion"), std::string::npos) << out;
  EXPECT_NE(out.find("VERIFIED"), std::string::npos) << out;
  // The proof file is a c2sp.org/tlog-proof and the checkpoint a signed note.
  const std::string proof = ReadFileBytes(f.proof);
  EXPECT_TRUE(proof.starts_with("c2sp.org/tlog-proof@v1\nindex 2\n")) << proof;
  EXPECT_EQ(proof.substr(proof.find("\n\n") + 2), ReadFileBytes(f.dir / "checkpoint"));
  // Wrong keys: invalid (1); unusable inputs: 4.
  const std::string swapped = "verify " + Q(f.envelope) + " --proof " + Q(f.proof) + " --log-key " +
                              Q(f.attester_vkey) + " --attester-key " + Q(f.log_vkey);
  EXPECT_EQ(Clearbox(swapped, &out), 1) << out;
  EXPECT_NE(out.find("FAIL dsse-signature"), std::string::npos) << out;
  EXPECT_EQ(Clearbox(f.VerifyArgs(f.tmp / "missing", f.proof), &out), 4) << out;
  EXPECT_EQ(Clearbox("verify " + Q(f.envelope) + " --proof " + Q(f.proof) +
                         " --log-key not-a-key --attester-key " + Q(f.attester_vkey),
                     &out),
            4)
      << out;
  // A proof for another index does not verify this envelope.
  EXPECT_EQ(Clearbox("log proof " + Q(f.dir) + " --index 1 -o " + Q(f.tmp / "p1"), &out), 0);
  EXPECT_EQ(Clearbox(f.VerifyArgs(f.envelope, f.tmp / "p1"), &out), 1) << out;
  // Consistency proofs verify from every older size.
  EXPECT_EQ(Clearbox("log proof " + Q(f.dir) + " --consistency 3 -o " + Q(f.tmp / "c3"), &out), 0)
      << out;
  auto c = ParseConsistencyProofFile(ReadFileBytes(f.tmp / "c3"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->old_size, 3u);
  EXPECT_EQ(Clearbox("log proof " + Q(f.dir) + " --index 9", &out), 4) << out;
  EXPECT_EQ(Clearbox("log check " + Q(f.dir), &out), 0) << out;
  // --help documents the exit codes.
  EXPECT_EQ(Clearbox("verify --help", &out), 0);
  EXPECT_NE(out.find("0 verified; 1 invalid"), std::string::npos) << out;
}

// Flipping any single byte of the envelope, of the proof file or of the checkpoint inside it
// makes verification fail (in-process for speed; the CLI runs the same function).
TEST(LedgerCli, EveryByteFlipFailsVerification) {
  Fixture f;
  const std::string envelope = ReadFileBytes(f.envelope);
  const std::string proof = ReadFileBytes(f.proof);
  auto log_key = ParseVerifierKey(FirstLine(ReadFileBytes(f.log_vkey)));
  auto attester = ParseVerifierKey(FirstLine(ReadFileBytes(f.attester_vkey)));
  ASSERT_TRUE(log_key.has_value() && attester.has_value());
  ASSERT_TRUE(VerifyAttestation(envelope, proof, *log_key, *attester).verified);
  std::size_t sweeps = 0;
  for (int bit : {0x01, 0x80, 0x20}) {
    for (std::size_t i = 0; i < envelope.size(); ++i) {
      std::string bad = envelope;
      bad[i] = static_cast<char>(bad[i] ^ bit);
      EXPECT_FALSE(VerifyAttestation(bad, proof, *log_key, *attester).verified)
          << "envelope byte " << i;
      ++sweeps;
    }
    for (std::size_t i = 0; i < proof.size(); ++i) {
      std::string bad = proof;
      bad[i] = static_cast<char>(bad[i] ^ bit);
      EXPECT_FALSE(VerifyAttestation(envelope, bad, *log_key, *attester).verified)
          << "proof byte " << i;
      ++sweeps;
    }
  }
  EXPECT_GT(sweeps, 1000u);
  // A few flips through the binary too, including in the checkpoint's signature.
  for (std::size_t i : {std::size_t{0}, envelope.size() / 2, envelope.size() - 2}) {
    std::string bad = envelope;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    WriteFileBytes(f.tmp / "bad.dsse.json", bad);
    std::string out;
    EXPECT_EQ(Clearbox(f.VerifyArgs(f.tmp / "bad.dsse.json", f.proof), &out), 1) << out;
  }
  for (std::size_t i : {std::size_t{5}, proof.size() / 2, proof.size() - 5}) {
    std::string bad = proof;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    WriteFileBytes(f.tmp / "bad.proof", bad);
    std::string out;
    EXPECT_EQ(Clearbox(f.VerifyArgs(f.envelope, f.tmp / "bad.proof"), &out), 1) << out;
  }
}

// Runs `clearbox log append` and kills it with SIGKILL after `delay`; returns its stdout.
std::string AppendAndKill(const fs::path& dir, const std::vector<fs::path>& files,
                          std::chrono::microseconds delay, const fs::path& out_path, bool* exited) {
  std::vector<std::string> args = {ClearboxBinary(), "log", "append", dir.string()};
  for (const auto& f : files) args.push_back(f.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0);
  std::this_thread::sleep_for(delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  *exited = WIFEXITED(status);
  return ReadFileBytes(out_path);
}

// SIGKILL `clearbox log append` at random moments: every printed index stays in the log with
// its content, the log always reopens and checks consistent, and no two different trees of
// one size are ever signed.
TEST(LedgerCli, CrashDuringAppendNeverLosesPrintedIndices) {
  TempDir tmp;
  const fs::path dir = tmp / "log";
  std::string out;
  ASSERT_EQ(Clearbox("keygen crash.example/log -o " + Q(tmp / "k"), &out), 0) << out;
  ASSERT_EQ(
      Clearbox("log init " + Q(dir) + " --origin crash.example/log --key " + Q(tmp / "k.skey"),
               &out),
      0)
      << out;
  // Calibrate: how long one uninterrupted append takes.
  WriteFileBytes(tmp / "warm", "warm-up");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Clearbox("log append " + Q(dir) + " " + Q(tmp / "warm"), &out), 0) << out;
  const auto one_run =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  std::map<std::uint64_t, std::string> printed = {{0, "warm-up"}};
  std::map<std::uint64_t, std::string> roots_by_size;
  std::mt19937_64 rng(20261126);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  int runs = 0, killed_mid = 0, completed = 0;
  while (std::chrono::steady_clock::now() < deadline && runs < 400) {
    std::vector<fs::path> files;
    const int count = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < count; ++k) {
      files.push_back(tmp / ("e" + std::to_string(runs) + "_" + std::to_string(k)));
      WriteFileBytes(files.back(),
                     "entry of run " + std::to_string(runs) + " #" + std::to_string(k));
    }
    const auto delay = std::chrono::microseconds(rng() % (one_run.count() * 5 / 4 + 1));
    bool exited = false;
    const std::string output = AppendAndKill(dir, files, delay, tmp / "out.txt", &exited);
    ++runs;
    completed += exited;
    // Only complete lines count as printed.
    std::size_t pos = 0;
    int lines = 0;
    while (true) {
      const auto nl = output.find('\n', pos);
      if (nl == std::string::npos) break;
      const std::string line = output.substr(pos, nl - pos);
      pos = nl + 1;
      const auto sp = line.find(' ');
      ASSERT_NE(sp, std::string::npos) << line;
      const std::uint64_t index = std::stoull(line.substr(0, sp));
      const fs::path file = line.substr(sp + 1);
      printed[index] = ReadFileBytes(file);
      ++lines;
    }
    killed_mid += !exited && lines > 0;
    // Reopen as the next appender would (recovery included), then check everything.
    auto store = LogStore::OpenForAppend(dir);
    ASSERT_TRUE(store.has_value()) << "run " << runs << ": " << store.error().message;
    const auto& cp = (*store)->checkpoint();
    ASSERT_TRUE((*store)->CheckAll().has_value()) << "run " << runs;
    ASSERT_GT(cp.size, printed.rbegin()->first) << "run " << runs << ": a printed index was lost";
    for (const auto& [index, content] : printed) {
      if (index + 8 < printed.rbegin()->first) continue;  // older ones were checked already
      auto entry = (*store)->ReadEntry(index);
      ASSERT_TRUE(entry.has_value());
      ASSERT_EQ(*entry, content) << "index " << index;
    }
    const std::string root(reinterpret_cast<const char*>(cp.root.data()), 32);
    auto [it, fresh] = roots_by_size.emplace(cp.size, root);
    ASSERT_EQ(it->second, root) << "two different trees signed for size " << cp.size;
    (void)fresh;
  }
  auto store = LogStore::OpenForReading(dir);
  ASSERT_TRUE(store.has_value());
  for (const auto& [index, content] : printed) EXPECT_EQ(*(*store)->ReadEntry(index), content);
  EXPECT_GE(runs, 30) << "too few crash runs";
  std::printf(
      "crash test: %d runs, %d completed, %d killed after printing, %zu printed indices, "
      "final size %llu, one append took %lld us\n",
      runs, completed, killed_mid, printed.size(),
      static_cast<unsigned long long>((*store)->checkpoint().size),
      static_cast<long long>(one_run.count()));
}

}  // namespace
}  // namespace clearbox::ledger

namespace clearbox::ledger {
namespace {

// An independent implementation accepts our output: a Go program built against Debian's
// golang.org/x/mod (sumdb/note, sumdb/tlog) verifies our checkpoint signatures and inclusion
// proofs for trees of many sizes.
TEST(LedgerCli, GoSumdbVerifierAcceptsOurProofs) {
  const char* src = testing::SourceDir();
  ASSERT_NE(src, nullptr);
  ASSERT_TRUE(clearbox::testing::HaveTool("go")) << "go missing: bash scripts/install-deps.sh";
  ASSERT_TRUE(fs::exists("/usr/share/gocode/src/golang.org/x/mod/sumdb/note"))
      << "golang-golang-x-mod-dev missing";
  TempDir tmp;
  std::string out;
  const fs::path bin = tmp / "goverify";
  ASSERT_EQ(RunShell("cd " + Q(tmp.path()) +
                         " && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE=" +
                         Q(tmp / "gocache") + " go build -o " + Q(bin) + " " +
                         Q(fs::path(src) / "src/ledger/goverify/main.go") + " 2>&1",
                     &out),
            0)
      << out;
  const fs::path dir = tmp / "log";
  ASSERT_EQ(Clearbox("keygen go.example/log -o " + Q(tmp / "k"), &out), 0) << out;
  ASSERT_EQ(
      Clearbox("log init " + Q(dir) + " --origin go.example/log --key " + Q(tmp / "k.skey"), &out),
      0);
  const std::string vkey = FirstLine(ReadFileBytes(tmp / "k.vkey"));
  std::uint64_t size = 0;
  int checked = 0;
  for (std::uint64_t batch : {1, 1, 1, 2, 3, 8, 240, 1, 300, 17}) {
    std::string files;
    for (std::uint64_t i = 0; i < batch; ++i) {
      const fs::path f = tmp / ("entry" + std::to_string(size + i));
      WriteFileBytes(f, "go entry " + std::to_string(size + i));
      files += " " + Q(f);
    }
    ASSERT_EQ(Clearbox("log append " + Q(dir) + files, &out), 0) << out;
    size += batch;
    for (std::uint64_t index : {std::uint64_t{0}, size / 2, size - 1}) {
      const fs::path proof = tmp / "p";
      ASSERT_EQ(
          Clearbox("log proof " + Q(dir) + " --index " + std::to_string(index) + " -o " + Q(proof),
                   &out),
          0);
      ASSERT_EQ(RunShell(Q(bin) + " '" + vkey + "' " + Q(proof) + " " +
                             Q(tmp / ("entry" + std::to_string(index))) + " 2>&1",
                         &out),
                0)
          << "size " << size << " index " << index << ": " << out;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 30);
}

}  // namespace
}  // namespace clearbox::ledger
