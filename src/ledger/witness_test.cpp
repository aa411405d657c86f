// Cosignatures (c2sp.org/tlog-cosignature) against known-answer vectors, and the witness's
// decisions: first checkpoint, consistent growth, forks, stale and mismatched requests.
#include "ledger/witness.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "ledger/encoding.hpp"
#include "ledger/ledger_test_util.hpp"
#include "support/test_support.hpp"

namespace clearbox::ledger {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::ReadFileBytes;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

std::array<std::uint8_t, 32> SeedOf(const std::string& bytes) {
  std::array<std::uint8_t, 32> seed{};
  EXPECT_EQ(bytes.size(), 32u);
  std::memcpy(seed.data(), bytes.data(), std::min<std::size_t>(32, bytes.size()));
  return seed;
}

// The project reference anchors §A10.12 (test data inlined below): a checkpoint signed with the Go
// sumdb/note test key (as example.com/test-log) and cosigned by witness.example.com/w1, made with
// Python's `cryptography`, an independent implementation.
TEST(Cosignature, MatchesIndependentVector) {
  auto go_key = ParseSignerKey(
      "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
  ASSERT_TRUE(go_key.has_value());
  auto log_key = SignerKeyFromSeed("example.com/test-log", go_key->seed);
  ASSERT_TRUE(log_key.has_value());
  EXPECT_EQ(FormatVerifierKey(PublicKeyOf(*log_key)),
            "example.com/test-log+1b542240+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  const Hash seed = Sha256Of("anchors-test-cosigner-seed");
  auto w = SignerKeyFromSeed("witness.example.com/w1", seed);
  ASSERT_TRUE(w.has_value());
  const SignerKey witness = AsCosignerKey(*w);
  EXPECT_EQ(FormatVerifierKey(PublicKeyOf(witness)),
            "witness.example.com/w1+d1a5bf51+BKux0w5X1wqOFO3Q4z1u6DL7znJXV+hZZWM0Om0Mmt+F");
  const std::string body =
      "example.com/test-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
  auto signed_cp = SignNote(body, {*log_key});
  ASSERT_TRUE(signed_cp.has_value());
  const std::string log_line =
      "\xE2\x80\x94 example.com/test-log "
      "G1QiQAmfTlmg7wA5FU0OBEp8LaPgOk4AyIOLzLcPpZUb9l20IsXvkzpjZNbP9kfHUFqVYHFtgc4lcdGmIkNyGjp9UAU="
      "\n";
  EXPECT_EQ(*signed_cp, body + "\n" + log_line);
  auto cosigned = CosignNote(*signed_cp, witness, 1700000000);
  ASSERT_TRUE(cosigned.has_value()) << cosigned.error().message;
  EXPECT_EQ(*cosigned, body + "\n" + log_line +
                           "\xE2\x80\x94 witness.example.com/w1 "
                           "0aW/UQAAAABlU/EAYSSVt6AToYR2i+ymI3nmY7t6+2xEaj6v757XdOrOjrghaO7/"
                           "WkGQwLpwMPS5Ys35tIWccK8FDO3Os0afdvnXAg==\n");
  // Verifies with the 0x04 vkey and with the plain key converted; a 0x01 reading does not.
  auto v = ParseVerifierKey(
      "witness.example.com/w1+d1a5bf51+BKux0w5X1wqOFO3Q4z1u6DL7znJXV+hZZWM0Om0Mmt+F");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->algorithm, kAlgCosignatureV1);
  auto opened = OpenNote(*cosigned, {*v});
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(*CosignatureTime(opened->verified[0]), 1700000000u);
  EXPECT_TRUE(OpenNote(*cosigned, {AsCosignerKey(PublicKeyOf(*w))}).has_value());
  EXPECT_FALSE(OpenNote(*cosigned, {PublicKeyOf(*w)}).has_value());  // key ID over 0x01
  // Cosigning again replaces the line instead of adding a second one.
  auto again = CosignNote(*cosigned, witness, 1700000001);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ParseNote(*again)->signatures.size(), 2u);
  EXPECT_EQ(*CosignatureTime(OpenNote(*again, {*v})->verified[0]), 1700000001u);
  // A changed timestamp (bytes 4..11 of the signature) no longer verifies.
  std::string tampered = *cosigned;
  const auto pos = tampered.find("0aW/UQAAAABlU/EA");
  tampered.replace(pos, 16, "0aW/UQAAAABlU/EB");
  EXPECT_FALSE(OpenNote(tampered, {*v}).has_value());
  EXPECT_FALSE(CosignNote(*signed_cp, witness, kMaxCosignatureTime + 1).has_value());
  EXPECT_FALSE(CosignNote(*signed_cp, *w, 1).has_value()) << "plain key used as cosigner";
  EXPECT_FALSE(SignNote(body, {witness}).has_value()) << "cosigner key used as plain signer";
}

// tlog-cosignature.md example: key ID, timestamp and signature length decode as published.
TEST(Cosignature, SpecExampleDecodes) {
  auto j = testing::ReadOracleJson("note/c2sp_examples.json");
  const auto& ex = j["checkpoint_examples"][1];
  auto note = ParseNote(ex["signed_note"].get<std::string>());
  ASSERT_TRUE(note.has_value());
  ASSERT_EQ(note->signatures.size(), 2u);
  char id[9];
  std::snprintf(id, sizeof id, "%08x", note->signatures[1].key_id);
  EXPECT_EQ(std::string(id), ex["cosignature_parts"]["key_id_hex"]);
  EXPECT_EQ(*CosignatureTime(note->signatures[1]),
            ex["cosignature_parts"]["timestamp"].get<std::uint64_t>());
  EXPECT_EQ(CosignatureMessage(note->text, 1679315147), ex["cosigned_message_example"]);
  EXPECT_FALSE(CosignatureTime(note->signatures[0]).has_value());
}

TEST(WitnessState, StrictFormat) {
  const Checkpoint cp{"log.example", 5, HashLeaf("x"), {"ext"}};
  const std::string text = FormatWitnessState(cp);
  EXPECT_EQ(text, "clearbox.dev/witness-state@v1\nlog.example\n5\n" + HashBase64(cp.root) + "\n");
  auto back = ParseWitnessState(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size, 5u);
  EXPECT_TRUE(back->extensions.empty());
  for (const std::string& bad :
       {std::string("clearbox.dev/witness-state@v1"), text + "extra\n", text.substr(1),
        "clearbox.dev/witness-state@v1\r\n" + text.substr(30), text.substr(0, text.size() - 1),
        "clearbox.dev/witness-state@v1\nlog.example\n05\n" + HashBase64(cp.root) + "\n"}) {
    EXPECT_FALSE(ParseWitnessState(bad).has_value()) << bad;
  }
}

struct WitnessFixture {
  TempDir tmp;
  SignerKey log_key = *SignerKeyFromSeed("log.example/w", SeedOf(std::string(32, '\x11')));
  SignerKey other_log = *SignerKeyFromSeed("log.example/w", SeedOf(std::string(32, '\x12')));
  SignerKey cosigner =
      AsCosignerKey(*SignerKeyFromSeed("witness.example", SeedOf(std::string(32, '\x13'))));
  MemoryTree tree;
  Witness witness{tmp / "state", cosigner, {PublicKeyOf(log_key)}};

  std::string Signed(std::uint64_t size, const SignerKey& key) {
    while (tree.Size() < size) tree.AppendEntry("entry " + std::to_string(tree.Size()));
    return *SignNote(FormatCheckpoint(Checkpoint{"log.example/w", size, tree.Root(size), {}}),
                     {key});
  }
  std::string Signed(std::uint64_t size) { return Signed(size, log_key); }
  std::vector<Hash> Proof(std::uint64_t from, std::uint64_t to) {
    while (tree.Size() < to) tree.AppendEntry("entry " + std::to_string(tree.Size()));
    auto proof = ConsistencyProof(from, to, tree.Source());
    EXPECT_TRUE(proof.has_value());
    return proof ? *proof : std::vector<Hash>{};
  }
};

TEST(Witness, CosignsConsistentCheckpointsAndRefusesForks) {
  WitnessFixture f;
  auto r = f.witness.Cosign(f.Signed(3), std::nullopt, {}, 100);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outcome, WitnessOutcome::kCosigned) << r->message;
  auto opened = OpenNote(r->cosigned_checkpoint, {PublicKeyOf(f.cosigner)});
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*CosignatureTime(opened->verified[0]), 100u);
  EXPECT_TRUE(OpenNote(r->cosigned_checkpoint, {PublicKeyOf(f.log_key)}).has_value());
  EXPECT_EQ((*f.witness.Latest("log.example/w"))->size, 3u);
  const std::string state_at_3 = ReadFileBytes(f.witness.StatePath("log.example/w"));

  // Growth needs a proof from the witness's size; a proof from another size is a conflict.
  EXPECT_EQ(f.witness.Cosign(f.Signed(10), std::nullopt, {}, 101)->outcome,
            WitnessOutcome::kConflict);
  EXPECT_EQ(f.witness.Cosign(f.Signed(10), 2, f.Proof(2, 10), 101)->outcome,
            WitnessOutcome::kConflict);
  // A proof that does not verify is a fork.
  auto bad = f.Proof(3, 10);
  bad.back()[0] ^= 1;
  EXPECT_EQ(f.witness.Cosign(f.Signed(10), 3, bad, 101)->outcome, WitnessOutcome::kFork);
  // Not signed by the trusted log key: invalid.
  EXPECT_EQ(f.witness.Cosign(f.Signed(10, f.other_log), 3, f.Proof(3, 10), 101)->outcome,
            WitnessOutcome::kInvalidCheckpoint);
  EXPECT_EQ(f.witness.Cosign("garbage", 3, {}, 101)->outcome, WitnessOutcome::kInvalidCheckpoint);
  EXPECT_EQ(ReadFileBytes(f.witness.StatePath("log.example/w")), state_at_3)
      << "a refused request changed the state";

  auto grown = f.witness.Cosign(f.Signed(10), 3, f.Proof(3, 10), 102);
  ASSERT_TRUE(grown.has_value());
  EXPECT_EQ(grown->outcome, WitnessOutcome::kCosigned) << grown->message;
  EXPECT_EQ(grown->witness_size, 3u);
  EXPECT_EQ((*f.witness.Latest("log.example/w"))->size, 10u);
  // The same tree again: cosigned; an older one: conflict (stale).
  EXPECT_EQ(f.witness.Cosign(f.Signed(10), std::nullopt, {}, 103)->outcome,
            WitnessOutcome::kCosigned);
  EXPECT_EQ(f.witness.Cosign(f.Signed(3), std::nullopt, {}, 103)->outcome,
            WitnessOutcome::kConflict);
  // Same size, another root, properly signed by the log: a fork.
  const std::string forked = *SignNote(
      FormatCheckpoint(Checkpoint{"log.example/w", 10, HashLeaf("evil"), {}}), {f.log_key});
  auto fork = f.witness.Cosign(forked, std::nullopt, {}, 104);
  EXPECT_EQ(fork->outcome, WitnessOutcome::kFork) << fork->message;
  EXPECT_TRUE(fork->cosigned_checkpoint.empty());
  // A larger tree that does not extend the cosigned one (fork at a later size).
  MemoryTree other;
  for (int i = 0; i < 12; ++i) other.AppendEntry(i == 5 ? "changed" : "entry " + std::to_string(i));
  const std::string other12 =
      *SignNote(FormatCheckpoint(Checkpoint{"log.example/w", 12, other.Root(12), {}}), {f.log_key});
  EXPECT_EQ(f.witness.Cosign(other12, 10, *ConsistencyProof(10, 12, other.Source()), 105)->outcome,
            WitnessOutcome::kFork);
  EXPECT_EQ((*f.witness.Latest("log.example/w"))->root, f.tree.Root(10));

  // A damaged state file is an error, not a silent restart.
  WriteFileBytes(f.witness.StatePath("log.example/w"), "clearbox.dev/witness-state@v1\nbroken\n");
  EXPECT_FALSE(f.witness.Cosign(f.Signed(10), std::nullopt, {}, 106).has_value());
}

TEST(Witness, FirstCheckpointMustNotCarryAProof) {
  WitnessFixture f;
  EXPECT_EQ(f.witness.Cosign(f.Signed(4), 0, f.Proof(2, 4), 1)->outcome, WitnessOutcome::kFork);
  EXPECT_EQ(f.witness.Cosign(f.Signed(4), 2, f.Proof(2, 4), 1)->outcome, WitnessOutcome::kConflict);
  EXPECT_FALSE(f.witness.Latest("log.example/w")->has_value());
  EXPECT_EQ(f.witness.Cosign(f.Signed(4), 0, {}, 1)->outcome, WitnessOutcome::kCosigned);
}

// A trusted log key vouches only for the origin it is named after (c2sp.org/tlog-witness).
TEST(Witness, LogKeyIsBoundToItsOrigin) {
  TempDir tmp;
  const SignerKey log_a = *SignerKeyFromSeed("log.example/a", SeedOf(std::string(32, '\x21')));
  const SignerKey log_b = *SignerKeyFromSeed("log.example/b", SeedOf(std::string(32, '\x22')));
  const SignerKey cosigner =
      AsCosignerKey(*SignerKeyFromSeed("witness.example", SeedOf(std::string(32, '\x23'))));
  Witness witness(tmp / "state", cosigner, {PublicKeyOf(log_a), PublicKeyOf(log_b)});
  MemoryTree tree;
  for (int i = 0; i < 5; ++i) tree.AppendEntry("entry " + std::to_string(i));
  auto signed_as = [&](const std::string& origin, const std::vector<SignerKey>& keys) {
    return *SignNote(FormatCheckpoint(Checkpoint{origin, 5, tree.Root(5), {}}), keys);
  };
  // log.example/b's key signing a checkpoint of log.example/a: refused, no state written.
  auto foreign = witness.Cosign(signed_as("log.example/a", {log_b}), std::nullopt, {}, 1);
  ASSERT_TRUE(foreign.has_value());
  EXPECT_EQ(foreign->outcome, WitnessOutcome::kInvalidCheckpoint) << foreign->message;
  EXPECT_FALSE(fs::exists(witness.StatePath("log.example/a")));
  // An origin no trusted key is named after: refused even though the signature verifies.
  EXPECT_EQ(witness.Cosign(signed_as("log.example/c", {log_a}), std::nullopt, {}, 1)->outcome,
            WitnessOutcome::kInvalidCheckpoint);
  EXPECT_FALSE(fs::exists(witness.StatePath("log.example/c")));
  // Each log's own key: cosigned; a co-signature by another trusted key does not hurt.
  EXPECT_EQ(witness.Cosign(signed_as("log.example/a", {log_a}), std::nullopt, {}, 2)->outcome,
            WitnessOutcome::kCosigned);
  EXPECT_EQ(
      witness.Cosign(signed_as("log.example/b", {log_a, log_b}), std::nullopt, {}, 2)->outcome,
      WitnessOutcome::kCosigned);
}

}  // namespace
}  // namespace clearbox::ledger
