#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"
#include "unpack/handlers/filesystem/ubi_test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// mkfs.ubifs command for a sample tree at tmp/src with compression `compr`.
std::string MkfsUbifs(const TempDir& tmp, const std::string& compr, const std::string& out) {
  return "mkfs.ubifs -r " + (tmp / "src").string() + " -m 2048 -e 129024 -c 200 -x " + compr +
         " -o " + (tmp / out).string();
}

void RoundTrip(const std::string& compr) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MkfsUbifs(tmp, compr, "img.ubifs")), 0);
  const auto m = UnpackForTest(tmp / "img.ubifs", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "img.ubifs"));
}

TEST(Ubifs, Lzo) {
  RoundTrip("lzo");
}
TEST(Ubifs, Zlib) {
  RoundTrip("zlib");
}
TEST(Ubifs, Zstd) {
  RoundTrip("zstd");
}
TEST(Ubifs, Uncompressed) {
  RoundTrip("none");
}

TEST(Ubifs, SymlinksHardlinksAndDevicesAreKept) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("cd " + (tmp / "src").string() +
                     " && mkdir dev && ln -s etc/passwd pw && ln -s ../../../x out "
                     "&& ln www/index.html hard.html"),
            0);
  WriteFileBytes(tmp / "dev.txt", "/dev/console c 600 0 0 5 1 0 0 -\n");
  ASSERT_EQ(RunShell(MkfsUbifs(tmp, "lzo", "img.ubifs") + " -D " + (tmp / "dev.txt").string()), 0);
  const auto m = UnpackForTest(tmp / "img.ubifs", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  TreeFacts want = src;
  want["hard.html"] = src.at("www/index.html");
  EXPECT_EQ(ManifestFilesUnder(m, dir), want);
  bool saw_link = false, saw_dev = false, saw_hard = false;
  for (const auto& f : m.files) {
    if (f.path == dir + "/pw" && f.type == EntryType::kSymlink) saw_link = true;
    if (f.path == dir + "/dev/console" && f.type == EntryType::kCharDevice) saw_dev = true;
    if (f.type == EntryType::kHardlink) saw_hard = true;
  }
  EXPECT_TRUE(saw_link);
  EXPECT_TRUE(saw_dev);
  EXPECT_TRUE(saw_hard);
  EXPECT_TRUE(HasProblem(m, "traversal"));  // ../../../x is refused
  EXPECT_FALSE(fs::exists(tmp / "x"));
}

TEST(Ubifs, TruncatedImageIsReported) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell(MkfsUbifs(tmp, "none", "img.ubifs") + " && head -c 700000 " +
                     (tmp / "img.ubifs").string() + " > " + (tmp / "cut.ubifs").string()),
            0);
  const auto m = UnpackForTest(tmp / "cut.ubifs", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Ubifs, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 400000);
  for (std::size_t i = 0; i + 24 < junk.size(); i += 4099) {
    junk.replace(i, 4, std::string("\x31\x18\x10\x06", 4));
    junk[i + 20] = 6;
  }
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "ubifs").empty());
}

TEST(Ubifs, UbiImageUnpacksToTheSourceTree) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "ubinize.cfg",
                 "[rootfs]\nmode=ubi\nimage=" + (tmp / "img.ubifs").string() +
                     "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n");
  ASSERT_EQ(
      RunShell(MkfsUbifs(tmp, "lzo", "img.ubifs") + " && ubinize -o " + (tmp / "ubi.img").string() +
               " -m 2048 -p 128KiB -s 512 " + (tmp / "ubinize.cfg").string()),
      0);
  const auto m = UnpackForTest(tmp / "ubi.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  EXPECT_NE(dir.find("rootfs.ubifs.extract/"), std::string::npos);
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
}

// Runs scripts/fixtures/ubifs-add-journal.py on tmp/in (a mkfs.ubifs image) -> tmp/out.
std::string AddJournal(const TempDir& tmp, const std::string& in, const std::string& out,
                       const std::string& ops) {
  return "python3 " + (SourceRoot() / "scripts/fixtures/ubifs-add-journal.py").string() + " " +
         (tmp / in).string() + " " + (tmp / out).string() + " " + ops;
}

// A journal written after the last commit (new files and a directory, a deletion, a
// rewrite, a truncation then a growth over the hole, a rewrite that shrinks): the extracted
// tree must be the source tree with the same changes made by coreutils.
struct JournalFixture {
  TempDir tmp;
  TreeFacts want;
  std::string ops;

  JournalFixture() {
    MakeSampleTree(tmp / "src");
    std::string text;
    for (int i = 0; i < 900; ++i) text += "journal line " + std::to_string(i) + "\n";
    WriteFileBytes(tmp / "h1", PseudoRandomBytes(21, 10000) + text);
    WriteFileBytes(tmp / "h2", text);
    WriteFileBytes(tmp / "h3",
                   "root:x:0:0:root:/root:/bin/ash\nnobody:x:65534:65534::/:/bin/false\n");
    WriteFileBytes(tmp / "h4", PseudoRandomBytes(22, 9000));
    const std::string t = tmp.path().string() + "/";
    ops = "add:etc/journal.txt:" + t + "h1 mkdir:jdir add:jdir/inner.txt:" + t +
          "h2 delete:www/index.html write:etc/passwd:" + t +
          "h3 truncate:var/log/messages:5000 extend:var/log/messages:20000 write:bin/busybox:" + t +
          "h4";
    EXPECT_EQ(RunShell("cp -a " + t + "src " + t + "want && cd " + t + "want && cp " + t +
                       "h1 etc/journal.txt && mkdir jdir && cp " + t + "h2 jdir/inner.txt && rm " +
                       "www/index.html && cp " + t + "h3 etc/passwd && truncate -s 5000 " +
                       "var/log/messages && truncate -s 20000 var/log/messages && cp " + t +
                       "h4 bin/busybox"),
              0);
    want = HashTree(tmp / "want");
  }
};

void JournalRoundTrip(const std::string& compr) {
  JournalFixture f;
  ASSERT_EQ(RunShell(MkfsUbifs(f.tmp, compr, "img.ubifs") + " && " +
                     AddJournal(f.tmp, "img.ubifs", "j.ubifs", f.ops)),
            0);
  const auto m = UnpackForTest(f.tmp / "j.ubifs", f.tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), f.want);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(f.tmp / "j.ubifs"));
  EXPECT_EQ(m.chunks[0].metadata.count("journal_nodes_replayed"), 1u);
}

TEST(Ubifs, JournalReplayZlib) {
  JournalRoundTrip("zlib");
}
TEST(Ubifs, JournalReplayUncompressed) {
  JournalRoundTrip("none");
}

// The same journal inside a UBI image (ubinize): the UBI handler's volume file is replayed.
TEST(Ubifs, JournalReplayInsideUbi) {
  JournalFixture f;
  WriteFileBytes(f.tmp / "ubinize.cfg",
                 "[rootfs]\nmode=ubi\nimage=" + (f.tmp / "j.ubifs").string() +
                     "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n");
  ASSERT_EQ(RunShell(MkfsUbifs(f.tmp, "zlib", "img.ubifs") + " && " +
                     AddJournal(f.tmp, "img.ubifs", "j.ubifs", f.ops) + " && ubinize -o " +
                     (f.tmp / "ubi.img").string() + " -m 2048 -p 128KiB -s 512 " +
                     (f.tmp / "ubinize.cfg").string()),
            0);
  const auto m = UnpackForTest(f.tmp / "ubi.img", f.tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), f.want);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
}

// Without the log's reference nodes the same buds are ignored: the committed tree comes out.
TEST(Ubifs, BudsWithoutLogReferencesAreIgnored) {
  JournalFixture f;
  ASSERT_EQ(RunShell(MkfsUbifs(f.tmp, "zlib", "img.ubifs") + " && " +
                     AddJournal(f.tmp, "img.ubifs", "j.ubifs", f.ops)),
            0);
  std::string img = ReadFileBytes(f.tmp / "j.ubifs");
  // Erase LEB 3 (the log) after its first min_io unit: the commit-start node stays.
  const std::size_t leb = 129024;
  std::fill(img.begin() + 3 * leb + 2048, img.begin() + 4 * leb, '\xFF');
  WriteFileBytes(f.tmp / "nolog.ubifs", img);
  const auto m = UnpackForTest(f.tmp / "nolog.ubifs", f.tmp / "out");
  const std::string dir = FindChunkDir(m, "ubifs");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), HashTree(f.tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
}

// Mutates the journal's nodes (log and buds) and re-seals their CRCs: no crash, no hang.
TEST(Ubifs, JournalResealedMutationsNeverCrash) {
  using namespace flash_test;
  JournalFixture f;
  ASSERT_EQ(RunShell(MkfsUbifs(f.tmp, "zlib", "img.ubifs") + " && " +
                     AddJournal(f.tmp, "img.ubifs", "j.ubifs", f.ops)),
            0);
  const std::string base = ReadFileBytes(f.tmp / "img.ubifs");
  const std::string image = ReadFileBytes(f.tmp / "j.ubifs");
  std::vector<std::size_t> nodes;  // nodes the journal added or changed
  for (std::size_t pos = 0; pos + 24 <= image.size(); pos += 8) {
    if (GetU32(image, pos, false) == 0x06101831 &&
        (pos + 24 > base.size() || image.compare(pos, 24, base, pos, 24) != 0)) {
      nodes.push_back(pos);
    }
  }
  ASSERT_GT(nodes.size(), 20u);
  Rng rng{4321};
  static constexpr std::uint8_t kSpecial[] = {0, 1, 0x7F, 0x80, 0xFE, 0xFF};
  for (int iter = 0; iter < 60; ++iter) {
    std::string img = image;
    for (int k = 0; k < 1 + static_cast<int>(rng.Below(3)); ++k) {
      const std::size_t node = nodes[rng.Below(nodes.size())];
      const std::size_t at = node + 8 + rng.Below(64);
      if (at >= img.size()) continue;
      img[at] = static_cast<char>(rng.Below(2) ? kSpecial[rng.Below(6)] : rng.Below(256));
    }
    for (std::size_t node : nodes) {
      const std::size_t len = GetU32(img, node + 16, false);
      if (len >= 8 && node + len <= img.size()) {
        PutU32(img, node + 4, LinuxCrc(0xFFFFFFFF, img, node + 8, len - 8), false);
      }
    }
    RunHandlerOn("ubifs", img, f.tmp / "out");
  }
}

// Mutates node fields of a real image and re-seals the node CRCs so that the parser, not
// the CRC check, meets the damage; nothing may crash, hang or leak.
TEST(Ubifs, ResealedMutationsNeverCrash) {
  using namespace flash_test;
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(
      RunShell("cd " + (tmp / "src").string() + " && ln -s etc/passwd pw && ln etc/passwd hard"),
      0);
  ASSERT_EQ(RunShell(MkfsUbifs(tmp, "lzo", "img.ubifs")), 0);
  const std::string image = ReadFileBytes(tmp / "img.ubifs");
  std::vector<std::size_t> nodes;
  for (std::size_t pos = 0; pos + 24 <= image.size(); pos += 8) {
    if (GetU32(image, pos, false) == 0x06101831) nodes.push_back(pos);
  }
  ASSERT_GT(nodes.size(), 20u);
  Rng rng{1234};
  static constexpr std::uint8_t kSpecial[] = {0, 1, 0x7F, 0x80, 0xFE, 0xFF};
  for (int iter = 0; iter < 60; ++iter) {
    std::string img = image;
    for (int k = 0; k < 1 + static_cast<int>(rng.Below(3)); ++k) {
      const std::size_t node = nodes[rng.Below(nodes.size())];
      const std::size_t at = node + 8 + rng.Below(120);
      if (at >= img.size()) continue;
      img[at] = static_cast<char>(rng.Below(2) ? kSpecial[rng.Below(6)] : rng.Below(256));
    }
    for (std::size_t node : nodes) {
      const std::size_t len = GetU32(img, node + 16, false);
      if (len >= 8 && node + len <= img.size()) {
        PutU32(img, node + 4, LinuxCrc(0xFFFFFFFF, img, node + 8, len - 8), false);
      }
    }
    if (rng.Below(5) == 0) img.resize(rng.Below(img.size()));
    RunHandlerOn("ubifs", img, tmp / "out");
  }
}

}  // namespace
}  // namespace clearbox::unpack
