#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string Le16(std::uint16_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8)};
}
std::string Le32(std::uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
          static_cast<char>(v >> 24)};
}

// A sparse file header (v1.0, 28/12-byte headers).
std::string SparseHeader(std::uint32_t block_size, std::uint32_t blocks, std::uint32_t chunks) {
  return Le32(0xed26ff3a) + Le16(1) + Le16(0) + Le16(28) + Le16(12) + Le32(block_size) +
         Le32(blocks) + Le32(chunks) + Le32(0);
}

std::string ChunkHeader(std::uint16_t type, std::uint32_t blocks, std::uint32_t total) {
  return Le16(type) + Le16(0) + Le32(blocks) + Le32(total);
}

// Makes raw.img (ext4 of the sample tree) and sparse.img (img2simg of it).
void MakeSparseExt4(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mke2fs -q -t ext4 -d tree -F raw.img 16M"
                     " && img2simg raw.img sparse.img"),
            0);
}

TEST(AndroidSparse, Ext4RoundTripWithImg2simg) {
  TempDir tmp;
  MakeSparseExt4(tmp);
  ASSERT_LT(fs::file_size(tmp / "sparse.img"), fs::file_size(tmp / "raw.img"));
  const auto m = UnpackForTest(tmp / "sparse.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "android-sparse");
  ASSERT_EQ(dir, "0x00000000.android-sparse");
  fs::create_directories(tmp / "expect");
  fs::copy_file(tmp / "raw.img", tmp / "expect/unsparsed.img");
  EXPECT_EQ(ManifestFilesUnder(m, dir), HashTree(tmp / "expect"));
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "sparse.img"));
  for (const auto& p : m.problems) EXPECT_NE(p.handler, "android-sparse") << p.message;
}

TEST(AndroidSparse, NonZeroFillChunksAreExpanded) {
  TempDir tmp;
  std::string raw = PseudoRandomBytes(41, 8192);
  for (int i = 0; i < 40960; ++i) raw += "\xde\xad\xbe\xef";  // 40 fill blocks
  raw += std::string(32768, '\0');                            // zero blocks
  raw += PseudoRandomBytes(42, 4096);
  WriteFileBytes(tmp / "expect/unsparsed.img", raw);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && img2simg expect/unsparsed.img s.img"), 0);
  ASSERT_LT(fs::file_size(tmp / "s.img"), 40000u);
  const auto m = UnpackForTest(tmp / "s.img", tmp / "out");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "android-sparse")), HashTree(tmp / "expect"));
  EXPECT_TRUE(m.problems.empty());
}

TEST(AndroidSparse, TruncatedImageIsReported) {
  TempDir tmp;
  MakeSparseExt4(tmp);
  const auto size = fs::file_size(tmp / "sparse.img");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && head -c " + std::to_string(size / 2) +
                     " sparse.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  ASSERT_FALSE(m.chunks.empty());
  EXPECT_FALSE(m.chunks[0].complete);
}

TEST(AndroidSparse, GarbageWithMagicIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(43, 100000);
  for (std::size_t at : {0u, 12345u, 70000u}) junk.replace(at, 4, "\x3a\xff\x26\xed");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "android-sparse").empty());
}

TEST(AndroidSparse, HostileBillionsOfBlocksEndInALimit) {
  TempDir tmp;
  // A 4-billion-block hole, then a 4-billion-block non-zero fill, in 68 bytes.
  WriteFileBytes(tmp / "hole.img",
                 SparseHeader(4096, 0xffffffffu, 1) + ChunkHeader(0xcac3, 0xffffffffu, 12));
  WriteFileBytes(tmp / "fill.img", SparseHeader(4096, 0xffffffffu, 1) +
                                       ChunkHeader(0xcac2, 0xffffffffu, 16) + "\x01\x02\x03\x04");
  // A header claiming 4 billion chunks with only two present.
  WriteFileBytes(tmp / "chunks.img", SparseHeader(4096, 0xffffffffu, 0xffffffffu) +
                                         ChunkHeader(0xcac3, 1, 12) + ChunkHeader(0xcac3, 1, 12));
  const auto start = std::chrono::steady_clock::now();
  const auto hole = UnpackForTest(tmp / "hole.img", tmp / "out1");
  const auto fill = UnpackForTest(tmp / "fill.img", tmp / "out2");
  const auto chunks = UnpackForTest(tmp / "chunks.img", tmp / "out3");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  EXPECT_TRUE(HasProblem(hole, "limit-exceeded"));
  EXPECT_TRUE(HasProblem(fill, "limit-exceeded"));
  EXPECT_TRUE(HasProblem(chunks, "truncated"));
}

TEST(AndroidSparse, ChunksBeyondTheHeaderBlockCountAreMalformed) {
  TempDir tmp;
  WriteFileBytes(tmp / "over.img", SparseHeader(4096, 1, 2) + ChunkHeader(0xcac3, 1, 12) +
                                       ChunkHeader(0xcac3, 5, 12));
  const auto m = UnpackForTest(tmp / "over.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "malformed"));
}

}  // namespace
}  // namespace clearbox::unpack
