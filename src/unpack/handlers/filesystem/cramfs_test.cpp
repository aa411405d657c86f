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

// The sample tree plus a symlink, a device node and a zero-filled file.
TreeFacts MakeCramTree(const fs::path& src) {
  MakeSampleTree(src);
  WriteFileBytes(src / "zeros.bin", std::string(20000, '\0'));
  EXPECT_EQ(RunShell("cd " + src.string() + " && ln -s busybox bin/ls && mknod console c 5 1"), 0);
  return HashTree(src);
}

void ExpectTree(const Manifest& m, const TreeFacts& facts) {
  const std::string dir = FindChunkDir(m, "cramfs");
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
}

TEST(Cramfs, TreeIsExtractedExactly) {
  TempDir tmp;
  const TreeFacts facts = MakeCramTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.cramfs " + (tmp / "src").string() + " " + (tmp / "fs.img").string() +
                     " >/dev/null 2>&1"),
            0);
  ExpectTree(UnpackForTest(tmp / "fs.img", tmp / "out"), facts);
}

TEST(Cramfs, PaddedImageWithHolesIsExtracted) {
  TempDir tmp;
  const TreeFacts facts = MakeCramTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.cramfs -p -z " + (tmp / "src").string() + " " +
                     (tmp / "fs.img").string() + " >/dev/null 2>&1"),
            0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "cramfs"), "0x00000000.cramfs");
  ExpectTree(m, facts);
}

// mkfs.cramfs -N big writes what a big-endian host's kernel reads: byte-swapped fields and
// big-endian inode bit-fields. Both byte orders of the same tree extract to the same files.
TEST(Cramfs, BigEndianTreeIsExtractedExactly) {
  TempDir tmp;
  const TreeFacts facts = MakeCramTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.cramfs -N big " + (tmp / "src").string() + " " +
                     (tmp / "be.img").string() + " >/dev/null 2>&1"),
            0);
  const auto head = ReadFileBytes(tmp / "be.img").substr(0, 4);
  ASSERT_EQ(head, std::string("\x28\xcd\x3d\x45", 4));
  ExpectTree(UnpackForTest(tmp / "be.img", tmp / "out"), facts);
}

TEST(Cramfs, BigEndianPaddedImageWithHolesIsExtracted) {
  TempDir tmp;
  const TreeFacts facts = MakeCramTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.cramfs -N big -p -z " + (tmp / "src").string() + " " +
                     (tmp / "be.img").string() + " >/dev/null 2>&1"),
            0);
  const auto m = UnpackForTest(tmp / "be.img", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "cramfs"), "0x00000000.cramfs");
  ExpectTree(m, facts);
}

// A big-endian image inside a larger blob is carved at its offset, not only at 0.
TEST(Cramfs, BigEndianImageInsideBlobIsCarved) {
  TempDir tmp;
  const TreeFacts facts = MakeCramTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.cramfs -N big " + (tmp / "src").string() + " " +
                     (tmp / "be.img").string() + " >/dev/null 2>&1"),
            0);
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(7, 4096) + ReadFileBytes(tmp / "be.img") +
                                       PseudoRandomBytes(8, 1000));
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "cramfs"), "0x00001000.cramfs");
  ExpectTree(m, facts);
}

TEST(Cramfs, BigEndianTruncatedImageIsRecordedNotCrashed) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.cramfs -N big " + (tmp / "src").string() + " " +
                     (tmp / "fs.img").string() + " >/dev/null 2>&1 && cd " + tmp.path().string() +
                     " && head -c $(( $(stat -c %s fs.img) / 2 )) fs.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Cramfs, TruncatedImageIsRecordedNotCrashed) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.cramfs " + (tmp / "src").string() + " " + (tmp / "fs.img").string() +
                     " >/dev/null 2>&1 && cd " + tmp.path().string() +
                     " && head -c $(( $(stat -c %s fs.img) / 2 )) fs.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Cramfs, GarbageIsRejected) {
  TempDir tmp;
  WriteFileBytes(tmp / "junk.bin", std::string("\x45\x3d\xcd\x28", 4) + PseudoRandomBytes(3, 3000) +
                                       std::string("\x45\x3d\xcd\x28", 4) + "xxxxxxxxxxxx" +
                                       "Compressed ROMFS" + PseudoRandomBytes(4, 100));
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "cramfs"), "");
}

TEST(Cramfs, HostileSymlinksStayInside) {
  TempDir tmp;
  const auto src = tmp / "src";
  MakeSampleTree(src);
  ASSERT_EQ(RunShell("cd " + src.string() +
                     " && ln -s ../../../../etc/passwd escape && ln -s /bin/busybox abs"),
            0);
  ASSERT_EQ(RunShell("mkfs.cramfs " + src.string() + " " + (tmp / "fs.img").string() +
                     " >/dev/null 2>&1"),
            0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "cramfs");
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
