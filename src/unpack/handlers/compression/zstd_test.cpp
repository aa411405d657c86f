#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Zstd, RoundTripStripsSuffix) {
  TempDir tmp;
  const std::string payload = SamplePayload(61, 300000);
  ExpectRoundTrip("zstd", Compress(tmp, payload, "zstd -q -19 -c in > out"), "data.img.zst",
                  "data.img", payload);
}

TEST(Zstd, ConsecutiveFramesAndSkippableFramesAreOneFile) {
  TempDir tmp;
  const std::string a = SamplePayload(62, 100000), b = SamplePayload(63, 50000);
  const std::string za = Compress(tmp, a, "zstd -q --no-check -c in > out");
  const std::string zb = Compress(tmp, b, "zstd -q --check -c in > out");
  // A skippable frame (magic 0x184D2A53, 6 bytes of user data) between the two frames.
  const std::string skippable = std::string("\x53\x2a\x4d\x18\x06\x00\x00\x00", 8) + "abcdef";
  ExpectRoundTrip("zstd", za + skippable + zb, "two.zst", "two", a + b);
}

TEST(Zstd, ImageStartingWithSkippableFrame) {
  TempDir tmp;
  const std::string payload = SamplePayload(64, 40000);
  const std::string skippable = std::string("\x50\x2a\x4d\x18\x04\x00\x00\x00", 8) + "meta";
  ExpectRoundTrip("zstd", skippable + Compress(tmp, payload, "zstd -q -c in > out"), "s.zst", "s",
                  payload);
}

TEST(Zstd, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(65, 120000);
  ExpectCarved("zstd", Compress(tmp, payload, "zstd -q -c in > out"), payload);
}

TEST(Zstd, TruncatedStreamIsReported) {
  TempDir tmp;
  ExpectTruncationReported("zstd",
                           Compress(tmp, SamplePayload(66, 400000), "zstd -q -1 -c in > out"));
}

TEST(Zstd, GarbageAfterValidHeaderLeavesNothing) {
  TempDir tmp;
  const std::string z = Compress(tmp, SamplePayload(67, 1000), "zstd -q -c in > out");
  ExpectGarbageLeavesNothing("zstd", z.substr(0, 6));
}

}  // namespace
}  // namespace clearbox::unpack
