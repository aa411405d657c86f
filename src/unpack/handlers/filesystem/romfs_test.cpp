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

int MakeRomfs(const fs::path& src, const fs::path& img) {
  return RunShell("genromfs -d " + src.string() + " -f " + img.string() + " >/dev/null 2>&1");
}

TEST(Romfs, TreeIsExtractedExactly) {
  TempDir tmp;
  const auto src = tmp / "src";
  MakeSampleTree(src);
  ASSERT_EQ(RunShell("cd " + src.string() +
                     " && ln bin/busybox bin/sh && ln -s busybox bin/ls && mknod console c 5 1"),
            0);
  const TreeFacts facts = HashTree(src);
  ASSERT_EQ(MakeRomfs(src, tmp / "fs.img"), 0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "romfs");
  ASSERT_EQ(dir, "0x00000000.romfs");
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
  // The image is one chunk: no gap after it (the 1 KiB padding belongs to it).
  for (const auto& g : m.gaps) EXPECT_NE(g.container, "") << g.offset;
}

TEST(Romfs, TruncatedImageIsRecordedNotCrashed) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(MakeRomfs(tmp / "src", tmp / "fs.img"), 0);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && head -c $(( $(stat -c %s fs.img) / 2 )) fs.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Romfs, GarbageIsRejected) {
  TempDir tmp;
  WriteFileBytes(tmp / "junk.bin", "-rom1fs-" + PseudoRandomBytes(8, 2000));
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "romfs"), "");
  EXPECT_FALSE(HasProblem(m, "truncated"));  // the checksum rejects the false magic
}

TEST(Romfs, HostileSymlinksStayInside) {
  TempDir tmp;
  const auto src = tmp / "src";
  MakeSampleTree(src);
  ASSERT_EQ(RunShell("cd " + src.string() +
                     " && ln -s ../../../../etc/passwd escape && ln -s /bin/busybox abs"),
            0);
  ASSERT_EQ(MakeRomfs(src, tmp / "fs.img"), 0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "romfs");
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
