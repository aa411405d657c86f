// Raw zlib streams written by pigz -z (Debian package pigz, zlib's own deflate): all four
// header levels, carving from junk, streams past Probe's output cap, and chance headers.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "unpack/handlers/compression/compression_test_helpers.hpp"
#include "unpack/registry.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

TEST(Zlib, AllHeaderLevelsRoundTripWithPigz) {
  // pigz 2.6 writes 78 01 at -1, 78 9c at -2..-5, 78 5e at -6..-8, 78 da at -9.
  const std::pair<const char*, std::uint8_t> levels[] = {
      {"-1", 0x01}, {"-4", 0x9c}, {"-7", 0x5e}, {"-9", 0xda}};
  for (const auto& [level, flg] : levels) {
    TempDir tmp;
    const std::string payload = SamplePayload(91, 300000);
    const std::string packed =
        Compress(tmp, payload, std::string("pigz -z -n -c ") + level + " in > out");
    ASSERT_GE(packed.size(), 2u);
    EXPECT_EQ(static_cast<std::uint8_t>(packed[0]), 0x78) << level;
    EXPECT_EQ(static_cast<std::uint8_t>(packed[1]), flg) << level;
    ExpectRoundTrip("zlib", packed, "kernel.zz", "kernel", payload);
  }
}

// A probe that stops before its input is used up (Probe's output cap) must not leave the
// thread's inflater pointing into that input: the next probe, on other bytes, once read the
// freed buffer (ASan: a SEGV in inflate during a DTB test).
TEST(Zlib, ProbeAfterAnUnfinishedProbeReadsOnlyItsOwnInput) {
  const Handler* zlib = nullptr;
  for (const Handler* h : AllHandlers()) {
    if (h->Name() == "zlib") zlib = h;
  }
  ASSERT_NE(zlib, nullptr);
  TempDir tmp;
  auto big = std::make_unique<std::string>(
      Compress(tmp, std::string(12 << 20, 'a'), "pigz -z -n -c in > out"));
  auto first =
      zlib->Probe(ByteView(reinterpret_cast<const std::uint8_t*>(big->data()), big->size()));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(*first, 0u);  // over the output cap: Extract finds the end
  big.reset();
  const std::string small = Compress(tmp, SamplePayload(94, 4000), "pigz -z -n -c in > out");
  auto second =
      zlib->Probe(ByteView(reinterpret_cast<const std::uint8_t*>(small.data()), small.size()));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(*second, small.size());
}

TEST(Zlib, CarvedFromJunkHasExactLength) {
  TempDir tmp;
  const std::string payload = SamplePayload(92, 200000);
  ExpectCarved("zlib", Compress(tmp, payload, "pigz -z -n -c in > out"), payload);
}

TEST(Zlib, StreamPastTheProbeCapIsFinishedByExtract) {
  TempDir tmp;
  const std::string payload = SamplePayload(93, 9 << 20);  // over Probe's 8 MiB output cap
  ExpectRoundTrip("zlib", Compress(tmp, payload, "pigz -z -n -c in > out"), "big.zz", "big",
                  payload);
}

TEST(Zlib, WrongAdlerOrCutStreamIsNoChunk) {
  TempDir tmp;
  const std::string payload = SamplePayload(94, 100000);
  std::string packed = Compress(tmp, payload, "pigz -z -n -c in > out");
  std::string bad = packed;
  bad.back() = static_cast<char>(bad.back() ^ 1);
  WriteFileBytes(tmp / "bad.bin", bad);
  auto m = UnpackForTest(tmp / "bad.bin", tmp / "unpacked1");
  EXPECT_EQ(ImageChunk(m, "zlib"), nullptr);
  EXPECT_TRUE(m.files.empty());
  WriteFileBytes(tmp / "cut.bin", packed.substr(0, packed.size() / 2));
  m = UnpackForTest(tmp / "cut.bin", tmp / "unpacked2");
  EXPECT_EQ(ImageChunk(m, "zlib"), nullptr);
  EXPECT_TRUE(m.files.empty());
}

TEST(Zlib, ChanceHeadersInRandomDataAreCheap) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(95, 4 << 20);
  const char* headers[] = {"\x78\x01", "\x78\x5e", "\x78\x9c", "\x78\xda"};
  for (std::size_t at = 0, i = 0; at + 2 < junk.size(); at += 257, ++i) {
    junk.replace(at, 2, headers[i % 4]);
  }
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  const auto spent = std::chrono::steady_clock::now() - start;
  EXPECT_LT(spent, std::chrono::seconds(20));  // ~16,000 candidates, under ASan
  EXPECT_EQ(ImageChunk(m, "zlib"), nullptr);
  std::printf("16,320 chance zlib headers in 4 MiB: %.2f s\n",
              std::chrono::duration<double>(spent).count());
}

}  // namespace
}  // namespace clearbox::unpack
