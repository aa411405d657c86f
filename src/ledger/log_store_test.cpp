// The tiled log on disk: roots and proofs against an in-memory tree, tile layout, locking,
// recovery of a pending checkpoint, and tampering with tiles.
#include "ledger/log_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "ledger/encoding.hpp"
#include "support/test_support.hpp"

namespace clearbox::ledger {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::ReadFileBytes;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

SignerKey TestKey() {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 7;
  return *SignerKeyFromSeed("log.example/test", seed);
}

std::string Entry(std::uint64_t i) {
  return "entry " + std::to_string(i) + std::string(i % 7, 'x');
}

TEST(LogStore, AppendsMatchMemoryTreeAndTilesFollowTheSpec) {
  TempDir tmp;
  const fs::path dir = tmp / "log";
  ASSERT_TRUE(LogStore::Init(dir, "log.example/test", TestKey()).has_value());
  EXPECT_FALSE(LogStore::Init(dir, "log.example/test", TestKey()).has_value());
  auto store = LogStore::OpenForAppend(dir);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ((*store)->checkpoint().size, 0u);
  EXPECT_EQ((*store)->checkpoint().root, EmptyRoot());
  MemoryTree tree;
  std::uint64_t next = 0;
  // Batches that cross tile boundaries in every way, ending at the spec's 70,000 example.
  for (std::uint64_t batch : {1, 1, 3, 250, 1, 1, 256, 300, 65536 - 813, 70000 - 65536}) {
    std::vector<std::string> entries;
    for (std::uint64_t i = 0; i < batch; ++i) {
      entries.push_back(Entry(next + i));
      tree.AppendEntry(entries.back());
    }
    auto first = (*store)->Append(entries);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    EXPECT_EQ(*first, next);
    next += batch;
    EXPECT_EQ((*store)->checkpoint().size, next);
    EXPECT_EQ((*store)->checkpoint().root, tree.Root(next)) << next;
  }
  ASSERT_EQ(next, 70000u);
  // tlog-tiles example: 273 full level-0 tiles, a level-0 partial of 112, one full level-1
  // tile, a level-1 partial of 17, a level-2 partial of 1.
  EXPECT_TRUE(fs::exists(dir / "tile/0/272"));
  EXPECT_TRUE(fs::exists(dir / "tile/0/273.p/112"));
  EXPECT_TRUE(fs::exists(dir / "tile/1/000"));
  EXPECT_TRUE(fs::exists(dir / "tile/1/001.p/17"));
  EXPECT_TRUE(fs::exists(dir / "tile/2/000.p/1"));
  EXPECT_TRUE(fs::exists(dir / "tile/entries/273.p/112"));
  EXPECT_EQ(fs::file_size(dir / "tile/0/000"), 8192u);
  ASSERT_TRUE((*store)->CheckAll().has_value());
  const Hash root = (*store)->checkpoint().root;
  for (std::uint64_t index : {0ull, 1ull, 255ull, 256ull, 65535ull, 65536ull, 69999ull}) {
    auto proof = (*store)->Inclusion(index);
    ASSERT_TRUE(proof.has_value());
    EXPECT_TRUE(VerifyInclusion(index, next, HashLeaf(Entry(index)), *proof, root).has_value());
    EXPECT_EQ(*(*store)->ReadEntry(index), Entry(index));
  }
  for (std::uint64_t old_size : {1ull, 2ull, 256ull, 257ull, 65536ull, 69999ull, 70000ull}) {
    auto proof = (*store)->Consistency(old_size);
    ASSERT_TRUE(proof.has_value());
    auto old_root = (*store)->RootAt(old_size);
    ASSERT_TRUE(old_root.has_value());
    EXPECT_EQ(*old_root, tree.Root(old_size));
    EXPECT_TRUE(VerifyConsistency(old_size, next, *proof, *old_root, root).has_value());
  }
  store->reset();
  auto reader = LogStore::OpenForReading(dir);
  ASSERT_TRUE(reader.has_value());
  EXPECT_EQ((*reader)->checkpoint().size, 70000u);
  EXPECT_TRUE(OpenNote((*reader)->signed_checkpoint(), {PublicKeyOf(TestKey())}).has_value());
}

TEST(LogStore, OneAppenderAtATime) {
  TempDir tmp;
  ASSERT_TRUE(LogStore::Init(tmp / "log", "o", TestKey()).has_value());
  auto a = LogStore::OpenForAppend(tmp / "log");
  ASSERT_TRUE(a.has_value());
  auto b = LogStore::OpenForAppend(tmp / "log");
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().message.find("another process"), std::string::npos);
  a->reset();
  EXPECT_TRUE(LogStore::OpenForAppend(tmp / "log").has_value());
}

TEST(LogStore, PendingCheckpointIsAdoptedOnlyWhenValid) {
  TempDir tmp;
  const fs::path dir = tmp / "log";
  ASSERT_TRUE(LogStore::Init(dir, "o", TestKey()).has_value());
  std::string signed_at_3;
  {
    auto s = LogStore::OpenForAppend(dir);
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE((*s)->Append({"a", "b"}).has_value());
    const std::string at_2 = ReadFileBytes(dir / "checkpoint");
    ASSERT_TRUE((*s)->Append({"c"}).has_value());
    signed_at_3 = ReadFileBytes(dir / "checkpoint");
    // Pretend the last rename never happened: the old checkpoint is back, the signed one pending.
    WriteFileBytes(dir / ".clearbox-log/checkpoint.next", signed_at_3);
    WriteFileBytes(dir / "checkpoint", at_2);
  }
  {
    auto s = LogStore::OpenForAppend(dir);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    EXPECT_EQ((*s)->checkpoint().size, 3u);  // rolled forward, never re-signed differently
    EXPECT_FALSE(fs::exists(dir / ".clearbox-log/checkpoint.next"));
    // A torn pending checkpoint is discarded.
    WriteFileBytes(dir / ".clearbox-log/checkpoint.next", signed_at_3.substr(0, 40));
  }
  auto s = LogStore::OpenForAppend(dir);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)->checkpoint().size, 3u);
  EXPECT_FALSE(fs::exists(dir / ".clearbox-log/checkpoint.next"));
  EXPECT_TRUE((*s)->CheckAll().has_value());
}

// Flipping any byte of any tile or entry bundle is detected.
TEST(LogStore, EveryTileByteFlipIsDetected) {
  TempDir tmp;
  const fs::path dir = tmp / "log";
  ASSERT_TRUE(LogStore::Init(dir, "o", TestKey()).has_value());
  {
    auto s = LogStore::OpenForAppend(dir);
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE((*s)->Append({"one", "two", "three", "four", "five"}).has_value());
  }
  int flips = 0;
  for (const char* rel : {"tile/0/000.p/5", "tile/entries/000.p/5"}) {
    const std::string original = ReadFileBytes(dir / rel);
    ASSERT_FALSE(original.empty());
    for (std::size_t i = 0; i < original.size(); ++i) {
      std::string bad = original;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      WriteFileBytes(dir / rel, bad);
      auto s = LogStore::OpenForReading(dir);
      ASSERT_TRUE(s.has_value());
      EXPECT_FALSE((*s)->CheckAll().has_value()) << rel << " byte " << i;
      ++flips;
    }
    WriteFileBytes(dir / rel, original);
  }
  EXPECT_EQ(flips, 5 * 32 + 5 * 2 + 3 + 3 + 5 + 4 + 4);
  auto s = LogStore::OpenForAppend(dir);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE((*s)->CheckAll().has_value());
}

TEST(LogStore, RejectsOversizedEntries) {
  TempDir tmp;
  ASSERT_TRUE(LogStore::Init(tmp / "log", "o", TestKey()).has_value());
  auto s = LogStore::OpenForAppend(tmp / "log");
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE((*s)->Append({std::string(kMaxEntryBytes + 1, 'x')}).has_value());
  EXPECT_EQ((*s)->checkpoint().size, 0u);
  EXPECT_TRUE((*s)->Append({std::string(kMaxEntryBytes, 'x')}).has_value());
}

// Single appends leave one partial tile and bundle per size until the tile is full; then they
// are deleted (tlog-tiles allows it), and readers of an older size fall back to the full tile.
TEST(LogStore, PartialTilesArePrunedOnceTheFullTileExists) {
  TempDir tmp;
  const fs::path dir = tmp / "log";
  ASSERT_TRUE(LogStore::Init(dir, "log.example/test", TestKey()).has_value());
  auto store = LogStore::OpenForAppend(dir);
  ASSERT_TRUE(store.has_value());
  MemoryTree tree;
  for (std::uint64_t i = 0; i < 300; ++i) {
    ASSERT_TRUE((*store)->Append({Entry(i)}).has_value());
    tree.AppendEntry(Entry(i));
    if (i == 254) {
      // Before the tile is full every checkpointed size still has its partial tile.
      EXPECT_TRUE(fs::exists(dir / "tile/0/000.p/1"));
      EXPECT_TRUE(fs::exists(dir / "tile/entries/000.p/255"));
    }
  }
  EXPECT_FALSE(fs::exists(dir / "tile/0/000.p")) << "partials of a full tile kept";
  EXPECT_FALSE(fs::exists(dir / "tile/entries/000.p"));
  EXPECT_TRUE(fs::exists(dir / "tile/0/001.p/1"));
  EXPECT_TRUE(fs::exists(dir / "tile/0/001.p/44"));
  ASSERT_TRUE((*store)->CheckAll().has_value());
  // A reader that still holds the checkpoint of size 100 can build its proofs.
  TileHashSource old(100, [&](const std::string& p) -> Result<std::string> {
    if (!fs::exists(dir / p)) return Fail(ErrorCode::kInvalidArgument, "missing " + p);
    return ReadFileBytes(dir / p);
  });
  auto proof = InclusionProof(42, 100, old.Source());
  ASSERT_TRUE(proof.has_value()) << proof.error().message;
  EXPECT_TRUE(VerifyInclusion(42, 100, HashLeaf(Entry(42)), *proof, tree.Root(100)).has_value());
  for (std::uint64_t old_size : {1ull, 100ull, 255ull, 256ull, 299ull}) {
    auto c = (*store)->Consistency(old_size);
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(VerifyConsistency(old_size, 300, *c, tree.Root(old_size), tree.Root(300)));
  }
}

}  // namespace
}  // namespace clearbox::ledger
