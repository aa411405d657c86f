#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// The TRX fixture maker (no Debian tool writes TRX), from the source tree.
std::string MakeTrx() {
  return FixtureScript("make-trx.py");
}

// Pads a file with zeros to a multiple of 4 bytes, as TRX partitions are laid out.
std::string Pad4(const std::string& file) {
  return "python3 -c \"import sys;p=sys.argv[1];d=open(p,'rb').read();"
         "open(p,'wb').write(d+bytes(-len(d)%4))\" " +
         file;
}

std::string Le32(std::uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
          static_cast<char>(v >> 24)};
}

// Builds src/part0 (a gzip'd kernel, padded) and src/part1 (squashfs of the sample tree).
void MakeParts(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkdir -p src && gzip -n -c tree/bin/busybox > src/part0 && " +
                     Pad4("src/part0") +
                     " && mksquashfs tree src/part1 -noappend -all-root -quiet -no-progress"),
            0);
}

TEST(Trx, Version1RoundTripWithKernelAndSquashfs) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + " && " + MakeTrx() + " -o fw.trx src/part0 src/part1"),
      0);
  const auto m = UnpackForTest(tmp / "fw.trx", tmp / "out");
  const std::string dir = FindChunkDir(m, "trx");
  ASSERT_EQ(dir, "0x00000000.trx");
  EXPECT_EQ(ManifestFilesUnder(m, dir), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "fw.trx"));
}

TEST(Trx, Version2WithThreePartitions) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && cp tree/etc/passwd src/part2 && " +
                     Pad4("src/part2") + " && " + MakeTrx() +
                     " -v 2 -o fw.trx src/part0 src/part1 src/part2"),
            0);
  const auto m = UnpackForTest(tmp / "fw.trx", tmp / "out");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "trx")), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
}

TEST(Trx, TruncatedImageIsReported) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + MakeTrx() +
                     " -o fw.trx src/part0 src/part1 && head -c 40000 fw.trx > cut.trx"),
            0);
  const auto m = UnpackForTest(tmp / "cut.trx", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  ASSERT_FALSE(m.chunks.empty());
  EXPECT_FALSE(m.chunks[0].complete);
}

TEST(Trx, CrcMismatchIsReportedButExtracted) {
  TempDir tmp;
  MakeParts(tmp);
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + " && " + MakeTrx() + " -o fw.trx src/part0 src/part1"),
      0);
  std::string image = ReadFileBytes(tmp / "fw.trx");
  image[100] = static_cast<char>(image[100] ^ 0x40);  // inside the kernel partition
  WriteFileBytes(tmp / "bad.trx", image);
  const auto m = UnpackForTest(tmp / "bad.trx", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "trx"));
  EXPECT_EQ(files.size(), 2u);
}

TEST(Trx, GarbageWithMagicIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(31, 100000);
  for (std::size_t at : {0u, 999u, 65536u}) junk.replace(at, 4, "HDR0");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "trx").empty());
}

TEST(Trx, HostileHugeLengthInTinyFile) {
  TempDir tmp;
  // Claims 4 GiB with a partition at 28 and one at 3 GiB, in 60 bytes.
  const std::string image = "HDR0" + Le32(0xffffffffu) + Le32(0) + Le32(1u << 16) + Le32(28) +
                            Le32(0xc0000000u) + Le32(0) + std::string(32, 'k');
  WriteFileBytes(tmp / "evil.trx", image);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "evil.trx", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "trx"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.at("part0").size, 32u);
  // Offsets past the length are not a TRX at all.
  const std::string wild = "HDR0" + Le32(64) + Le32(0) + Le32(1u << 16) + Le32(28) +
                           Le32(0x7fffffffu) + Le32(0) + std::string(36, 'k');
  WriteFileBytes(tmp / "wild.trx", wild);
  const auto m2 = UnpackForTest(tmp / "wild.trx", tmp / "out2");
  EXPECT_TRUE(FindChunkDir(m2, "trx").empty());
}

}  // namespace
}  // namespace clearbox::unpack
