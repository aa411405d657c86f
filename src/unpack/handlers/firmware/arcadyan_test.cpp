// Arcadyan obfuscated LZMA images: scrambled by scripts/fixtures/make-arcadyan.py (the inverse
// of the unscrambling, written from binwalk v3's description) around streams made by
// `xz --format=lzma`; binwalk's own sample (tests/oracle/binwalk/arcadyan.bin, ctest
// binwalk_inputs) is the independent check.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string MakeArcadyan() {
  return FixtureScript("make-arcadyan.py");
}

TEST(Arcadyan, ScrambledLzmaIsDecodedAndRecursed) {
  TempDir tmp;
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() +
               " && mksquashfs tree root.sqfs -noappend -all-root -quiet -no-progress"
               " && xz --format=lzma -c root.sqfs > root.lzma && " +
               MakeArcadyan() + " -o fw.bin root.lzma && cat fw.bin tree/etc/passwd > fw2.bin"),
      0);
  const auto m = UnpackForTest(tmp / "fw2.bin", tmp / "out");
  const std::string dir = FindChunkDir(m, "arcadyan");
  ASSERT_EQ(dir, "0x00000000.arcadyan");
  EXPECT_TRUE(m.problems.empty());
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "fw.bin"));  // the stream's end, not the file's
  EXPECT_EQ(FileSha256(tmp / "out" / dir / "decompressed"), FileSha256(tmp / "root.sqfs"));
  EXPECT_EQ(ManifestFilesUnder(m, dir + "/decompressed.extract/0x00000000.squashfs"),
            HashTree(tmp / "tree"));
  // The plain LZMA inside is not also reported as a second chunk of the outer file.
  EXPECT_TRUE(FindChunkDir(m, "lzma").empty());
}

TEST(Arcadyan, TruncatedStreamIsReported) {
  TempDir tmp;
  MakeSampleTree(tmp / "tree", 4);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && tar -cf t.tar tree && xz --format=lzma -c t.tar > t.lzma && " +
                     MakeArcadyan() + " -o fw.bin t.lzma && head -c 2000 fw.bin > cut.bin"),
            0);
  const auto m = UnpackForTest(tmp / "cut.bin", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Arcadyan, ChanceSignaturesAreNotImages) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(11, 300000);
  for (std::size_t at : {0x69u, 5000u, 200000u})
    junk.replace(at, 3, std::string("\xd5\x08\x00", 3));
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "arcadyan").empty());
  for (const auto& p : m.problems) EXPECT_NE(p.handler, "arcadyan") << p.message;
}

}  // namespace
}  // namespace clearbox::unpack
