#include "unpack/handlers/firmware/efi_decompress.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Compresses `plain` with scripts/fixtures/efi_compress.py (`mode` efi or tiano, symbols
// per block `block`).
std::string Compress(const std::string& mode, const std::string& plain, int block = 0xFFFF) {
  TempDir tmp;
  WriteFileBytes(tmp / "in", plain);
  EXPECT_EQ(RunShell("python3 " + (SourceRoot() / "scripts/fixtures/efi_compress.py").string() +
                     " " + mode + " " + (tmp / "in").string() + " " + (tmp / "out").string() +
                     " --block " + std::to_string(block)),
            0);
  return ReadFileBytes(tmp / "out");
}

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string Text(int lines) {
  std::string text;
  for (int i = 0; i < lines; ++i) text += "firmware line " + std::to_string(i % 97) + " of text\n";
  return text;
}

std::vector<std::string> Samples() {
  // Skewed text gives codes longer than the 12-bit (C) and 8-bit (P, PT) direct tables.
  std::string skewed = Text(200);
  for (int i = 0; i < 256; ++i) skewed += static_cast<char>(i);
  return {Text(400),
          std::string(20000, '\0'),
          PseudoRandomBytes(3, 3000),
          "x",
          "",
          skewed,
          Text(50) + PseudoRandomBytes(4, 500) + Text(50)};
}

void RoundTrip(const std::string& mode, EfiCompression variant, int block) {
  for (const std::string& plain : Samples()) {
    const std::string packed = Compress(mode, plain, block);
    auto out = EfiDecompress(View(packed), variant, 1 << 20);
    ASSERT_TRUE(out) << mode << " " << plain.size() << ": " << out.error().message;
    EXPECT_EQ(std::string(out->begin(), out->end()), plain) << mode << " " << plain.size();
  }
}

TEST(EfiDecompress, Efi11RoundTrip) {
  RoundTrip("efi", EfiCompression::kEfi11, 0xFFFF);
}
TEST(EfiDecompress, TianoRoundTrip) {
  RoundTrip("tiano", EfiCompression::kTiano, 0xFFFF);
}
TEST(EfiDecompress, ManySmallBlocks) {
  RoundTrip("efi", EfiCompression::kEfi11, 37);
  RoundTrip("tiano", EfiCompression::kTiano, 37);
}

// Streams written by EDK II's own EfiCompress/TianoCompress (tests/oracle/edk2-compress).
TEST(EfiDecompress, Edk2CompressorVectors) {
  const fs::path dir = SourceRoot() / "tests/oracle/edk2-compress";
  const std::string plain = ReadFileBytes(dir / "plain.bin");
  ASSERT_EQ(plain.size(), 8520u);
  for (const auto& [file, variant] : {std::pair{"efi.bin", EfiCompression::kEfi11},
                                      std::pair{"tiano.bin", EfiCompression::kTiano}}) {
    const std::string packed = ReadFileBytes(dir / file);
    auto out = EfiDecompress(View(packed), variant, 1 << 20);
    ASSERT_TRUE(out) << file << ": " << out.error().message;
    EXPECT_EQ(std::string(out->begin(), out->end()), plain) << file;
    const auto other =
        variant == EfiCompression::kEfi11 ? EfiCompression::kTiano : EfiCompression::kEfi11;
    auto wrong = EfiDecompress(View(packed), other, 1 << 20);
    EXPECT_TRUE(!wrong || std::string(wrong->begin(), wrong->end()) != plain) << file;
  }
}

TEST(EfiDecompress, CompressesText) {
  EXPECT_LT(Compress("efi", Text(400)).size(), Text(400).size() / 4);
}

TEST(EfiDecompress, LimitsAndTruncation) {
  const std::string plain = Text(100);
  const std::string packed = Compress("efi", plain);
  auto limited = EfiDecompress(View(packed), EfiCompression::kEfi11, plain.size() - 1);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, ErrorCode::kLimitExceeded);
  // Header says more bytes than there are.
  auto cut =
      EfiDecompress(View(packed).subspan(0, packed.size() - 1), EfiCompression::kEfi11, 1 << 20);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::kTruncated);
  // A stream cut short (with a consistent header) runs out of bits.
  std::string shortened = packed.substr(0, 8 + (packed.size() - 8) / 2);
  const std::uint32_t comp = static_cast<std::uint32_t>(shortened.size() - 8);
  std::memcpy(shortened.data(), &comp, 4);
  EXPECT_FALSE(EfiDecompress(View(shortened), EfiCompression::kEfi11, 1 << 20));
  EXPECT_FALSE(EfiDecompress(View(packed).subspan(0, 7), EfiCompression::kEfi11, 1 << 20));
}

// The other variant reads the position table with the wrong width: it must fail, not
// pass garbage (the section decoder relies on that to pick the variant).
TEST(EfiDecompress, WrongVariantFails) {
  const std::string plain = Text(300);
  EXPECT_FALSE(EfiDecompress(View(Compress("efi", plain)), EfiCompression::kTiano, 1 << 20));
  EXPECT_FALSE(EfiDecompress(View(Compress("tiano", plain)), EfiCompression::kEfi11, 1 << 20));
}

// Random streams and flipped bits of a real one: never a crash, never more output than
// the header's size (ASan/UBSan builds catch the rest).
TEST(EfiDecompress, HostileStreamsStayBounded) {
  const std::string packed = Compress("tiano", Text(200));
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    std::string in;
    if (seed % 2) {
      in = PseudoRandomBytes(seed, 8 + seed % 700);
      const std::uint32_t comp = static_cast<std::uint32_t>(in.size() - 8);
      const std::uint32_t orig = static_cast<std::uint32_t>(seed * 977 % 100000);
      std::memcpy(in.data(), &comp, 4);
      std::memcpy(in.data() + 4, &orig, 4);
    } else {
      in = packed;
      const std::size_t at = 8 + seed * 131 % (in.size() - 8);
      in[at] = static_cast<char>(in[at] ^ (1 << (seed % 8)));
    }
    const std::vector<std::uint8_t> bytes(in.begin(), in.end());
    for (auto variant : {EfiCompression::kEfi11, EfiCompression::kTiano}) {
      auto out = EfiDecompress(bytes, variant, 1 << 20);
      if (out) {
        EXPECT_EQ(out->size(), LoadU32(bytes.data() + 4, Endian::kLittle));
      }
    }
  }
}

}  // namespace
}  // namespace clearbox::unpack
