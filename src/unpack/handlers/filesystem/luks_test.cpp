// LUKS1 and LUKS2 headers made by cryptsetup (cryptsetup-bin) on a plain file with a key
// file: recognised and described, not extracted.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Formats `name` (a 4 MiB file) as LUKS of `type`; returns the UUID cryptsetup reports.
std::string LuksFormat(const TempDir& tmp, const std::string& name, const std::string& type,
                       const std::string& extra) {
  std::string uuid;
  EXPECT_EQ(
      RunShell("cd " + tmp.path().string() + " && head -c 64 /dev/urandom > key && " +
                   "truncate -s 4M " + name + " && cryptsetup luksFormat --batch-mode --type " +
                   type + " --key-file key --pbkdf pbkdf2 --pbkdf-force-iterations 1000 " + extra +
                   " " + name + " >/dev/null && cryptsetup luksUUID " + name,
               &uuid),
      0);
  while (!uuid.empty() && (uuid.back() == '\n' || uuid.back() == '\r')) uuid.pop_back();
  return uuid;
}

TEST(Luks, Luks1RecognisedWithCipherAndUuid) {
  if (!HaveTool("cryptsetup")) GTEST_SKIP() << "cryptsetup (cryptsetup-bin) not installed";
  TempDir tmp;
  const std::string uuid =
      LuksFormat(tmp, "vol.img", "luks1", "--cipher aes-cbc-essiv:sha256 --key-size 256");
  const auto m = UnpackForTest(tmp / "vol.img", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "luks");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->extracted_to, "");
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "vol.img"));
  EXPECT_EQ(chunk->metadata.at("version"), "1");
  EXPECT_EQ(chunk->metadata.at("cipher"), "aes-cbc-essiv:sha256");
  EXPECT_EQ(chunk->metadata.at("hash"), "sha256");
  EXPECT_EQ(chunk->metadata.at("key_bytes"), "32");
  EXPECT_EQ(chunk->metadata.at("active_keyslots"), "1");
  EXPECT_EQ(chunk->metadata.at("uuid"), uuid);
  EXPECT_TRUE(m.files.empty());
  EXPECT_FALSE(fs::exists(tmp / "out" / "0x00000000.luks"));
}

TEST(Luks, Luks2RecognisedFromJsonArea) {
  if (!HaveTool("cryptsetup")) GTEST_SKIP() << "cryptsetup (cryptsetup-bin) not installed";
  TempDir tmp;
  const std::string uuid =
      LuksFormat(tmp, "vol.img", "luks2",
                 "--label fw-data --luks2-metadata-size 16k --luks2-keyslots-size 512k");
  const auto m = UnpackForTest(tmp / "vol.img", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "luks");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->extracted_to, "");
  EXPECT_EQ(chunk->metadata.at("version"), "2");
  EXPECT_EQ(chunk->metadata.at("cipher"), "aes-xts-plain64");
  EXPECT_EQ(chunk->metadata.at("uuid"), uuid);
  EXPECT_EQ(chunk->metadata.at("label"), "fw-data");
  EXPECT_EQ(chunk->metadata.at("active_keyslots"), "1");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  // The metadata survives the manifest's JSON form.
  auto parsed = ParseManifestJson(ManifestToJson(m));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->chunks.front().metadata, chunk->metadata);
}

TEST(Luks, DamagedJsonAreaAndGarbage) {
  if (!HaveTool("cryptsetup")) GTEST_SKIP() << "cryptsetup (cryptsetup-bin) not installed";
  TempDir tmp;
  LuksFormat(tmp, "vol.img", "luks2", "--luks2-metadata-size 16k --luks2-keyslots-size 512k");
  std::string image = ReadFileBytes(tmp / "vol.img");
  image[4096] = '}';  // the JSON object no longer parses
  WriteFileBytes(tmp / "bad.img", image.substr(0, 1 << 20));
  const auto m = UnpackForTest(tmp / "bad.img", tmp / "out1");
  ASSERT_NE(FindChunk(m, "luks"), nullptr);
  EXPECT_TRUE(HasProblem(m, "malformed"));
  std::string junk = PseudoRandomBytes(11, 100000);
  junk.replace(5000, 6, std::string("LUKS\xba\xbe", 6));
  WriteFileBytes(tmp / "junk.bin", junk);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out2"), "luks"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
