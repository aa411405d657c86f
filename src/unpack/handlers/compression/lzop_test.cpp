#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Lzop, RoundTripKeepsStoredName) {
  TempDir tmp;
  const std::string payload = SamplePayload(81, 700000);  // several 256 KiB blocks
  WriteFileBytes(tmp / "kernel.img", payload);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && lzop -q -o packed.bin kernel.img"), 0);
  ExpectRoundTrip("lzop", ReadFileBytes(tmp / "packed.bin"), "packed.bin", "kernel.img", payload);
}

TEST(Lzop, Crc32ChecksumsAndBestCompression) {
  TempDir tmp;
  const std::string payload = SamplePayload(82, 300000);
  ExpectRoundTrip("lzop", Compress(tmp, payload, "lzop -q -9 --crc32 -c in > out"), "x.lzo", "in",
                  payload);
}

TEST(Lzop, StdinStreamFallsBackToContainerName) {
  TempDir tmp;
  const std::string payload = SamplePayload(83, 100000);
  ExpectRoundTrip("lzop", Compress(tmp, payload, "lzop -q -c < in > out"), "rootfs.tzo",
                  "rootfs.tar", payload);
}

TEST(Lzop, IncompressibleBlocksAreStored) {
  TempDir tmp;
  const std::string payload = PseudoRandomBytes(84, 300000);
  ExpectRoundTrip("lzop", Compress(tmp, payload, "lzop -q -c < in > out"), "r.lzo", "r", payload);
}

TEST(Lzop, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(85, 120000);
  ExpectCarved("lzop", Compress(tmp, payload, "lzop -q -c in > out"), payload);
}

TEST(Lzop, TruncatedStreamIsReported) {
  TempDir tmp;
  ExpectTruncationReported("lzop", Compress(tmp, SamplePayload(86, 700000), "lzop -q -c in > out"));
}

TEST(Lzop, ChecksumMismatchIsMalformed) {
  TempDir tmp;
  std::string lzo = Compress(tmp, SamplePayload(87, 300000), "lzop -q -c in > out");
  // In the second block: the first block is extracted, then the mismatch is reported.
  lzo[lzo.size() * 3 / 4] = static_cast<char>(lzo[lzo.size() * 3 / 4] ^ 0x55);
  WriteFileBytes(tmp / "bad.lzo", lzo);
  const auto m = UnpackForTest(tmp / "bad.lzo", tmp / "unpacked");
  EXPECT_TRUE(HasProblem(m, "malformed"));
}

TEST(Lzop, HostileStoredNameCannotEscape) {
  TempDir tmp;
  WriteFileBytes(tmp / "in", "payload\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && lzop -q -c in > out"), 0);
  std::string lzo = ReadFileBytes(tmp / "out");
  // Rewrite the stored name "in" as "../../x" and fix the header's adler32.
  // Header (lzop 1.04): magic 9, version 2, lib 2, needed 2, method 1, level 1, flags 4,
  // mode 4, mtime 4, mtime_high 4, name length 1, name, checksum 4.
  const std::size_t name_len_at = 9 + 2 + 2 + 2 + 1 + 1 + 4 + 4 + 4 + 4;
  ASSERT_GT(lzo.size(), name_len_at + 7);
  ASSERT_EQ(lzo[name_len_at], 2);
  const std::string evil = "../../x";
  std::string header = lzo.substr(0, name_len_at) + static_cast<char>(evil.size()) + evil;
  const std::string rest = lzo.substr(name_len_at + 1 + 2 + 4);
  std::uint32_t a = 1, b = 0;
  for (std::size_t i = 9; i < header.size(); ++i) {
    a = (a + static_cast<unsigned char>(header[i])) % 65521;
    b = (b + a) % 65521;
  }
  const std::uint32_t sum = (b << 16) | a;
  for (int i = 3; i >= 0; --i) header.push_back(static_cast<char>(sum >> (8 * i)));
  WriteFileBytes(tmp / "evil.lzo", header + rest);
  const auto m = UnpackForTest(tmp / "evil.lzo", tmp / "unpacked");
  EXPECT_FALSE(fs::exists(tmp / "x"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "lzop"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->first, "x");
}

TEST(Lzop, GarbageAfterValidHeaderLeavesNothing) {
  TempDir tmp;
  const std::string l = Compress(tmp, "hello\n", "lzop -q -c in > out");
  ExpectGarbageLeavesNothing("lzop", l.substr(0, l.size() - 20));
}

}  // namespace
}  // namespace clearbox::unpack
