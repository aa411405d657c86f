// TP-Link, D-Link SEAMA and Netgear CHK images made by the generator scripts
// scripts/fixtures/make-{tplink,seama,chk}.py (no Debian tool writes these formats), with a
// gzip'd kernel and a SquashFS root filesystem made by the real tools.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string Fixture(const std::string& script) {
  return FixtureScript(script);
}

// src/kernel (gzip'd busybox of the sample tree) and src/rootfs (SquashFS of the tree).
void MakeParts(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkdir -p src && gzip -n -c tree/bin/busybox > src/kernel && "
                     "mksquashfs tree src/rootfs -noappend -all-root -quiet -no-progress"),
            0);
}

std::string MetadataOf(const ChunkRecord* chunk, const std::string& key) {
  if (chunk == nullptr || !chunk->metadata.contains(key)) return "<none>";
  return chunk->metadata.at(key);
}

TEST(Tplink, Version1KernelAndRootfsCarvedAndRecursed) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + Fixture("make-tplink.py") +
                     " -v 1 --fw-version 'ver. 1.0' -o fw.bin src/kernel src/rootfs"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "tplink");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->extracted_to, "0x00000000.tplink");
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to), HashTree(tmp / "src"));
  EXPECT_EQ(MetadataOf(chunk, "vendor"), "TP-LINK Technologies");
  EXPECT_EQ(MetadataOf(chunk, "firmware_version"), "ver. 1.0");
  EXPECT_EQ(MetadataOf(chunk, "hardware_id"), "0x08410002");
  EXPECT_EQ(MetadataOf(chunk, "release"), "3.16.9");
  EXPECT_TRUE(m.problems.empty());
  // The rootfs is unpacked in turn.
  EXPECT_FALSE(
      ManifestFilesUnder(m, "0x00000000.tplink/rootfs.extract/0x00000000.squashfs").empty());
}

TEST(Tplink, Version2WithBootloader) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && cp tree/etc/passwd src/bootloader && " +
                     Fixture("make-tplink.py") +
                     " -v 2 --boot src/bootloader -o fw.bin src/kernel src/rootfs"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "tplink");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to), HashTree(tmp / "src"));
  EXPECT_EQ(MetadataOf(chunk, "header_version"), "2");
  EXPECT_TRUE(m.problems.empty());
}

TEST(Tplink, TruncatedAndGarbage) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + Fixture("make-tplink.py") +
                     " -o fw.bin src/kernel src/rootfs && head -c 3000 fw.bin > cut.bin"),
            0);
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out1");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
  ASSERT_NE(FindChunk(cut, "tplink"), nullptr);
  EXPECT_FALSE(FindChunk(cut, "tplink")->complete);
  std::string junk = PseudoRandomBytes(7, 200000);
  junk.replace(1000, 24, std::string("\x01\x00\x00\x00TP-LINK Technologies", 24));
  junk.replace(90000, 9, std::string("\x02\x00\x00\x00ver. ", 9));
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out2");
  EXPECT_EQ(FindChunk(m, "tplink"), nullptr);
}

TEST(Seama, BigAndLittleEndianPayloadWithMd5) {
  for (const std::string flag : {"", "--little"}) {
    TempDir tmp;
    MakeParts(tmp);
    ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + Fixture("make-seama.py") + " " +
                       flag + " -m dev=/dev/mtdblock/2 -m type=firmware -o fw.bin src/rootfs"),
              0);
    const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
    const ChunkRecord* chunk = FindChunk(m, "seama");
    ASSERT_NE(chunk, nullptr);
    EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
    const auto files = ManifestFilesUnder(m, chunk->extracted_to);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files.at("payload").sha256, FileSha256(tmp / "src/rootfs"));
    EXPECT_EQ(MetadataOf(chunk, "md5"), "ok");
    EXPECT_EQ(MetadataOf(chunk, "meta.0"), "dev=/dev/mtdblock/2");
    EXPECT_EQ(MetadataOf(chunk, "meta.1"), "type=firmware");
    EXPECT_EQ(MetadataOf(chunk, "endian"), flag.empty() ? "big" : "little");
    EXPECT_TRUE(m.problems.empty());
  }
}

TEST(Seama, Md5MismatchReportedAndSealedWrapperRecognised) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + Fixture("make-seama.py") +
                     " --seal -o fw.bin src/kernel"),
            0);
  std::string image = ReadFileBytes(tmp / "fw.bin");
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  // The wrapper (payload size 0) is recognised with its meta strings and no directory; the
  // image inside it is a chunk of its own.
  ASSERT_EQ(m.chunks.size(), 3u);  // wrapper, image, and the gzip kernel inside it
  EXPECT_EQ(m.chunks[0].format, "seama");
  EXPECT_EQ(m.chunks[0].extracted_to, "");
  EXPECT_EQ(MetadataOf(&m.chunks[0], "kind"), "sealed wrapper (images follow)");
  EXPECT_EQ(m.chunks[1].format, "seama");
  EXPECT_EQ(MetadataOf(&m.chunks[1], "md5"), "ok");
  image[image.size() - 10] ^= 0x55;
  WriteFileBytes(tmp / "bad.bin", image);
  const auto bad = UnpackForTest(tmp / "bad.bin", tmp / "out2");
  EXPECT_TRUE(HasProblem(bad, "malformed"));
  EXPECT_EQ(MetadataOf(&bad.chunks[1], "md5"), "mismatch");
}

TEST(NetgearChk, KernelAndRootfsCarvedChecksumsChecked) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + Fixture("make-chk.py") +
                     " -b U12H332T00_NETGEAR -o fw.chk src/kernel src/rootfs"),
            0);
  const auto m = UnpackForTest(tmp / "fw.chk", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "netgear-chk");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.chk"));
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to), HashTree(tmp / "src"));
  EXPECT_EQ(MetadataOf(chunk, "board_id"), "U12H332T00_NETGEAR");
  EXPECT_EQ(MetadataOf(chunk, "checksums"), "ok");
  EXPECT_TRUE(m.problems.empty());

  std::string image = ReadFileBytes(tmp / "fw.chk");
  image[200] ^= 0x01;
  WriteFileBytes(tmp / "bad.chk", image);
  const auto bad = UnpackForTest(tmp / "bad.chk", tmp / "out2");
  EXPECT_TRUE(HasProblem(bad, "malformed"));
  EXPECT_EQ(MetadataOf(FindChunk(bad, "netgear-chk"), "checksums"), "mismatch");
  EXPECT_EQ(ManifestFilesUnder(bad, "0x00000000.netgear-chk").size(), 2u);
}

TEST(NetgearChk, HostileLengthsAndGarbage) {
  TempDir tmp;
  // Claims a 4 GiB kernel in a 100-byte file: carved as far as it goes, reported.
  std::string image = std::string("*#$^") + std::string("\x00\x00\x00\x2c", 4) +
                      std::string(16, '\0') + std::string("\xff\xff\xff\x00", 4) +
                      std::string(12, '\0') + "BRD1" + std::string(56, 'k');
  WriteFileBytes(tmp / "evil.chk", image);
  const auto m = UnpackForTest(tmp / "evil.chk", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "netgear-chk"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.at("kernel").size, 56u);
  std::string junk = PseudoRandomBytes(9, 100000);
  for (std::size_t at : {0u, 5000u, 77777u}) junk.replace(at, 4, "*#$^");
  WriteFileBytes(tmp / "junk.bin", junk);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out2"), "netgear-chk"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
