// qcow2 images made by QEMU's own qemu-img (Debian's qemu-utils) from a raw ext4 disk: the
// rebuilt disk.img must equal the raw image byte for byte, for v2 and v3, cluster sizes,
// deflate and zstd compression, and the ext4 inside is then unpacked by recursion.
#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// tree/ and raw.img: an 8 MiB ext4 filesystem holding the sample tree.
void MakeRawDisk(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree", 8);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && truncate -s 8M raw.img && mkfs.ext4 -q -F -E root_owner=0:0 "
                     "-d tree raw.img"),
            0);
}

TEST(Qcow2, QemuImgImagesRebuildTheRawDisk) {
  TempDir tmp;
  MakeRawDisk(tmp);
  const std::string variants[] = {
      "-o compat=0.10",                          // version 2
      "-o compat=1.1",                           // version 3
      "-o compat=1.1,cluster_size=4096",         // small clusters: several L2 tables
      "-c -o compat=1.1",                        // deflate-compressed clusters
      "-c -o compat=1.1,compression_type=zstd",  // zstd-compressed clusters
      "-c -o compat=0.10,cluster_size=2097152",  // 2 MiB clusters, compressed, v2
  };
  int n = 0;
  for (const auto& options : variants) {
    const std::string name = "disk" + std::to_string(n++) + ".qcow2";
    ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && qemu-img convert -f raw -O qcow2 " +
                       options + " raw.img " + name),
              0)
        << options;
    const auto out = tmp / ("out-" + name);
    const auto m = UnpackForTest(tmp / name, out);
    const std::string dir = FindChunkDir(m, "qcow2");
    ASSERT_EQ(dir, "0x00000000.qcow2") << options;
    EXPECT_TRUE(m.problems.empty()) << options << ": " << m.problems.front().message;
    EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / name)) << options;
    EXPECT_EQ(FileSha256(out / dir / "disk.img"), FileSha256(tmp / "raw.img")) << options;
    EXPECT_EQ(ManifestFilesUnder(m, dir + "/disk.img.extract/0x00000000.extfs"),
              HashTree(tmp / "tree"))
        << options;
  }
}

TEST(Qcow2, ImageFollowedByOtherDataIsCarvedToItsEnd) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && qemu-img convert -f raw -O qcow2 raw.img d.qcow2 && "
                     "(head -c 1000 /dev/zero; cat d.qcow2; gzip -n -c tree/etc/passwd) > fw.bin"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  ASSERT_GE(m.chunks.size(), 2u);
  EXPECT_EQ(FindChunkDir(m, "qcow2"), "0x000003e8.qcow2");
  EXPECT_FALSE(FindChunkDir(m, "gzip").empty());
  EXPECT_TRUE(m.problems.empty());
}

TEST(Qcow2, TruncatedAndHostileImagesAreReportedQuickly) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && qemu-img convert -f raw -O qcow2 raw.img d.qcow2 && "
                     "head -c 300000 d.qcow2 > cut.qcow2"),
            0);
  const auto cut = UnpackForTest(tmp / "cut.qcow2", tmp / "out-cut");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
  EXPECT_EQ(FindChunkDir(cut, "qcow2"), "0x00000000.qcow2");

  // An exabyte-sized virtual disk from a few kilobytes: a limit problem, quickly.
  std::string huge = ReadFileBytes(tmp / "d.qcow2");
  const std::uint64_t size = std::uint64_t{1} << 60;
  for (int i = 0; i < 8; ++i) huge[24 + i] = static_cast<char>(size >> (56 - 8 * i));
  // The L1 table no longer covers that size: not a qcow2 any more, never a crash.
  WriteFileBytes(tmp / "huge.qcow2", huge);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "huge.qcow2", tmp / "out-huge");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_TRUE(FindChunkDir(m, "qcow2").empty());

  // An L1 table offset with bits above the offset field set (found by qcow2_fuzz: it was
  // masked in one place and used raw in another) is not a qcow2.
  std::string high = ReadFileBytes(tmp / "d.qcow2");
  high[40] = static_cast<char>(0x40);
  WriteFileBytes(tmp / "high.qcow2", high);
  const auto h = UnpackForTest(tmp / "high.qcow2", tmp / "out-high");
  EXPECT_TRUE(FindChunkDir(h, "qcow2").empty());

  // Random bytes after the magic are never a qcow2.
  std::string junk = PseudoRandomBytes(3, 100000);
  for (std::size_t at : {0u, 777u, 65536u}) junk.replace(at, 4, "QFI\xfb");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto j = UnpackForTest(tmp / "junk.bin", tmp / "out-junk");
  EXPECT_TRUE(FindChunkDir(j, "qcow2").empty());
}

TEST(Qcow2, LargeSparseDiskIsChargedToTheBudget) {
  TempDir tmp;
  // 64 GiB of virtual disk with nothing allocated: the holes count against the limits.
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && qemu-img create -q -f qcow2 big.qcow2 64G"),
            0);
  Limits limits;
  limits.max_total_bytes = std::uint64_t{1} << 30;
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "big.qcow2", tmp / "out", limits);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(FindChunkDir(m, "qcow2"), "0x00000000.qcow2");
  EXPECT_FALSE(m.problems.empty());
}

}  // namespace
}  // namespace clearbox::unpack
