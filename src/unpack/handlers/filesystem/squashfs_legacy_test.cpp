#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// No Debian 12 tool writes SquashFS 1.x-3.x: the fixture maker from the source tree does, and
// Debian's unsquashfs 4.5 (which still reads those versions) checks its zlib images.
std::string MakeImage(const fs::path& src, const fs::path& out, const std::string& options) {
  return "python3 " + (SourceRoot() / "scripts/fixtures/mksquashfs3.py").string() + " " +
         src.string() + " " + out.string() + " " + options;
}

const ExtractedEntry* FindEntry(const Manifest& m, const std::string& path) {
  for (const auto& f : m.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

// The sample tree plus a multi-block file, an empty file, a hard link, a symlink, a fifo and
// a character device; returns the facts of its regular files.
TreeFacts MakeRichTree(const fs::path& src) {
  MakeSampleTree(src, 3);
  WriteFileBytes(src / "big.bin", PseudoRandomBytes(11, 300000) + std::string(70000, 'z'));
  WriteFileBytes(src / "etc/empty.conf", "");
  EXPECT_EQ(RunShell("cd " + src.string() +
                     " && ln bin/busybox bin/sh && ln -s busybox bin/ls && mkfifo run.fifo && "
                     "mkdir -p dev && mknod dev/console c 5 1"),
            0);
  return HashTree(src);
}

struct Variant {
  std::string name;
  std::string options;
  bool oracle;  // Debian's unsquashfs can read it (zlib)
};

// gtest names the parameter by its variant name instead of dumping its bytes.
void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name;
}

class SquashfsLegacyVariants : public ::testing::TestWithParam<Variant> {};

TEST_P(SquashfsLegacyVariants, TreeIsExtractedExactly) {
  const Variant& v = GetParam();
  TempDir tmp;
  const auto src = tmp / "src";
  const TreeFacts facts = MakeRichTree(src);
  ASSERT_EQ(RunShell(MakeImage(src, tmp / "fs.img", v.options)), 0);
  if (v.oracle) {
    // The independent reader first: the fixture itself must be right.
    ASSERT_EQ(RunShell("unsquashfs -no-xattrs -d " + (tmp / "oracle").string() + " " +
                       (tmp / "fs.img").string() + " >/dev/null 2>&1"),
              0);
    ASSERT_EQ(HashTree(tmp / "oracle"), facts);
  }
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "squashfs-legacy");
  ASSERT_EQ(dir, "0x00000000.squashfs-legacy");
  EXPECT_EQ(FindChunkDir(m, "squashfs"), "");
  EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << " " << p.message;
  const auto* link = FindEntry(m, dir + "/bin/ls");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link_target, "busybox");
  const auto* sh = FindEntry(m, dir + "/bin/sh");
  const auto* busybox = FindEntry(m, dir + "/bin/busybox");
  ASSERT_NE(sh, nullptr);
  ASSERT_NE(busybox, nullptr);
  EXPECT_TRUE(sh->type == EntryType::kHardlink || busybox->type == EntryType::kHardlink);
  const auto* dev = FindEntry(m, dir + "/dev/console");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->type, EntryType::kCharDevice);
  EXPECT_FALSE(dev->created);
  EXPECT_EQ(dev->device_major, 5u);
  EXPECT_EQ(dev->device_minor, 1u);
  const auto* fifo = FindEntry(m, dir + "/run.fifo");
  ASSERT_NE(fifo, nullptr);
  EXPECT_EQ(fifo->type, EntryType::kFifo);
}

INSTANTIATE_TEST_SUITE_P(
    SquashfsLegacy, SquashfsLegacyVariants,
    ::testing::Values(Variant{"v3_le", "-v 3 -e le", true}, Variant{"v3_be", "-v 3 -e be", true},
                      Variant{"v3_le_nofrag", "-v 3 -e le --no-fragments", true},
                      Variant{"v3_be_nofrag", "-v 3 -e be --no-fragments", true},
                      Variant{"v2_le", "-v 2 -e le", true}, Variant{"v2_be", "-v 2 -e be", true},
                      Variant{"v2_be_nofrag", "-v 2 -e be --no-fragments", true},
                      Variant{"v3_be_4k_blocks", "-v 3 -e be -b 4096", true},
                      Variant{"v1_le", "-v 1 -e le", true}, Variant{"v1_be", "-v 1 -e be", true},
                      // Vendor LZMA variants (unsquashfs cannot read them): the source tree
                      // is the expectation.
                      Variant{"v3_be_lzma13", "-v 3 -e be -c lzma13", false},
                      Variant{"v3_le_lzma5", "-v 3 -e le -c lzma5", false},
                      Variant{"v2_be_lzma5", "-v 2 -e be -c lzma5 --no-fragments", false},
                      Variant{"v3_be_lzmaraw_shsq", "-v 3 -e be -c lzmaraw -m shsq", false},
                      Variant{"v3_le_lzma13_qshs", "-v 3 -e le -c lzma13 -m qshs", false}),
    [](const ::testing::TestParamInfo<Variant>& p) { return p.param.name; });

// 700 files with 4 KiB blocks: the inode, directory and fragment tables (700 fragment
// blocks, 16 bytes each) span several metadata blocks, and directory listings need several
// headers.
TEST(SquashfsLegacy, TablesSpanningMetadataBlocks) {
  TempDir tmp;
  const auto src = tmp / "src";
  for (int i = 0; i < 700; ++i) {
    WriteFileBytes(src / ("d" + std::to_string(i % 3)) / ("file" + std::to_string(i)),
                   PseudoRandomBytes(static_cast<std::uint64_t>(i), 2500 + i));
  }
  const TreeFacts facts = HashTree(src);
  for (const std::string options :
       {"-v 3 -e be -b 4096", "-v 2 -e le -b 4096", "-v 1 -e be -b 4096"}) {
    SCOPED_TRACE(options);
    const auto img = tmp / "fs.img";
    ASSERT_EQ(RunShell(MakeImage(src, img, options)), 0);
    fs::remove_all(tmp / "oracle");
    ASSERT_EQ(RunShell("unsquashfs -no-xattrs -d " + (tmp / "oracle").string() + " " +
                       img.string() + " >/dev/null 2>&1"),
              0);
    ASSERT_EQ(HashTree(tmp / "oracle"), facts);
    fs::remove_all(tmp / "out");
    const auto m = UnpackForTest(img, tmp / "out");
    const std::string dir = FindChunkDir(m, "squashfs-legacy");
    ASSERT_FALSE(dir.empty());
    EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
    for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << ": " << p.message;
  }
}

// binwalk's squashfs_v2.bin: a big-endian SquashFS 2.0 of a 2009 Broadcom router with LZMA
// data blocks (5-byte properties, no size). Debian's unsquashfs lists it (its metadata is
// uncompressed) but cannot decompress the data: its listing is the oracle for every path,
// type and size.
TEST(SquashfsLegacy, BinwalkV2SampleMatchesUnsquashfsListing) {
  const fs::path sample = SourceRoot() / "tests/oracle/binwalk/squashfs_v2.bin";
  ASSERT_TRUE(fs::exists(sample));
  TempDir tmp;
  std::string listing;
  ASSERT_EQ(RunShell("unsquashfs -lls " + sample.string() +
                         " 2>/dev/null | awk '/squashfs-root\\//{t=substr($1,1,1); "
                         "s=(t==\"-\")?$3:0; p=(t==\"l\")?$(NF-2):$NF; print t, p, s}' | "
                         "sed 's# squashfs-root/# #' | LC_ALL=C sort",
                     &listing),
            0);
  const auto m = UnpackForTest(sample, tmp / "out");
  const std::string dir = FindChunkDir(m, "squashfs-legacy");
  ASSERT_EQ(dir, "0x00000000.squashfs-legacy");
  EXPECT_TRUE(m.problems.empty());
  std::vector<std::string> ours;
  const std::string prefix = dir + "/";
  for (const auto& f : m.files) {
    if (!f.path.starts_with(prefix) || f.path.find(".extract/") != std::string::npos) continue;
    const std::string rel = f.path.substr(prefix.size());
    char t = '?';
    std::uint64_t size = 0;
    switch (f.type) {
      case EntryType::kDirectory: t = 'd'; break;
      case EntryType::kFile:
      case EntryType::kHardlink:
        t = '-';
        size = f.size;
        break;
      case EntryType::kSymlink: t = 'l'; break;
      case EntryType::kCharDevice: t = 'c'; break;
      case EntryType::kBlockDevice: t = 'b'; break;
      case EntryType::kFifo: t = 'p'; break;
      default: break;
    }
    ours.push_back(std::string(1, t) + " " + rel + " " + std::to_string(size));
  }
  std::sort(ours.begin(), ours.end());
  std::string joined;
  for (const auto& line : ours) joined += line + "\n";
  EXPECT_EQ(ours.size(), 430u);
  EXPECT_EQ(joined, listing);
}

TEST(SquashfsLegacy, TruncatedImageIsRecordedNotCrashed) {
  TempDir tmp;
  MakeSampleTree(tmp / "src", 3);
  ASSERT_EQ(RunShell(MakeImage(tmp / "src", tmp / "fs.img", "-v 3 -e be") + " && cd " +
                     tmp.path().string() +
                     " && head -c $(( $(stat -c %s fs.img) / 2 )) fs.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(SquashfsLegacy, CarvedFromInsideJunk) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MakeImage(tmp / "src", tmp / "fs.img", "-v 3 -e be -c lzma13")), 0);
  const std::string junk = PseudoRandomBytes(7, 5000);
  WriteFileBytes(tmp / "blob.bin", junk + ReadFileBytes(tmp / "fs.img") + junk);
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const std::string dir = FindChunkDir(m, "squashfs-legacy");
  ASSERT_EQ(dir, "0x00001388.squashfs-legacy");
  EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
}

// A root entry naming the root directory itself: reported once, no endless walk.
TEST(SquashfsLegacy, DirectoryLoopIsReportedNotFollowed) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MakeImage(tmp / "src", tmp / "fs.img", "-v 3 -e le --hostile loop")), 0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "squashfs-legacy");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), facts);
  ASSERT_EQ(m.problems.size(), 1u);
  EXPECT_NE(m.problems[0].message.find("loop"), std::string::npos);
}

// Every file claims 0xFFFFFFF0 bytes: refused per file (the block list cannot hold them)
// before anything is written.
TEST(SquashfsLegacy, HugeFileSizesAreRefused) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MakeImage(tmp / "src", tmp / "fs.img", "-v 2 -e be --hostile size")), 0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  ASSERT_NE(FindChunkDir(m, "squashfs-legacy"), "");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  for (const auto& f : m.files) EXPECT_LT(f.size, 1u << 20) << f.path;
}

// Random byte damage in the metadata of a small image: never a crash (ASan/UBSan build),
// never a hang.
TEST(SquashfsLegacy, DamagedImagesDoNotCrash) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MakeImage(tmp / "src", tmp / "fs.img", "-v 3 -e be")), 0);
  const std::string img = ReadFileBytes(tmp / "fs.img");
  const std::string noise = PseudoRandomBytes(3, 4 * 60);
  for (int round = 0; round < 60; ++round) {
    std::string bad = img;
    for (int k = 0; k < 4; ++k) {
      const auto* n = reinterpret_cast<const unsigned char*>(noise.data() + 4 * round);
      const std::size_t at = (n[k] * 131u + static_cast<unsigned>(round) * 977u) % bad.size();
      bad[at] = static_cast<char>(bad[at] ^ (n[(k + 1) % 4] | 1));
    }
    const auto path = tmp / ("bad" + std::to_string(round) + ".img");
    WriteFileBytes(path, bad);
    (void)UnpackForTest(path, tmp / ("out" + std::to_string(round)));
  }
}

TEST(SquashfsLegacy, Version4IsLeftToTheSquashfsHandler) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mksquashfs " + (tmp / "src").string() + " " + (tmp / "fs.img").string() +
                     " -comp gzip -noappend -quiet -no-progress >/dev/null"),
            0);
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "squashfs"), "0x00000000.squashfs");
  EXPECT_EQ(FindChunkDir(m, "squashfs-legacy"), "");
}

}  // namespace
}  // namespace clearbox::unpack
