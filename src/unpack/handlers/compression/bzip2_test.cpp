#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Bzip2, RoundTripStripsSuffix) {
  TempDir tmp;
  const std::string payload = SamplePayload(51, 300000);
  ExpectRoundTrip("bzip2", Compress(tmp, payload, "bzip2 -9 -c in > out"), "rootfs.tbz2",
                  "rootfs.tar", payload);
}

TEST(Bzip2, SmallBlocksAndConcatenatedStreamsAreOneFile) {
  TempDir tmp;
  const std::string a = SamplePayload(52, 250000), b = SamplePayload(53, 30000);
  const std::string ba = Compress(tmp, a, "bzip2 -1 -c in > out");  // 100k blocks
  const std::string bb = Compress(tmp, b, "bzip2 -5 -c in > out");
  ExpectRoundTrip("bzip2", ba + bb, "log.bz2", "log", a + b);
}

TEST(Bzip2, EmptyInputMakesNoFile) {
  TempDir tmp;
  const std::string empty = Compress(tmp, "", "bzip2 -c in > out");
  WriteFileBytes(tmp / "e.bz2", empty);
  const auto m = UnpackForTest(tmp / "e.bz2", tmp / "unpacked");
  for (const auto& p : m.problems) {
    EXPECT_NE(p.handler, "bzip2") << p.kind << ": " << p.message;
  }
}

TEST(Bzip2, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(54, 120000);
  ExpectCarved("bzip2", Compress(tmp, payload, "bzip2 -c in > out"), payload);
}

TEST(Bzip2, TruncatedStreamIsReported) {
  TempDir tmp;
  ExpectTruncationReported("bzip2",
                           Compress(tmp, SamplePayload(55, 400000), "bzip2 -1 -c in > out"));
}

TEST(Bzip2, GarbageAfterValidHeaderLeavesNothing) {
  ExpectGarbageLeavesNothing("bzip2", std::string("BZh91AY&SY", 10));
}

}  // namespace
}  // namespace clearbox::unpack
