#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "support/test_support.hpp"
#include "unpack/handlers/filesystem/fat_test_support.hpp"
#include "unpack/handlers/firmware/firmware_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

constexpr std::size_t kSector = 512;

// An 8 MiB disk partitioned by sgdisk (protective MBR, primary and backup GPT): three named
// partitions, one name trying to climb out, each filled with pseudo-random bytes. Returns
// the expected carved files.
TreeFacts MakeDisk(const TempDir& tmp, const fs::path& disk) {
  EXPECT_EQ(RunShell("truncate -s 8M " + disk.string() +
                     " && sgdisk -o -n 1:2048:4095 -t 1:ef00 -c 1:boot -n 2:4096:8191 "
                     "-c '2:root fs' -n 3:8192:9215 -c 3:../evil/name " +
                     disk.string() + " >/dev/null"),
            0);
  std::string image = ReadFileBytes(disk);
  struct Part {
    std::string name;
    std::size_t first, last;
  };
  const Part parts[] = {{"partition-1.boot.img", 2048, 4095},
                        {"partition-2.root_fs.img", 4096, 8191},
                        {"partition-3.evil_name.img", 8192, 9215}};
  std::uint64_t seed = 200;
  for (const Part& p : parts) {
    const std::string bytes = PseudoRandomBytes(seed++, (p.last - p.first + 1) * kSector);
    image.replace(p.first * kSector, bytes.size(), bytes);
    WriteFileBytes(tmp / "expect" / p.name, bytes);
  }
  WriteFileBytes(disk, image);
  return HashTree(tmp / "expect");
}

std::uint32_t Crc(const std::string& s, std::size_t at, std::size_t n) {
  return Crc32(ByteView(reinterpret_cast<const std::uint8_t*>(s.data()) + at, n));
}

void PutLe(std::string& d, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) d[at + i] = static_cast<char>(v >> (8 * i));
}

// Recomputes the entry array CRC and the header CRC of the primary header.
void FixCrcs(std::string& image) {
  PutLe(image, 512 + 88, Crc(image, 2 * kSector, 128 * 128), 4);
  PutLe(image, 512 + 16, 0, 4);
  PutLe(image, 512 + 16, Crc(image, 512, 92), 4);
}

TEST(Gpt, NamedPartitionsAreCarved) {
  TempDir tmp;
  const TreeFacts facts = MakeDisk(tmp, tmp / "disk.img");
  const auto m = UnpackForTest(tmp / "disk.img", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "gpt"), "0x00000000.gpt");
  // The protective MBR is left to the gpt handler.
  EXPECT_TRUE(FindChunkDir(m, "mbr").empty());
  EXPECT_EQ(ManifestFilesUnder(m, "0x00000000.gpt"), facts);
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].message;
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "disk.img"));  // to the backup header
}

TEST(Gpt, CrcMismatchesAreReportedButCarved) {
  TempDir tmp;
  const TreeFacts facts = MakeDisk(tmp, tmp / "disk.img");
  std::string image = ReadFileBytes(tmp / "disk.img");
  image[2 * kSector + 16] ^= 0x01;  // unique GUID of entry 1: entry array CRC
  image[512 + 16] ^= 0x01;          // header CRC
  WriteFileBytes(tmp / "bad.img", image);
  const auto m = UnpackForTest(tmp / "bad.img", tmp / "out");
  std::size_t crc_problems = 0;
  for (const auto& p : m.problems) crc_problems += p.message.find("CRC-32") != std::string::npos;
  EXPECT_EQ(crc_problems, 2u);
  EXPECT_EQ(ManifestFilesUnder(m, "0x00000000.gpt"), facts);
}

TEST(Gpt, TruncatedDiskIsCutAndReported) {
  TempDir tmp;
  const TreeFacts facts = MakeDisk(tmp, tmp / "disk.img");
  // 8704 sectors: partition 3 (8192..9215) is cut in half, the backup header is gone.
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && head -c " + std::to_string(8704 * kSector) +
                     " disk.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, "0x00000000.gpt");
  EXPECT_EQ(files.at("partition-1.boot.img"), facts.at("partition-1.boot.img"));
  EXPECT_EQ(files.at("partition-2.root_fs.img"), facts.at("partition-2.root_fs.img"));
  EXPECT_EQ(files.at("partition-3.evil_name.img").size, 512 * kSector);
}

TEST(Gpt, HostileEntriesAreReported) {
  TempDir tmp;
  MakeDisk(tmp, tmp / "disk.img");
  std::string image = ReadFileBytes(tmp / "disk.img");
  const std::size_t e2 = 2 * kSector + 128, e3 = 2 * kSector + 256;
  PutLe(image, e2 + 40, std::uint64_t{1} << 38, 8);  // partition 2 ends 128 TiB out
  PutLe(image, e3 + 32, 3000, 8);                    // partition 3 overlaps partition 1
  const std::size_t e4 = 2 * kSector + 384;          // partition 4 ends before it starts
  PutLe(image, e4, 0x1234, 8);
  PutLe(image, e4 + 32, 100, 8);
  PutLe(image, e4 + 40, 50, 8);
  FixCrcs(image);
  WriteFileBytes(tmp / "evil.img", image);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "evil.img", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(HasProblem(m, "truncated"));
  bool overlap = false;
  for (const auto& p : m.problems) overlap |= p.message.find("overlaps") != std::string::npos;
  EXPECT_TRUE(overlap);
  bool impossible = false;
  for (const auto& p : m.problems) impossible |= p.message.find("impossible") != std::string::npos;
  EXPECT_TRUE(impossible);
  const auto files = ManifestFilesUnder(m, "0x00000000.gpt");
  EXPECT_EQ(files.at("partition-2.root_fs.img").size, image.size() - 4096 * kSector);
  EXPECT_EQ(files.at("partition-3.evil_name.img").size, (9216 - 3000) * kSector);
}

std::uint64_t GetLe(const std::string& d, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(d[at + i]);
  return v;
}

// The sgdisk disk re-laid for 4096-byte sectors (sgdisk writes 512-byte sectors to image
// files): the partitions stay at the same bytes, header, entries and backup move, LBAs /8.
std::string ToFourKiBSectors(const std::string& d512) {
  constexpr std::size_t kBig = 4096;
  const std::size_t sectors = d512.size() / kBig;
  std::string d(d512.size(), '\0');
  d.replace(0, kSector, d512.substr(0, kSector));  // protective MBR
  d.replace(2048 * kSector, 7168 * kSector, d512.substr(2048 * kSector, 7168 * kSector));
  std::string entries = d512.substr(2 * kSector, 128 * 128);
  for (std::size_t e = 0; e < entries.size(); e += 128) {
    if (GetLe(entries, e, 8) == 0 && GetLe(entries, e + 8, 8) == 0) continue;
    PutLe(entries, e + 32, GetLe(entries, e + 32, 8) / 8, 8);
    PutLe(entries, e + 40, (GetLe(entries, e + 40, 8) + 1) / 8 - 1, 8);
  }
  const std::uint32_t entries_crc = Crc(entries, 0, entries.size());
  auto header = [&](std::uint64_t mine, std::uint64_t other, std::uint64_t array_lba) {
    std::string h = d512.substr(kSector, 92);
    PutLe(h, 24, mine, 8);
    PutLe(h, 32, other, 8);
    PutLe(h, 40, 6, 8);
    PutLe(h, 48, sectors - 6, 8);
    PutLe(h, 72, array_lba, 8);
    PutLe(h, 88, entries_crc, 4);
    PutLe(h, 16, 0, 4);
    PutLe(h, 16, Crc(h, 0, 92), 4);
    d.replace(mine * kBig, 92, h);
    d.replace(array_lba * kBig, entries.size(), entries);
  };
  header(1, sectors - 1, 2);
  header(sectors - 1, 1, sectors - 5);
  return d;
}

TEST(Gpt, FourKiBSectorsAreRecognised) {
  TempDir tmp;
  const TreeFacts facts = MakeDisk(tmp, tmp / "disk.img");
  WriteFileBytes(tmp / "4k.img", ToFourKiBSectors(ReadFileBytes(tmp / "disk.img")));
  const auto m = UnpackForTest(tmp / "4k.img", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "gpt"), "0x00000000.gpt");
  EXPECT_TRUE(FindChunkDir(m, "mbr").empty());
  EXPECT_EQ(ManifestFilesUnder(m, "0x00000000.gpt"), facts);
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].message;
}

TEST(Gpt, ExfatBootSectorIsNotAPartitionTable) {
  TempDir tmp;
  ASSERT_EQ(RunShell("truncate -s 8M " + (tmp / "exfat.img").string() + " && mkfs.exfat " +
                     (tmp / "exfat.img").string() + " >/dev/null"),
            0);
  const auto m = UnpackForTest(tmp / "exfat.img", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "mbr").empty());
  EXPECT_TRUE(FindChunkDir(m, "gpt").empty());
}

TEST(Gpt, DiskWithFatAndExt4PartitionsIsUnpackedRecursively) {
  TempDir tmp;
  const TreeFacts fat_facts = MakeFatTree(tmp / "fat-src");
  const TreeFacts ext_facts = MakeSampleTree(tmp / "ext-src");
  ASSERT_EQ(MakeFatImage(32, tmp / "fat-src", tmp / "fat.img", 34 * 1024, "-s 1"), 0);
  ASSERT_EQ(RunShell("mke2fs -q -t ext4 -d " + (tmp / "ext-src").string() + " -F " +
                     (tmp / "ext.img").string() + " 8M >/dev/null 2>&1"),
            0);
  const std::string disk = (tmp / "disk.img").string();
  const std::size_t fat_first = 2048, fat_last = fat_first + 34 * 2048 - 1;
  const std::size_t ext_first = fat_last + 1, ext_last = ext_first + 8 * 2048 - 1;
  ASSERT_EQ(
      RunShell("truncate -s 45M " + disk + " && sgdisk -o -n 1:" + std::to_string(fat_first) + ":" +
               std::to_string(fat_last) +
               " -t 1:ef00 -c '1:EFI system' -n 2:" + std::to_string(ext_first) + ":" +
               std::to_string(ext_last) + " -t 2:8300 -c 2:rootfs " + disk +
               " >/dev/null && dd if=" + (tmp / "fat.img").string() + " of=" + disk +
               " bs=512 seek=" + std::to_string(fat_first) +
               " conv=notrunc status=none && dd if=" + (tmp / "ext.img").string() + " of=" + disk +
               " bs=512 seek=" + std::to_string(ext_first) + " conv=notrunc status=none"),
      0);
  const auto m = UnpackForTest(tmp / "disk.img", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "fat"),
            "0x00000000.gpt/partition-1.EFI_system.img.extract/0x00000000.fat");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "fat")), fat_facts);
  EXPECT_EQ(FindChunkDir(m, "extfs"),
            "0x00000000.gpt/partition-2.rootfs.img.extract/0x00000000.extfs");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "extfs")), ext_facts);
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].path << " " << m.problems[0].message;
}

}  // namespace
}  // namespace clearbox::unpack
