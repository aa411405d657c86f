#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

// A sample tree plus a long path, a symlink and a hard link; returns its file facts.
TreeFacts MakeTarTree(const fs::path& src) {
  MakeSampleTree(src);
  WriteFileBytes(src / LongRelativePath(), "deep and long\n");
  Shell(src, "ln -s etc/passwd passwd_link && ln bin/busybox bin/busybox_hard");
  return HashTree(src);
}

void TarRoundTrip(const std::string& format) {
  TempDir tmp;
  const TreeFacts facts = MakeTarTree(tmp / "src");
  Shell(tmp.path(), "tar --format=" + format + " -C src -cf img.tar .");
  const Manifest m = ExpectRoundTrip(tmp / "img.tar", tmp / "out", "tar", facts);
  const ChunkRecord* chunk = FindChunk(m, "tar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.tar"));
  const std::string dir = FindChunkDir(m, "tar");
  const ExtractedEntry* link = FindEntry(m, dir + "/passwd_link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link_target, "etc/passwd");
  const ExtractedEntry* hard = FindEntry(m, dir + "/bin/busybox_hard");
  const ExtractedEntry* first = FindEntry(m, dir + "/bin/busybox");
  ASSERT_NE(hard, nullptr);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(hard->type == EntryType::kHardlink || first->type == EntryType::kHardlink);
}

TEST(Tar, GnuWithLongNameSymlinkAndHardLink) {
  TarRoundTrip("gnu");
}
TEST(Tar, UstarWithPrefixSymlinkAndHardLink) {
  TarRoundTrip("ustar");
}
TEST(Tar, PaxWithLongNameSymlinkAndHardLink) {
  TarRoundTrip("pax");
}

TEST(Tar, PaxPathLongerThanUstarCanHold) {
  TempDir tmp;
  std::string deep;
  for (int i = 0; i < 6; ++i)
    deep += "a_directory_name_of_fifty_characters_exactly_pad_" + std::to_string(i) + "/";
  WriteFileBytes(tmp / "src" / (deep + "leaf.bin"), PseudoRandomBytes(5, 3000));
  const TreeFacts facts = HashTree(tmp / "src");
  Shell(tmp.path(), "tar --format=pax -C src -cf img.tar .");
  ExpectRoundTrip(tmp / "img.tar", tmp / "out", "tar", facts);
}

TEST(Tar, CarvedFromJunkAtBlockOffset) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp.path(), "tar --format=gnu -C src -cf img.tar .");
  const std::string tar = ReadFileBytes(tmp / "img.tar");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(7, 512) + tar + PseudoRandomBytes(8, 3000));
  const Manifest m = ExpectRoundTrip(tmp / "blob.bin", tmp / "out", "tar", facts);
  const ChunkRecord* chunk = FindChunk(m, "tar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 512u);
  EXPECT_EQ(chunk->length, tar.size());
}

TEST(Tar, TruncatedArchiveKeepsWhatIsThereAndReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  Shell(tmp.path(), "tar --format=gnu -C src -cf img.tar . && head -c 150000 img.tar > cut.tar");
  const Manifest m = UnpackForTest(tmp / "cut.tar", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "tar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
  EXPECT_FALSE(ManifestFilesUnder(m, chunk->extracted_to).empty());
}

TEST(Tar, GarbageIsRejected) {
  std::string block = PseudoRandomBytes(9, 2048);
  block.replace(257, 5, "ustar");
  ExpectRejected(GetTarHandler(), block);
  ExpectRejected(GetTarHandler(), std::string(1024, '\0'));
  ExpectRejected(GetTarHandler(), "ustar");
}

TEST(Tar, TraversalAndOutwardSymlinksAreRefused) {
  TempDir tmp;
  const std::string script = R"PY(
import io, tarfile
def add(t, name, data=b"x", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = link
    if kind == tarfile.REGTYPE:
        i.size = len(data); t.addfile(i, io.BytesIO(data))
    else:
        t.addfile(i)
with tarfile.open("evil.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "../outside_file", b"escaped\n")
    add(t, "ok/../../outside_file2", b"escaped\n")
    add(t, "/abs_file", b"absolute\n")
    add(t, "link", kind=tarfile.SYMTYPE, link="../../../../../../etc/passwd")
    add(t, "esc", kind=tarfile.SYMTYPE, link="../../outside_dir")
    add(t, "esc/evil.txt", b"through the link\n")
    add(t, "hard", kind=tarfile.LNKTYPE, link="../outside_file")
    add(t, "fine.txt", b"fine\n")
)PY";
  WriteFileBytes(tmp / "make.py", script);
  fs::create_directories(tmp / "outside_dir");
  Shell(tmp.path(), "python3 make.py");
  const Manifest m = UnpackForTest(tmp / "evil.tar", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "outside_file"));
  EXPECT_FALSE(fs::exists(tmp / "outside_file2"));
  EXPECT_FALSE(fs::exists("/abs_file"));
  EXPECT_TRUE(fs::is_empty(tmp / "outside_dir"));
  const std::string dir = FindChunkDir(m, "tar");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(tmp / "out" / dir / "fine.txt"));
  EXPECT_TRUE(fs::exists(tmp / "out" / dir / "abs_file"));
  const ExtractedEntry* link = FindEntry(m, dir + "/link");
  ASSERT_NE(link, nullptr);
  EXPECT_FALSE(link->created);
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / "out" / dir / "link")));
}

TEST(Tar, HugeSizeFieldIsBoundedByTheData) {
  TempDir tmp;
  const std::string script = R"PY(
import tarfile
i = tarfile.TarInfo("huge.bin"); i.size = 8 << 30
with open("huge.tar", "wb") as f:
    f.write(i.tobuf(format=tarfile.GNU_FORMAT))
    f.write(b"A" * 4096)
)PY";
  WriteFileBytes(tmp / "make.py", script);
  Shell(tmp.path(), "python3 make.py");
  const Manifest m = UnpackForTest(tmp / "huge.tar", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  for (const auto& f : m.files) EXPECT_LE(f.size, 8192u) << f.path;
}

}  // namespace
}  // namespace clearbox::unpack
