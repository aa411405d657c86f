#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

void ZipRoundTrip(const std::string& level) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "src" / LongRelativePath(), "deep and long\n");
  const TreeFacts facts = HashTree(tmp / "src");
  Shell(tmp / "src", "ln -s etc/passwd passwd_link && zip -q -r -y " + level + " ../img.zip .");
  const Manifest m = ExpectRoundTrip(tmp / "img.zip", tmp / "out", "zip", facts);
  const ChunkRecord* chunk = FindChunk(m, "zip");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.zip"));
  const ExtractedEntry* link = FindEntry(m, FindChunkDir(m, "zip") + "/passwd_link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link_target, "etc/passwd");
}

TEST(Zip, StoredRoundTripWithSymlink) {
  ZipRoundTrip("-0");
}
TEST(Zip, DeflatedRoundTripWithSymlink) {
  ZipRoundTrip("-9");
}

TEST(Zip, AppendedAfterJunkIsCarved) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp / "src", "zip -q -r -9 ../img.zip .");
  const std::string zip = ReadFileBytes(tmp / "img.zip");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(21, 7777) + zip + PseudoRandomBytes(22, 100));
  const Manifest m = ExpectRoundTrip(tmp / "blob.bin", tmp / "out", "zip", facts);
  const ChunkRecord* chunk = FindChunk(m, "zip");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 7777u);
  EXPECT_EQ(chunk->length, zip.size());
}

TEST(Zip, TruncatedArchiveReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  Shell(tmp / "src", "zip -q -r -9 ../img.zip . && head -c 200000 ../img.zip > ../cut.zip");
  const Manifest m = UnpackForTest(tmp / "cut.zip", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "zip");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

TEST(Zip, CutInsideCentralDirectoryKeepsEveryMember) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp / "src", "zip -q -r -9 ../img.zip .");
  const std::string zip = ReadFileBytes(tmp / "img.zip");
  WriteFileBytes(tmp / "cut.zip", zip.substr(0, zip.size() - 30));
  const Manifest m = UnpackForTest(tmp / "cut.zip", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "zip")), facts);
}

TEST(Zip, GarbageIsRejected) {
  ExpectRejected(GetZipHandler(), "PK\x03\x04" + PseudoRandomBytes(4, 500));
  std::string header("PK\x03\x04\x14\x00\x00\x00\x08\x00", 10);
  header += std::string(16, '\0') + std::string("\x05\x00\x00\x00", 4) + "a.txt" +
            PseudoRandomBytes(5, 300);
  ExpectRejected(GetZipHandler(), header);  // plausible header but no end record
}

TEST(Zip, TraversalIsRefused) {
  TempDir tmp;
  const std::string script = R"PY(
import zipfile
with zipfile.ZipFile("evil.zip", "w") as z:
    z.writestr("../outside_file", "escaped\n")
    z.writestr("a/../../outside_file2", "escaped\n")
    z.writestr("/abs_file", "absolute\n")
    z.writestr("fine.txt", "fine\n")
)PY";
  WriteFileBytes(tmp / "make.py", script);
  Shell(tmp.path(), "python3 make.py");
  const Manifest m = UnpackForTest(tmp / "evil.zip", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "outside_file"));
  EXPECT_FALSE(fs::exists(tmp / "outside_file2"));
  EXPECT_FALSE(fs::exists("/abs_file"));
  const std::string dir = FindChunkDir(m, "zip");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(tmp / "out" / dir / "fine.txt"));
}

}  // namespace
}  // namespace clearbox::unpack
