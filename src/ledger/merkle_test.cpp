// RFC 6962 hashing, roots and proofs against the transparency-dev/merkle and golang.org/x/mod
// vectors in tests/oracle/merkle, plus generated proofs for many tree sizes.
#include "ledger/merkle.hpp"
#include "core/hex.hpp"

#include <gtest/gtest.h>

#include "core/hashing.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/encoding.hpp"
#include "ledger/ledger_test_util.hpp"

namespace clearbox::ledger {
namespace {

using testing::HexToBytes;
using testing::HexToHash;
using testing::ReadOracleJson;

std::string Hex(const Hash& h) {
  return HexEncode(ByteView(h.data(), h.size()));
}

// Decodes a probe's optional list of hex hashes; false if any is not 32 bytes.
bool ProbeHashes(const nlohmann::json& probe, const char* key, std::vector<Hash>* out) {
  if (!probe.contains(key) || probe[key].is_null()) return true;
  for (const auto& h : probe[key]) {
    if (h.is_null()) return false;
    const std::string b = HexToBytes(h.get<std::string>());
    if (b.size() != 32) return false;
    Hash x{};
    std::copy(b.begin(), b.end(), x.begin());
    out->push_back(x);
  }
  return true;
}

MemoryTree EightLeafTree() {
  auto j = ReadOracleJson("merkle/tree_8_leaves.json");
  MemoryTree tree;
  for (const auto& leaf : j["leaf_inputs_hex"])
    tree.AppendEntry(HexToBytes(leaf.get<std::string>()));
  return tree;
}

TEST(Merkle, HasherVectors) {
  auto j = ReadOracleJson("merkle/rfc6962_hasher.json");
  ASSERT_EQ(j["vectors"].size(), 4u);
  EXPECT_EQ(Hex(EmptyRoot()), j["vectors"][0]["want_hex"]);
  EXPECT_EQ(Hex(HashLeaf("")), j["vectors"][1]["want_hex"]);
  EXPECT_EQ(Hex(HashLeaf(HexToBytes(j["vectors"][2]["input_hex"]))), j["vectors"][2]["want_hex"]);
  // HashChildren on raw strings, as the upstream test does.
  const std::string node =
      "\x01" + HexToBytes(j["vectors"][3]["left_hex"]) + HexToBytes(j["vectors"][3]["right_hex"]);
  EXPECT_EQ(Hex(Sha256Of(node)), j["vectors"][3]["want_hex"]);
  auto g = ReadOracleJson("merkle/golang_sumdb_tlog.json");
  EXPECT_EQ(Hex(HashLeaf(g["record_hash"]["data_ascii"].get<std::string>())),
            g["record_hash"]["want_hex"]);
  EXPECT_EQ(HashBase64(HashLeaf("hello world")), g["record_hash"]["want_b64"]);
}

TEST(Merkle, EightLeafRootsAndNodes) {
  auto j = ReadOracleJson("merkle/tree_8_leaves.json");
  MemoryTree tree = EightLeafTree();
  ASSERT_EQ(j["root_hashes_by_tree_size"].size(), 9u);
  for (const auto& r : j["root_hashes_by_tree_size"]) {
    EXPECT_EQ(Hex(tree.Root(r["tree_size"].get<std::uint64_t>())), r["root_hex"]) << r;
  }
  auto source = tree.Source();
  for (const auto& level : j["node_hashes_by_level"]) {
    const unsigned height = level["level"].get<unsigned>();
    std::uint64_t index = 0;
    for (const auto& h : level["hashes"]) {
      auto got = source(height, index++);
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(Hex(*got), h);
    }
  }
}

TEST(Merkle, InclusionProbes) {
  auto j = ReadOracleJson("merkle/inclusion_probes.json");
  ASSERT_EQ(j["probes"].size(), 98u);
  int good = 0;
  for (const auto& p : j["probes"]) {
    std::vector<Hash> proof;
    const bool decodable = ProbeHashes(p, "proof_hex", &proof) && !p["root_hex"].is_null() &&
                           !p["leafHash_hex"].is_null();
    bool ok = false;
    if (decodable) {
      const std::string leaf = HexToBytes(p["leafHash_hex"].get<std::string>());
      const std::string root = HexToBytes(p["root_hex"].get<std::string>());
      if (root.size() == 32) {
        ok = VerifyInclusion(
                 p["leafIdx"].get<std::uint64_t>(), p["treeSize"].get<std::uint64_t>(),
                 std::span(reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size()), proof,
                 HexToHash(p["root_hex"].get<std::string>()))
                 .has_value();
      }
    }
    EXPECT_EQ(ok, !p["wantErr"].get<bool>()) << p["file"];
    good += ok;
  }
  EXPECT_EQ(good, 6);
}

TEST(Merkle, ConsistencyProbes) {
  auto j = ReadOracleJson("merkle/consistency_probes.json");
  ASSERT_EQ(j["probes"].size(), 98u);
  int good = 0;
  for (const auto& p : j["probes"]) {
    std::vector<Hash> proof;
    const bool decodable = ProbeHashes(p, "proof_hex", &proof) && !p["root1_hex"].is_null() &&
                           !p["root2_hex"].is_null();
    bool ok = false;
    if (decodable) {
      const std::string r1 = HexToBytes(p["root1_hex"].get<std::string>());
      const std::string r2 = HexToBytes(p["root2_hex"].get<std::string>());
      ok =
          VerifyConsistency(p["size1"].get<std::uint64_t>(), p["size2"].get<std::uint64_t>(), proof,
                            std::span(reinterpret_cast<const std::uint8_t*>(r1.data()), r1.size()),
                            std::span(reinterpret_cast<const std::uint8_t*>(r2.data()), r2.size()))
              .has_value();
    }
    EXPECT_EQ(ok, !p["wantErr"].get<bool>()) << p["file"];
    good += ok;
  }
  EXPECT_EQ(good, 6);
}

// The raw upstream probe files too (byte copies), so nothing in the repackaging is trusted.
TEST(Merkle, RawProbeFilesAgreeWithBundles) {
  const auto dir = testing::OracleDir() / "merkle" / "transparency-dev-testdata";
  int files = 0;
  for (const char* kind : {"inclusion", "consistency"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir / kind)) {
      if (!e.is_regular_file()) continue;
      auto p = nlohmann::json::parse(testing::ReadText(e.path()));
      auto decode = [](const nlohmann::json& v, std::string* out) {
        if (!v.is_string()) return v.is_null();
        auto d = Base64Decode(v.get<std::string>());
        if (!d) return false;
        *out = *d;
        return true;
      };
      std::vector<Hash> proof;
      bool decodable = true;
      if (p["proof"].is_array()) {
        for (const auto& h : p["proof"]) {
          std::string b;
          decodable = decodable && decode(h, &b) && b.size() == 32;
          Hash x{};
          if (b.size() == 32) std::copy(b.begin(), b.end(), x.begin());
          proof.push_back(x);
        }
      }
      bool ok = false;
      if (std::string(kind) == "inclusion") {
        std::string leaf, root;
        decodable = decodable && decode(p["leafHash"], &leaf) && decode(p["root"], &root) &&
                    root.size() == 32;
        if (decodable) {
          Hash r{};
          std::copy(root.begin(), root.end(), r.begin());
          ok = VerifyInclusion(
                   p["leafIdx"].get<std::uint64_t>(), p["treeSize"].get<std::uint64_t>(),
                   std::span(reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size()),
                   proof, r)
                   .has_value();
        }
      } else {
        std::string r1, r2;
        decodable = decodable && decode(p["root1"], &r1) && decode(p["root2"], &r2);
        if (decodable) {
          ok = VerifyConsistency(
                   p["size1"].get<std::uint64_t>(), p["size2"].get<std::uint64_t>(), proof,
                   std::span(reinterpret_cast<const std::uint8_t*>(r1.data()), r1.size()),
                   std::span(reinterpret_cast<const std::uint8_t*>(r2.data()), r2.size()))
                   .has_value();
        }
      }
      EXPECT_EQ(ok, !p["wantErr"].get<bool>()) << e.path();
      ++files;
    }
  }
  EXPECT_EQ(files, 196);
}

// Generated proofs verify for every pair of sizes up to 70, and tampered ones do not.
TEST(Merkle, GeneratedProofsForManySizes) {
  MemoryTree tree;
  for (int i = 0; i < 70; ++i) tree.AppendEntry("leaf " + std::to_string(i));
  auto source = tree.Source();
  for (std::uint64_t size = 1; size <= 70; ++size) {
    const Hash root = tree.Root(size);
    for (std::uint64_t index = 0; index < size; ++index) {
      auto proof = InclusionProof(index, size, source);
      ASSERT_TRUE(proof.has_value());
      const Hash leaf = HashLeaf("leaf " + std::to_string(index));
      ASSERT_TRUE(VerifyInclusion(index, size, leaf, *proof, root).has_value())
          << index << "/" << size;
      if (!proof->empty()) {
        auto bad = *proof;
        bad.back()[0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(index, size, leaf, bad, root).has_value());
      }
      // The tree size is bound by the signed checkpoint; a wrong index must fail.
      if (size > 1) {
        EXPECT_FALSE(
            VerifyInclusion((index ^ 1) < size ? (index ^ 1) : index - 1, size, leaf, *proof, root)
                .has_value());
      }
    }
    for (std::uint64_t old_size = 1; old_size <= size; ++old_size) {
      auto proof = ConsistencyProof(old_size, size, source);
      ASSERT_TRUE(proof.has_value());
      ASSERT_TRUE(VerifyConsistency(old_size, size, *proof, tree.Root(old_size), root).has_value())
          << old_size << "->" << size;
      if (!proof->empty()) {
        auto bad = *proof;
        bad.front()[31] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(old_size, size, bad, tree.Root(old_size), root).has_value());
      }
    }
  }
}

TEST(Merkle, EmptyAndInvalidSizes) {
  MemoryTree tree;
  tree.AppendEntry("x");
  EXPECT_FALSE(InclusionProof(1, 1, tree.Source()).has_value());
  EXPECT_FALSE(ConsistencyProof(0, 1, tree.Source()).has_value());
  EXPECT_FALSE(ConsistencyProof(2, 1, tree.Source()).has_value());
  EXPECT_EQ(tree.Root(0), EmptyRoot());
}

}  // namespace
}  // namespace clearbox::ledger
