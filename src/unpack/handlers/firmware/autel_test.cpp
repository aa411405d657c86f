// Autel ECC0101: no public writer, so the test obfuscates a payload made by real tools
// (tar | gzip) with the inverse of the handler's table; the payload must come out byte for
// byte and be unpacked in turn.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "unpack/handlers/firmware/autel_table.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// The encoded byte that decodes to `plain` at `position`.
char Encode(char plain, std::size_t position) {
  const AutelStep step = kAutelDecodeTable[position % kAutelBlockSize];
  const auto value = static_cast<std::uint8_t>(plain);
  return static_cast<char>(static_cast<std::uint8_t>((value ^ step.bit_xor) - step.add));
}

std::string AutelImage(const std::string& payload) {
  std::string out("ECC0101\0", 8);
  for (const std::uint32_t v : {static_cast<std::uint32_t>(payload.size()), 0x20u}) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  out += std::string("Copyright Autel\0", 16);
  for (std::size_t i = 0; i < payload.size(); ++i) out += Encode(payload[i], i);
  return out;
}

TEST(Autel, DecodeTableIsABijectionAtEveryPosition) {
  for (std::size_t pos = 0; pos < kAutelBlockSize; ++pos) {
    std::array<bool, 256> seen{};
    for (unsigned b = 0; b < 256; ++b)
      seen[AutelDecodeByte(static_cast<std::uint8_t>(b), pos)] = true;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 256) << pos;
  }
  // binwalk v3's first entry (54, 147): an encoded zero at position 0 decodes to 54 ^ 147.
  EXPECT_EQ(AutelDecodeByte(0, 0), 54 ^ 147);
  EXPECT_EQ(AutelDecodeByte(0, 256), 54 ^ 147);
}

TEST(Autel, PayloadIsDecodedAndUnpacked) {
  TempDir tmp;
  const auto facts = MakeSampleTree(tmp / "tree");
  const std::string dir = tmp.path().string();
  ASSERT_EQ(RunShell("cd " + dir + "/tree && tar -cf - . | gzip -n > ../payload.tgz"), 0);
  const std::string payload = ReadFileBytes(tmp / "payload.tgz");
  ASSERT_GT(payload.size(), 3 * kAutelBlockSize);
  const std::string image = AutelImage(payload);
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(1, 3000) + image + PseudoRandomBytes(2, 500));
  const auto m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "autel");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 3000u);
  EXPECT_EQ(chunk->length, image.size());
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(chunk->metadata.at("data_size"), std::to_string(payload.size()));
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to).at("decoded.bin").sha256,
            FileSha256(tmp / "payload.tgz"));
  const std::string tar_dir = FindChunkDir(m, "tar");
  ASSERT_FALSE(tar_dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, tar_dir), facts);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << ": " << p.message;
}

TEST(Autel, CutDataIsTruncated) {
  const std::string image = AutelImage(PseudoRandomBytes(3, 5000));
  ExpectCutChunkTruncated(image.substr(0, image.size() - 700), "autel");
}

TEST(Autel, MagicWithoutTheRestOfTheHeaderIsNoChunk) {
  TempDir tmp;
  std::string image = AutelImage(PseudoRandomBytes(4, 2000));
  std::string wrong_size = image;
  wrong_size[12] = 0x40;  // header size other than 0x20
  std::string no_copyright = image;
  no_copyright[20] = 'X';
  for (const auto& bytes : {wrong_size, no_copyright, image.substr(0, 24)}) {
    WriteFileBytes(tmp / "x.bin", bytes);
    const auto m = UnpackForTest(tmp / "x.bin", tmp / "out");
    EXPECT_EQ(FindChunk(m, "autel"), nullptr);
    fs::remove_all(tmp / "out");
  }
}

}  // namespace
}  // namespace clearbox::unpack
