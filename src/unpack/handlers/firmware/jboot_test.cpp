// JBOOT (D-Link) images made by scripts/fixtures/make-jboot.py (the layout of OpenWrt's
// mkdlinkfw; no Debian tool writes it) around an LZMA kernel made by xz and a SquashFS root
// file system made by mksquashfs: each of the three nested headers is found, its checksums
// verified, and the kernel and root file system come out byte for byte.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// tmp/kernel (LZMA of a tar of the sample tree) and tmp/rootfs (SquashFS of the tree).
void MakeParts(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && tar -C tree -cf - . | xz --format=lzma > kernel && "
                     "mksquashfs tree rootfs -noappend -all-root -quiet -no-progress"),
            0);
}

// The jboot chunk whose header is `header` ("AUH", "STAG" or "SCH2"), or nullptr.
const ChunkRecord* FindJboot(const Manifest& m, const std::string& header) {
  for (const auto& c : m.chunks) {
    if (c.format == "jboot" && c.metadata.contains("header") && c.metadata.at("header") == header) {
      return &c;
    }
  }
  return nullptr;
}

TEST(Jboot, FactoryImageHeadersNestAndKernelAndRootfsComeOut) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + FixtureScript("make-jboot.py") +
                     " kernel rootfs fw.bin --factory --rom-id DLK6E2414001 --family 0x0052"),
            0);
  WriteFileBytes(tmp / "flash.bin", PseudoRandomBytes(3, 5000) + ReadFileBytes(tmp / "fw.bin"));
  const auto m = UnpackForTest(tmp / "flash.bin", tmp / "out");
  EXPECT_TRUE(m.problems.empty());

  const ChunkRecord* auh = FindJboot(m, "AUH");
  ASSERT_NE(auh, nullptr);
  EXPECT_EQ(auh->offset, 5000u);
  EXPECT_EQ(auh->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(auh->metadata.at("rom_id"), "DLK6E2414001");
  EXPECT_EQ(auh->metadata.at("family"), "0x0052");
  EXPECT_EQ(auh->metadata.at("data_size"), std::to_string(fs::file_size(tmp / "fw.bin") - 80));

  const ChunkRecord* stag = FindJboot(m, "STAG");
  ASSERT_NE(stag, nullptr);
  EXPECT_EQ(stag->offset, 0u);
  EXPECT_EQ(stag->depth, auh->depth + 1);
  EXPECT_EQ(stag->metadata.at("image_type"), "factory");
  EXPECT_EQ(stag->length, 16 + 40 + fs::file_size(tmp / "kernel"));

  const ChunkRecord* sch2 = FindJboot(m, "SCH2");
  ASSERT_NE(sch2, nullptr);
  EXPECT_EQ(sch2->metadata.at("compression"), "lzma");
  EXPECT_EQ(sch2->metadata.at("kernel_size"), std::to_string(fs::file_size(tmp / "kernel")));
  EXPECT_EQ(sch2->metadata.at("rootfs_size"), std::to_string(fs::file_size(tmp / "rootfs")));
  EXPECT_EQ(ManifestFilesUnder(m, sch2->extracted_to).at("kernel.bin").sha256,
            FileSha256(tmp / "kernel"));
  // The kernel is LZMA in turn (holding the tar); the root file system follows the STAG image.
  EXPECT_NE(FindChunk(m, "lzma"), nullptr);
  EXPECT_NE(FindChunk(m, "tar"), nullptr);
  const ChunkRecord* squashfs = FindChunk(m, "squashfs");
  ASSERT_NE(squashfs, nullptr);
  EXPECT_EQ(squashfs->container, stag->container);
  EXPECT_EQ(squashfs->offset, *stag->length);
}

TEST(Jboot, SysupgradeImageAndDamagedChecksums) {
  TempDir tmp;
  MakeParts(tmp);
  const std::string dir = tmp.path().string();
  ASSERT_EQ(
      RunShell("cd " + dir + " && " + FixtureScript("make-jboot.py") + " kernel rootfs up.bin"), 0);
  const auto m = UnpackForTest(tmp / "up.bin", tmp / "out");
  EXPECT_EQ(FindJboot(m, "AUH"), nullptr);
  ASSERT_NE(FindJboot(m, "STAG"), nullptr);
  EXPECT_EQ(FindJboot(m, "STAG")->metadata.at("image_type"), "sysupgrade");
  ASSERT_NE(FindJboot(m, "SCH2"), nullptr);
  EXPECT_NE(FindChunk(m, "squashfs"), nullptr);
  EXPECT_TRUE(m.problems.empty());

  // A flipped kernel byte: both data checksums (STAG sum, SCH2 CRC-32) fail and are reported,
  // the kernel is still carved.
  std::string image = ReadFileBytes(tmp / "up.bin");
  image[16 + 40 + 100] ^= 0x01;
  WriteFileBytes(tmp / "bad.bin", image);
  const auto bad = UnpackForTest(tmp / "bad.bin", tmp / "out-bad");
  std::size_t jboot_problems = 0;
  for (const auto& p : bad.problems) {
    if (p.kind == "malformed" && p.handler.ends_with("jboot")) ++jboot_problems;
  }
  EXPECT_EQ(jboot_problems, 2u);
  ASSERT_NE(FindJboot(bad, "SCH2"), nullptr);
  EXPECT_EQ(ManifestFilesUnder(bad, FindJboot(bad, "SCH2")->extracted_to).count("kernel.bin"), 1u);

  // A flipped header byte: the header checksums reject both headers.
  image = ReadFileBytes(tmp / "up.bin");
  image[5] ^= 0x01;       // STAG timestamp
  image[16 + 6] ^= 0x01;  // SCH2 load address
  WriteFileBytes(tmp / "hdr.bin", image);
  const auto hdr = UnpackForTest(tmp / "hdr.bin", tmp / "out-hdr");
  EXPECT_EQ(FindChunk(hdr, "jboot"), nullptr);

  // Cut inside the kernel: the STAG image is carved as far as it goes and reported.
  image = ReadFileBytes(tmp / "up.bin");
  WriteFileBytes(tmp / "cut.bin", image.substr(0, 16 + 40 + 50));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
  ASSERT_NE(FindJboot(cut, "STAG"), nullptr);
}

TEST(Jboot, MagicBytesAloneAreNotAHeader) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 20000);
  junk.replace(1000, 4, std::string("\x24\x21\x03\x02", 4));  // SCH2 magic
  junk.replace(3000, 4, std::string("\x04\x04\x24\x2b", 4));  // STAG magic
  junk.replace(6000 + 48, 22, std::string(16, '\0') + std::string("BH\x02\x00\x00\x00", 6));
  WriteFileBytes(tmp / "junk.bin", junk);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out"), "jboot"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
