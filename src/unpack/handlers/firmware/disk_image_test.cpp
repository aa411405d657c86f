// VHD, VMDK and VDI images made by QEMU's own qemu-img (Debian's qemu-utils) from a raw 8 MiB disk
// partitioned by sfdisk with one ext2 partition (mke2fs -d): the rebuilt disk.img must equal
// the raw disk byte for byte, and the tree inside must come out of the recursion
// (disk.img -> mbr -> partition -> extfs).
#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// tree/ and raw.img: an MBR with partition 1 at sector 2048 holding an ext2 filesystem.
void MakeRawDisk(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && truncate -s 8M raw.img && printf 'label: dos\\nstart=2048, type=83\\n' "
                     "| sfdisk -q raw.img && mke2fs -q -F -t ext2 -E offset=1048576,root_owner=0:0 "
                     "-d tree raw.img 7168 >/dev/null 2>&1"),
            0);
}

// The files of the ext2 found anywhere under the chunk directory `dir`.
TreeFacts ExtTreeUnder(const Manifest& m, const std::string& dir) {
  for (const auto& c : m.chunks) {
    if (c.format == "extfs" && c.extracted_to.starts_with(dir + "/")) {
      return ManifestFilesUnder(m, c.extracted_to);
    }
  }
  return {};
}

// Converts raw.img with `options` into `name`, unpacks it and checks the rebuilt disk.
void ExpectRoundTrip(const TempDir& tmp, const std::string& format, const std::string& options,
                     const std::string& name) {
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && qemu-img convert -f raw " + options +
                     " raw.img " + name),
            0)
      << options;
  const auto out = tmp / ("out-" + name);
  const auto m = UnpackForTest(tmp / name, out);
  const std::string dir = FindChunkDir(m, format);
  ASSERT_EQ(dir, "0x00000000." + format) << options;
  for (const auto& p : m.problems) ADD_FAILURE() << options << ": " << p.path << " " << p.message;
  // The chunk ends at the image's end; QEMU pads a streamOptimized image with zero sectors
  // after its end-of-stream marker, which are left to the carver.
  const std::string image = ReadFileBytes(tmp / name);
  ASSERT_TRUE(m.chunks[0].length.has_value());
  ASSERT_LE(*m.chunks[0].length, image.size()) << options;
  EXPECT_EQ(image.find_first_not_of('\0', *m.chunks[0].length), std::string::npos) << options;
  // QEMU may round a VHD's size up to a CHS geometry: the rest must then be zeros.
  const std::string raw = ReadFileBytes(tmp / "raw.img");
  std::string disk = ReadFileBytes(out / dir / "disk.img");
  ASSERT_GE(disk.size(), raw.size()) << options;
  EXPECT_EQ(disk.find_first_not_of('\0', raw.size()), std::string::npos) << options;
  disk.resize(raw.size());
  EXPECT_TRUE(disk == raw) << options;
  EXPECT_EQ(ExtTreeUnder(m, dir), HashTree(tmp / "tree")) << options;
}

TEST(Vhd, DynamicImagesRebuildTheRawDisk) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ExpectRoundTrip(tmp, "vhd", "-O vpc -o subformat=dynamic,force_size=on", "d.vhd");
  // Without force_size QEMU derives the size from a CHS geometry; the footer's current size
  // is what the rebuilt disk follows.
  ExpectRoundTrip(tmp, "vhd", "-O vpc -o subformat=dynamic", "chs.vhd");
}

TEST(Vhd, FixedImageFooterIsRecognisedAndTheDiskFound) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on raw.img "
                     "f.vhd"),
            0);
  const auto m = UnpackForTest(tmp / "f.vhd", tmp / "out");
  const std::uint64_t raw = fs::file_size(tmp / "raw.img");
  ASSERT_EQ(fs::file_size(tmp / "f.vhd"), raw + 512);
  bool footer = false;
  for (const auto& c : m.chunks) {
    if (c.format != "vhd") continue;
    footer = true;
    EXPECT_EQ(c.offset, raw);
    EXPECT_EQ(c.length, 512u);
    EXPECT_EQ(c.metadata.at("disk_type"), "fixed");
    EXPECT_EQ(c.metadata.at("current_size"), std::to_string(raw));
    EXPECT_EQ(c.metadata.at("footer_checksum"), "ok");
  }
  EXPECT_TRUE(footer);
  EXPECT_EQ(ExtTreeUnder(m, "0x00000000.mbr"), HashTree(tmp / "tree"));
}

TEST(Vhd, TruncatedAndHostileImagesAreReported) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "
                     "raw.img d.vhd && head -c 1500000 d.vhd > cut.vhd"),
            0);
  const auto cut = UnpackForTest(tmp / "cut.vhd", tmp / "out-cut");
  EXPECT_EQ(FindChunkDir(cut, "vhd"), "0x00000000.vhd");
  EXPECT_TRUE(HasProblem(cut, "truncated"));

  // A huge current size over a tiny block table is not a VHD.
  std::string huge = ReadFileBytes(tmp / "d.vhd");
  for (int i = 0; i < 8; ++i) huge[48 + i] = static_cast<char>(i == 3 ? 0x10 : 0);
  WriteFileBytes(tmp / "huge.vhd", huge);
  const auto h = UnpackForTest(tmp / "huge.vhd", tmp / "out-huge");
  EXPECT_TRUE(FindChunkDir(h, "vhd").empty());

  std::string junk = PseudoRandomBytes(5, 100000);
  for (std::size_t at : {0u, 4096u, 70000u}) junk.replace(at, 8, "conectix");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto j = UnpackForTest(tmp / "junk.bin", tmp / "out-junk");
  EXPECT_TRUE(FindChunkDir(j, "vhd").empty());
}

TEST(Vmdk, SparseAndStreamOptimizedImagesRebuildTheRawDisk) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ExpectRoundTrip(tmp, "vmdk", "-O vmdk -o subformat=monolithicSparse", "s.vmdk");
  ExpectRoundTrip(tmp, "vmdk", "-O vmdk -o subformat=streamOptimized", "so.vmdk");
  ExpectRoundTrip(tmp, "vmdk", "-O vmdk -o subformat=monolithicSparse,compat6=on", "v6.vmdk");
}

TEST(Vdi, DynamicAndFixedImagesRebuildTheRawDisk) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ExpectRoundTrip(tmp, "vdi", "-O vdi", "d.vdi");
  ExpectRoundTrip(tmp, "vdi", "-O vdi -o static=on", "f.vdi");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && head -c 600000 d.vdi > cut.vdi"), 0);
  const auto cut = UnpackForTest(tmp / "cut.vdi", tmp / "out-cut");
  EXPECT_EQ(FindChunkDir(cut, "vdi"), "0x00000000.vdi");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
}

TEST(Vmdk, ImageInsideBlobIsCarvedToItsEnd) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && qemu-img convert -f raw -O vmdk -o subformat=streamOptimized raw.img "
                     "so.vmdk && (head -c 1024 /dev/zero; cat so.vmdk; gzip -n -c "
                     "tree/etc/passwd) > fw.bin"),
            0);
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "vmdk"), "0x00000400.vmdk");
  EXPECT_FALSE(FindChunkDir(m, "gzip").empty());
  EXPECT_TRUE(m.problems.empty());
}

TEST(Vmdk, TruncatedAndHostileImagesAreReportedQuickly) {
  TempDir tmp;
  MakeRawDisk(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && qemu-img convert -f raw -O vmdk raw.img s.vmdk && head -c 400000 "
                     "s.vmdk > cut.vmdk"),
            0);
  const auto cut = UnpackForTest(tmp / "cut.vmdk", tmp / "out-cut");
  EXPECT_EQ(FindChunkDir(cut, "vmdk"), "0x00000000.vmdk");
  EXPECT_TRUE(HasProblem(cut, "truncated"));

  // A petabyte of capacity in a few kilobytes: a limit problem, quickly.
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && qemu-img create -q -f vmdk big.vmdk 64G"),
            0);
  Limits limits;
  limits.max_total_bytes = std::uint64_t{1} << 30;
  const auto start = std::chrono::steady_clock::now();
  const auto big = UnpackForTest(tmp / "big.vmdk", tmp / "out-big", limits);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(FindChunkDir(big, "vmdk"), "0x00000000.vmdk");
  EXPECT_FALSE(big.problems.empty());

  std::string junk = PseudoRandomBytes(6, 100000);
  for (std::size_t at : {0u, 4096u, 70000u}) junk.replace(at, 4, "KDMV");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto j = UnpackForTest(tmp / "junk.bin", tmp / "out-junk");
  EXPECT_TRUE(FindChunkDir(j, "vmdk").empty());
}

}  // namespace
}  // namespace clearbox::unpack
