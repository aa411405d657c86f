#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

std::string SevenZipTool() {
  return HaveTool("7zz") ? "7zz" : "7z";
}

TEST(SevenZip, RoundTrip) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp / "src", SevenZipTool() + " a -bd -bso0 ../img.7z .");
  const Manifest m = ExpectRoundTrip(tmp / "img.7z", tmp / "out", "7z", facts);
  const ChunkRecord* chunk = FindChunk(m, "7z");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.7z"));
}

TEST(SevenZip, CarvedBetweenJunk) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp / "src", SevenZipTool() + " a -bd -bso0 -mx=1 ../img.7z .");
  const std::string archive = ReadFileBytes(tmp / "img.7z");
  WriteFileBytes(tmp / "blob.bin",
                 PseudoRandomBytes(31, 1000) + archive + PseudoRandomBytes(32, 5000));
  const Manifest m = ExpectRoundTrip(tmp / "blob.bin", tmp / "out", "7z", facts);
  const ChunkRecord* chunk = FindChunk(m, "7z");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 1000u);
  EXPECT_EQ(chunk->length, archive.size());
}

TEST(SevenZip, TruncatedArchiveReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  Shell(tmp / "src",
        SevenZipTool() + " a -bd -bso0 ../img.7z . && head -c 100000 ../img.7z > ../cut.7z");
  const Manifest m = UnpackForTest(tmp / "cut.7z", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(SevenZip, EmptyArchiveIsAccepted) {
  TempDir tmp;
  WriteFileBytes(tmp / "one", "x");
  Shell(tmp.path(), std::string(HaveTool("7zz") ? "7zz" : "7z") + " a -bd -bso0 e.7z one && " +
                        (HaveTool("7zz") ? "7zz" : "7z") + " d -bd -bso0 e.7z one");
  const std::string bytes = ReadFileBytes(tmp / "e.7z");
  const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto probe = GetSevenZipHandler().Probe(view);
  ASSERT_TRUE(probe.has_value()) << probe.error().message;
  EXPECT_EQ(*probe, bytes.size());
}

TEST(SevenZip, GarbageIsRejected) {
  ExpectRejected(GetSevenZipHandler(),
                 std::string("7z\xBC\xAF\x27\x1C", 6) + PseudoRandomBytes(6, 100));
  ExpectRejected(GetSevenZipHandler(), std::string("7z\xBC\xAF\x27\x1C", 6));
}

}  // namespace
}  // namespace clearbox::unpack
