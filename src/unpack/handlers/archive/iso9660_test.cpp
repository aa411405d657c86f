#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

TEST(Iso9660, RockRidgeJolietRoundTrip) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "src" / LongRelativePath(), "deep and long\n");
  WriteFileBytes(tmp / "src/MixedCase Name.txt", "mixed\n");
  const TreeFacts facts = HashTree(tmp / "src");
  Shell(tmp.path(),
        "ln -s etc/passwd src/passwd_link && "
        "xorriso -as mkisofs -quiet -R -J -o img.iso src/ 2>/dev/null");
  const Manifest m = ExpectRoundTrip(tmp / "img.iso", tmp / "out", "iso9660", facts);
  const ChunkRecord* chunk = FindChunk(m, "iso9660");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 0u);
  EXPECT_LE(*chunk->length, fs::file_size(tmp / "img.iso"));
  const ExtractedEntry* link = FindEntry(m, FindChunkDir(m, "iso9660") + "/passwd_link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
}

TEST(Iso9660, CarvedAfterJunk) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp.path(), "xorriso -as mkisofs -quiet -R -o img.iso src/ 2>/dev/null");
  const std::string iso = ReadFileBytes(tmp / "img.iso");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(51, 4096) + iso + PseudoRandomBytes(52, 999));
  const Manifest m = ExpectRoundTrip(tmp / "blob.bin", tmp / "out", "iso9660", facts);
  const ChunkRecord* chunk = FindChunk(m, "iso9660");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 4096u);
}

TEST(Iso9660, TruncatedImageReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  Shell(tmp.path(),
        "xorriso -as mkisofs -quiet -R -J -o img.iso src/ 2>/dev/null && "
        "head -c 120000 img.iso > cut.iso");
  const Manifest m = UnpackForTest(tmp / "cut.iso", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Iso9660, GarbageIsRejected) {
  std::string image = PseudoRandomBytes(53, 0x8000 + 4096);
  image.replace(0x8000, 7,
                std::string("\x01"
                            "CD001"
                            "\x01",
                            7));
  ExpectRejected(GetIso9660Handler(), image);  // random both-endian pairs disagree
  ExpectRejected(GetIso9660Handler(), std::string(0x8001, '\0') + "CD001");
}

TEST(Iso9660, OutwardSymlinkIsRefused) {
  TempDir tmp;
  WriteFileBytes(tmp / "src/fine.txt", "fine\n");
  Shell(tmp.path(),
        "ln -s ../../../../../../etc/passwd src/evil && "
        "xorriso -as mkisofs -quiet -R -o img.iso src/ 2>/dev/null");
  const Manifest m = UnpackForTest(tmp / "img.iso", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  const std::string dir = FindChunkDir(m, "iso9660");
  ASSERT_FALSE(dir.empty());
  const ExtractedEntry* link = FindEntry(m, dir + "/evil");
  ASSERT_NE(link, nullptr);
  EXPECT_FALSE(link->created);
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / "out" / dir / "evil")));
  EXPECT_TRUE(fs::exists(tmp / "out" / dir / "fine.txt"));
}

}  // namespace
}  // namespace clearbox::unpack
