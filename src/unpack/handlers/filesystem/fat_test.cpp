#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "support/test_support.hpp"
#include "unpack/handlers/filesystem/fat_test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::uint32_t Le(const std::string& d, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(d[at + i]);
  return v;
}

void PutLe(std::string& d, std::size_t at, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) d[at + i] = static_cast<char>(v >> (8 * i));
}

// Where things are in a FAT16 image (the hostile tests patch FAT16 images).
struct Geometry {
  std::size_t fat = 0;      // first FAT
  std::size_t root = 0;     // root directory
  std::size_t data = 0;     // cluster 2
  std::size_t cluster = 0;  // bytes per cluster
  std::size_t ClusterAt(std::uint32_t c) const { return data + (c - 2) * cluster; }
};

Geometry ReadGeometry(const std::string& img) {
  const std::size_t bps = Le(img, 11, 2);
  Geometry g;
  g.cluster = bps * static_cast<std::uint8_t>(img[13]);
  g.fat = Le(img, 14, 2) * bps;
  g.root = g.fat + static_cast<std::uint8_t>(img[16]) * Le(img, 22, 2) * bps;
  g.data = g.root + (Le(img, 17, 2) * 32 + bps - 1) / bps * bps;
  return g;
}

// Offset of the short entry named `name83` (11 bytes, space padded) in the directory at `at`.
std::size_t FindEntry(const std::string& img, std::size_t at, const std::string& name83) {
  for (std::size_t p = at; p + 32 <= at + 64 * 32; p += 32) {
    if (img.compare(p, 11, name83) == 0) return p;
  }
  ADD_FAILURE() << "no entry " << name83;
  return 0;
}

struct FatCase {
  int bits;
  int kib;
  std::string extra;
};

void PrintTo(const FatCase& c, std::ostream* os) {
  *os << "FAT" << c.bits << " " << c.kib << " KiB " << c.extra;
}

class FatWidths : public ::testing::TestWithParam<FatCase> {};

TEST_P(FatWidths, TreeIsExtractedExactly) {
  TempDir tmp;
  const TreeFacts facts = MakeFatTree(tmp / "src");
  const FatCase c = GetParam();
  ASSERT_EQ(MakeFatImage(c.bits, tmp / "src", tmp / "fs.img", c.kib, c.extra), 0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "fat");
  ASSERT_EQ(dir, "0x00000000.fat");
  EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].kind << " " << m.problems[0].message;
  EXPECT_TRUE(fs::is_directory(tmp / "out" / dir / "empty dir"));
  // The volume boot record ends in 55AA too: it must not be taken for an MBR.
  EXPECT_TRUE(FindChunkDir(m, "mbr").empty());
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "fs.img"));
}

INSTANTIATE_TEST_SUITE_P(Fat, FatWidths,
                         ::testing::Values(FatCase{12, 4096, ""}, FatCase{16, 32768, ""},
                                           FatCase{32, 66000, "-s 1"}),
                         [](const auto& p) { return "Fat" + std::to_string(p.param.bits); });

TEST(Fat, ClusterChainLoopIsCut) {
  TempDir tmp;
  WriteFileBytes(tmp / "src/big.bin", PseudoRandomBytes(5, 100000));
  ASSERT_EQ(MakeFatImage(16, tmp / "src", tmp / "fs.img", 32768), 0);
  std::string img = ReadFileBytes(tmp / "fs.img");
  const Geometry g = ReadGeometry(img);
  const std::uint32_t first = Le(img, FindEntry(img, g.root, "BIG     BIN") + 26, 2);
  PutLe(img, g.fat + 2 * first, first, 2);  // the first cluster links to itself
  WriteFileBytes(tmp / "loop.img", img);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "loop.img", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "fat"));
  ASSERT_EQ(files.count("big.bin"), 1u);
  EXPECT_EQ(files.at("big.bin").size, g.cluster);
}

TEST(Fat, DirectoryLoopIsWalkedOnce) {
  TempDir tmp;
  ASSERT_EQ(RunShell("mkfs.vfat -C -F 16 " + (tmp / "fs.img").string() +
                     " 32768 >/dev/null && MTOOLS_SKIP_CHECK=1 mmd -i " +
                     (tmp / "fs.img").string() + " ::/d ::/d/e"),
            0);
  std::string img = ReadFileBytes(tmp / "fs.img");
  const Geometry g = ReadGeometry(img);
  const std::uint32_t d = Le(img, FindEntry(img, g.root, "D          ") + 26, 2);
  const std::size_t e = FindEntry(img, g.ClusterAt(d), "E          ");
  PutLe(img, e + 26, d, 2);  // d/e is d again
  WriteFileBytes(tmp / "loop.img", img);
  const auto m = UnpackForTest(tmp / "loop.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  EXPECT_TRUE(fs::is_directory(tmp / "out/0x00000000.fat/d/e"));
  EXPECT_FALSE(fs::exists(tmp / "out/0x00000000.fat/d/e/e"));
}

TEST(Fat, BadLongNamesAreReportedAndSkipped) {
  TempDir tmp;
  WriteFileBytes(tmp / "src/slashname.txt", "a\n");
  WriteFileBytes(tmp / "src/dotdotname.txt", "b\n");
  WriteFileBytes(tmp / "src/keep.txt", "c\n");
  ASSERT_EQ(MakeFatImage(16, tmp / "src", tmp / "fs.img", 32768), 0);
  std::string img = ReadFileBytes(tmp / "fs.img");
  const Geometry g = ReadGeometry(img);
  // Each long name fits one LFN entry, right before its short entry.
  const std::size_t slash = FindEntry(img, g.root, "SLASHN~1TXT") - 32;
  const std::size_t dots = FindEntry(img, g.root, "DOTDOT~1TXT") - 32;
  ASSERT_EQ(img[slash + 11], '\x0f');
  ASSERT_EQ(img[dots + 11], '\x0f');
  PutLe(img, slash + 1, '/', 2);  // "/lashname.txt"
  PutLe(img, dots + 1, '.', 2);   // ".." then the end
  PutLe(img, dots + 3, '.', 2);
  PutLe(img, dots + 5, 0, 2);
  WriteFileBytes(tmp / "bad.img", img);
  const auto m = UnpackForTest(tmp / "bad.img", tmp / "out/inner");
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "fat"));
  EXPECT_EQ(files.size(), 1u);
  EXPECT_EQ(files.count("keep.txt"), 1u);
  std::size_t bad_names = 0;
  for (const auto& p : m.problems) bad_names += p.message.find("bad name") != std::string::npos;
  EXPECT_EQ(bad_names, 2u);
  EXPECT_FALSE(fs::exists(tmp / "out/dotdotname.txt"));
  EXPECT_FALSE(fs::exists(tmp / "out/lashname.txt"));
  for (const auto& f : m.files) EXPECT_TRUE(f.path.starts_with("0x00000000.fat")) << f.path;
}

TEST(Fat, DeletedEntriesAreSkipped) {
  TempDir tmp;
  WriteFileBytes(tmp / "src/kept.txt", "kept\n");
  WriteFileBytes(tmp / "src/a deleted long name.txt", "gone\n");
  WriteFileBytes(tmp / "src/gone.bin", PseudoRandomBytes(6, 3000));
  ASSERT_EQ(MakeFatImage(12, tmp / "src", tmp / "fs.img", 4096), 0);
  ASSERT_EQ(RunShell("MTOOLS_SKIP_CHECK=1 mdel -i " + (tmp / "fs.img").string() +
                     " '::/a deleted long name.txt' ::/gone.bin"),
            0);
  fs::remove(tmp / "src/a deleted long name.txt");
  fs::remove(tmp / "src/gone.bin");
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "fat")), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].message;
}

TEST(Fat, TruncatedImageIsReportedNotCrashed) {
  TempDir tmp;
  MakeFatTree(tmp / "src");
  ASSERT_EQ(MakeFatImage(32, tmp / "src", tmp / "fs.img", 66000, "-s 1"), 0);
  const std::string img = ReadFileBytes(tmp / "fs.img");
  for (std::size_t cut : {std::size_t{600}, img.size() / 8, img.size() / 2}) {
    WriteFileBytes(tmp / "cut.img", img.substr(0, cut));
    fs::remove_all(tmp / "out");
    const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
    EXPECT_FALSE(m.problems.empty()) << cut;
  }
}

TEST(Fat, GarbageWithMagicIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(41, 1 << 20);
  for (std::size_t at = 0; at + 512 < junk.size(); at += 4096) {
    junk.replace(at, 3, "\xeb\x3c\x90");
    junk.replace(at + 54, 8, "FAT16   ");
    junk.replace(at + 2048 + 82, 8, "FAT32   ");
    junk.replace(at + 510, 2, "\x55\xaa");
  }
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(FindChunkDir(m, "fat").empty());
  EXPECT_TRUE(FindChunkDir(m, "mbr").empty());
}

}  // namespace
}  // namespace clearbox::unpack
