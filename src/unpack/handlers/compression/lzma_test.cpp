#include <gtest/gtest.h>

#include "unpack/handlers/compression/compression_test_helpers.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Lzma, RoundTripStripsSuffix) {
  TempDir tmp;
  const std::string payload = SamplePayload(31, 300000);
  const std::string lzma = Compress(tmp, payload, "xz --format=lzma -c in > out");
  ExpectRoundTrip("lzma", lzma, "vmlinux.lzma", "vmlinux", payload);
}

TEST(Lzma, EveryPresetDictionaryIsFound) {
  // Presets 0..9 use dictionaries from 256 KiB to 64 MiB.
  for (int preset : {0, 1, 3, 6, 9}) {
    TempDir tmp;
    const std::string payload = SamplePayload(32 + preset, 20000);
    const std::string lzma =
        Compress(tmp, payload, "xz --format=lzma -" + std::to_string(preset) + " -c in > out");
    ExpectRoundTrip("lzma", lzma, "k.lzma", "k", payload);
  }
}

// Router kernels: an explicit uncompressed size, no end marker, padding after the stream.
TEST(Lzma, KnownSizeStreamStopsBeforeTrailingData) {
  TempDir tmp;
  const std::string payload = SamplePayload(41, 200000);
  // lzma_alone (LZMA SDK) writes the size into the header and no end marker.
  const std::string sized = Compress(tmp, payload, "lzma_alone e in out -d23");
  ASSERT_EQ(sized.substr(0, 5), std::string("\x5d\x00\x00\x80\x00", 5));
  ExpectCarved("lzma", sized, payload);
  // With 0xFF padding after it, as in a flash image.
  TempDir tmp2;
  WriteFileBytes(tmp2 / "kernel.bin", sized + std::string(70000, '\xff'));
  const auto m = UnpackForTest(tmp2 / "kernel.bin", tmp2 / "unpacked");
  const auto* chunk = ImageChunk(m, "lzma");
  ASSERT_NE(chunk, nullptr);
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(chunk->length, sized.size());
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->second, FactsOf(tmp2, payload));
}

TEST(Lzma, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(42, 100000);
  ExpectCarved("lzma", Compress(tmp, payload, "xz --format=lzma -c in > out"), payload);
}

TEST(Lzma, TruncatedStreamIsReported) {
  TempDir tmp;
  ExpectTruncationReported(
      "lzma", Compress(tmp, SamplePayload(43, 300000), "xz --format=lzma -c in > out"));
}

TEST(Lzma, PlausibleHeaderOverRandomBytesIsRejected) {
  // A header with a good dictionary and size over random data: the trial decode rejects it.
  std::string header("\x5d\x00\x00\x80\x00", 5);
  header += std::string("\x00\x10\x00\x00\x00\x00\x00\x00", 8);
  header += std::string(1, '\0');  // the range coder's first byte, as a real stream has
  ExpectGarbageLeavesNothing("lzma", header);
}

TEST(Lzma, ImplausibleSizesAreNotCandidates) {
  TempDir tmp;
  // Uncompressed size of 1 TiB, then an LZMA-looking body.
  std::string image("\x5d\x00\x00\x80\x00", 5);
  image += std::string("\x00\x00\x00\x00\x00\x01\x00\x00", 8);
  image += std::string(64, '\0');
  WriteFileBytes(tmp / "x.bin", image);
  const auto m = UnpackForTest(tmp / "x.bin", tmp / "unpacked");
  EXPECT_EQ(ImageChunk(m, "lzma"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
