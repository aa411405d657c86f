// D-Link DEAFBEAD: no Debian writer, so scripts/fixtures/make-deafbead.py (unblob's layout)
// packs a sample tree with each file compressed by the real gzip; the tree must come back.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string Pack(const TempDir& tmp, const std::string& options = "") {
  const std::string dir = tmp.path().string();
  EXPECT_EQ(
      RunShell("cd " + dir + " && " + FixtureScript("make-deafbead.py") + " tree a.bin " + options),
      0);
  return ReadFileBytes(tmp / "a.bin");
}

class DeafbeadSeparator : public ::testing::TestWithParam<bool> {};

TEST_P(DeafbeadSeparator, TreeComesBack) {
  TempDir tmp;
  const auto facts = MakeSampleTree(tmp / "tree");
  const std::string archive = Pack(tmp, GetParam() ? "--slashes" : "");
  WriteFileBytes(tmp / "blob.bin",
                 PseudoRandomBytes(1, 2000) + archive + PseudoRandomBytes(2, 300));
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "deafbead");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 2000u);
  EXPECT_EQ(chunk->length, archive.size());
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to), facts);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << ": " << p.message;
}

INSTANTIATE_TEST_SUITE_P(Names, DeafbeadSeparator, ::testing::Bool());

TEST(Deafbead, CutArchiveIsTruncated) {
  TempDir tmp;
  MakeSampleTree(tmp / "tree");
  const std::string archive = Pack(tmp);
  ExpectCutChunkTruncated(archive.substr(0, archive.size() - 100), "deafbead");
}

TEST(Deafbead, CorruptGzipIsReportedAndKeptAsStored) {
  TempDir tmp;
  WriteFileBytes(tmp / "tree/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  std::string archive = Pack(tmp);
  archive[archive.size() - 12] = static_cast<char>(archive[archive.size() - 12] ^ 0x55);
  WriteFileBytes(tmp / "bad.bin", archive);
  const auto m = UnpackForTest(tmp / "bad.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "deafbead");
  ASSERT_NE(chunk, nullptr);
  EXPECT_TRUE(HasProblem(m, "malformed"));
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).count("etc/passwd.gz"), 1u);
}

TEST(Deafbead, NamesCannotLeaveTheOutput) {
  TempDir tmp;
  std::string archive("\xde\xaf\xbe\xad", 4);
  const std::string name = "..\\..\\..\\escape.txt";
  WriteFileBytes(tmp / "x", "x\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && gzip -n -c x > x.gz"), 0);
  const std::string packed = ReadFileBytes(tmp / "x.gz");
  archive += '\x87';
  archive += static_cast<char>(name.size());
  archive += '\0';
  archive += name;
  for (int i = 0; i < 4; ++i) archive += static_cast<char>((packed.size() >> (8 * i)) & 0xff);
  archive += packed;
  fs::create_directories(tmp / "deep/a/b");
  WriteFileBytes(tmp / "deep/a/b/evil.bin", archive);
  const auto m = UnpackForTest(tmp / "deep/a/b/evil.bin", tmp / "deep/a/b/out");
  EXPECT_FALSE(fs::exists(tmp / "deep/escape.txt"));
  EXPECT_FALSE(fs::exists(tmp / "deep/a/escape.txt"));
  EXPECT_FALSE(fs::exists(tmp / "deep/a/b/escape.txt"));
  EXPECT_TRUE(HasProblem(m, "traversal"));
}

}  // namespace
}  // namespace clearbox::unpack
