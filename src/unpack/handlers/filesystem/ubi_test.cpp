#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Makes img.ubifs from a sample tree and ubi.img (one dynamic volume "rootfs") from it.
void MakeUbiImage(const TempDir& tmp, TreeFacts* src) {
  *src = MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "ubinize.cfg",
                 "[rootfs]\nmode=ubi\nimage=" + (tmp / "img.ubifs").string() +
                     "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n");
  ASSERT_EQ(RunShell("mkfs.ubifs -r " + (tmp / "src").string() + " -m 2048 -e 129024 -c 200 -o " +
                     (tmp / "img.ubifs").string() + " && ubinize -o " + (tmp / "ubi.img").string() +
                     " -m 2048 -p 128KiB -s 512 -Q 7 " + (tmp / "ubinize.cfg").string()),
            0);
}

TEST(Ubi, VolumeFileEqualsUbifsImage) {
  TempDir tmp;
  TreeFacts src;
  MakeUbiImage(tmp, &src);
  const auto m = UnpackForTest(tmp / "ubi.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubi");
  ASSERT_FALSE(dir.empty());
  ASSERT_EQ(m.chunks.front().format, "ubi");
  EXPECT_EQ(m.chunks.front().length, fs::file_size(tmp / "ubi.img"));
  const std::string want = ReadFileBytes(tmp / "img.ubifs");
  const std::string got = ReadFileBytes(tmp / "out" / dir / "rootfs.ubifs");
  // The volume holds the image's LEBs; compare the image-sized prefix.
  ASSERT_GE(got.size(), want.size());
  EXPECT_TRUE(got.compare(0, want.size(), want) == 0);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
}

TEST(Ubi, TwoVolumesAreSeparateFiles) {
  TempDir tmp;
  const std::string a = PseudoRandomBytes(1, 300000), b = PseudoRandomBytes(2, 5000);
  WriteFileBytes(tmp / "a.bin", a);
  WriteFileBytes(tmp / "b.bin", b);
  WriteFileBytes(tmp / "ubinize.cfg",
                 "[kernel]\nmode=ubi\nimage=" + (tmp / "a.bin").string() +
                     "\nvol_id=0\nvol_type=static\nvol_name=kernel\n"
                     "[cfg]\nmode=ubi\nimage=" +
                     (tmp / "b.bin").string() +
                     "\nvol_id=1\nvol_type=dynamic\nvol_size=1MiB\nvol_name=../../cfg\n");
  ASSERT_EQ(RunShell("ubinize -o " + (tmp / "ubi.img").string() + " -m 2048 -p 128KiB " +
                     (tmp / "ubinize.cfg").string()),
            0);
  const auto m = UnpackForTest(tmp / "ubi.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubi");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ReadFileBytes(tmp / "out" / dir / "kernel.bin"), a);  // static: exact size
  std::string cfg;
  for (const auto& f : m.files) {
    if (f.path.starts_with(dir + "/") && f.path.ends_with("cfg.bin")) {
      EXPECT_EQ(f.path.find('/', dir.size() + 1), std::string::npos);  // one component
      cfg = ReadFileBytes(tmp / "out" / f.path);
    }
  }
  ASSERT_GE(cfg.size(), b.size());
  EXPECT_EQ(cfg.substr(0, b.size()), b);
}

TEST(Ubi, TruncatedImageIsReported) {
  TempDir tmp;
  TreeFacts src;
  MakeUbiImage(tmp, &src);
  ASSERT_EQ(
      RunShell("head -c 400000 " + (tmp / "ubi.img").string() + " > " + (tmp / "cut.img").string()),
      0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Ubi, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 600000);
  for (std::size_t i = 0; i + 4 < junk.size(); i += 131072) junk.replace(i, 4, "UBI#");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "ubi").empty());
}

}  // namespace
}  // namespace clearbox::unpack
