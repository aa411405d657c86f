// Matter OTA images made by scripts/fixtures/make-matter-ota.py (a writer following the Matter
// specification, as connectedhomeip's ota_image_tool.py; no Debian package writes them) and
// binwalk v3's public sample (tests/oracle/binwalk/matter_ota.bin, ctest binwalk_inputs).
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string MakeOta() {
  return FixtureScript("make-matter-ota.py");
}

// A SquashFS of the sample tree as the payload, so recursion is checked too.
void MakePayload(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mksquashfs tree payload.sqfs -noappend -all-root -quiet -no-progress"),
            0);
}

TEST(MatterOta, PayloadCarvedHeaderReadAndRecursed) {
  for (const std::string digest : {"sha256", "sha384", "sha512"}) {
    TempDir tmp;
    MakePayload(tmp);
    ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeOta() +
                       " -o fw.ota --vendor-id 65521 --product-id 32769 --version 7"
                       " --version-str 2.4.1-rc1 --digest " +
                       digest + " payload.sqfs"),
              0);
    const auto m = UnpackForTest(tmp / "fw.ota", tmp / "out");
    const std::string dir = FindChunkDir(m, "matter-ota");
    ASSERT_EQ(dir, "0x00000000.matter-ota") << digest;
    EXPECT_TRUE(m.problems.empty()) << digest << ": " << m.problems.front().message;
    EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "fw.ota"));
    EXPECT_EQ(FileSha256(tmp / "out" / dir / "payload.bin"), FileSha256(tmp / "payload.sqfs"));
    const std::string header = ReadFileBytes(tmp / "out" / dir / "header.txt");
    EXPECT_NE(header.find("vendor_id: 65521\n"), std::string::npos) << header;
    EXPECT_NE(header.find("product_id: 32769\n"), std::string::npos) << header;
    EXPECT_NE(header.find("software_version: 7\n"), std::string::npos) << header;
    EXPECT_NE(header.find("software_version_string: 2.4.1-rc1\n"), std::string::npos) << header;
    EXPECT_EQ(ManifestFilesUnder(m, dir + "/payload.bin.extract/0x00000000.squashfs"),
              HashTree(tmp / "tree"));
  }
}

TEST(MatterOta, WrongDigestIsReportedButExtracted) {
  TempDir tmp;
  MakePayload(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeOta() +
                     " -o fw.ota --corrupt-digest payload.sqfs"),
            0);
  const auto m = UnpackForTest(tmp / "fw.ota", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const std::string dir = FindChunkDir(m, "matter-ota");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(FileSha256(tmp / "out" / dir / "payload.bin"), FileSha256(tmp / "payload.sqfs"));
}

TEST(MatterOta, TruncatedImageIsReported) {
  TempDir tmp;
  MakePayload(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeOta() +
                     " -o fw.ota payload.sqfs && head -c 3000 fw.ota > cut.ota"),
            0);
  const auto m = UnpackForTest(tmp / "cut.ota", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  ASSERT_FALSE(FindChunkDir(m, "matter-ota").empty());
}

TEST(MatterOta, ChanceIdentifiersAndHostileHeadersAreNotImages) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(7, 200000);
  for (std::size_t at : {0u, 4097u, 150000u}) junk.replace(at, 4, "\x1e\xf1\xee\x1b");
  // A header that claims 4 GiB of TLV, and one whose sizes do not add up.
  junk.replace(50000, 16,
               std::string("\x1e\xf1\xee\x1b", 4) + std::string(8, '\x10') +
                   std::string("\xff\xff\xff\xff", 4));
  const std::string tlv = "\x15\x27\x04" + std::string(8, '\xff') + "\x18";
  junk.replace(60000, 16 + tlv.size(),
               std::string("\x1e\xf1\xee\x1b", 4) + std::string("\x40\0\0\0\0\0\0\0", 8) +
                   std::string(1, static_cast<char>(tlv.size())) + std::string(3, '\0') + tlv);
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "matter-ota").empty());
  EXPECT_FALSE(HasProblem(m, "malformed"));
}

}  // namespace
}  // namespace clearbox::unpack
