#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"
#include "unpack/registry.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Xz, RoundTripStripsSuffix) {
  TempDir tmp;
  const std::string payload = SamplePayload(21, 300000);
  const std::string xz = Compress(tmp, payload, "xz -6 -c in > out");
  ExpectRoundTrip("xz", xz, "firmware.bin.xz", "firmware.bin", payload);
}

TEST(Xz, MultiBlockStream) {
  TempDir tmp;
  const std::string payload = SamplePayload(22, 400000);
  const std::string xz = Compress(tmp, payload, "xz -T2 --block-size=65536 -c in > out");
  ExpectRoundTrip("xz", xz, "rootfs.txz", "rootfs.tar", payload);
}

TEST(Xz, ConcatenatedStreamsWithPaddingAreOneFile) {
  TempDir tmp;
  const std::string a = SamplePayload(23, 50000), b = SamplePayload(24, 70000);
  const std::string xa = Compress(tmp, a, "xz -c in > out");
  const std::string xb = Compress(tmp, b, "xz --check=sha256 -c in > out");
  ExpectRoundTrip("xz", xa + std::string(8, '\0') + xb + std::string(4, '\0'), "two.xz", "two",
                  a + b);
}

TEST(Xz, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(25, 120000);
  ExpectCarved("xz", Compress(tmp, payload, "xz -c in > out"), payload);
}

TEST(Xz, TruncatedStreamIsReported) {
  TempDir tmp;
  ExpectTruncationReported("xz", Compress(tmp, SamplePayload(26, 400000), "xz -0 -c in > out"));
}

TEST(Xz, CorruptDataIsMalformed) {
  TempDir tmp;
  const std::string xz = Compress(tmp, SamplePayload(27, 400000), "xz -0 -c in > out");
  ExpectCorruptMiddleIsMalformed(xz);
}

TEST(Xz, GarbageAfterValidHeaderLeavesNothing) {
  TempDir tmp;
  const std::string xz = Compress(tmp, "hello\n", "xz -c in > out");
  ExpectGarbageLeavesNothing("xz", xz.substr(0, 12));
}

TEST(Xz, TarXzRecursesIntoTar) {
  bool have_tar = false;
  for (const auto* h : AllHandlers()) have_tar |= h->Name() == "tar";
  if (!have_tar) GTEST_SKIP() << "no tar handler registered";
  TempDir tmp;
  const auto facts = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("cd " + (tmp / "src").string() + " && tar cJf ../rootfs.tar.xz *"), 0);
  const auto m = UnpackForTest(tmp / "rootfs.tar.xz", tmp / "unpacked");
  const std::string tar_dir = FindChunkDir(m, "tar");
  ASSERT_FALSE(tar_dir.empty());
  EXPECT_NE(tar_dir.find("rootfs.tar.extract/"), std::string::npos) << tar_dir;
  EXPECT_EQ(ManifestFilesUnder(m, tar_dir), facts);
}

}  // namespace
}  // namespace clearbox::unpack
