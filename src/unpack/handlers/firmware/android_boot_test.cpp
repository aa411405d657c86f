// Android boot and vendor_boot images made by Debian's mkbootimg (header v0-v3 and
// vendor_boot v3), and v4 images by scripts/fixtures/make-android-boot-v4.py (AOSP's v4
// layout; Debian's mkbootimg 29 writes no v4): every carved section must equal its source.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Sources in `tmp`: kernel, ramdisk (gzip'd newc cpio of the sample tree), second, dtbo, a
// DTB compiled by dtc, and a vendor ramdisk.
void MakeSources(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  WriteFileBytes(tmp / "kernel", PseudoRandomBytes(1, 50001));
  WriteFileBytes(tmp / "second", PseudoRandomBytes(2, 3000));
  WriteFileBytes(tmp / "dtbo", PseudoRandomBytes(3, 5000));
  WriteFileBytes(tmp / "vendor_ramdisk", PseudoRandomBytes(4, 7000));
  WriteFileBytes(tmp / "board.dts", "/dts-v1/;\n/ { model = \"android demo\"; };\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && (cd tree && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -n"
                     " > ramdisk && dtc -q -I dts -O dtb -o dtb board.dts"),
            0);
}

std::string Mkbootimg(const TempDir& tmp, const std::string& args) {
  return "cd " + tmp.path().string() + " && mkbootimg " + args +
         " --os_version 11.0.2 --os_patch_level 2021-03 2>&1";
}

TEST(AndroidBoot, HeaderVersions0To3RoundTripWithMkbootimg) {
  struct Variant {
    int version;
    std::string extra;
    std::vector<std::string> sections;
  };
  const Variant variants[] = {
      {0, "--second second --board demo --pagesize 2048", {"kernel", "ramdisk", "second"}},
      // --recovery_dtbo is left out: Debian's mkbootimg 29 fails on it under Python 3 (it packs
      // a float offset, "required argument is not an integer").
      {1, "--second second --pagesize 4096", {"kernel", "ramdisk", "second"}},
      {2, "--second second --dtb dtb --pagesize 16384", {"kernel", "ramdisk", "second", "dtb"}},
      {3, "", {"kernel", "ramdisk"}},
  };
  for (const Variant& v : variants) {
    TempDir tmp;
    MakeSources(tmp);
    ASSERT_EQ(RunShell(Mkbootimg(tmp, "--kernel kernel --ramdisk ramdisk --header_version " +
                                          std::to_string(v.version) + " " + v.extra +
                                          " --cmdline 'console=ttyMSM0 androidboot.v=" +
                                          std::to_string(v.version) + "' -o boot.img")),
              0);
    const auto m = UnpackForTest(tmp / "boot.img", tmp / "out");
    const std::string dir = FindChunkDir(m, "android-boot");
    ASSERT_EQ(dir, "0x00000000.android-boot") << v.version;
    EXPECT_TRUE(m.problems.empty()) << v.version << ": " << m.problems.front().message;
    EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "boot.img")) << v.version;
    const auto files = ManifestFilesUnder(m, dir);
    EXPECT_EQ(files.size(), v.sections.size() + 1) << v.version;
    for (const std::string& s : v.sections) {
      EXPECT_EQ(FileSha256(tmp / "out" / dir / s), FileSha256(tmp / s)) << v.version << s;
    }
    const std::string header = ReadFileBytes(tmp / "out" / dir / "header.txt");
    EXPECT_NE(header.find("header_version: " + std::to_string(v.version) + "\n"), std::string::npos)
        << header;
    EXPECT_NE(header.find("os_version: 11.0.2\nos_patch_level: 2021-03\n"), std::string::npos)
        << header;
    EXPECT_NE(header.find("cmdline: console=ttyMSM0 androidboot.v="), std::string::npos) << header;
    // The ramdisk is unpacked in turn: gzip, then the cpio with the sample tree.
    EXPECT_EQ(ManifestFilesUnder(m, dir + "/ramdisk.extract/0x00000000.gzip/decompressed.extract/"
                                          "0x00000000.cpio"),
              HashTree(tmp / "tree"))
        << v.version;
  }
}

TEST(AndroidBoot, VendorBootV3RoundTripsWithMkbootimg) {
  TempDir tmp;
  MakeSources(tmp);
  ASSERT_EQ(RunShell(Mkbootimg(tmp,
                               "--header_version 3 --vendor_boot vendor_boot.img"
                               " --vendor_ramdisk vendor_ramdisk --dtb dtb --board vboard"
                               " --vendor_cmdline 'androidboot.hardware=demo'")),
            0);
  const auto m = UnpackForTest(tmp / "vendor_boot.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "android-boot");
  ASSERT_EQ(dir, "0x00000000.android-boot");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "vendor_boot.img"));
  EXPECT_EQ(FileSha256(tmp / "out" / dir / "vendor_ramdisk"), FileSha256(tmp / "vendor_ramdisk"));
  EXPECT_EQ(FileSha256(tmp / "out" / dir / "dtb"), FileSha256(tmp / "dtb"));
  const std::string header = ReadFileBytes(tmp / "out" / dir / "header.txt");
  EXPECT_NE(header.find("type: vendor_boot\nheader_version: 3\n"), std::string::npos) << header;
  EXPECT_NE(header.find("vendor_cmdline: androidboot.hardware=demo"), std::string::npos) << header;
  EXPECT_NE(header.find("name: vboard"), std::string::npos) << header;
  // The DTB inside is decompiled by the dtb handler.
  EXPECT_FALSE(ManifestFilesUnder(m, dir + "/dtb.extract/0x00000000.dtb").empty());
}

std::string MakeV4() {
  return FixtureScript("make-android-boot-v4.py");
}

TEST(AndroidBoot, BootV4WithSignatureRoundTrips) {
  TempDir tmp;
  MakeSources(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeV4() +
                     " boot -o boot.img --kernel kernel --ramdisk ramdisk --signature second"
                     " --cmdline 'console=ttyS0' --os-version 13.1.0 --os-patch-level 2023-07"),
            0);
  const auto m = UnpackForTest(tmp / "boot.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "android-boot");
  ASSERT_EQ(dir, "0x00000000.android-boot");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "boot.img"));
  EXPECT_EQ(FileSha256(tmp / "out" / dir / "kernel"), FileSha256(tmp / "kernel"));
  EXPECT_EQ(FileSha256(tmp / "out" / dir / "ramdisk"), FileSha256(tmp / "ramdisk"));
  EXPECT_EQ(FileSha256(tmp / "out" / dir / "boot_signature"), FileSha256(tmp / "second"));
  const std::string header = ReadFileBytes(tmp / "out" / dir / "header.txt");
  EXPECT_NE(header.find("header_version: 4\npage_size: 4096\nos_version: 13.1.0\n"
                        "os_patch_level: 2023-07\ncmdline: console=ttyS0\n"),
            std::string::npos)
      << header;
}

TEST(AndroidBoot, VendorBootV4RamdiskTableAndBootconfig) {
  TempDir tmp;
  MakeSources(tmp);
  WriteFileBytes(tmp / "bootconfig", "androidboot.serialno = 1234\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeV4() +
                     " vendor -o vendor_boot.img --dtb dtb --pagesize 2048 --board v4board"
                     " --bootconfig bootconfig --ramdisk platform:platform:ramdisk"
                     " --ramdisk dlkm:dlkm:vendor_ramdisk --ramdisk :recovery:second"),
            0);
  const auto m = UnpackForTest(tmp / "vendor_boot.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "android-boot");
  ASSERT_EQ(dir, "0x00000000.android-boot");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "vendor_boot.img"));
  const fs::path out = tmp / "out" / dir;
  EXPECT_EQ(FileSha256(out / "vendor_ramdisk.platform"), FileSha256(tmp / "ramdisk"));
  EXPECT_EQ(FileSha256(out / "vendor_ramdisk.dlkm"), FileSha256(tmp / "vendor_ramdisk"));
  EXPECT_EQ(FileSha256(out / "vendor_ramdisk.2"), FileSha256(tmp / "second"));
  EXPECT_EQ(FileSha256(out / "dtb"), FileSha256(tmp / "dtb"));
  EXPECT_EQ(FileSha256(out / "bootconfig"), FileSha256(tmp / "bootconfig"));
  EXPECT_FALSE(fs::exists(out / "vendor_ramdisk"));
}

TEST(AndroidBoot, TruncatedAndHostileHeadersStayBounded) {
  TempDir tmp;
  MakeSources(tmp);
  ASSERT_EQ(RunShell(Mkbootimg(tmp,
                               "--kernel kernel --ramdisk ramdisk --header_version 2"
                               " --dtb dtb -o boot.img")),
            0);
  const std::string image = ReadFileBytes(tmp / "boot.img");
  WriteFileBytes(tmp / "cut.img", image.substr(0, 30000));
  auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, "0x00000000.android-boot");
  ASSERT_EQ(files.count("kernel"), 1u);
  EXPECT_EQ(files.at("kernel").size, 30000u - 2048u);
  // Chance magics and a header claiming 2 GiB sections with a bad page size.
  std::string junk = PseudoRandomBytes(8, 100000);
  for (std::size_t at : {0u, 5000u, 70000u}) junk.replace(at, 8, "ANDROID!");
  junk.replace(40000, 8, "VNDRBOOT");
  WriteFileBytes(tmp / "junk.bin", junk);
  m = UnpackForTest(tmp / "junk.bin", tmp / "out2");
  EXPECT_TRUE(FindChunkDir(m, "android-boot").empty());
}

}  // namespace
}  // namespace clearbox::unpack
