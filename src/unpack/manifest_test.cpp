#include "unpack/manifest.hpp"

#include <gtest/gtest.h>

namespace clearbox::unpack {
namespace {

TEST(Manifest, JsonRoundTripIsStable) {
  Manifest m;
  m.image = {"fw.bin", 1234, std::string(64, 'a')};
  m.chunks.push_back({"", 64, 100, "gzip", "compression/gzip", "0x00000040.gzip", 0, true, {}});
  m.chunks.push_back(
      {"", 0, std::nullopt, "lzma", "compression/lzma", "0x00000000.lzma", 0, false, {}});
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

// Names that are not UTF-8 (hostile or legacy-encoded firmware) keep their exact bytes.
TEST(Manifest, NonUtf8NamesKeepTheirBytes) {
  Manifest m;
  m.image = {"fw.bin", 1, std::string(64, 'a')};
  ExtractedEntry f;
  f.path = std::string("0x0.tar/caf\xe9\xff.txt");  // Latin-1 e-acute and a stray 0xff
  f.type = EntryType::kSymlink;
  f.link_target = std::string("\xc0\xaf", 2);  // an overlong '/'
  f.chain = {"tar"};
  m.files.push_back(f);
  ExtractedEntry ok;
  ok.path = "0x0.tar/caf\xc3\xa9.txt";  // valid UTF-8 gets no _hex field
  ok.chain = {"tar"};
  m.files.push_back(ok);
  m.problems.push_back({"traversal", std::string("0x0.tar/\xed\xa0\x80"), 0, "tar", "x"});
  Canonicalize(m);
  const std::string json = ManifestToJson(m);
  EXPECT_NE(json.find("\"path_hex\": \"3078302e7461722f636166e9ff2e747874\""), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"link_target_hex\": \"c0af\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"path_hex\": \"3078302e7461722feda080\""), std::string::npos) << json;
  EXPECT_EQ(json.find("636166c3a9"), std::string::npos) << json;  // the valid name
  auto parsed = ParseManifestJson(json);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->files.size(), 2u);
  bool found_raw = false;
  for (const auto& e : parsed->files) {
    if (e.type == EntryType::kSymlink) {
      found_raw = true;
      EXPECT_EQ(e.path, f.path);
      EXPECT_EQ(e.link_target, f.link_target);
    } else {
      EXPECT_EQ(e.path, ok.path);
    }
  }
  EXPECT_TRUE(found_raw);
  EXPECT_EQ(parsed->problems.at(0).path, m.problems[0].path);
  EXPECT_EQ(ManifestToJson(*parsed), json);
  // A broken _hex value is an error, not a silent fallback.
  std::string bad = json;
  bad.replace(bad.find("c0af"), 4, "c0zz");
  EXPECT_FALSE(ParseManifestJson(bad));
}

TEST(Manifest, RejectsGarbage) {
  EXPECT_FALSE(ParseManifestJson("{"));
  EXPECT_FALSE(ParseManifestJson("{}"));
}

}  // namespace
}  // namespace clearbox::unpack
