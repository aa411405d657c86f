// Vendor firmware containers of issue 17 item 3 (dahua, packimg, jboot, shrs, cfe). Fixtures
// are made at test time: by the real tool when Debian has one (zip, openssl enc), otherwise
// by scripts/fixtures/make-vendor-containers.py (layouts as binwalk v3 describes them).
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

// --- dahua ---------------------------------------------------------------------------------

TEST(Dahua, ZipWithDhMagicIsExtracted) {
  if (!HaveTool("zip")) GTEST_SKIP() << "zip not installed";
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + (tmp / "tree").string() + " && zip -qrX ../plain.zip ."), 0);
  std::string bytes = ReadFileBytes(tmp / "plain.zip");
  ASSERT_EQ(bytes.substr(0, 4), std::string("PK\x03\x04", 4));
  bytes[0] = 'D';
  bytes[1] = 'H';
  WriteFileBytes(tmp / "fw.bin", std::string(100, '\xff') + bytes + std::string(50, '\0'));
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "dahua");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 100u);
  EXPECT_EQ(chunk->length, bytes.size());
  EXPECT_EQ(ManifestFilesUnder(m, chunk->extracted_to), facts);
  EXPECT_EQ(FindChunk(m, "zip"), nullptr);
  EXPECT_TRUE(m.problems.empty());

  // Cut before the central directory: the members that are whole still come out, the one
  // being written when the data ran out is kept and named as cut short.
  WriteFileBytes(tmp / "cut.bin", bytes.substr(0, bytes.size() * 2 / 3));
  const auto cut = UnpackForTest(tmp / "cut.bin", tmp / "out-cut");
  EXPECT_TRUE(HasProblem(cut, "truncated"));
  const ChunkRecord* cut_chunk = FindChunk(cut, "dahua");
  ASSERT_NE(cut_chunk, nullptr);
  EXPECT_FALSE(cut_chunk->complete);
  const TreeFacts cut_files = ManifestFilesUnder(cut, cut_chunk->extracted_to);
  EXPECT_FALSE(cut_files.empty());
  EXPECT_LE(cut_files.size(), facts.size());
  // Every member that came out is whole, or named by a problem as cut short.
  std::size_t cut_short = 0;
  for (const auto& [path, fact] : cut_files) {
    ASSERT_TRUE(facts.contains(path)) << path;
    if (fact.sha256 == facts.at(path).sha256) continue;
    ++cut_short;
    bool named = false;
    for (const auto& p : cut.problems) named |= p.path == cut_chunk->extracted_to + "/" + path;
    EXPECT_TRUE(named) << path << " differs from its source but no problem names it";
  }
  EXPECT_EQ(cut_short, 1u);  // the cut falls inside a member's data
}

TEST(Dahua, ChanceMatchesAreRejected) {
  const Handler& h = GetDahuaHandler();
  std::string junk = PseudoRandomBytes(3, 5000);
  junk.replace(0, 4, std::string("DH\x03\x04", 4));
  EXPECT_FALSE(h.Probe(View(junk)));
  EXPECT_FALSE(h.Probe(View(std::string("DH\x03\x04", 4))));
  TempDir tmp;
  std::string file = PseudoRandomBytes(4, 20000);
  file.replace(700, 4, std::string("DH\x03\x04", 4));
  WriteFileBytes(tmp / "junk.bin", file);
  EXPECT_EQ(FindChunk(UnpackForTest(tmp / "junk.bin", tmp / "out"), "dahua"), nullptr);
}

}  // namespace
}  // namespace clearbox::unpack
