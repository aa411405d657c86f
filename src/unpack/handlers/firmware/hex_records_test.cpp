// Intel HEX and Motorola S-record files made by srec_cat (Debian package srecord) from
// binaries: the extracted ranges must equal the binaries that went in.
#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Writes a.bin (70,000 bytes: past 64 KiB, so Intel HEX needs extended address records) and
// b.bin (3,000 bytes) into `tmp`.
void MakeBinaries(const TempDir& tmp) {
  WriteFileBytes(tmp / "a.bin", PseudoRandomBytes(41, 70000));
  WriteFileBytes(tmp / "b.bin", PseudoRandomBytes(42, 3000));
}

int SrecCat(const TempDir& tmp, const std::string& args) {
  return RunShell("cd " + tmp.path().string() + " && srec_cat " + args + " 2>&1");
}

TEST(IntelHex, LinearAddressedImageRoundTripsWithSrecCat) {
  TempDir tmp;
  MakeBinaries(tmp);
  ASSERT_EQ(SrecCat(tmp, "a.bin -binary -offset 0x08000000 -o a.hex -intel"), 0);
  ASSERT_NE(ReadFileBytes(tmp / "a.hex").find(":020000040801F1"), std::string::npos);
  const auto m = UnpackForTest(tmp / "a.hex", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "ihex"), "0x00000000.ihex");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "a.hex"));
  EXPECT_EQ(FileSha256(tmp / "out/0x00000000.ihex/0x08000000.bin"), FileSha256(tmp / "a.bin"));
  const std::string info = ReadFileBytes(tmp / "out/0x00000000.ihex/info.txt");
  EXPECT_NE(info.find("end_record: yes"), std::string::npos) << info;
  EXPECT_NE(info.find("address_ranges: 1\n"), std::string::npos) << info;
}

TEST(IntelHex, SeparateRangesWithStartAddress) {
  TempDir tmp;
  MakeBinaries(tmp);
  // Two ranges with a hole between them, 16-byte records, a start linear address record.
  ASSERT_EQ(SrecCat(tmp,
                    "a.bin -binary -offset 0x1000 b.bin -binary -offset 0x30000"
                    " -execution-start-address=0x1234 -o ab.hex -intel"
                    " -output_block_size=16"),
            0);
  const auto m = UnpackForTest(tmp / "ab.hex", tmp / "out");
  const std::string dir = "out/" + FindChunkDir(m, "ihex");
  ASSERT_EQ(dir, "out/0x00000000.ihex");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  EXPECT_EQ(FileSha256(tmp / (dir + "/0x00001000.bin")), FileSha256(tmp / "a.bin"));
  EXPECT_EQ(FileSha256(tmp / (dir + "/0x00030000.bin")), FileSha256(tmp / "b.bin"));
  const std::string info = ReadFileBytes(tmp / (dir + "/info.txt"));
  EXPECT_NE(info.find("address_ranges: 2\n"), std::string::npos) << info;
  EXPECT_NE(info.find("start_address: 0x00001234"), std::string::npos) << info;
}

TEST(IntelHex, SegmentAddressRecordsAndI8Hex) {
  TempDir tmp;
  MakeBinaries(tmp);
  // srec_cat writes no segment records (02): a hand-made I16HEX file (segment 0x1000, so
  // base 0x10000, data at offset 0x10, start segment address 0000:1234).
  WriteFileBytes(tmp / "seg.hex",
                 ":020000021000EC\r\n:0400100001020304E2\r\n:0400000300001234B3\r\n"
                 ":00000001FF\r\n");
  auto m = UnpackForTest(tmp / "seg.hex", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "ihex"), "0x00000000.ihex");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  EXPECT_EQ(ReadFileBytes(tmp / "out/0x00000000.ihex/0x00010010.bin"), "\x01\x02\x03\x04");
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "seg.hex"));
  // I8HEX (16-bit addresses only) by srec_cat.
  ASSERT_EQ(SrecCat(tmp, "b.bin -binary -offset 0x8000 -o b8.hex -intel -address-length=2"), 0);
  m = UnpackForTest(tmp / "b8.hex", tmp / "out2");
  EXPECT_EQ(FileSha256(tmp / "out2/0x00000000.ihex/0x00008000.bin"), FileSha256(tmp / "b.bin"));
}

TEST(IntelHex, EmbeddedInBinaryAndCutShortIsCarvedAndReported) {
  TempDir tmp;
  MakeBinaries(tmp);
  ASSERT_EQ(SrecCat(tmp, "b.bin -binary -o b.hex -intel"), 0);
  const std::string hex = ReadFileBytes(tmp / "b.hex");
  WriteFileBytes(tmp / "fw.bin", PseudoRandomBytes(5, 1000) + hex + PseudoRandomBytes(6, 999));
  auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "ihex"), "0x000003e8.ihex");
  EXPECT_EQ(FileSha256(tmp / "out/0x000003e8.ihex/0x00000000.bin"), FileSha256(tmp / "b.bin"));
  // Cut in the middle of a record: the records before it are extracted, no end record.
  WriteFileBytes(tmp / "cut.hex", hex.substr(0, hex.size() / 2 + 7));
  m = UnpackForTest(tmp / "cut.hex", tmp / "out2");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, "0x00000000.ihex");
  ASSERT_EQ(files.count("0x00000000.bin"), 1u);
  EXPECT_GT(files.at("0x00000000.bin").size, 1000u);
  EXPECT_EQ(ReadFileBytes(tmp / "out2/0x00000000.ihex/0x00000000.bin"),
            ReadFileBytes(tmp / "b.bin").substr(0, files.at("0x00000000.bin").size));
}

TEST(IntelHex, TextWithColonsAndBadChecksumsIsNoImage) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "12:10:33 boot: step " + std::to_string(i) + " :1000000041\n";
    text += ":100000000102030405060708090A0B0C0D0E0F1079\n";  // checksum off by one
    text += ":02000004FFFF\n";
  }
  WriteFileBytes(tmp / "log.txt", text);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "log.txt", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(FindChunkDir(m, "ihex").empty());
  EXPECT_FALSE(HasProblem(m, "malformed"));
}

TEST(Srec, S19S28S37RoundTripWithSrecCat) {
  struct Variant {
    std::string option;
    std::string first_data;
  };
  for (const Variant& v :
       {Variant{"-address-length=2", "S123"}, Variant{"-address-length=3", "S224"},
        Variant{"-address-length=4", "S325"}}) {
    TempDir tmp;
    MakeBinaries(tmp);
    // a.bin does not fit 16-bit addresses: S19 gets b.bin alone.
    const std::string inputs = v.option == "-address-length=2"
                                   ? "b.bin -binary -offset 0x100"
                                   : "a.bin -binary -offset 0x100 b.bin -binary -offset 0x40000";
    ASSERT_EQ(
        SrecCat(tmp, inputs + " -execution-start-address=0x100 -o fw.srec -motorola " + v.option),
        0);
    ASSERT_NE(ReadFileBytes(tmp / "fw.srec").find(v.first_data), std::string::npos) << v.option;
    const auto m = UnpackForTest(tmp / "fw.srec", tmp / "out");
    ASSERT_EQ(FindChunkDir(m, "srec"), "0x00000000.srec") << v.option;
    EXPECT_TRUE(m.problems.empty()) << v.option << m.problems.front().message;
    EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "fw.srec")) << v.option;
    const fs::path dir = tmp / "out/0x00000000.srec";
    if (v.option == "-address-length=2") {
      EXPECT_EQ(FileSha256(dir / "0x00000100.bin"), FileSha256(tmp / "b.bin"));
    } else {
      EXPECT_EQ(FileSha256(dir / "0x00000100.bin"), FileSha256(tmp / "a.bin")) << v.option;
      EXPECT_EQ(FileSha256(dir / "0x00040000.bin"), FileSha256(tmp / "b.bin")) << v.option;
    }
    const std::string info = ReadFileBytes(dir / "info.txt");
    EXPECT_NE(info.find("header: http://srecord.sourceforge.net/"), std::string::npos) << info;
    EXPECT_NE(info.find("start_address: 0x00000100"), std::string::npos) << info;
  }
}

TEST(Srec, OverlappingRecordsAreReportedAndKept) {
  TempDir tmp;
  // Two hand-made S1 records at 0x0000 (4 bytes) and 0x0002 (2 bytes) overlap.
  WriteFileBytes(tmp / "o.s19", "S0030000FC\nS1070000DEADBEEFC0\nS1050002AABB93\nS9030000FC\n");
  const auto m = UnpackForTest(tmp / "o.s19", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "srec"), "0x00000000.srec");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  EXPECT_EQ(ReadFileBytes(tmp / "out/0x00000000.srec/0x00000000.bin"), "\xde\xad\xbe\xef");
  EXPECT_EQ(ReadFileBytes(tmp / "out/0x00000000.srec/0x00000002.bin"), "\xaa\xbb");
}

TEST(Srec, RandomTextWithRecordLettersIsNoImage) {
  TempDir tmp;
  std::string text = PseudoRandomBytes(9, 100000);
  for (std::size_t at = 0; at + 40 < text.size(); at += 997) text.replace(at, 5, "S0030");
  for (std::size_t at = 500; at + 40 < text.size(); at += 1999) text.replace(at, 4, "S113");
  WriteFileBytes(tmp / "noise.bin", text);
  const auto m = UnpackForTest(tmp / "noise.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "srec").empty());
}

}  // namespace
}  // namespace clearbox::unpack
