// D-Link DKBS header: no Debian writer, so scripts/fixtures/make-dkbs.py (layout as binwalk
// v3 describes it) wraps a payload made by real tools (tar | gzip); the payload must come out
// byte for byte and be unpacked in turn.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

class DkbsByteOrder : public ::testing::TestWithParam<bool> {};

TEST_P(DkbsByteOrder, PayloadIsCarvedAndHeaderRecorded) {
  const bool little = GetParam();
  TempDir tmp;
  const auto facts = MakeSampleTree(tmp / "tree");
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + "/tree && tar -cf - . | gzip -n > ../payload.tgz"), 0);
  ASSERT_EQ(RunShell("cd " + dir + " && " + FixtureScript("make-dkbs.py") +
                     " payload.tgz fw.bin --version v2.10rc001" + (little ? " --little" : "")),
            0);
  const std::string image = ReadFileBytes(tmp / "fw.bin");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(1, 3000) + image + PseudoRandomBytes(2, 99));
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "dkbs");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 3000u);
  EXPECT_EQ(chunk->length, image.size());
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(chunk->metadata.at("board_id"), "wapac09_dkbs_dap2660");
  EXPECT_EQ(chunk->metadata.at("version"), "v2.10rc001");
  EXPECT_EQ(chunk->metadata.at("boot_device"), "/dev/mtdblock/2");
  EXPECT_EQ(chunk->metadata.at("byte_order"), little ? "little" : "big");
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).at("firmware.bin").sha256,
            FileSha256(tmp / "payload.tgz"));
  const std::string tar_dir = FindChunkDir(m, "tar");
  ASSERT_FALSE(tar_dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, tar_dir), facts);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << ": " << p.message;
}

INSTANTIATE_TEST_SUITE_P(Orders, DkbsByteOrder, ::testing::Bool());

TEST(Dkbs, CutPayloadIsTruncated) {
  TempDir tmp;
  WriteFileBytes(tmp / "payload.bin", PseudoRandomBytes(3, 9000));
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + " && " + FixtureScript("make-dkbs.py") + " payload.bin fw.bin"),
            0);
  const std::string image = ReadFileBytes(tmp / "fw.bin");
  ExpectCutChunkTruncated(image.substr(0, image.size() - 1000), "dkbs");
}

// The board id string appears in the firmware's own scripts and config: text is no header.
TEST(Dkbs, BoardIdInTextIsNoChunk) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "IMAGE_SIGNATURE=wapac09_dkbs_dap2660 # version v1.13 \n";
  WriteFileBytes(tmp / "rc.conf", text);
  const auto m = UnpackForTest(tmp / "rc.conf", tmp / "out");
  EXPECT_EQ(FindChunk(m, "dkbs"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
