#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "support/test_support.hpp"
#include "unpack/handlers/filesystem/fat_test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

constexpr std::size_t kSector = 512;

// An 8 MiB disk partitioned by sfdisk: three primaries, an extended partition in slot 4 and
// two logical partitions (5 and 6, behind EBRs at sectors 6144 and 9216), each filled with
// its own pseudo-random bytes. Returns the expected carved files.
TreeFacts MakeDisk(const TempDir& tmp, const fs::path& disk) {
  const std::string script =
      "label: dos\n"
      "start=2048, size=2048, type=83\n"
      "start=4096, size=1024, type=c\n"
      "start=5120, size=512, type=da\n"
      "start=6144, size=8192, type=5\n"
      "start=8192, size=1024, type=83\n"
      "start=11264, size=2048, type=82\n";
  WriteFileBytes(tmp / "script", script);
  EXPECT_EQ(RunShell("truncate -s 8M " + disk.string() + " && sfdisk -q " + disk.string() + " < " +
                     (tmp / "script").string()),
            0);
  std::string image = ReadFileBytes(disk);
  struct Part {
    std::string name;
    std::size_t start, count;
  };
  const Part parts[] = {{"partition-1.linux.img", 2048, 2048},
                        {"partition-2.fat32.img", 4096, 1024},
                        {"partition-3.type-da.img", 5120, 512},
                        {"partition-5.linux.img", 8192, 1024},
                        {"partition-6.linux-swap.img", 11264, 2048}};
  std::uint64_t seed = 100;
  for (const Part& p : parts) {
    const std::string bytes = PseudoRandomBytes(seed++, p.count * kSector);
    image.replace(p.start * kSector, bytes.size(), bytes);
    WriteFileBytes(tmp / "expect" / p.name, bytes);
  }
  WriteFileBytes(disk, image);
  return HashTree(tmp / "expect");
}

TEST(Mbr, PrimaryAndLogicalPartitionsAreCarved) {
  TempDir tmp;
  const TreeFacts facts = MakeDisk(tmp, tmp / "disk.img");
  const auto m = UnpackForTest(tmp / "disk.img", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "mbr"), "0x00000000.mbr");
  EXPECT_EQ(ManifestFilesUnder(m, "0x00000000.mbr"), facts);
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].message;
  ASSERT_FALSE(m.chunks.empty());
  EXPECT_EQ(m.chunks[0].length, (6144u + 8192u) * kSector);  // end of the extended partition
}

TEST(Mbr, PartitionsPastTheImageAreCutAndReported) {
  TempDir tmp;
  const TreeFacts facts = MakeDisk(tmp, tmp / "disk.img");
  // 8704 sectors: logical 5 (8192..9215) is cut in half, the EBR of logical 6 is gone.
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && head -c " + std::to_string(8704 * kSector) +
                     " disk.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, "0x00000000.mbr");
  EXPECT_EQ(files.at("partition-1.linux.img"), facts.at("partition-1.linux.img"));
  EXPECT_EQ(files.at("partition-3.type-da.img"), facts.at("partition-3.type-da.img"));
  ASSERT_EQ(files.count("partition-5.linux.img"), 1u);
  EXPECT_EQ(files.at("partition-5.linux.img").size, 512 * kSector);
  EXPECT_EQ(files.count("partition-6.linux-swap.img"), 0u);
}

TEST(Mbr, EbrLoopIsCut) {
  TempDir tmp;
  const TreeFacts facts = MakeDisk(tmp, tmp / "disk.img");
  std::string image = ReadFileBytes(tmp / "disk.img");
  // The second EBR's link points back to the first (relative LBA 0 of the extended one).
  const std::size_t link = 9216 * kSector + 446 + 16;
  const std::string entry = {0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
  image.replace(link, 16, entry);
  WriteFileBytes(tmp / "loop.img", image);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "loop.img", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(HasProblem(m, "malformed"));
  EXPECT_EQ(ManifestFilesUnder(m, "0x00000000.mbr"), facts);
}

// A hand-made MBR sector with the given 16-byte entries.
std::string Sector(std::initializer_list<std::string> entries) {
  std::string s(kSector, '\0');
  std::size_t at = 446;
  for (const auto& e : entries) {
    s.replace(at, 16, e);
    at += 16;
  }
  s[510] = '\x55';
  s[511] = '\xaa';
  return s;
}

std::string Entry(std::uint8_t status, std::uint8_t type, std::uint32_t lba, std::uint32_t n) {
  std::string e(16, '\0');
  e[0] = static_cast<char>(status);
  e[4] = static_cast<char>(type);
  for (int i = 0; i < 4; ++i) {
    e[8 + i] = static_cast<char>(lba >> (8 * i));
    e[12 + i] = static_cast<char>(n >> (8 * i));
  }
  return e;
}

TEST(Mbr, ChanceMatchesAreRejected) {
  TempDir tmp;
  const std::string filler = PseudoRandomBytes(9, 64 * kSector);
  const std::pair<const char*, std::string> cases[] = {
      {"overlap", Sector({Entry(0, 0x83, 1, 40), Entry(0, 0x83, 20, 40)})},
      {"status", Sector({Entry(0x12, 0x83, 1, 40)})},
      {"empty", Sector({})},
      {"dirty-unused", Sector({Entry(0, 0x83, 1, 40), Entry(0, 0, 5, 0)})},
      {"two-extended", Sector({Entry(0, 0x05, 1, 20), Entry(0, 0x0f, 30, 20)})},
  };
  for (const auto& [name, sector] : cases) {
    WriteFileBytes(tmp / name, sector + filler);
    const auto m = UnpackForTest(tmp / name, tmp / (std::string("out-") + name));
    EXPECT_TRUE(FindChunkDir(m, "mbr").empty()) << name;
  }
  // 55AA closing every sector of 4 MiB of noise.
  std::string noise = PseudoRandomBytes(10, 4 << 20);
  for (std::size_t at = 510; at < noise.size(); at += kSector) noise.replace(at, 2, "\x55\xaa");
  WriteFileBytes(tmp / "noise.bin", noise);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "noise.bin", tmp / "out-noise");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(FindChunkDir(m, "mbr").empty());
}

TEST(Mbr, PartitionStartingPastTheImageIsReported) {
  TempDir tmp;
  // Partition 1 is inside (sectors 1-8), partition 2 claims 1 TiB at 2^31.
  const std::string image = Sector({Entry(0x80, 0x83, 1, 8), Entry(0, 0x83, 1u << 31, 1u << 31)}) +
                            PseudoRandomBytes(3, 8 * kSector);
  WriteFileBytes(tmp / "wild.img", image);
  const auto m = UnpackForTest(tmp / "wild.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, "0x00000000.mbr");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.at("partition-1.linux.img").size, 8 * kSector);
}

TEST(Mbr, DiskWithFatAndExt4PartitionsIsUnpackedRecursively) {
  TempDir tmp;
  const TreeFacts fat_facts = MakeFatTree(tmp / "fat-src");
  const TreeFacts ext_facts = MakeSampleTree(tmp / "ext-src");
  ASSERT_EQ(MakeFatImage(16, tmp / "fat-src", tmp / "fat.img", 16384), 0);
  ASSERT_EQ(RunShell("mke2fs -q -t ext4 -d " + (tmp / "ext-src").string() + " -F " +
                     (tmp / "ext.img").string() + " 8M >/dev/null 2>&1"),
            0);
  WriteFileBytes(tmp / "script",
                 "label: dos\nstart=2048, size=32768, type=e\nstart=34816, size=16384, type=83\n");
  const std::string disk = (tmp / "disk.img").string();
  ASSERT_EQ(RunShell("truncate -s 26M " + disk + " && sfdisk -q " + disk + " < " +
                     (tmp / "script").string() + " && dd if=" + (tmp / "fat.img").string() +
                     " of=" + disk + " bs=512 seek=2048 conv=notrunc status=none && dd if=" +
                     (tmp / "ext.img").string() + " of=" + disk +
                     " bs=512 seek=34816 conv=notrunc status=none"),
            0);
  const auto m = UnpackForTest(tmp / "disk.img", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "fat"), "0x00000000.mbr/partition-1.fat16.img.extract/0x00000000.fat");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "fat")), fat_facts);
  EXPECT_EQ(FindChunkDir(m, "extfs"),
            "0x00000000.mbr/partition-2.linux.img.extract/0x00000000.extfs");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "extfs")), ext_facts);
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].path << " " << m.problems[0].message;
}

}  // namespace
}  // namespace clearbox::unpack
