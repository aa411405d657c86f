// UEFI firmware volumes, capsules and Intel flash descriptor images made by
// scripts/fixtures/make-uefi.py (a writer following the PI and UEFI specifications and the
// public flash descriptor layout; Debian has no tool that writes these).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

constexpr char kDriverDir[] = "7C04A583-9E3E-4F1C-AD65-E05268D0B4D1_Shell";
constexpr char kRawDir[] = "1BA0062E-C779-4582-8566-336AE8F78F09";
constexpr char kFreeformDir[] = "D0A2B2C6-4A2F-4D0B-9D9B-5F1C1F0E6A11";

std::string MakeUefi() {
  return FixtureScript("make-uefi.py");
}

struct Inputs {
  std::string pe32;
  std::string raw;
};

Inputs MakeInputs(const TempDir& tmp, const std::string& flags) {
  Inputs in{PseudoRandomBytes(5, 3000), "raw section payload\n"};
  WriteFileBytes(tmp / "pe.bin", in.pe32);
  WriteFileBytes(tmp / "raw.bin", in.raw);
  EXPECT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeUefi() + " " + flags +
                     " -o fw.bin pe.bin raw.bin"),
            0);
  return in;
}

// The volume's expected files, relative to its directory.
TreeFacts ExpectedVolume(const TempDir& tmp, const Inputs& in) {
  std::string reversed = in.pe32;
  std::reverse(reversed.begin(), reversed.end());
  WriteFileBytes(tmp / "want" / kDriverDir / "0.efi", in.pe32);
  WriteFileBytes(tmp / "want" / kRawDir / "file.raw", in.raw);
  WriteFileBytes(tmp / "want" / kFreeformDir / "0.efi", reversed);
  WriteFileBytes(tmp / "want" / kFreeformDir / "1.raw", in.raw);
  return HashTree(tmp / "want");
}

TEST(UefiVolume, FilesListedSectionsCarvedLzmaDecoded) {
  for (const std::string flags : {"", "--ffs3"}) {
    TempDir tmp;
    const Inputs in = MakeInputs(tmp, flags);
    const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
    const ChunkRecord* fv = FindChunk(m, "uefi-fv");
    ASSERT_NE(fv, nullptr);
    EXPECT_EQ(fv->offset, 0u);
    EXPECT_EQ(fv->length, 0x20000u);
    EXPECT_EQ(fv->metadata.at("header_checksum"), "ok");
    EXPECT_EQ(fv->metadata.at("files"), "3");
    EXPECT_EQ(ManifestFilesUnder(m, fv->extracted_to), ExpectedVolume(tmp, in)) << flags;
    EXPECT_TRUE(m.problems.empty());
  }
}

// EFI 1.1 compression section and Tiano GUID-defined section (make-uefi.py --efi-compress,
// encoder scripts/fixtures/efi_compress.py): decoded and their sections carved.
TEST(UefiVolume, EfiAndTianoSectionsDecoded) {
  for (const std::string flags : {"--efi-compress", "--efi-compress --ffs3"}) {
    TempDir tmp;
    const Inputs in = MakeInputs(tmp, flags);
    const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
    const ChunkRecord* fv = FindChunk(m, "uefi-fv");
    ASSERT_NE(fv, nullptr);
    EXPECT_EQ(fv->metadata.at("files"), "5");
    ExpectedVolume(tmp, in);
    std::string reversed = in.raw;
    std::reverse(reversed.begin(), reversed.end());
    WriteFileBytes(tmp / "want" / "3F1E4B0A-5C2D-4E6F-8A9B-0C1D2E3F4A5B" / "0.efi", in.pe32);
    WriteFileBytes(tmp / "want" / "3F1E4B0A-5C2D-4E6F-8A9B-0C1D2E3F4A5B" / "1.raw", in.raw);
    WriteFileBytes(tmp / "want" / "6A7B8C9D-0E1F-4A2B-9C3D-4E5F6A7B8C9D" / "0.raw", reversed);
    WriteFileBytes(tmp / "want" / "6A7B8C9D-0E1F-4A2B-9C3D-4E5F6A7B8C9D" / "1.raw",
                   in.raw + in.raw);
    EXPECT_EQ(ManifestFilesUnder(m, fv->extracted_to), HashTree(tmp / "want")) << flags;
    for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
  }
}

// A compressed section whose stream is damaged: reported, written as it is, no crash.
TEST(UefiVolume, DamagedEfiSectionIsReported) {
  TempDir tmp;
  MakeInputs(tmp, "--efi-compress");
  std::string img = ReadFileBytes(tmp / "fw.bin");
  // The EFI file's compressed stream starts after its file header (24), the section
  // header (9) and the stream header (8): scramble bits there.
  const std::string guid("\x0a\x4b\x1e\x3f\x2d\x5c\x6f\x4e\x8a\x9b\x0c\x1d\x2e\x3f\x4a\x5b", 16);
  const auto at = img.find(guid);
  ASSERT_NE(at, std::string::npos);
  for (std::size_t i = at + 24 + 9 + 8; i < at + 24 + 9 + 8 + 40; ++i) img[i] = '\xA5';
  WriteFileBytes(tmp / "bad.bin", img);
  const auto m = UnpackForTest(tmp / "bad.bin", tmp / "out");
  const ChunkRecord* fv = FindChunk(m, "uefi-fv");
  ASSERT_NE(fv, nullptr);
  EXPECT_TRUE(HasProblem(m, "malformed"));
  bool saw_tiano = false;
  for (const auto& f : m.files) {
    if (f.path.ends_with("3F1E4B0A-5C2D-4E6F-8A9B-0C1D2E3F4A5B/0.tiano")) saw_tiano = true;
  }
  EXPECT_TRUE(saw_tiano);
}

// Section and stream sizes that disagree, or a declared size past the volume's decode
// limit: reported without decoding (no 2 GiB allocation or run), the raw stream kept.
TEST(UefiVolume, EfiSectionSizesAreCheckedBeforeDecoding) {
  for (const bool both : {false, true}) {
    TempDir tmp;
    MakeInputs(tmp, "--efi-compress");
    std::string img = ReadFileBytes(tmp / "fw.bin");
    const std::string guid("\x0a\x4b\x1e\x3f\x2d\x5c\x6f\x4e\x8a\x9b\x0c\x1d\x2e\x3f\x4a\x5b", 16);
    const auto at = img.find(guid);
    ASSERT_NE(at, std::string::npos);
    const char huge[4] = {'\x00', '\x00', '\x00', '\x7f'};
    std::memcpy(img.data() + at + 24 + 4 + 5 + 4, huge, 4);    // the stream's original size
    if (both) std::memcpy(img.data() + at + 24 + 4, huge, 4);  // the section's too
    WriteFileBytes(tmp / "bad.bin", img);
    const auto m = UnpackForTest(tmp / "bad.bin", tmp / "out");
    ASSERT_NE(FindChunk(m, "uefi-fv"), nullptr);
    EXPECT_TRUE(HasProblem(m, both ? "limit-exceeded" : "malformed")) << both;
  }
}

TEST(UefiVolume, CapsuleInFlashDescriptorImage) {
  TempDir tmp;
  const Inputs in = MakeInputs(tmp, "--capsule --ifd");
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* ifd = FindChunk(m, "intel-ifd");
  ASSERT_NE(ifd, nullptr);
  EXPECT_EQ(ifd->length, fs::file_size(tmp / "fw.bin"));
  EXPECT_EQ(
      ifd->metadata.at("region.bios"), "0x00010000-0x" + [&] {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%08llx",
                      static_cast<unsigned long long>(fs::file_size(tmp / "fw.bin") - 1));
        return std::string(buf);
      }());
  const auto regions = ManifestFilesUnder(m, ifd->extracted_to);
  ASSERT_EQ(regions.size(), 4u);  // descriptor, bios, me, gbe (pdr unused)
  EXPECT_EQ(regions.at("descriptor.bin").size, 0x1000u);
  EXPECT_EQ(regions.at("gbe.bin").size, 0x2000u);
  EXPECT_EQ(regions.at("me.bin").size, 0xd000u);
  const ChunkRecord* capsule = FindChunk(m, "uefi-capsule");
  ASSERT_NE(capsule, nullptr);
  EXPECT_EQ(capsule->metadata.at("capsule_guid"), "3B6686BD-0D76-4030-B70E-B5519E2FC5A0");
  EXPECT_EQ(capsule->metadata.at("kind"), "EFI capsule");
  EXPECT_EQ(capsule->metadata.at("header_size"), "80");
  const ChunkRecord* fv = FindChunk(m, "uefi-fv");
  ASSERT_NE(fv, nullptr);
  EXPECT_EQ(ManifestFilesUnder(m, fv->extracted_to), ExpectedVolume(tmp, in));
  EXPECT_TRUE(m.problems.empty());
}

TEST(UefiVolume, ChecksumMismatchAndTruncation) {
  TempDir tmp;
  MakeInputs(tmp, "");
  std::string image = ReadFileBytes(tmp / "fw.bin");
  ASSERT_GT(image.size(), 2000u) << "the fixture generator did not run";
  std::string bad = image;
  bad[44] ^= 0x01;  // attributes: the header checksum no longer sums to zero
  WriteFileBytes(tmp / "bad.bin", bad);
  const auto m = UnpackForTest(tmp / "bad.bin", tmp / "out1");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  ASSERT_NE(FindChunk(m, "uefi-fv"), nullptr);
  EXPECT_EQ(FindChunk(m, "uefi-fv")->metadata.at("header_checksum"), "mismatch");
  WriteFileBytes(tmp / "cut.bin", image.substr(0, 2000));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out2");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
}

TEST(UefiVolume, HostileSizesAndGarbage) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(3, 300000);
  for (std::size_t at : {40u, 70000u, 200000u}) junk.replace(at, 4, "_FVH");
  junk.replace(100016, 4, std::string("\x5A\xA5\xF0\x0F", 4));
  junk.replace(150000, 16,
               std::string("\xbd\x86\x66\x3b\x76\x0d\x30\x40\xb7\x0e\xb5\x51\x9e\x2f\xc5\xa0", 16));
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_EQ(FindChunk(m, "uefi-fv"), nullptr);
  EXPECT_EQ(FindChunk(m, "intel-ifd"), nullptr);
  // A capsule whose image size is random is only rejected when it is below the header.
  // A volume whose files claim sizes past its end: reported, not crashed.
  MakeInputs(tmp, "");
  std::string image = ReadFileBytes(tmp / "fw.bin");
  image[72 + 20] = '\xff';
  image[72 + 21] = '\xff';
  image[72 + 22] = '\x7f';
  WriteFileBytes(tmp / "evil.bin", image);
  const auto evil = UnpackForTest(tmp / "evil.bin", tmp / "out2");
  EXPECT_TRUE(HasProblem(evil, "truncated"));
}

}  // namespace
}  // namespace clearbox::unpack
