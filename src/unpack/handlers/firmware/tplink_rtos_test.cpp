// TP-Link RTOS header: no Debian writer, so scripts/fixtures/make-tplink-rtos.py (layout as
// binwalk v3 describes it) wraps a payload made by real tools (tar | gzip); the payload must
// come out byte for byte and be unpacked in turn.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string MakeRtosHeader() {
  return FixtureScript("make-tplink-rtos.py");
}

TEST(TplinkRtos, ImageIsCarvedAndModelRecorded) {
  TempDir tmp;
  MakeSampleTree(tmp / "tree");
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + "/tree && tar -cf - . | gzip -n > ../payload.tgz"), 0);
  ASSERT_EQ(RunShell("cd " + dir + " && " + MakeRtosHeader() + " payload.tgz fw.bin --hw 4.1"), 0);
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(1, 3000) + ReadFileBytes(tmp / "fw.bin"));
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "tplink-rtos");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 3000u);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(chunk->metadata.at("model"), "C50");
  EXPECT_EQ(chunk->metadata.at("hardware_version"), "4.1");
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).at("firmware.bin").sha256,
            FileSha256(tmp / "payload.tgz"));
  EXPECT_NE(FindChunk(m, "tar"), nullptr);
  EXPECT_TRUE(m.problems.empty());

  const std::string image = ReadFileBytes(tmp / "fw.bin");
  WriteFileBytes(tmp / "cut.bin", image.substr(0, image.size() - 10));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
  // "IMG0" without the first magic 20 bytes before it is not this format.
  std::string decoy = PseudoRandomBytes(2, 400);
  decoy.replace(120, 4, "IMG0");
  WriteFileBytes(tmp / "decoy.bin", decoy);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "decoy.bin", tmp / "out-decoy"), "tplink-rtos"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
