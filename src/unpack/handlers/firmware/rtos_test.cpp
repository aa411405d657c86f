// QNX IFS and Windows CE B000FF images: Debian has no writer for either, so they are made by
// scripts/fixtures/make-rtos-images.py from the public layouts; each is recognised as a chunk
// of the right extent with what its header says, and no files. eCos: its MIPS exception
// handler assembled by the real binutils (mips-linux-gnu-as) into a blob.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string MakeRtos() {
  return FixtureScript("make-rtos-images.py");
}

TEST(QnxIfs, StartupHeaderBothByteOrdersInsideABlob) {
  for (const std::string flags : {"", "--big --machine 20", "--compression zlib"}) {
    TempDir tmp;
    ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeRtos() + " qnx ifs.bin " + flags),
              0);
    const std::string ifs = ReadFileBytes(tmp / "ifs.bin");
    WriteFileBytes(tmp / "fw.bin", PseudoRandomBytes(1, 2048) + ifs + PseudoRandomBytes(2, 999));
    const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
    const ChunkRecord* chunk = FindChunk(m, "qnx-ifs");
    ASSERT_NE(chunk, nullptr) << flags;
    EXPECT_EQ(chunk->offset, 2048u);
    EXPECT_EQ(chunk->length, ifs.size());
    EXPECT_EQ(chunk->extracted_to, "");
    EXPECT_EQ(chunk->metadata.at("os"), "QNX Neutrino");
    const bool big = flags.find("--big") != std::string::npos;
    EXPECT_EQ(chunk->metadata.at("byte_order"), big ? "big" : "little");
    EXPECT_EQ(chunk->metadata.at("machine"), big ? "ppc" : "arm");
    EXPECT_EQ(chunk->metadata.at("startup_vaddr"), "0x80100000");
    EXPECT_EQ(chunk->metadata.at("stored_size"), std::to_string(ifs.size()));
    if (flags.find("zlib") != std::string::npos) {
      EXPECT_EQ(chunk->metadata.at("compression"), "zlib");
      EXPECT_EQ(chunk->metadata.count("mount_point"), 0u);
    } else {
      EXPECT_EQ(chunk->metadata.at("compression"), "none");
      EXPECT_EQ(chunk->metadata.at("mount_point"), "/proc/boot");
    }
    EXPECT_TRUE(m.problems.empty()) << flags;
  }
}

TEST(QnxIfs, BareImageFilesystemAndTruncation) {
  TempDir tmp;
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeRtos() + " qnx ifs.bin"), 0);
  const std::string ifs = ReadFileBytes(tmp / "ifs.bin");
  // The image filesystem alone (as stored in flash behind a separate boot loader).
  const std::string fs = ifs.substr(ifs.find("imagefs"));
  WriteFileBytes(tmp / "fs.bin", std::string(512, '\xff') + fs);
  const auto m = UnpackForTest(tmp / "fs.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "qnx-ifs");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 512u);
  EXPECT_EQ(chunk->length, fs.size());
  EXPECT_EQ(chunk->metadata.at("mount_point"), "/proc/boot");

  WriteFileBytes(tmp / "cut.bin", ifs.substr(0, ifs.size() - 40));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  ASSERT_NE(FindChunk(cut, "qnx-ifs"), nullptr);
  EXPECT_TRUE(HasProblem(cut, "truncated"));

  // The signature with random bytes after it is not an image.
  std::string junk = PseudoRandomBytes(3, 50000);
  junk.replace(1000, 6, std::string("\xeb\x7e\xff\x00\x01\x00", 6));
  junk.replace(9000, 7, "imagefs");
  WriteFileBytes(tmp / "junk.bin", junk);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out-junk"), "qnx-ifs"), nullptr);
}

TEST(WinCe, RecordsAreWalkedAndCheckedInsideABlob) {
  TempDir tmp;
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + " && " + MakeRtos() + " wince nk.bin --records 4 && " +
               MakeRtos() + " wince bad.bin --records 2 --bad-checksum"),
      0);
  const std::string nk = ReadFileBytes(tmp / "nk.bin");
  WriteFileBytes(tmp / "fw.bin", PseudoRandomBytes(5, 300) + nk + PseudoRandomBytes(6, 300));
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "wince");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 300u);
  EXPECT_EQ(chunk->length, nk.size());
  EXPECT_EQ(chunk->extracted_to, "");
  EXPECT_EQ(chunk->metadata.at("os"), "Windows CE");
  EXPECT_EQ(chunk->metadata.at("image_start"), "0x80040000");
  EXPECT_EQ(chunk->metadata.at("records"), "4");
  EXPECT_EQ(chunk->metadata.at("entry_point"), "0x80041000");
  EXPECT_EQ(chunk->metadata.at("bad_checksums"), "0");

  const auto bad = UnpackForTest(tmp / "bad.bin", tmp / "out-bad");
  ASSERT_NE(FindChunk(bad, "wince"), nullptr);
  EXPECT_EQ(FindChunk(bad, "wince")->metadata.at("bad_checksums"), "1");

  WriteFileBytes(tmp / "cut.bin", nk.substr(0, nk.size() - 100));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  ASSERT_NE(FindChunk(cut, "wince"), nullptr);
  EXPECT_TRUE(HasProblem(cut, "truncated"));

  std::string junk = PseudoRandomBytes(7, 50000);
  junk.replace(100, 7, "B000FF\n");
  WriteFileBytes(tmp / "junk.bin", junk);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out-junk"), "wince"), nullptr);
}

// Assembles the eCos MIPS exception handler (as binwalk v3 quotes it) with GNU as for the
// byte order `endian_flag` (-EB/-EL), with or without the nop; returns the raw code.
std::string AssembleEcosHandler(const TempDir& tmp, const std::string& endian_flag, bool nop) {
  WriteFileBytes(tmp / "vsr.s", std::string(".set noreorder\n.set noat\n.text\n") +
                                    "mfc0 $k0, $13\n" + (nop ? "nop\n" : "") +
                                    "andi $k0, $k0, 0x7f\nli $k1, 0x80000400\n"
                                    "add $k1, $k1, $k0\nlw $k1, 0($k1)\njr $k1\nnop\n");
  const std::string dir = tmp.path().string();
  if (RunShell("cd " + dir + " && mips-linux-gnu-as -mips32 " + endian_flag +
               " -o vsr.o vsr.s && mips-linux-gnu-objcopy -O binary -j .text vsr.o vsr.bin") != 0) {
    return "";
  }
  return ReadFileBytes(tmp / "vsr.bin");
}

TEST(Ecos, ExceptionHandlerRecognisedInBothByteOrders) {
  if (!HaveTool("mips-linux-gnu-as")) GTEST_SKIP() << "binutils-mips-linux-gnu not installed";
  for (const bool nop : {true, false}) {
    for (const std::string endian : {"-EB", "-EL"}) {
      TempDir tmp;
      const std::string code = AssembleEcosHandler(tmp, endian, nop);
      ASSERT_GE(code.size(), 28u) << endian;
      WriteFileBytes(tmp / "fw.bin", PseudoRandomBytes(7, 4096) + code + PseudoRandomBytes(8, 500));
      const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
      const ChunkRecord* chunk = FindChunk(m, "ecos");
      ASSERT_NE(chunk, nullptr) << endian << " nop " << nop;
      EXPECT_EQ(chunk->offset, 4096u);
      EXPECT_EQ(chunk->length, nop ? 20u : 16u);  // mfc0 [nop] andi lui ori
      EXPECT_EQ(chunk->extracted_to, "");
      EXPECT_EQ(chunk->metadata.at("os"), "eCos");
      EXPECT_EQ(chunk->metadata.at("byte_order"), endian == "-EB" ? "big" : "little");
      EXPECT_EQ(chunk->metadata.at("vsr_table"), "0x80000400");
    }
  }
  // The first three instructions without the lui of the table: not eCos.
  TempDir tmp;
  const std::string code = AssembleEcosHandler(tmp, "-EB", true);
  ASSERT_GE(code.size(), 28u);
  WriteFileBytes(tmp / "decoy.bin",
                 PseudoRandomBytes(9, 100) + code.substr(0, 12) + std::string(16, '\xee'));
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "decoy.bin", tmp / "out"), "ecos"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
