#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Builds a JFFS2 image of a sample tree with mkfs.jffs2 `options`, unpacks it and checks
// the tree comes back exactly.
void RoundTrip(const std::string& options) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.jffs2 -r " + (tmp / "src").string() + " -o " +
                     (tmp / "img.jffs2").string() + " -e 0x10000 " + options),
            0);
  const auto m = UnpackForTest(tmp / "img.jffs2", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "img.jffs2"));
}

TEST(Jffs2, LittleEndianZlib) {
  RoundTrip("-l");
}
TEST(Jffs2, BigEndianZlib) {
  RoundTrip("-b");
}
TEST(Jffs2, LittleEndianLzo) {
  RoundTrip("-l -X lzo -x zlib -x rtime");
}
TEST(Jffs2, BigEndianLzo) {
  RoundTrip("-b -X lzo -x zlib -x rtime");
}
TEST(Jffs2, LittleEndianRtime) {
  RoundTrip("-l -x zlib");
}
TEST(Jffs2, BigEndianRtime) {
  RoundTrip("-b -x zlib");
}
TEST(Jffs2, Uncompressed) {
  RoundTrip("-l -m none");
}
TEST(Jffs2, PaddedToEraseBlock) {
  RoundTrip("-l -p");
}

TEST(Jffs2, SymlinksHardlinksAndDevicesAreKept) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(
      RunShell(
          "cd " + (tmp / "src").string() +
          " && mkdir dev && ln -s etc/passwd pw && ln -s /etc/shadow abs && ln -s ../../../x out "
          "&& ln www/index.html hard.html"),
      0);
  WriteFileBytes(tmp / "dev.txt", "/dev/console c 600 0 0 5 1 0 0 -\n");
  ASSERT_EQ(RunShell("mkfs.jffs2 -r " + (tmp / "src").string() + " -D " +
                     (tmp / "dev.txt").string() + " -o " + (tmp / "img.jffs2").string() + " -l"),
            0);
  const auto m = UnpackForTest(tmp / "img.jffs2", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  TreeFacts want = src;
  want["hard.html"] = src.at("www/index.html");
  EXPECT_EQ(ManifestFilesUnder(m, dir), want);
  bool saw_link = false, saw_dev = false;
  for (const auto& f : m.files) {
    if (f.path == dir + "/pw" && f.type == EntryType::kSymlink) saw_link = true;
    if (f.path == dir + "/dev/console" && f.type == EntryType::kCharDevice) saw_dev = true;
  }
  EXPECT_TRUE(saw_link);
  EXPECT_TRUE(saw_dev);
  EXPECT_TRUE(HasProblem(m, "traversal"));  // ../../../x is refused
  EXPECT_FALSE(fs::exists(tmp / "x"));
  EXPECT_FALSE(fs::is_symlink(tmp / "out" / dir / "out"));
}

TEST(Jffs2, TruncatedImageIsReported) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.jffs2 -m none -l -r " + (tmp / "src").string() + " -o " +
                     (tmp / "img.jffs2").string() + " && head -c 150001 " +
                     (tmp / "img.jffs2").string() + " > " + (tmp / "cut.jffs2").string()),
            0);
  const auto m = UnpackForTest(tmp / "cut.jffs2", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_FALSE(FindChunkDir(m, "jffs2").empty());
}

TEST(Jffs2, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 300000);
  // Sprinkle both magics so the handler is asked to probe them.
  for (std::size_t i = 0; i + 2 < junk.size(); i += 997) {
    junk[i] = (i & 1) ? '\x85' : '\x19';
    junk[i + 1] = (i & 1) ? '\x19' : '\x85';
  }
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "jffs2").empty());
}

TEST(Jffs2, EmbeddedInLargerImageHasExactExtent) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.jffs2 -b -p -e 0x10000 -r " + (tmp / "src").string() + " -o " +
                     (tmp / "img.jffs2").string()),
            0);
  const std::string img = ReadFileBytes(tmp / "img.jffs2");
  WriteFileBytes(tmp / "fw.bin", PseudoRandomBytes(9, 4096) + img + PseudoRandomBytes(10, 5000));
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& c : m.chunks) {
    if (c.format == "jffs2") {
      EXPECT_EQ(c.offset, 4096u);
      EXPECT_EQ(c.length, img.size());
    }
  }
}

}  // namespace
}  // namespace clearbox::unpack
