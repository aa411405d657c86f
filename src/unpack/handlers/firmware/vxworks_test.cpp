// VxWorks images: synthetic ones made by scripts/fixtures/make-vxworks.py (real images come
// only from Wind River's tool chain): recognised, OS and versions named, symbol table carved.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string MakeVxWorks() {
  return FixtureScript("make-vxworks.py");
}

TEST(VxWorks, BannerVersionsAndSymbolTableBothByteOrders) {
  for (const std::string flag : {"", "--little"}) {
    TempDir tmp;
    ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeVxWorks() + " " + flag +
                       " --release 6.9 --wind 2.13 --symbols 30 -o vx.bin"),
              0);
    const auto m = UnpackForTest(tmp / "vx.bin", tmp / "out");
    const ChunkRecord* chunk = FindChunk(m, "vxworks");
    ASSERT_NE(chunk, nullptr);
    EXPECT_EQ(chunk->length, std::string("WIND version 2.13").size());
    EXPECT_EQ(chunk->metadata.at("os"), "VxWorks");
    EXPECT_EQ(chunk->metadata.at("wind_version"), "2.13");
    EXPECT_EQ(chunk->metadata.at("symbols"), "30");
    EXPECT_EQ(chunk->metadata.at("byte_order"), flag.empty() ? "big" : "little");
    const auto files = ManifestFilesUnder(m, chunk->extracted_to);
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files.at("symtab.bin").size, 30u * 16);
  }
}

TEST(VxWorks, ReleaseStringAfterBannerAndNoSymbols) {
  TempDir tmp;
  // The banner first, then the release string; no symbol table: recognised, no directory.
  WriteFileBytes(tmp / "vx.bin", PseudoRandomBytes(1, 1000) +
                                     std::string("WIND version 2.6\0", 17) +
                                     std::string("VxWorks5.5.1\0", 13) + std::string(100, '\0'));
  const auto m = UnpackForTest(tmp / "vx.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "vxworks");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 1000u);
  EXPECT_EQ(chunk->extracted_to, "");
  EXPECT_EQ(chunk->metadata.at("vxworks_version"), "5.5.1");
  EXPECT_EQ(chunk->metadata.count("symbols"), 0u);
  // A banner without a version is not one.
  WriteFileBytes(tmp / "no.bin", std::string("WIND version x") + PseudoRandomBytes(2, 500));
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "no.bin", tmp / "out2"), "vxworks"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
