#include "unpack/handlers/filesystem/jffs2_rubin.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace clearbox::unpack::jffs2 {
namespace {

using namespace clearbox::testing;

// Encodes `plain` with the fixture encoder (scripts/fixtures/jffs2-rubin.py, an independent
// Python coder) in `mode`: "dynrubin" or "rubinmips".
std::string Encode(const std::string& mode, const std::string& plain) {
  TempDir tmp;
  WriteFileBytes(tmp / "in", plain);
  const std::string cmd = "python3 " + (SourceRoot() / "scripts/fixtures/jffs2-rubin.py").string() +
                          " encode " + mode + " " + (tmp / "in").string() + " " +
                          (tmp / "out").string();
  EXPECT_EQ(RunShell(cmd), 0);
  return ReadFileBytes(tmp / "out");
}

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string Text() {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "line " + std::to_string(i) + " of a log\n";
  return text;
}

std::vector<std::string> Samples() {
  return {Text(), std::string(4096, '\0'), std::string(1000, '\xFF'), PseudoRandomBytes(7, 4096),
          "a"};
}

TEST(Jffs2Rubin, DynRubinRoundTrip) {
  for (const std::string& plain : Samples()) {
    const std::string coded = Encode("dynrubin", plain);
    std::vector<std::uint8_t> out(plain.size());
    ASSERT_TRUE(DynRubinDecompress(View(coded), out)) << plain.size();
    EXPECT_EQ(std::string(out.begin(), out.end()), plain);
    // Linux 2.6+ writes dynrubin under type 3: the type-3 reader must pick it.
    std::vector<std::uint8_t> out3(plain.size());
    ASSERT_TRUE(Type3Decompress(View(coded), out3)) << plain.size();
    EXPECT_EQ(out3, out);
  }
  EXPECT_LT(Encode("dynrubin", Text()).size(), Text().size() * 3 / 4);  // it does compress
}

TEST(Jffs2Rubin, RubinMipsRoundTrip) {
  for (const std::string& plain : Samples()) {
    const std::string coded = Encode("rubinmips", plain);
    std::vector<std::uint8_t> out(plain.size());
    ASSERT_TRUE(RubinMipsDecompress(View(coded), out)) << plain.size();
    EXPECT_EQ(std::string(out.begin(), out.end()), plain);
    std::vector<std::uint8_t> out3(plain.size());
    ASSERT_TRUE(Type3Decompress(View(coded), out3)) << plain.size();
    EXPECT_EQ(out3, out);
  }
}

TEST(Jffs2Rubin, TruncatedInputIsMalformedNotOverread) {
  const std::string plain = Text();
  for (const std::string mode : {"dynrubin", "rubinmips"}) {
    const std::string coded = Encode(mode, plain);
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{9},
                            coded.size() / 2, coded.size() - 3}) {
      // A copy of exactly `cut` bytes, so that ASan sees any read past it.
      std::vector<std::uint8_t> in(coded.begin(), coded.begin() + cut);
      std::vector<std::uint8_t> out(plain.size());
      auto rc = mode == std::string("dynrubin") ? DynRubinDecompress(in, out)
                                                : RubinMipsDecompress(in, out);
      ASSERT_FALSE(rc) << mode << " cut " << cut;
      EXPECT_EQ(rc.error().code, ErrorCode::kMalformed);
      EXPECT_FALSE(Type3Decompress(in, out)) << mode << " cut " << cut;
    }
  }
}

TEST(Jffs2Rubin, EmptyOutputNeedsOnlyTheRegister) {
  std::vector<std::uint8_t> none;
  const std::uint8_t two[2] = {0, 0};
  EXPECT_TRUE(RubinMipsDecompress(two, none));
  EXPECT_FALSE(RubinMipsDecompress(ByteView(two, 1), none));
  EXPECT_FALSE(DynRubinDecompress(ByteView(two, 2), none));  // no table
}

// Hostile tables (0 and 255 probabilities) and random streams: the output is always
// exactly the requested size and decoding ends (the bound is the output size).
TEST(Jffs2Rubin, HostileInputsStayBounded) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    std::string in = PseudoRandomBytes(seed, 1 + seed * 7 % 600);
    if (seed % 3 == 0) std::fill(in.begin(), in.begin() + std::min<std::size_t>(8, in.size()), 0);
    if (seed % 3 == 1)
      std::fill(in.begin(), in.begin() + std::min<std::size_t>(8, in.size()), '\xFF');
    const std::vector<std::uint8_t> bytes(in.begin(), in.end());
    std::vector<std::uint8_t> out(seed * 13 % 5000);
    (void)DynRubinDecompress(bytes, out);
    (void)RubinMipsDecompress(bytes, out);
    (void)Type3Decompress(bytes, out);
  }
}

}  // namespace
}  // namespace clearbox::unpack::jffs2
