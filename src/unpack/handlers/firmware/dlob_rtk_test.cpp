// D-Link DLOB and Realtek RTK0 wrappers: no Debian writer, so they are made by
// scripts/fixtures/make-vendor-headers.py (layouts as binwalk v3 describes them) around a
// payload made by real tools (tar | gzip); the payload must come out byte for byte and be
// unpacked in turn.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string MakeHeaders() {
  return FixtureScript("make-vendor-headers.py");
}

// payload.tgz: the sample tree, tarred and gzipped.
void MakePayload(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + "/tree && tar -cf - . | gzip -n > ../payload.tgz"), 0);
}

TEST(Dlob, PayloadIsCarvedAndTextRecorded) {
  TempDir tmp;
  MakePayload(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeHeaders() +
                     " dlob payload.tgz fw.bin --text 'DIR-842 rev C'"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "dlob");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(chunk->metadata.at("metadata"), "DIR-842 rev C");
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).at("data.bin").sha256,
            FileSha256(tmp / "payload.tgz"));
  EXPECT_NE(FindChunk(m, "gzip"), nullptr);
  EXPECT_TRUE(m.problems.empty());

  WriteFileBytes(tmp / "cut.bin", ReadFileBytes(tmp / "fw.bin").substr(0, 3000));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  EXPECT_NE(FindChunk(cut, "dlob"), nullptr);
  EXPECT_TRUE(HasProblem(cut, "truncated"));

  std::string junk = PseudoRandomBytes(8, 20000);
  junk.replace(500, 4, std::string("\x5e\xa3\xa4\x17", 4));
  WriteFileBytes(tmp / "junk.bin", junk);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out-junk"), "dlob"), nullptr);
}

TEST(Rtk, PayloadIsCarved) {
  TempDir tmp;
  MakePayload(tmp);
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + " && " + MakeHeaders() + " rtk payload.tgz fw.bin"),
      0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "rtk");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(chunk->metadata.at("header_size"), "32");
  EXPECT_EQ(chunk->metadata.at("identifier"), "0x00008196");
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).at("payload.bin").sha256,
            FileSha256(tmp / "payload.tgz"));
  EXPECT_NE(FindChunk(m, "gzip"), nullptr);

  // The declared size must be the rest of the file: cut or extended, it is not an RTK0 image.
  WriteFileBytes(tmp / "cut.bin", ReadFileBytes(tmp / "fw.bin").substr(0, 3000));
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "cut.bin", tmp / "out-cut"), "rtk"), nullptr);
  WriteFileBytes(tmp / "junk.bin", "RTK0" + PseudoRandomBytes(9, 5000));
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out-junk"), "rtk"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
