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
  // 25 s of crash runs, but at least 30 runs (a loaded machine gets up to 120 s for them).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  const auto hard_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int runs = 0, killed_mid = 0, completed = 0;
  while ((std::chrono::steady_clock::now() < deadline || runs < 30) &&
         std::chrono::steady_clock::now() < hard_deadline && runs < 400) {
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
  int consistent = 0;
  std::vector<std::uint64_t> old_sizes;
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
    // Consistency from every earlier checkpoint to this one, checked by tlog.CheckTree.
    for (std::uint64_t old : old_sizes) {
      const fs::path proof = tmp / "c";
      ASSERT_EQ(Clearbox("log proof " + Q(dir) + " --consistency " + std::to_string(old) + " -o " +
                             Q(proof),
                         &out),
                0)
          << out;
      ASSERT_EQ(RunShell(Q(bin) + " consistency '" + vkey + "' " +
                             Q(tmp / ("cp" + std::to_string(old))) + " " + Q(proof) + " 2>&1",
                         &out),
                0)
          << "consistency " << old << " -> " << size << ": " << out;
      ++consistent;
    }
    fs::copy_file(dir / "checkpoint", tmp / ("cp" + std::to_string(size)));
    old_sizes.push_back(size);
  }
  EXPECT_EQ(checked, 30);
  EXPECT_EQ(consistent, 45);
  // Go's own consistency proofs, computed from our tiles through tlog.TileHashReader (which
  // authenticates each tile against the checkpoint), equal ours for every older size.
  std::string sizes;
  for (std::uint64_t old = 1; old <= size; ++old) sizes += " " + std::to_string(old);
  ASSERT_EQ(RunShell(Q(bin) + " tiles '" + vkey + "' " + Q(dir) + sizes + " 2>&1", &out), 0) << out;
  auto store = LogStore::OpenForReading(dir);
  ASSERT_TRUE(store.has_value());
  std::string ours;
  for (std::uint64_t old = 1; old <= size; ++old) {
    auto proof = (*store)->Consistency(old);
    ASSERT_TRUE(proof.has_value()) << old;
    ours += "old " + std::to_string(old) + "\n";
    for (const auto& h : *proof) ours += HashBase64(h) + "\n";
    ours += "\n";
  }
  EXPECT_EQ(out, ours);
  EXPECT_EQ(size, 574u);
}

// Witnesses through the CLI: cosign, refuse stale, conflicting and forked checkpoints with
// their exit codes; `verify` requires each --witness-key's cosignature and, with
// --old-checkpoint, consistency with the older tree.
TEST(LedgerCli, WitnessCosignaturesAndConsistencyInVerify) {
  Fixture f;
  std::string out;
  const fs::path cp4 = f.tmp / "cp4";
  fs::copy_file(f.dir / "checkpoint", cp4);
  ASSERT_EQ(Clearbox("keygen w1.example --cosigner -o " + Q(f.tmp / "w1"), &out), 0) << out;
  ASSERT_EQ(Clearbox("keygen w2.example -o " + Q(f.tmp / "w2"), &out), 0) << out;
  ASSERT_EQ(Clearbox("keygen w3.example --cosigner -o " + Q(f.tmp / "w3"), &out), 0) << out;
  EXPECT_EQ(ParseVerifierKey(FirstLine(ReadFileBytes(f.tmp / "w1.vkey")))->algorithm,
            kAlgCosignatureV1);
  auto cosign = [&](const std::string& w, const fs::path& cp, const std::string& extra) {
    return Clearbox("witness cosign --state " + Q(f.tmp / ("state-" + w)) + " --key " +
                        Q(f.tmp / (w + ".skey")) + " --log-key " + Q(f.log_vkey) + " " + Q(cp) +
                        " " + extra,
                    &out);
  };
  EXPECT_EQ(cosign("w1", cp4, "--time 1700000000 -o " + Q(f.tmp / "cos4")), 0) << out;
  // Grow the log to 7 and make the proofs.
  for (int i = 4; i < 7; ++i)
    WriteFileBytes(f.tmp / ("more" + std::to_string(i)), "more " + std::to_string(i));
  ASSERT_EQ(Clearbox("log append " + Q(f.dir) + " " + Q(f.tmp / "more4") + " " +
                         Q(f.tmp / "more5") + " " + Q(f.tmp / "more6"),
                     &out),
            0);
  const fs::path cp7 = f.tmp / "cp7";
  fs::copy_file(f.dir / "checkpoint", cp7);
  ASSERT_EQ(Clearbox("log proof " + Q(f.dir) + " --index 2 -o " + Q(f.tmp / "p7"), &out), 0);
  ASSERT_EQ(Clearbox("log proof " + Q(f.dir) + " --consistency 4 -o " + Q(f.tmp / "c4"), &out), 0);
  ASSERT_EQ(Clearbox("log proof " + Q(f.dir) + " --consistency 3 -o " + Q(f.tmp / "c3"), &out), 0);
  EXPECT_EQ(cosign("w1", cp7, ""), 5) << "growth without a proof: " << out;
  EXPECT_EQ(cosign("w1", cp7, "--proof " + Q(f.tmp / "c3")), 5) << "proof from 3, witness at 4";
  EXPECT_EQ(cosign("w1", cp7,
                   "--proof " + Q(f.tmp / "c4") + " --time 1700000100 -o " + Q(f.tmp / "cos7")),
            0)
      << out;
  EXPECT_EQ(cosign("w1", cp4, ""), 5) << "stale checkpoint: " << out;
  // w2 (a plain Ed25519 key used as a cosigner) sees the log first at 7; its cosignature is
  // added next to w1's; the timestamp comes from SOURCE_DATE_EPOCH.
  EXPECT_EQ(
      RunShell("SOURCE_DATE_EPOCH=1700000200 " + ClearboxBinary() + " witness cosign --state " +
                   Q(f.tmp / "state-w2") + " --key " + Q(f.tmp / "w2.skey") + " --log-key " +
                   Q(f.log_vkey) + " " + Q(f.tmp / "cos7") + " -o " + Q(f.tmp / "cos7b") + " 2>&1",
               &out),
      0)
      << out;
  const std::string cosigned = ReadFileBytes(f.tmp / "cos7b");
  auto note = ParseNote(cosigned);
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->signatures.size(), 3u);
  // A log-signed checkpoint of size 7 with another root: the witness reports a fork.
  auto log_skey = ParseSignerKey(FirstLine(ReadFileBytes(f.tmp / "logkey.skey")));
  ASSERT_TRUE(log_skey.has_value());
  WriteFileBytes(f.tmp / "fork7",
                 *SignNote(FormatCheckpoint(Checkpoint{"lab.example/log", 7, HashLeaf("x"), {}}),
                           {*log_skey}));
  EXPECT_EQ(cosign("w1", f.tmp / "fork7", ""), 3) << out;
  EXPECT_NE(out.find("FORK"), std::string::npos) << out;
  WriteFileBytes(f.tmp / "fork3",
                 *SignNote(FormatCheckpoint(Checkpoint{"lab.example/log", 3, HashLeaf("x"), {}}),
                           {*log_skey}));
  EXPECT_EQ(cosign("w1", f.tmp / "fork3", ""), 5) << out;  // stale before it is a fork
  EXPECT_EQ(cosign("w3", f.tmp / "p7", ""), 1) << "not a checkpoint: " << out;
  EXPECT_EQ(Clearbox("witness cosign --state " + Q(f.tmp / "state-w3") + " --key " +
                         Q(f.tmp / "w3.skey") + " --log-key " + Q(f.tmp / "w1.vkey") + " " + Q(cp7),
                     &out),
            4)
      << "a cosigner key as log key: " << out;

  // The proof file with the cosigned checkpoint.
  const std::string p7 = ReadFileBytes(f.tmp / "p7");
  const std::string proof = p7.substr(0, p7.find("\n\n") + 2) + cosigned;
  WriteFileBytes(f.tmp / "p7cos", proof);
  const std::string base = f.VerifyArgs(f.envelope, f.tmp / "p7cos");
  const std::string w1 = " --witness-key " + Q(f.tmp / "w1.vkey");
  const std::string w2 = " --witness-key " + Q(f.tmp / "w2.vkey");
  const std::string w3 = " --witness-key " + Q(f.tmp / "w3.vkey");
  EXPECT_EQ(Clearbox(base + w1 + w2, &out), 0) << out;
  EXPECT_NE(out.find("PASS cosignature     w1.example+"), std::string::npos) << out;
  EXPECT_NE(out.find("cosigned at 2023-11-14T22:15:00Z"), std::string::npos) << out;
  EXPECT_NE(out.find("cosigned at 2023-11-14T22:16:40Z"), std::string::npos) << out;
  EXPECT_EQ(Clearbox(base + w1 + w3, &out), 1) << out;
  EXPECT_NE(out.find("FAIL cosignature     w3.example: no cosignature by this witness"),
            std::string::npos)
      << out;
  EXPECT_EQ(Clearbox(f.VerifyArgs(f.envelope, f.tmp / "p7") + w1, &out), 1) << out;
  // Consistency with the older checkpoint.
  const std::string old4 = " --old-checkpoint " + Q(cp4);
  EXPECT_EQ(Clearbox(base + old4 + " --consistency-proof " + Q(f.tmp / "c4"), &out), 0) << out;
  EXPECT_NE(out.find("PASS consistency     tree 4 -> 7 extends the old checkpoint"),
            std::string::npos)
      << out;
  EXPECT_EQ(Clearbox(base + old4, &out), 1) << out;
  EXPECT_EQ(Clearbox(base + old4 + " --consistency-proof " + Q(f.tmp / "c3"), &out), 1) << out;
  EXPECT_EQ(Clearbox(base + " --old-checkpoint " + Q(f.tmp / "fork3") + " --consistency-proof " +
                         Q(f.tmp / "c3"),
                     &out),
            1)
      << out;
  EXPECT_NE(out.find("FAIL consistency     tree 3 -> 7 not consistent"), std::string::npos) << out;
  EXPECT_EQ(Clearbox(base + " --old-checkpoint " + Q(cp7), &out), 0) << "same tree, no proof";
  EXPECT_EQ(Clearbox(base + " --old-checkpoint " + Q(f.tmp / "missing"), &out), 4) << out;
  EXPECT_EQ(Clearbox(base + " --consistency-proof " + Q(f.tmp / "c4"), &out), 2) << out;

  // Every byte flip in the cosignature lines or the consistency proof makes verification fail.
  auto log_key = ParseVerifierKey(FirstLine(ReadFileBytes(f.log_vkey)));
  auto attester = ParseVerifierKey(FirstLine(ReadFileBytes(f.attester_vkey)));
  auto k1 = ParseVerifierKey(FirstLine(ReadFileBytes(f.tmp / "w1.vkey")));
  auto k2 = ParseVerifierKey(FirstLine(ReadFileBytes(f.tmp / "w2.vkey")));
  ASSERT_TRUE(log_key && attester && k1 && k2);
  const std::string envelope = ReadFileBytes(f.envelope);
  VerifyPolicy policy{{*k1, *k2}, ReadFileBytes(cp4), ReadFileBytes(f.tmp / "c4")};
  ASSERT_TRUE(VerifyAttestation(envelope, proof, *log_key, *attester, policy).verified);
  const std::size_t cosig_start = proof.find("\xE2\x80\x94 w1.example");
  ASSERT_NE(cosig_start, std::string::npos);
  std::size_t flips = 0;
  for (std::size_t i = cosig_start; i < proof.size(); ++i) {
    std::string bad = proof;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(VerifyAttestation(envelope, bad, *log_key, *attester, policy).verified)
        << "cosigned proof byte " << i;
    ++flips;
  }
  const std::string c4 = *policy.consistency_proof;
  for (std::size_t i = 0; i < c4.size(); ++i) {
    VerifyPolicy bad = policy;
    (*bad.consistency_proof)[i] = static_cast<char>(c4[i] ^ 0x01);
    EXPECT_FALSE(VerifyAttestation(envelope, proof, *log_key, *attester, bad).verified)
        << "consistency proof byte " << i;
    ++flips;
  }
  EXPECT_GT(flips, 300u);
}

}  // namespace
}  // namespace clearbox::ledger
