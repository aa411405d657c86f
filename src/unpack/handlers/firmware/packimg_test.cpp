// PackImg bundles made by scripts/fixtures/make-packimg.py (no Debian tool writes the
// format) around sections made by real tools (gzip, mksquashfs): every section is found,
// carved byte for byte and unpacked in turn.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

TEST(PackImg, EverySectionIsCarvedAndRecursed) {
  TempDir tmp;
  MakeSampleTree(tmp / "tree");
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + " && gzip -n -c tree/bin/busybox > kernel.gz && " +
                     "mksquashfs tree rootfs -noappend -all-root -quiet -no-progress && " +
                     FixtureScript("make-packimg.py") + " kernel.gz rootfs fw.bin"),
            0);
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(4, 777) + ReadFileBytes(tmp / "fw.bin"));
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  std::vector<const ChunkRecord*> sections;
  for (const auto& c : m.chunks) {
    if (c.format == "packimg") sections.push_back(&c);
  }
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[0]->offset, 777u);
  EXPECT_EQ(sections[0]->length, 32 + fs::file_size(tmp / "kernel.gz"));
  EXPECT_EQ(sections[1]->offset, 777 + *sections[0]->length);
  EXPECT_EQ(sections[1]->length, 32 + fs::file_size(tmp / "rootfs"));
  EXPECT_EQ(sections[1]->metadata.at("data_size"), std::to_string(fs::file_size(tmp / "rootfs")));
  EXPECT_EQ(ManifestFilesUnder(m, sections[0]->extracted_to).at("payload.bin").sha256,
            FileSha256(tmp / "kernel.gz"));
  EXPECT_EQ(ManifestFilesUnder(m, sections[1]->extracted_to).at("payload.bin").sha256,
            FileSha256(tmp / "rootfs"));
  EXPECT_NE(FindChunk(m, "gzip"), nullptr);
  EXPECT_NE(FindChunk(m, "squashfs"), nullptr);
  EXPECT_TRUE(m.problems.empty());

  // Cut inside the second section: that section is not claimed (its size is checked against
  // what is left, as binwalk does), the first still is.
  const std::string image = ReadFileBytes(tmp / "fw.bin");
  WriteFileBytes(tmp / "cut.bin", image.substr(0, image.size() - 100));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  std::size_t cut_sections = 0;
  for (const auto& c : cut.chunks) cut_sections += c.format == "packimg";
  EXPECT_EQ(cut_sections, 1u);
  EXPECT_NE(FindChunk(cut, "gzip"), nullptr);

  // The magic in text (a source file quoting it) is not a section.
  WriteFileBytes(tmp / "text.bin", std::string(64, 'x') +
                                       "constexpr std::string_view kMagic = \"--PaCkImGs--\";\n" +
                                       std::string(4000, 'y'));
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "text.bin", tmp / "out-text"), "packimg"), nullptr);

  // A header with a zero size is not a section.
  std::string empty = PseudoRandomBytes(6, 300);
  empty.replace(40, 32, std::string("--PaCkImGs--") + std::string(20, '\0'));
  WriteFileBytes(tmp / "empty.bin", empty);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "empty.bin", tmp / "out-empty"), "packimg"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
