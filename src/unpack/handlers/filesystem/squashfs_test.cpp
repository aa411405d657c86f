#include <gtest/gtest.h>
#include <unistd.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// The sample tree plus a hard link, a zero-filled (sparse) file, an empty file, a symlink
// and a character device; returns the facts of its regular files.
TreeFacts MakeRichTree(const fs::path& src) {
  MakeSampleTree(src);
  WriteFileBytes(src / "zeros.bin", std::string(300000, '\0'));
  WriteFileBytes(src / "etc/empty.conf", "");
  EXPECT_EQ(RunShell("cd " + src.string() +
                     " && ln bin/busybox bin/sh && ln -s busybox bin/ls && mkdir -p dev && "
                     "mknod dev/console c 5 1"),
            0);
  return HashTree(src);
}

const ExtractedEntry* FindEntry(const Manifest& m, const std::string& path) {
  for (const auto& f : m.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

class SquashfsCompressors : public ::testing::TestWithParam<std::string> {};

TEST_P(SquashfsCompressors, TreeIsExtractedExactly) {
  TempDir tmp;
  const auto src = tmp / "src";
  const TreeFacts facts = MakeRichTree(src);
  ASSERT_EQ(RunShell("mksquashfs " + src.string() + " " + (tmp / "fs.img").string() + " -comp " +
                     GetParam() + " -noappend -quiet -no-progress >/dev/null"),
            0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "squashfs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << " " << p.message;
  const auto* dev = FindEntry(m, dir + "/dev/console");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->type, EntryType::kCharDevice);
  EXPECT_FALSE(dev->created);
  EXPECT_EQ(dev->device_major, 5u);
  EXPECT_EQ(dev->device_minor, 1u);
  const auto* link = FindEntry(m, dir + "/bin/ls");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link_target, "busybox");
  const auto* hard = FindEntry(m, dir + "/bin/sh");
  ASSERT_NE(hard, nullptr);
  EXPECT_EQ(hard->type, EntryType::kHardlink);
  EXPECT_FALSE(fs::exists(tmp / "out" / dir / "dev/console"));
}

INSTANTIATE_TEST_SUITE_P(Squashfs, SquashfsCompressors,
                         ::testing::Values("gzip", "xz", "lzo", "lz4", "zstd"));

TEST(Squashfs, TruncatedImageIsRecordedNotCrashed) {
  TempDir tmp;
  MakeSampleTree(tmp / "src", 3);
  ASSERT_EQ(
      RunShell("mksquashfs " + (tmp / "src").string() + " " + (tmp / "fs.img").string() +
               " -comp xz -noappend -quiet -no-progress >/dev/null && cd " + tmp.path().string() +
               " && head -c $(( $(stat -c %s fs.img) / 2 )) fs.img > cut.img"),
      0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Squashfs, CarvedFromInsideJunk) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mksquashfs " + (tmp / "src").string() + " " + (tmp / "fs.img").string() +
                     " -comp gzip -noappend -quiet -no-progress >/dev/null"),
            0);
  const std::string junk = PseudoRandomBytes(7, 5000);
  WriteFileBytes(tmp / "blob.bin", junk + ReadFileBytes(tmp / "fs.img") + junk);
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const std::string dir = FindChunkDir(m, "squashfs");
  ASSERT_EQ(dir, "0x00001388.squashfs");
  EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
}

TEST(Squashfs, GarbageIsRejected) {
  TempDir tmp;
  WriteFileBytes(tmp / "junk.bin",
                 "hsqs" + PseudoRandomBytes(9, 4096) + "hsqs" + std::string(200, '\0'));
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "squashfs"), "");
  EXPECT_FALSE(HasProblem(m, "truncated"));
}

TEST(Squashfs, HostileSymlinksStayInside) {
  TempDir tmp;
  const auto src = tmp / "src";
  MakeSampleTree(src);
  ASSERT_EQ(RunShell("cd " + src.string() +
                     " && ln -s ../../../../etc/passwd escape && ln -s /bin/busybox abs"),
            0);
  ASSERT_EQ(RunShell("mksquashfs " + src.string() + " " + (tmp / "fs.img").string() +
                     " -comp gzip -noappend -quiet -no-progress >/dev/null"),
            0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "squashfs");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(HasProblem(m, "traversal"));
  const auto* escape = FindEntry(m, dir + "/escape");
  ASSERT_NE(escape, nullptr);
  EXPECT_FALSE(escape->created);
  EXPECT_FALSE(fs::is_symlink(tmp / "out" / dir / "escape"));
  const fs::path abs = tmp / "out" / dir / "abs";
  ASSERT_TRUE(fs::is_symlink(abs));
  const std::string target = fs::read_symlink(abs).string();
  EXPECT_FALSE(target.starts_with("/")) << target;
  EXPECT_EQ(ReadFileBytes(abs), ReadFileBytes(src / "bin/busybox"));
}

// Writes a little-endian field into a squashfs superblock held in `img`.
void PatchLe(std::string& img, std::size_t offset, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) img[offset + i] = static_cast<char>(value >> (8 * i));
}

std::string MakeGzipImage(const TempDir& tmp) {
  MakeSampleTree(tmp / "src");
  EXPECT_EQ(RunShell("mksquashfs " + (tmp / "src").string() + " " + (tmp / "fs.img").string() +
                     " -comp gzip -noappend -quiet -no-progress >/dev/null"),
            0);
  return ReadFileBytes(tmp / "fs.img");
}

// Fuzzer find: a block_log of 3590 (superblock offset 22) was used as a shift count before
// it was range-checked (UB). Such a superblock is simply not squashfs.
TEST(Squashfs, HugeBlockLogIsRejectedWithoutUb) {
  TempDir tmp;
  std::string img = MakeGzipImage(tmp);
  ASSERT_GE(img.size(), 96u);
  PatchLe(img, 22, 3590, 2);
  WriteFileBytes(tmp / "bad.img", img);
  const auto m = UnpackForTest(tmp / "bad.img", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "squashfs"), "");
}

// Fuzzer find: fragment_entry_count 0x93000001 (superblock offset 16) made libsquashfs
// allocate count * 16 bytes (39 GB) for the fragment table. The count is now checked
// against the image; the rest of the tree is still extracted.
TEST(Squashfs, FragmentCountLargerThanImageIsReportedNotAllocated) {
  TempDir tmp;
  std::string img = MakeGzipImage(tmp);
  ASSERT_GE(img.size(), 96u);
  PatchLe(img, 16, 0x93000001u, 4);
  WriteFileBytes(tmp / "bad.img", img);
  const auto m = UnpackForTest(tmp / "bad.img", tmp / "out");
  ASSERT_NE(FindChunkDir(m, "squashfs"), "");
  bool reported = false;
  for (const auto& p : m.problems) {
    if (p.message.find("fragment table of 2466250753 entries does not fit") != std::string::npos) {
      reported = true;
    }
  }
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace clearbox::unpack
