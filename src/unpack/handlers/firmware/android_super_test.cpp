// Android super images: Debian 12 has no lpmake, so they are written by
// scripts/fixtures/make-android-super.py (from AOSP's metadata_format.h) around partition
// images made by real tools (mke2fs -d); each logical partition must come out by name with
// the bytes that went in, and the ext2 inside must be unpacked by recursion.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string MakeSuper() {
  return FixtureScript("make-android-super.py");
}

// system.img (ext2 of the sample tree) and vendor.bin (random bytes, stored in two extents).
void MakePartitions(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mke2fs -q -F -t ext2 -E root_owner=0:0 -d tree system.img 2048 "
                     ">/dev/null 2>&1"),
            0);
  WriteFileBytes(tmp / "vendor.bin", PseudoRandomBytes(9, 300000));
}

std::string Build(const TempDir& tmp, const std::string& options) {
  return "cd " + tmp.path().string() + " && " + MakeSuper() +
         " super.img system=system.img vendor=vendor.bin --split vendor --zero scratch=16 " +
         options;
}

void ExpectPartitions(const TempDir& tmp, const Manifest& m, const std::string& dir) {
  const auto files = ManifestFilesUnder(m, dir);
  EXPECT_EQ(files.at("system.img").sha256, FileSha256(tmp / "system.img"));
  const std::string vendor = ReadFileBytes(tmp / "vendor.bin");
  // The generator pads each partition to whole sectors.
  const std::string padded = vendor + std::string((512 - vendor.size() % 512) % 512, '\0');
  EXPECT_EQ(ReadFileBytes(tmp / "out" / dir / "vendor.img"), padded);
  EXPECT_EQ(files.at("scratch.img").size, 16u * 512);
  for (const auto& c : m.chunks) {
    if (c.format == "extfs" && c.extracted_to.starts_with(dir + "/system.img")) {
      EXPECT_EQ(ManifestFilesUnder(m, c.extracted_to), HashTree(tmp / "tree"));
      return;
    }
  }
  ADD_FAILURE() << "no ext2 unpacked from system.img";
}

TEST(AndroidSuper, LogicalPartitionsAreCarvedByName) {
  for (const std::string options : {"", "--minor 2 --slots 3"}) {
    TempDir tmp;
    MakePartitions(tmp);
    ASSERT_EQ(RunShell(Build(tmp, options)), 0);
    const auto m = UnpackForTest(tmp / "super.img", tmp / "out");
    const ChunkRecord* chunk = FindChunk(m, "android-super");
    ASSERT_NE(chunk, nullptr) << options;
    EXPECT_EQ(chunk->offset, 0u);
    EXPECT_EQ(chunk->length, fs::file_size(tmp / "super.img"));
    EXPECT_EQ(chunk->metadata.at("partitions"), "3");
    EXPECT_EQ(chunk->metadata.at("geometry_checksum"), "ok");
    EXPECT_EQ(chunk->metadata.at("metadata_checksum"), "ok");
    EXPECT_EQ(chunk->metadata.at("metadata_version"), options.empty() ? "10.0" : "10.2");
    EXPECT_EQ(chunk->metadata.at("groups"), "default,main");
    for (const auto& p : m.problems) ADD_FAILURE() << p.path << ": " << p.message;
    ExpectPartitions(tmp, m, chunk->extracted_to);
  }
}

TEST(AndroidSuper, DamagedPrimaryCopiesFallBackToTheBackups) {
  TempDir tmp;
  MakePartitions(tmp);
  ASSERT_EQ(RunShell(Build(tmp, "")), 0);
  std::string image = ReadFileBytes(tmp / "super.img");
  image[4096 + 40] ^= 0x01;    // primary geometry: metadata_max_size, checksum now wrong
  image[12288 + 256] ^= 0x01;  // primary metadata slot 0: a byte of its tables
  WriteFileBytes(tmp / "super.img", image);
  const auto m = UnpackForTest(tmp / "super.img", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "android-super");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->metadata.at("geometry_checksum"), "primary mismatch, backup ok");
  EXPECT_EQ(chunk->metadata.at("metadata_checksum"), "primary mismatch, backup ok");
  ExpectPartitions(tmp, m, chunk->extracted_to);
}

TEST(AndroidSuper, SparseSuperImageIsExpandedThenCarved) {
  TempDir tmp;
  MakePartitions(tmp);
  ASSERT_EQ(RunShell(Build(tmp, "") + " && img2simg super.img super.simg"), 0);
  const auto m = UnpackForTest(tmp / "super.simg", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "android-super");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).at("system.img").sha256,
            FileSha256(tmp / "system.img"));
}

TEST(AndroidSuper, TruncatedAndHostileImagesAreReported) {
  TempDir tmp;
  MakePartitions(tmp);
  ASSERT_EQ(RunShell(Build(tmp, "") + " && head -c 400000 super.img > cut.img"), 0);
  const auto cut = UnpackForTest(tmp / "cut.img", tmp / "out-cut");
  ASSERT_NE(FindChunk(cut, "android-super"), nullptr);
  EXPECT_TRUE(HasProblem(cut, "truncated"));

  // Extents pointing far past the image, and a huge extent count: problems, no crash.
  std::string image = ReadFileBytes(tmp / "super.img");
  // Both the primary slot and its backup (two slots of 64 KiB later) are changed, so
  // neither checks and the primary one is used.
  for (const std::size_t slot : {12288u, 12288u + 2 * 65536u}) {
    const std::size_t extents = slot + 128 + 3 * 52;  // after three partition entries
    for (int i = 0; i < 8; ++i) image[extents + 12 + i] = static_cast<char>(0x7f);
  }
  WriteFileBytes(tmp / "far.img", image);
  const auto far = UnpackForTest(tmp / "far.img", tmp / "out-far");
  const ChunkRecord* chunk = FindChunk(far, "android-super");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->metadata.at("metadata_checksum"), "tables mismatch");
  EXPECT_TRUE(HasProblem(far, "truncated"));

  std::string junk = PseudoRandomBytes(4, 70000);
  junk.replace(4096, 8, std::string("gDla\x34\0\0\0", 8));
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto j = UnpackForTest(tmp / "junk.bin", tmp / "out-junk");
  EXPECT_EQ(FindChunk(j, "android-super"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
