#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// mkfs.ubifs command for a sample tree at tmp/src with compression `compr`.
std::string MkfsUbifs(const TempDir& tmp, const std::string& compr, const std::string& out) {
  return "mkfs.ubifs -r " + (tmp / "src").string() + " -m 2048 -e 129024 -c 200 -x " + compr +
         " -o " + (tmp / out).string();
}

void RoundTrip(const std::string& compr) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MkfsUbifs(tmp, compr, "img.ubifs")), 0);
  const auto m = UnpackForTest(tmp / "img.ubifs", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "img.ubifs"));
}

TEST(Ubifs, Lzo) {
  RoundTrip("lzo");
}
TEST(Ubifs, Zlib) {
  RoundTrip("zlib");
}
TEST(Ubifs, Zstd) {
  RoundTrip("zstd");
}
TEST(Ubifs, Uncompressed) {
  RoundTrip("none");
}

TEST(Ubifs, SymlinksHardlinksAndDevicesAreKept) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("cd " + (tmp / "src").string() +
                     " && mkdir dev && ln -s etc/passwd pw && ln -s ../../../x out "
                     "&& ln www/index.html hard.html"),
            0);
  WriteFileBytes(tmp / "dev.txt", "/dev/console c 600 0 0 5 1 0 0 -\n");
  ASSERT_EQ(RunShell(MkfsUbifs(tmp, "lzo", "img.ubifs") + " -D " + (tmp / "dev.txt").string()), 0);
  const auto m = UnpackForTest(tmp / "img.ubifs", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  TreeFacts want = src;
  want["hard.html"] = src.at("www/index.html");
  EXPECT_EQ(ManifestFilesUnder(m, dir), want);
  bool saw_link = false, saw_dev = false, saw_hard = false;
  for (const auto& f : m.files) {
    if (f.path == dir + "/pw" && f.type == EntryType::kSymlink) saw_link = true;
    if (f.path == dir + "/dev/console" && f.type == EntryType::kCharDevice) saw_dev = true;
    if (f.type == EntryType::kHardlink) saw_hard = true;
  }
  EXPECT_TRUE(saw_link);
  EXPECT_TRUE(saw_dev);
  EXPECT_TRUE(saw_hard);
  EXPECT_TRUE(HasProblem(m, "traversal"));  // ../../../x is refused
  EXPECT_FALSE(fs::exists(tmp / "x"));
}

TEST(Ubifs, TruncatedImageIsReported) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MkfsUbifs(tmp, "none", "img.ubifs") + " && head -c 700000 " +
                     (tmp / "img.ubifs").string() + " > " + (tmp / "cut.ubifs").string()),
            0);
  const auto m = UnpackForTest(tmp / "cut.ubifs", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Ubifs, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 400000);
  for (std::size_t i = 0; i + 24 < junk.size(); i += 4099) {
    junk.replace(i, 4, std::string("\x31\x18\x10\x06", 4));
    junk[i + 20] = 6;
  }
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "ubifs").empty());
}

TEST(Ubifs, UbiImageUnpacksToTheSourceTree) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "ubinize.cfg",
                 "[rootfs]\nmode=ubi\nimage=" + (tmp / "img.ubifs").string() +
                     "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n");
  ASSERT_EQ(
      RunShell(MkfsUbifs(tmp, "lzo", "img.ubifs") + " && ubinize -o " + (tmp / "ubi.img").string() +
               " -m 2048 -p 128KiB -s 512 " + (tmp / "ubinize.cfg").string()),
      0);
  const auto m = UnpackForTest(tmp / "ubi.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  EXPECT_NE(dir.find("rootfs.ubifs.extract/"), std::string::npos);
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
}

}  // namespace
}  // namespace clearbox::unpack
