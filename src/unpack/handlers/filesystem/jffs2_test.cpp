#include <gtest/gtest.h>

#include <cstdlib>

#include "support/test_support.hpp"
#include "unpack/handlers/filesystem/ubi_test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Builds a JFFS2 image of a sample tree with mkfs.jffs2 `options`, unpacks it and checks
// the tree comes back exactly.
void RoundTrip(const std::string& options) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.jffs2 -r " + (tmp / "src").string() + " -o " +
                     (tmp / "img.jffs2").string() + " -e 0x10000 " + options),
            0);
  const auto m = UnpackForTest(tmp / "img.jffs2", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "img.jffs2"));
}

TEST(Jffs2, LittleEndianZlib) {
  RoundTrip("-l");
}
TEST(Jffs2, BigEndianZlib) {
  RoundTrip("-b");
}
TEST(Jffs2, LittleEndianLzo) {
  RoundTrip("-l -X lzo -x zlib -x rtime");
}
TEST(Jffs2, BigEndianLzo) {
  RoundTrip("-b -X lzo -x zlib -x rtime");
}
TEST(Jffs2, LittleEndianRtime) {
  RoundTrip("-l -x zlib");
}
TEST(Jffs2, BigEndianRtime) {
  RoundTrip("-b -x zlib");
}
TEST(Jffs2, Uncompressed) {
  RoundTrip("-l -m none");
}
TEST(Jffs2, PaddedToEraseBlock) {
  RoundTrip("-l -p");
}

TEST(Jffs2, SymlinksHardlinksAndDevicesAreKept) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(
      RunShell(
          "cd " + (tmp / "src").string() +
          " && mkdir dev && ln -s etc/passwd pw && ln -s /etc/shadow abs && ln -s ../../../x out "
          "&& ln www/index.html hard.html"),
      0);
  WriteFileBytes(tmp / "dev.txt", "/dev/console c 600 0 0 5 1 0 0 -\n");
  ASSERT_EQ(RunShell("mkfs.jffs2 -r " + (tmp / "src").string() + " -D " +
                     (tmp / "dev.txt").string() + " -o " + (tmp / "img.jffs2").string() + " -l"),
            0);
  const auto m = UnpackForTest(tmp / "img.jffs2", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  TreeFacts want = src;
  want["hard.html"] = src.at("www/index.html");
  EXPECT_EQ(ManifestFilesUnder(m, dir), want);
  bool saw_link = false, saw_dev = false;
  for (const auto& f : m.files) {
    if (f.path == dir + "/pw" && f.type == EntryType::kSymlink) saw_link = true;
    if (f.path == dir + "/dev/console" && f.type == EntryType::kCharDevice) saw_dev = true;
  }
  EXPECT_TRUE(saw_link);
  EXPECT_TRUE(saw_dev);
  EXPECT_TRUE(HasProblem(m, "traversal"));  // ../../../x is refused
  EXPECT_FALSE(fs::exists(tmp / "x"));
  EXPECT_FALSE(fs::is_symlink(tmp / "out" / dir / "out"));
}

TEST(Jffs2, TruncatedImageIsReported) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.jffs2 -m none -l -r " + (tmp / "src").string() + " -o " +
                     (tmp / "img.jffs2").string() + " && head -c 150001 " +
                     (tmp / "img.jffs2").string() + " > " + (tmp / "cut.jffs2").string()),
            0);
  const auto m = UnpackForTest(tmp / "cut.jffs2", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_FALSE(FindChunkDir(m, "jffs2").empty());
}

TEST(Jffs2, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 300000);
  // Sprinkle both magics so the handler is asked to probe them.
  for (std::size_t i = 0; i + 2 < junk.size(); i += 997) {
    junk[i] = (i & 1) ? '\x85' : '\x19';
    junk[i + 1] = (i & 1) ? '\x19' : '\x85';
  }
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "jffs2").empty());
}

TEST(Jffs2, EmbeddedInLargerImageHasExactExtent) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("mkfs.jffs2 -b -p -e 0x10000 -r " + (tmp / "src").string() + " -o " +
                     (tmp / "img.jffs2").string()),
            0);
  const std::string img = ReadFileBytes(tmp / "img.jffs2");
  WriteFileBytes(tmp / "fw.bin", PseudoRandomBytes(9, 4096) + img + PseudoRandomBytes(10, 5000));
  const auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& c : m.chunks) {
    if (c.format == "jffs2") {
      EXPECT_EQ(c.offset, 4096u);
      EXPECT_EQ(c.length, img.size());
    }
  }
}

// Debian's mkfs.jffs2 has no rubin compressors: rewrite an uncompressed image's data nodes
// with scripts/fixtures/jffs2-rubin.py (`mode`: dynrubin, dynrubin-linux or rubinmips, with
// its options) and
// check the tree comes back exactly.
void RubinRoundTrip(const std::string& mode, bool big) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  std::string count;
  ASSERT_EQ(
      RunShell(std::string("mkfs.jffs2 -m none ") + (big ? "-b" : "-l") + " -r " +
                   (tmp / "src").string() + " -o " + (tmp / "none.jffs2").string() +
                   " && python3 " + (SourceRoot() / "scripts/fixtures/jffs2-rubin.py").string() +
                   " image " + mode + (big ? " -b " : " ") + (tmp / "none.jffs2").string() + " " +
                   (tmp / "img.jffs2").string(),
               &count),
      0);
  const auto last = count.find_last_of('\n', count.size() >= 2 ? count.size() - 2 : 0);
  EXPECT_GE(std::atoi(count.c_str() + (last == std::string::npos ? 0 : last + 1)), 5);
  const auto m = UnpackForTest(tmp / "img.jffs2", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
}

TEST(Jffs2, DynRubinNodesLittleEndian) {
  RubinRoundTrip("dynrubin", false);
}
TEST(Jffs2, DynRubinNodesBigEndian) {
  RubinRoundTrip("dynrubin", true);
}
TEST(Jffs2, LinuxType3DynRubinNodes) {
  RubinRoundTrip("dynrubin-linux", false);
}
TEST(Jffs2, RubinMipsNodes) {
  RubinRoundTrip("rubinmips --force", true);
}

// Mutates node fields of a real image and re-seals every CRC so that the parser, not the
// CRC check, meets the damage; nothing may crash, hang or leak (ASan/UBSan builds).
TEST(Jffs2, ResealedMutationsNeverCrash) {
  using namespace flash_test;
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("cd " + (tmp / "src").string() + " && ln -s etc/passwd pw && mkdir dev"), 0);
  WriteFileBytes(tmp / "dev.txt", "/dev/console c 600 0 0 5 1 0 0 -\n");
  for (const bool big : {false, true}) {
    ASSERT_EQ(RunShell(std::string("mkfs.jffs2 ") + (big ? "-b" : "-l") + " -D " +
                       (tmp / "dev.txt").string() + " -r " + (tmp / "src").string() + " -o " +
                       (tmp / "img.jffs2").string()),
              0);
    const std::string image = ReadFileBytes(tmp / "img.jffs2");
    std::vector<std::size_t> nodes;
    for (std::size_t pos = 0; pos + 12 <= image.size();) {
      const std::uint32_t totlen = GetU32(image, pos + 4, big);
      if ((GetU32(image, pos, big) >> (big ? 16 : 0) & 0xFFFF) != 0x1985 || totlen < 12) {
        pos += 4;
        continue;
      }
      nodes.push_back(pos);
      pos += (totlen + 3) & ~3u;
    }
    ASSERT_GT(nodes.size(), 20u);
    Rng rng{big ? 77u : 99u};
    static constexpr std::uint8_t kSpecial[] = {0, 1, 0x7F, 0x80, 0xFE, 0xFF};
    for (int iter = 0; iter < 30; ++iter) {
      std::string img = image;
      for (int k = 0; k < 1 + static_cast<int>(rng.Below(3)); ++k) {
        const std::size_t node = nodes[rng.Below(nodes.size())];
        const std::size_t at = node + 2 + rng.Below(70);
        if (at >= img.size()) continue;
        img[at] = static_cast<char>(rng.Below(2) ? kSpecial[rng.Below(6)] : rng.Below(256));
      }
      for (std::size_t node : nodes) {  // re-seal
        const std::size_t totlen = GetU32(img, node + 4, big);
        PutU32(img, node + 8, LinuxCrc(0, img, node, 8), big);
        const std::uint32_t type = (GetU32(img, node, big) >> (big ? 0 : 16)) & 0xFFFF;
        if (type == 0xE002 && totlen >= 68 && node + 68 <= img.size()) {
          PutU32(img, node + 64, LinuxCrc(0, img, node, 60), big);
          const std::size_t csize = GetU32(img, node + 48, big);
          if (csize <= totlen - 68 && node + 68 + csize <= img.size()) {
            PutU32(img, node + 60, LinuxCrc(0, img, node + 68, csize), big);
          }
        } else if (type == 0xE001 && totlen >= 40 && node + 40 <= img.size()) {
          PutU32(img, node + 32, LinuxCrc(0, img, node, 32), big);
          const std::size_t nsize = static_cast<std::uint8_t>(img[node + 28]);
          if (nsize <= totlen - 40 && node + 40 + nsize <= img.size()) {
            PutU32(img, node + 36, LinuxCrc(0, img, node + 40, nsize), big);
          }
        }
      }
      if (rng.Below(4) == 0) img.resize(rng.Below(img.size()));
      RunHandlerOn("jffs2", img, tmp / "out");
    }
  }
  EXPECT_FALSE(fs::exists(tmp / "x"));
}

// No Debian tool writes OpenWrt's LZMA nodes: rewrite an uncompressed image's data nodes as
// raw LZMA1 (lc=0, lp=0, pb=0, dict 8 KiB, as OpenWrt's compr_lzma.c) with Python's lzma
// module and re-seal the CRCs.
TEST(Jffs2, OpenWrtLzmaNodes) {
  TempDir tmp;
  const TreeFacts src = MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "relzma.py", R"PY(import lzma, struct, sys, zlib
def crc(b): return (~zlib.crc32(b, 0xFFFFFFFF)) & 0xFFFFFFFF
d = open(sys.argv[1], 'rb').read()
out = bytearray(); p = 0; n = 0
filt = [{'id': lzma.FILTER_LZMA1, 'lc': 0, 'lp': 0, 'pb': 0, 'dict_size': 0x2000}]
while p + 12 <= len(d):
    magic, typ, tot = struct.unpack_from('<HHI', d, p)
    if magic != 0x1985: p += 4; continue
    node = bytearray(d[p:p + tot])
    if typ == 0xE002 and node[56] == 0 and struct.unpack_from('<I', node, 48)[0] > 0:
        data = bytes(node[68:])
        comp = lzma.compress(data, format=lzma.FORMAT_RAW, filters=filt)
        node = node[:68] + comp
        struct.pack_into('<I', node, 4, len(node))
        struct.pack_into('<I', node, 48, len(comp))
        node[56] = 8
        struct.pack_into('<I', node, 8, crc(bytes(node[:8])))
        struct.pack_into('<I', node, 60, crc(comp))
        struct.pack_into('<I', node, 64, crc(bytes(node[:60])))
        n += 1
    out += node + b'\xff' * ((-len(node)) % 4)
    p += (tot + 3) & ~3
open(sys.argv[2], 'wb').write(out)
print(n)
)PY");
  std::string count;
  ASSERT_EQ(
      RunShell("mkfs.jffs2 -l -m none -r " + (tmp / "src").string() + " -o " +
                   (tmp / "none.jffs2").string() + " && python3 " + (tmp / "relzma.py").string() +
                   " " + (tmp / "none.jffs2").string() + " " + (tmp / "img.jffs2").string(),
               &count),
      0);
  const auto last = count.find_last_of('\n', count.size() >= 2 ? count.size() - 2 : 0);
  EXPECT_GT(std::atoi(count.c_str() + (last == std::string::npos ? 0 : last + 1)), 10);
  const auto m = UnpackForTest(tmp / "img.jffs2", tmp / "out");
  const std::string dir = FindChunkDir(m, "jffs2");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), src);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
}

}  // namespace
}  // namespace clearbox::unpack
