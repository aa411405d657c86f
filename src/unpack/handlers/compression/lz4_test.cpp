#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Lz4, RoundTripStripsSuffix) {
  TempDir tmp;
  const std::string payload = SamplePayload(71, 300000);
  ExpectRoundTrip("lz4", Compress(tmp, payload, "lz4 -q -9 -c in > out"), "initrd.lz4", "initrd",
                  payload);
}

TEST(Lz4, BlockChecksumsAndLinkedBlocks) {
  TempDir tmp;
  const std::string payload = SamplePayload(72, 500000);
  ExpectRoundTrip("lz4", Compress(tmp, payload, "lz4 -q -B4 -BD --content-size -c in > out"),
                  "x.lz4", "x", payload);
}

TEST(Lz4, ConsecutiveFramesAreOneFile) {
  TempDir tmp;
  const std::string a = SamplePayload(73, 100000), b = SamplePayload(74, 60000);
  const std::string la = Compress(tmp, a, "lz4 -q -c in > out");
  const std::string lb = Compress(tmp, b, "lz4 -q -c in > out");
  ExpectRoundTrip("lz4", la + lb, "two.lz4", "two", a + b);
}

TEST(Lz4, LegacyFormatAsLinuxKernelsUseIt) {
  TempDir tmp;
  // More than one 8 MiB legacy block, and a short last block.
  const std::string payload = SamplePayload(75, (8 << 20) + 300000);
  const std::string legacy = Compress(tmp, payload, "lz4 -q -l -c in > out");
  ASSERT_EQ(legacy.substr(0, 4), std::string("\x02\x21\x4c\x18", 4));
  ExpectRoundTrip("lz4", legacy, "vmlinux.lz4", "vmlinux", payload);
  // The kernel appends the uncompressed size after the stream.
  std::string sized = legacy;
  const std::uint32_t n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) sized.push_back(static_cast<char>(n >> (8 * i)));
  WriteFileBytes(tmp / "k.bin", sized);
  const auto m = UnpackForTest(tmp / "k.bin", tmp / "unpacked");
  const auto* chunk = ImageChunk(m, "lz4");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, legacy.size());
  EXPECT_TRUE(chunk->complete);
}

TEST(Lz4, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(76, 120000);
  ExpectCarved("lz4", Compress(tmp, payload, "lz4 -q -c in > out"), payload);
  TempDir tmp2;
  ExpectCarved("lz4", Compress(tmp2, payload, "lz4 -q -l -c in > out"), payload);
}

TEST(Lz4, TruncatedStreamIsReported) {
  TempDir tmp;
  ExpectTruncationReported("lz4",
                           Compress(tmp, SamplePayload(77, 400000), "lz4 -q -B4 -c in > out"));
  // Legacy blocks hold 8 MiB: cut inside the second one.
  TempDir tmp2;
  const std::string legacy =
      Compress(tmp2, SamplePayload(78, (8 << 20) + 400000), "lz4 -q -l -c in > out");
  ExpectTruncationReported("lz4", legacy, legacy.size() - 1000);
}

TEST(Lz4, GarbageAfterValidHeaderLeavesNothing) {
  TempDir tmp;
  const std::string l = Compress(tmp, SamplePayload(79, 1000), "lz4 -q -c in > out");
  ExpectGarbageLeavesNothing("lz4", l.substr(0, 7));
  ExpectGarbageLeavesNothing("lz4", std::string("\x02\x21\x4c\x18", 4));
}

}  // namespace
}  // namespace clearbox::unpack
