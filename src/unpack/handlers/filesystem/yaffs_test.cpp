#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"
#include "unpack/handlers/filesystem/ubi_test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// The YAFFS image maker (Debian has no YAFFS writer), from the source tree.
std::string MkYaffs() {
  return "python3 " + (SourceRoot() / "scripts/fixtures/mkyaffs2.py").string();
}

fs::path BinwalkSample() {
  return SourceRoot() / "tests/oracle/binwalk/yaffs2.bin";
}

const ExtractedEntry* FindEntry(const Manifest& m, const std::string& path) {
  for (const auto& f : m.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

// The sample tree plus what only YAFFS objects express: a symlink, a hard link, a file of
// exactly one page and one a byte over several pages.
TreeFacts MakeYaffsTree(const fs::path& dir) {
  MakeSampleTree(dir);
  WriteFileBytes(dir / "page.bin", PseudoRandomBytes(11, 2048));
  WriteFileBytes(dir / "sub/odd.bin", PseudoRandomBytes(12, 3 * 4096 + 1));
  EXPECT_EQ(RunShell("cd " + dir.string() +
                     " && ln -s etc/passwd pw && ln www/index.html hard.html && mkdir emptydir"),
            0);
  return HashTree(dir);
}

// Builds an image of the tree with mkyaffs2.py `options`, unpacks it and checks the tree,
// the symlink and the chunk extent.
void RoundTrip(const std::string& options) {
  TempDir tmp;
  const TreeFacts src = MakeYaffsTree(tmp / "src");
  ASSERT_EQ(RunShell(MkYaffs() + " " + options + " " + (tmp / "src").string() + " " +
                     (tmp / "img.yaffs").string()),
            0);
  const auto m = UnpackForTest(tmp / "img.yaffs", tmp / "out");
  const std::string dir = FindChunkDir(m, "yaffs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.path << ": " << p.message;
  ASSERT_GE(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].format, "yaffs");
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "img.yaffs"));
  const ExtractedEntry* link = FindEntry(m, dir + "/pw");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link_target, "etc/passwd");
  // mkyaffs2.py writes the first name of an inode as the file, later ones as hard links.
  const ExtractedEntry* first = FindEntry(m, dir + "/hard.html");
  const ExtractedEntry* hard = FindEntry(m, dir + "/www/index.html");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(hard, nullptr);
  EXPECT_EQ(first->type, EntryType::kFile);
  EXPECT_EQ(hard->type, EntryType::kHardlink);
  EXPECT_EQ(hard->link_target, dir + "/hard.html");
  const ExtractedEntry* empty = FindEntry(m, dir + "/emptydir");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->type, EntryType::kDirectory);
}

TEST(Yaffs, Yaffs2LargePageLittleEndian) {
  RoundTrip("-p 2048 -s 64 -e little");
}
TEST(Yaffs, Yaffs2LargePageBigEndian) {
  RoundTrip("-p 2048 -s 64 -e big");
}
TEST(Yaffs, Yaffs2TagsAfterBadBlockMarkerWithKernelHeaderTags) {
  RoundTrip("-p 2048 -s 64 --tag-offset 2 --extra-tags");
}
TEST(Yaffs, Yaffs2Page4096Spare128) {
  RoundTrip("-p 4096 -s 128");
}
TEST(Yaffs, Yaffs2Page8192Spare448BigEndian) {
  RoundTrip("-p 8192 -s 448 -e big --tag-offset 2");
}
TEST(Yaffs, Yaffs2TagsOnSmallPage) {
  RoundTrip("-p 512 -s 16 --pages-per-block 32");
}
TEST(Yaffs, Yaffs1SmallPageLittleEndian) {
  RoundTrip("-p 512 -s 16 --tags yaffs1 --pages-per-block 32");
}
TEST(Yaffs, Yaffs1SmallPageBigEndian) {
  RoundTrip("-p 512 -s 16 --tags yaffs1 -e big --pages-per-block 32");
}

// binwalk v3's sample (yaffs2utils' mkyaffs2, 2048+64, little-endian) is the independent
// witness: clearbox unpacks it, and mkyaffs2.py rebuilds it byte for byte from the objects
// an independent reader (below, not clearbox's parser) finds in it.
TEST(Yaffs, BinwalkSampleUnpacks) {
  TempDir tmp;
  const auto m = UnpackForTest(BinwalkSample(), tmp / "out");
  const std::string dir = FindChunkDir(m, "yaffs");
  ASSERT_EQ(dir, "0x00000000.yaffs");
  EXPECT_TRUE(m.problems.empty());
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, 135168u);
  const TreeFacts files = ManifestFilesUnder(m, dir);
  EXPECT_EQ(files.size(), 13u);
  ASSERT_TRUE(files.count("yutilsenv.h"));
  EXPECT_EQ(files.at("yutilsenv.h").size, 844u);
  EXPECT_EQ(files.at("yutilsenv.h").sha256,
            "d17b77b186792ba473247dce5f2de9916b70f79667a4b77ded186a4425296b52");
  ASSERT_TRUE(files.count("yaffs_guts.h"));
  EXPECT_EQ(files.at("yaffs_guts.h").size, 27266u);
}

TEST(Yaffs, GeneratorReproducesBinwalkSample) {
  TempDir tmp;
  WriteFileBytes(tmp / "objs.py", R"PY(import json, struct, sys
d = open(sys.argv[1], 'rb').read(); P, S = 2048, 64
objs = []
for i in range(len(d) // (P + S)):
    pg = d[i * (P + S):i * (P + S) + P]; sp = d[i * (P + S) + P:(i + 1) * (P + S)]
    seq, oid, cid, nb = struct.unpack('<IIII', sp[:16])
    if seq == 0xffffffff: continue
    if cid == 0:
        t, par = struct.unpack('<II', pg[:8])
        f = struct.unpack('<IIIIIIIi', pg[268:300])
        objs.append(dict(id=oid, parent=par, type=t, mode=f[0], uid=f[1], gid=f[2], atime=f[3],
                         mtime=f[4], ctime=f[5], size=f[6], equiv=f[7], data='',
                         name=pg[10:266].split(b'\0')[0].decode('latin-1')))
    else:
        objs[-1]['data'] += pg[:nb].decode('latin-1')
json.dump(objs, open(sys.argv[2], 'w'))
)PY");
  const std::string t = tmp.path().string();
  ASSERT_EQ(RunShell("python3 " + t + "/objs.py " + BinwalkSample().string() + " " + t +
                     "/objs.json && " + MkYaffs() + " --objects " + t + "/objs.json " + t +
                     "/re.bin && cmp " + t + "/re.bin " + BinwalkSample().string()),
            0);
}

TEST(Yaffs, EmbeddedInLargerImageHasExactExtent) {
  TempDir tmp;
  const TreeFacts src = MakeYaffsTree(tmp / "src");
  ASSERT_EQ(RunShell(MkYaffs() + " -e big " + (tmp / "src").string() + " " +
                     (tmp / "img.yaffs").string()),
            0);
  const std::string img = ReadFileBytes(tmp / "img.yaffs");
  WriteFileBytes(tmp / "fw.bin", PseudoRandomBytes(9, 4096) + img + PseudoRandomBytes(10, 5000));
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const std::string dir = FindChunkDir(m, "yaffs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  bool seen = false;
  for (const auto& c : m.chunks) {
    if (c.format != "yaffs") continue;
    seen = true;
    EXPECT_EQ(c.offset, 4096u);
    EXPECT_EQ(c.length, img.size());
  }
  EXPECT_TRUE(seen);
}

TEST(Yaffs, TruncatedImageIsReported) {
  TempDir tmp;
  MakeYaffsTree(tmp / "src");
  const std::string t = tmp.path().string();
  ASSERT_EQ(RunShell(MkYaffs() + " " + t + "/src " + t + "/img.yaffs && head -c 150001 " + t +
                     "/img.yaffs > " + t + "/cut.yaffs"),
            0);
  const auto m = UnpackForTest(tmp / "cut.yaffs", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_FALSE(FindChunkDir(m, "yaffs").empty());
}

TEST(Yaffs, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 300000);
  // Sprinkle the signatures so the handler is asked to probe them.
  static const std::string kMagic("\x03\x00\x00\x00\x01\x00\x00\x00\xff\xff", 10);
  static const std::string kBigMagic("\x00\x00\x00\x01\x00\x00\x00\x01\xff\xff", 10);
  for (std::size_t i = 0; i + 16 < junk.size(); i += 2111) {
    junk.replace(i, 10, (i & 1) ? kMagic : kBigMagic);
  }
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "yaffs").empty());
}

// Builds an image from raw objects (mkyaffs2.py --objects) and unpacks it.
Manifest UnpackObjects(const TempDir& tmp, const std::string& json) {
  WriteFileBytes(tmp / "objs.json", json);
  EXPECT_EQ(RunShell(MkYaffs() + " --objects " + (tmp / "objs.json").string() + " " +
                     (tmp / "img.yaffs").string()),
            0);
  return UnpackForTest(tmp / "img.yaffs", tmp / "out");
}

TEST(Yaffs, ParentCyclesAndBadNamesAreReportedNotFollowed) {
  TempDir tmp;
  const auto m = UnpackObjects(tmp, R"([
    {"id": 257, "parent": 1, "type": 1, "name": "ok.txt", "mode": 33188, "size": 3, "data": "abc"},
    {"id": 258, "parent": 259, "type": 3, "name": "a", "mode": 16877},
    {"id": 259, "parent": 258, "type": 3, "name": "b", "mode": 16877},
    {"id": 260, "parent": 260, "type": 3, "name": "self", "mode": 16877},
    {"id": 261, "parent": 1, "type": 1, "name": "..", "mode": 33188, "size": 1, "data": "x"},
    {"id": 262, "parent": 1, "type": 1, "name": "../../escape", "mode": 33188, "size": 1, "data": "x"},
    {"id": 263, "parent": 1, "type": 1, "name": "", "mode": 33188},
    {"id": 264, "parent": 1, "type": 2, "name": "up", "mode": 41471, "alias": "../../../etc/passwd"},
    {"id": 265, "parent": 1, "type": 4, "name": "dangling", "equiv": 999},
    {"id": 266, "parent": 1, "type": 5, "name": "console", "mode": 8612, "rdev": 1281},
    {"id": 267, "parent": 1, "type": 3, "name": "d", "mode": 16877},
    {"id": 268, "parent": 267, "type": 1, "name": "deep.txt", "mode": 33188, "size": 2, "data": "hi"}
  ])");
  const std::string dir = FindChunkDir(m, "yaffs");
  ASSERT_FALSE(dir.empty());
  const TreeFacts files = ManifestFilesUnder(m, dir);
  EXPECT_EQ(files.size(), 2u);
  EXPECT_TRUE(files.count("ok.txt"));
  EXPECT_TRUE(files.count("d/deep.txt"));
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const ExtractedEntry* dev = FindEntry(m, dir + "/console");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->type, EntryType::kCharDevice);
  EXPECT_EQ(dev->device_major, 5u);
  EXPECT_EQ(dev->device_minor, 1u);
  EXPECT_FALSE(dev->created);
  EXPECT_FALSE(fs::exists(tmp / "escape"));
  EXPECT_FALSE(fs::exists(tmp / "out/escape"));
  EXPECT_FALSE(fs::is_symlink(tmp / "out" / dir / "up"));
}

TEST(Yaffs, HugeSizeClaimIsCutToTheData) {
  TempDir tmp;
  const auto m = UnpackObjects(tmp, R"([
    {"id": 257, "parent": 1, "type": 1, "name": "big", "mode": 33188,
     "size": 1099511627776, "data": "0123456789"},
    {"id": 258, "parent": 1, "type": 1, "name": "far", "mode": 33188, "size": 4294967295,
     "data": "x", "chunk_ids": [2000000]}
  ])");
  const std::string dir = FindChunkDir(m, "yaffs");
  ASSERT_FALSE(dir.empty());
  const TreeFacts files = ManifestFilesUnder(m, dir);
  ASSERT_TRUE(files.count("big"));
  EXPECT_EQ(files.at("big").size, 10u);
  EXPECT_TRUE(HasProblem(m, "malformed"));
  std::uint64_t total = 0;
  for (const auto& [path, f] : files) total += f.size;
  EXPECT_LT(total, 1u << 20);
}

// Newest wins: the higher sequence number, wherever its chunks sit; objects moved to the
// unlinked (3) or deleted (4) directories are gone.
TEST(Yaffs, NewestVersionWinsAndDeletedObjectsAreSkipped) {
  TempDir tmp;
  const auto m = UnpackObjects(tmp, R"([
    {"id": 257, "parent": 1, "type": 1, "name": "f", "mode": 33188, "size": 3, "data": "new",
     "seq": 4097},
    {"id": 257, "parent": 1, "type": 1, "name": "f", "mode": 33188, "size": 5, "data": "older",
     "seq": 4096},
    {"id": 258, "parent": 1, "type": 1, "name": "gone", "mode": 33188, "size": 1, "data": "g",
     "seq": 4096},
    {"id": 258, "parent": 3, "type": 1, "name": "gone", "mode": 33188, "size": 1, "data": "g",
     "seq": 4098},
    {"id": 259, "parent": 4, "type": 1, "name": "deleted", "mode": 33188, "size": 1, "data": "d"}
  ])");
  const std::string dir = FindChunkDir(m, "yaffs");
  ASSERT_FALSE(dir.empty());
  const TreeFacts files = ManifestFilesUnder(m, dir);
  ASSERT_EQ(files.size(), 1u);
  ASSERT_TRUE(files.count("f"));
  EXPECT_EQ(files.at("f").size, 3u);
  EXPECT_EQ(ReadFileBytes(tmp / "out" / dir / "f"), "new");
  EXPECT_TRUE(m.problems.empty());
}

// Random byte changes in tags and headers of real images: nothing may crash, hang, leak or
// write outside the output directory (ASan/UBSan builds).
TEST(Yaffs, MutationsNeverCrash) {
  using namespace flash_test;
  TempDir tmp;
  MakeYaffsTree(tmp / "src");
  const std::string t = tmp.path().string();
  for (const std::string options : {"-p 2048 -s 64", "-p 512 -s 16 --tags yaffs1 -e big"}) {
    ASSERT_EQ(RunShell(MkYaffs() + " " + options + " " + t + "/src " + t + "/img.yaffs"), 0);
    const std::string image = ReadFileBytes(tmp / "img.yaffs");
    const std::size_t chunk = options[3] == '2' ? 2112 : 528;
    const std::size_t page = chunk == 2112 ? 2048 : 512;
    Rng rng{chunk};
    static constexpr std::uint8_t kSpecial[] = {0, 1, 2, 3, 4, 0x7F, 0x80, 0xFE, 0xFF};
    for (int iter = 0; iter < 40; ++iter) {
      std::string img = image;
      for (int k = 0; k < 1 + static_cast<int>(rng.Below(4)); ++k) {
        const std::size_t c = rng.Below(img.size() / chunk);
        // Half the hits in the spare (tags), half in the first 512 bytes (a header).
        const std::size_t at =
            c * chunk + (rng.Below(2) ? page + rng.Below(chunk - page) : rng.Below(512));
        img[at] = static_cast<char>(rng.Below(2) ? kSpecial[rng.Below(9)] : rng.Below(256));
      }
      if (rng.Below(5) == 0) img.resize(rng.Below(img.size()));
      RunHandlerOn("yaffs", img, tmp / "out");
    }
  }
  EXPECT_FALSE(fs::exists(tmp / "escape"));
}

}  // namespace
}  // namespace clearbox::unpack
