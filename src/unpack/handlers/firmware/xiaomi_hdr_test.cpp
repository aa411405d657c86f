// Xiaomi HDR1/HDR2: no Debian writer, so scripts/fixtures/make-xiaomi-hdr.py (OpenWrt's
// xiaomifw.c layout) wraps blobs made by real tools: a U-Boot-like raw blob and a
// tar | gzip firmware; each blob must come out byte for byte and the firmware be unpacked.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

struct Fixture {
  TempDir tmp;
  TreeFacts facts;
  std::string image;
};

void Build(Fixture& f, const std::string& options) {
  f.facts = MakeSampleTree(f.tmp / "tree");
  const std::string dir = f.tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + "/tree && tar -cf - . | gzip -n > ../fw.tgz"), 0);
  WriteFileBytes(f.tmp / "uboot.bin", PseudoRandomBytes(7, 3001));
  ASSERT_EQ(RunShell("cd " + dir + " && " + FixtureScript("make-xiaomi-hdr.py") +
                     " image.bin uboot=uboot.bin@0x0:1 firmware=fw.tgz@0x160000:6 " + options),
            0);
  f.image = ReadFileBytes(f.tmp / "image.bin");
}

class XiaomiHdrVersion : public ::testing::TestWithParam<bool> {};

TEST_P(XiaomiHdrVersion, BlobsAreCarvedAndUnpacked) {
  const bool hdr2 = GetParam();
  Fixture f;
  Build(f, hdr2 ? "--hdr2 --device RA70 --region EU" : "");
  WriteFileBytes(f.tmp / "blob.bin",
                 PseudoRandomBytes(1, 4000) + f.image + PseudoRandomBytes(2, 77));
  const auto m = UnpackForTest(f.tmp / "blob.bin", f.tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "xiaomi-hdr");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 4000u);
  EXPECT_EQ(chunk->length, f.image.size());
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(chunk->metadata.at("header"), hdr2 ? "HDR2" : "HDR1");
  EXPECT_EQ(chunk->metadata.at("device"), hdr2 ? "RA70" : "37");
  if (hdr2) {
    EXPECT_EQ(chunk->metadata.at("region"), "EU");
  }
  EXPECT_EQ(chunk->metadata.at("crc32"), "ok");
  EXPECT_EQ(chunk->metadata.at("blob1"), "firmware type 6 flash offset 1441792");
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  EXPECT_EQ(files.at("uboot").sha256, FileSha256(f.tmp / "uboot.bin"));
  EXPECT_EQ(files.at("firmware").sha256, FileSha256(f.tmp / "fw.tgz"));
  const std::string tar_dir = FindChunkDir(m, "tar");
  ASSERT_FALSE(tar_dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, tar_dir), f.facts);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << ": " << p.message;
}

INSTANTIATE_TEST_SUITE_P(Headers, XiaomiHdrVersion, ::testing::Bool());

TEST(XiaomiHdr, WrongCrcIsReportedAndBlobsStillCarved) {
  Fixture f;
  Build(f, "");
  std::string image = f.image;
  image[image.size() - 1] = static_cast<char>(image.back() ^ 0x40);  // inside the signature
  WriteFileBytes(f.tmp / "bad.bin", image);
  const auto m = UnpackForTest(f.tmp / "bad.bin", f.tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "xiaomi-hdr");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->metadata.at("crc32"), "mismatch");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).at("firmware").sha256,
            FileSha256(f.tmp / "fw.tgz"));
}

TEST(XiaomiHdr, CutImageIsTruncated) {
  Fixture f;
  Build(f, "");
  ExpectCutChunkTruncated(f.image.substr(0, f.image.size() - 600), "xiaomi-hdr");
}

TEST(XiaomiHdr, MagicWithoutBlobHeadersIsNoChunk) {
  Fixture f;
  Build(f, "");
  std::string no_blob_magic = f.image;
  no_blob_magic[48] = 0;  // first blob's 0xbabe
  std::string offset_past_signature = f.image;
  offset_past_signature[16] = static_cast<char>(0xff);
  offset_past_signature[17] = static_cast<char>(0xff);
  for (const auto& bytes : {no_blob_magic, offset_past_signature, std::string("HDR1 is a word")}) {
    WriteFileBytes(f.tmp / "x.bin", bytes);
    const auto m = UnpackForTest(f.tmp / "x.bin", f.tmp / "out");
    EXPECT_EQ(FindChunk(m, "xiaomi-hdr"), nullptr);
    fs::remove_all(f.tmp / "out");
  }
}

}  // namespace
}  // namespace clearbox::unpack
