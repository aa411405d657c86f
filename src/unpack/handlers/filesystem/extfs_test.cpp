#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

const ExtractedEntry* FindEntry(const Manifest& m, const std::string& path) {
  for (const auto& f : m.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

// mke2fs -d populates the filesystem from `src` without mounting anything.
int MakeExtImage(const std::string& type, const fs::path& src, const fs::path& img,
                 const std::string& size = "8M") {
  return RunShell("mke2fs -q -t " + type + " -d " + src.string() + " -F " + img.string() + " " +
                  size + " >/dev/null 2>&1");
}

class ExtfsTypes : public ::testing::TestWithParam<std::string> {};

TEST_P(ExtfsTypes, TreeIsExtractedExactly) {
  TempDir tmp;
  const auto src = tmp / "src";
  MakeSampleTree(src);
  // A long symlink target (slow symlink), a short one (fast), a hard link, a device.
  const std::string long_target(100, 'x');
  ASSERT_EQ(RunShell("cd " + src.string() +
                     " && ln bin/busybox bin/sh && ln -s busybox bin/ls && ln -s " + long_target +
                     " long && mknod console c 5 1 && dd if=/dev/zero of=zeros.bin bs=1k "
                     "count=300 2>/dev/null"),
            0);
  const TreeFacts facts = HashTree(src);
  ASSERT_EQ(MakeExtImage(GetParam(), src, tmp / "fs.img"), 0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "extfs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
  for (const auto& p : m.problems) {
    if (p.path.starts_with(dir)) ADD_FAILURE() << p.kind << " " << p.path << " " << p.message;
  }
  const auto* dev = FindEntry(m, dir + "/console");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->type, EntryType::kCharDevice);
  EXPECT_EQ(dev->device_major, 5u);
  EXPECT_EQ(dev->device_minor, 1u);
  const auto* ls = FindEntry(m, dir + "/bin/ls");
  ASSERT_NE(ls, nullptr);
  EXPECT_EQ(ls->link_target, "busybox");
  const auto* slow = FindEntry(m, dir + "/long");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->link_target, long_target);
  const auto* hard = FindEntry(m, dir + "/bin/sh");
  ASSERT_NE(hard, nullptr);
  EXPECT_EQ(hard->type, EntryType::kHardlink);
  EXPECT_FALSE(fs::exists(tmp / "out" / dir / "lost+found"));
}

INSTANTIATE_TEST_SUITE_P(Extfs, ExtfsTypes, ::testing::Values("ext2", "ext3", "ext4"));

TEST(Extfs, TruncatedImageIsRecordedNotCrashed) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(MakeExtImage("ext4", tmp / "src", tmp / "fs.img"), 0);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && head -c 4194304 fs.img > cut.img"), 0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Extfs, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 8192);
  junk[1080] = '\x53';
  junk[1081] = '\xef';
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "extfs"), "");
  EXPECT_FALSE(HasProblem(m, "truncated"));
}

TEST(Extfs, HostileSymlinksStayInside) {
  TempDir tmp;
  const auto src = tmp / "src";
  MakeSampleTree(src);
  ASSERT_EQ(RunShell("cd " + src.string() +
                     " && ln -s ../../../../etc/passwd escape && ln -s /bin/busybox abs"),
            0);
  ASSERT_EQ(MakeExtImage("ext2", src, tmp / "fs.img"), 0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "extfs");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::is_symlink(tmp / "out" / dir / "escape"));
  const fs::path abs = tmp / "out" / dir / "abs";
  ASSERT_TRUE(fs::is_symlink(abs));
  EXPECT_FALSE(fs::read_symlink(abs).string().starts_with("/"));
  EXPECT_EQ(ReadFileBytes(abs), ReadFileBytes(src / "bin/busybox"));
}

}  // namespace
}  // namespace clearbox::unpack
