// Broadcom CFE: a MIPS vector table laid out as CFE's (branches, then the seal word
// 0x43464531 twice at offset 28) assembled by GNU as for both byte orders, followed by a
// version string and a gzip member: the bootloader is recognised, its byte order recorded,
// and what follows is still found.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Assembles the vector table for `endian_flag` (-EB/-EL) and returns the raw code.
std::string AssembleCfeVectors(const TempDir& tmp, const std::string& endian_flag) {
  WriteFileBytes(tmp / "cfe.s",
                 ".set noreorder\n.text\n"
                 "vec_reset: b start\nnop\n"
                 "vec_apientry: b start\nnop\n"
                 "vec_exception: b start\nnop\n"
                 "nop\n"
                 ".word 0x43464531\n.word 0x43464531\n"
                 "start: b start\nnop\n"
                 ".asciz \"CFE version 1.0.37-5.4 for BCM947XX (32bit,SP,LE)\"\n");
  const std::string dir = tmp.path().string();
  if (RunShell("cd " + dir + " && mips-linux-gnu-as -mips32 " + endian_flag +
               " -o cfe.o cfe.s && mips-linux-gnu-objcopy -O binary -j .text cfe.o cfe.bin") != 0) {
    return "";
  }
  return ReadFileBytes(tmp / "cfe.bin");
}

TEST(Cfe, SealRecognisedInBothByteOrders) {
  if (!HaveTool("mips-linux-gnu-as")) GTEST_SKIP() << "binutils-mips-linux-gnu not installed";
  for (const std::string endian : {"-EB", "-EL"}) {
    TempDir tmp;
    const std::string code = AssembleCfeVectors(tmp, endian);
    ASSERT_GE(code.size(), 36u) << endian;
    EXPECT_EQ(code.substr(28, 8), endian == "-EB" ? "CFE1CFE1" : "1EFC1EFC");
    MakeSampleTree(tmp / "tree");
    ASSERT_EQ(RunShell("gzip -n -c " + (tmp / "tree/etc/passwd").string() + " > " +
                       (tmp / "payload.gz").string()),
              0);
    WriteFileBytes(tmp / "flash.bin",
                   code + std::string(200, '\xff') + ReadFileBytes(tmp / "payload.gz"));
    const auto m = UnpackForTest(tmp / "flash.bin", tmp / "out");
    const ChunkRecord* chunk = FindChunk(m, "cfe");
    ASSERT_NE(chunk, nullptr) << endian;
    EXPECT_EQ(chunk->offset, 0u);
    EXPECT_EQ(chunk->length, 36u);
    EXPECT_EQ(chunk->extracted_to, "");
    EXPECT_EQ(chunk->metadata.at("byte_order"), endian == "-EB" ? "big" : "little");
    EXPECT_EQ(chunk->metadata.at("os"), "Broadcom CFE");
    const ChunkRecord* gzip = FindChunk(m, "gzip");
    ASSERT_NE(gzip, nullptr);
    EXPECT_EQ(gzip->offset, code.size() + 200);
  }
  // The seal closer to the start than 28 bytes cannot have a vector table before it.
  TempDir tmp;
  WriteFileBytes(tmp / "early.bin", "0123456789CFE1CFE1" + PseudoRandomBytes(2, 500));
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "early.bin", tmp / "out-early"), "cfe"), nullptr);
  // The seal in text, 28 bytes or more in, has no reset vector before it.
  WriteFileBytes(tmp / "text.bin",
                 "// the seal the CFE handler looks for is \"CFE1CFE1\" or 1EFC1EFC\n" +
                     std::string(300, ' '));
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "text.bin", tmp / "out-text"), "cfe"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
