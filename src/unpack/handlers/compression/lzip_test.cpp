#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"
#include "unpack/registry.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Lzip, RoundTripStripsSuffix) {
  TempDir tmp;
  const std::string payload = SamplePayload(51, 300000);
  ExpectRoundTrip("lzip", Compress(tmp, payload, "lzip -6 -c in > out"), "firmware.bin.lz",
                  "firmware.bin", payload);
}

TEST(Lzip, MultiMemberFileIsOneOutput) {
  TempDir tmp;
  const std::string payload = SamplePayload(52, 400000);
  // -b: a new member every 100 KiB, as plzip and lzip -b write.
  const std::string lz = Compress(tmp, payload, "lzip -0 -b 100KiB -c in > out");
  ASSERT_EQ(lz.find("LZIP", 1) != std::string::npos, true);
  ExpectRoundTrip("lzip", lz, "rootfs.tlz", "rootfs.tar", payload);
}

TEST(Lzip, ConcatenatedFilesAreOneOutput) {
  TempDir tmp;
  const std::string a = SamplePayload(53, 50000), b = SamplePayload(54, 70000);
  const std::string la = Compress(tmp, a, "lzip -c in > out");
  const std::string lb = Compress(tmp, b, "lzip -9 -c in > out");
  ExpectRoundTrip("lzip", la + lb, "two.lz", "two", a + b);
}

TEST(Lzip, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(55, 120000);
  ExpectCarved("lzip", Compress(tmp, payload, "lzip -c in > out"), payload);
}

TEST(Lzip, TruncatedMemberIsReported) {
  TempDir tmp;
  ExpectTruncationReported("lzip", Compress(tmp, SamplePayload(56, 400000), "lzip -0 -c in > out"));
}

TEST(Lzip, CorruptDataIsMalformed) {
  TempDir tmp;
  const std::string lz = Compress(tmp, SamplePayload(57, 400000), "lzip -0 -c in > out");
  ExpectCorruptMiddleIsMalformed(lz);
}

TEST(Lzip, WrongTrailerCrcIsMalformed) {
  TempDir tmp;
  std::string lz = Compress(tmp, SamplePayload(58, 20000), "lzip -c in > out");
  lz[lz.size() - 20] = static_cast<char>(lz[lz.size() - 20] ^ 1);  // CRC32 of the data
  WriteFileBytes(tmp / "crc.lz", lz);
  const auto m = UnpackForTest(tmp / "crc.lz", tmp / "unpacked");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const auto* chunk = ImageChunk(m, "lzip");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

TEST(Lzip, GarbageAfterValidHeaderLeavesNothing) {
  TempDir tmp;
  const std::string lz = Compress(tmp, "hello\n", "lzip -c in > out");
  ExpectGarbageLeavesNothing("lzip", lz.substr(0, 6));
}

TEST(Lzip, TarLzRecursesIntoTar) {
  TempDir tmp;
  const auto facts = MakeSampleTree(tmp / "src");
  ASSERT_EQ(
      RunShell("cd " + (tmp / "src").string() + " && tar cf - * | lzip -c > ../rootfs.tar.lz"), 0);
  const auto m = UnpackForTest(tmp / "rootfs.tar.lz", tmp / "unpacked");
  const std::string tar_dir = FindChunkDir(m, "tar");
  ASSERT_FALSE(tar_dir.empty());
  EXPECT_NE(tar_dir.find("rootfs.tar.extract/"), std::string::npos) << tar_dir;
  EXPECT_EQ(ManifestFilesUnder(m, tar_dir), facts);
}

}  // namespace
}  // namespace clearbox::unpack
