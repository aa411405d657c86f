#include "unpack/manifest.hpp"

#include <gtest/gtest.h>

namespace clearbox::unpack {
namespace {

TEST(Manifest, JsonRoundTripIsStable) {
  Manifest m;
  m.image = {"fw.bin", 1234, std::string(64, 'a')};
  m.chunks.push_back({"", 64, 100, "gzip", "compression/gzip", "0x00000040.gzip", 0, true});
  m.chunks.push_back(
      {"", 0, std::nullopt, "lzma", "compression/lzma", "0x00000000.lzma", 0, false});
  ExtractedEntry f;
  f.path = "0x00000040.gzip/fw";
  f.size = 10;
  f.sha256 = std::string(64, 'b');
  f.mode = 0644;
  f.chain = {"gzip"};
  m.files.push_back(f);
  m.gaps.push_back({"", 0, 64, 7.1234567});
  m.problems.push_back({"truncated", "", 64, "gzip", "ends early"});
  Canonicalize(m);
  const std::string json = ManifestToJson(m);
  auto parsed = ParseManifestJson(json);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(ManifestToJson(*parsed), json);
  EXPECT_EQ(parsed->chunks[0].format, "lzma");  // canonical order: by container, offset
  EXPECT_NE(json.find("\"entropy\": 7.123"), std::string::npos);
}

TEST(Manifest, RejectsGarbage) {
  EXPECT_FALSE(ParseManifestJson("{"));
  EXPECT_FALSE(ParseManifestJson("{}"));
}

}  // namespace
}  // namespace clearbox::unpack
