#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

ByteView AsBytes(const std::string& bytes) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

// Incompressible runs make ncompress clear its table (code 256) once the ratio drops, so a
// payload of this kind exercises the clear code and the padding after it.
std::string PayloadWithRandomRuns(std::uint64_t seed, std::size_t size) {
  std::string out;
  while (out.size() < size) {
    out += SamplePayload(seed++, 30000);
    out += PseudoRandomBytes(seed++, 40000);
  }
  out.resize(size);
  return out;
}

TEST(Compress, RoundTripStripsSuffix) {
  TempDir tmp;
  const std::string payload = SamplePayload(41, 300000);
  ExpectRoundTrip("compress", Compress(tmp, payload, "compress -c in > out"), "kernel.bin.Z",
                  "kernel.bin", payload);
}

TEST(Compress, TinyStream) {
  TempDir tmp;
  ExpectRoundTrip("compress", Compress(tmp, "hello\n", "compress -c -f in > out"), "h.Z", "h",
                  "hello\n");
}

class CompressWidth : public ::testing::TestWithParam<int> {};

// Every code width compress writes, with table clears and width changes on the way.
TEST_P(CompressWidth, RoundTripWithClears) {
  TempDir tmp;
  const std::string payload = PayloadWithRandomRuns(42 + GetParam(), 600000);
  const std::string z =
      Compress(tmp, payload, "compress -c -b" + std::to_string(GetParam()) + " in > out");
  ASSERT_EQ(static_cast<unsigned char>(z[2]), 0x80 | GetParam());
  ExpectRoundTrip("compress", z, "rootfs.taz", "rootfs.tar", payload);
}

// Not 9: ncompress 4.2.4's own uncompress, gzip -d and libarchive all stop with "corrupt input"
// where a -b9 stream's table fills; this decoder does the same, with the same rule.
INSTANTIATE_TEST_SUITE_P(Widths, CompressWidth, ::testing::Values(10, 11, 12, 13, 14, 15, 16));

// The format has no end marker: carved out of other data, the stream ends at the first
// impossible code, so a few bytes of what follows may be decoded with it.
TEST(Compress, CarvedFromJunkEndsNearItsEnd) {
  TempDir tmp;
  const std::string payload = SamplePayload(43, 120000);
  const std::string z = Compress(tmp, payload, "compress -c in > out");
  const std::string head = PseudoRandomBytes(901, 3001);
  WriteFileBytes(tmp / "image.bin", head + z + PseudoRandomBytes(902, 5003));
  const auto m = UnpackForTest(tmp / "image.bin", tmp / "unpacked");
  const auto* chunk = ImageChunk(m, "compress");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, head.size());
  EXPECT_GE(chunk->length, z.size());
  EXPECT_LE(chunk->length, z.size() + 64);
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  ASSERT_EQ(files.size(), 1u);
  const std::string out =
      ReadFileBytes(tmp / "unpacked" / chunk->extracted_to / files.begin()->first);
  ASSERT_GE(out.size(), payload.size());
  EXPECT_EQ(out.substr(0, payload.size()), payload);
  EXPECT_LE(out.size(), payload.size() + 4096);
}

TEST(Compress, RandomBytesAfterHeaderAreNoCandidate) {
  ExpectGarbageLeavesNothing("compress", std::string("\x1f\x9d\x90", 3));
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const std::string junk = std::string("\x1f\x9d\x90", 3) + PseudoRandomBytes(seed, 4096);
    EXPECT_FALSE(GetCompressHandler().Probe(AsBytes(junk))) << seed;
  }
}

TEST(Compress, ReservedFlagBitsAreRefused) {
  TempDir tmp;
  std::string z = Compress(tmp, SamplePayload(44, 5000), "compress -c in > out");
  z[2] = static_cast<char>(z[2] | 0x20);
  EXPECT_FALSE(GetCompressHandler().Probe(AsBytes(z)));
  z[2] = static_cast<char>(0x88);  // 8-bit codes: not a width compress writes
  EXPECT_FALSE(GetCompressHandler().Probe(AsBytes(z)));
}

}  // namespace
}  // namespace clearbox::unpack
