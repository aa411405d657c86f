#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

// gcab stores the relative paths it is given ('\' separated); -z compresses with MSZIP.
void MakeCab(const fs::path& src, const std::string& flags) {
  Shell(src, "find . -type f | sed 's|^\\./||' | sort | xargs gcab -c " + flags + " ../img.cab");
}

class CabRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(CabRoundTrip, ExtractsEveryFile) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  const TreeFacts facts = HashTree(tmp / "src");
  MakeCab(tmp / "src", GetParam());
  const Manifest m = ExpectRoundTrip(tmp / "img.cab", tmp / "out", "cab", facts);
  const ChunkRecord* chunk = FindChunk(m, "cab");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.cab"));
}

INSTANTIATE_TEST_SUITE_P(Cab, CabRoundTrip, ::testing::Values("", "-z"),
                         [](const auto& param_info) {
                           return param_info.param.empty() ? std::string("Stored")
                                                           : std::string("Mszip");
                         });

TEST(Cab, CarvedBetweenJunk) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  const TreeFacts facts = HashTree(tmp / "src");
  MakeCab(tmp / "src", "-z");
  const std::string cab = ReadFileBytes(tmp / "img.cab");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(41, 3001) + cab + PseudoRandomBytes(42, 777));
  const Manifest m = ExpectRoundTrip(tmp / "blob.bin", tmp / "out", "cab", facts);
  const ChunkRecord* chunk = FindChunk(m, "cab");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 3001u);
  EXPECT_EQ(chunk->length, cab.size());
}

TEST(Cab, TruncatedCabinetReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  MakeCab(tmp / "src", "-z");
  const std::string cab = ReadFileBytes(tmp / "img.cab");
  WriteFileBytes(tmp / "cut.cab", cab.substr(0, cab.size() / 2));
  const Manifest m = UnpackForTest(tmp / "cut.cab", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "cab");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

TEST(Cab, BadDataChecksumIsAProblem) {
  TempDir tmp;
  WriteFileBytes(tmp / "src/data.bin", PseudoRandomBytes(43, 20000));
  MakeCab(tmp / "src", "");
  std::string cab = ReadFileBytes(tmp / "img.cab");
  cab[cab.size() - 100] = static_cast<char>(cab[cab.size() - 100] ^ 0x55);  // stored data
  WriteFileBytes(tmp / "bad.cab", cab);
  const Manifest m = UnpackForTest(tmp / "bad.cab", tmp / "out");
  EXPECT_FALSE(m.problems.empty());
}

// Member names are rewritten in place (same length; CFFILE entries carry no checksum).
TEST(Cab, TraversalIsRefused) {
  TempDir tmp;
  WriteFileBytes(tmp / "src/aaaaaaaaaa", "escaped\n");
  WriteFileBytes(tmp / "src/bbbbbbbbbb", "absolute\n");
  WriteFileBytes(tmp / "src/fine.txt", "fine\n");
  MakeCab(tmp / "src", "");
  std::string cab = ReadFileBytes(tmp / "img.cab");
  cab.replace(cab.find("aaaaaaaaaa"), 10, "..\\outside");
  cab.replace(cab.find("bbbbbbbbbb"), 10, "/tmp/abs_c");
  WriteFileBytes(tmp / "out/evil.cab", cab);
  const Manifest m = UnpackForTest(tmp / "out/evil.cab", tmp / "out/x");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "out/outside"));
  EXPECT_FALSE(fs::exists("/tmp/abs_c"));
  const std::string dir = FindChunkDir(m, "cab");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(tmp / "out/x" / dir / "fine.txt"));
}

TEST(Cab, GarbageIsRejected) {
  ExpectRejected(GetCabHandler(), std::string("MSCF\0\0\0\0", 8) + PseudoRandomBytes(44, 200));
  ExpectRejected(GetCabHandler(), std::string("MSCF\0\0\0\0", 8));
}

}  // namespace
}  // namespace clearbox::unpack
