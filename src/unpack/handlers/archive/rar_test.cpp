// RAR fixtures: Debian has no free RAR writer, so the tests use small archives of
// libarchive's own test suite (tests/oracle/libarchive-rar, see SOURCES.md), uudecoded at
// test time, and check what libarchive's tests expect of them.
#include <cstdlib>

#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

fs::path RarOracle() {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  EXPECT_NE(src, nullptr) << "CLEARBOX_SOURCE_DIR is not set";
  return fs::path(src ? src : ".") / "tests/oracle/libarchive-rar";
}

// Decodes tests/oracle/libarchive-rar/<name>.uu into `dir`/<name>.
fs::path Decode(const fs::path& dir, const std::string& name) {
  const std::string script =
      "import binascii,sys\n"
      "out=b''\n"
      "for line in open(sys.argv[1]):\n"
      "    if line.startswith('begin') or not line.strip(): continue\n"
      "    if line.strip()=='end': break\n"
      "    out+=binascii.a2b_uu(line)\n"
      "open(sys.argv[2],'wb').write(out)\n";
  WriteFileBytes(dir / "uudecode.py", script);
  Shell(dir, "python3 uudecode.py '" + (RarOracle() / (name + ".uu")).string() + "' " + name);
  return dir / name;
}

std::string FileText(const fs::path& p) {
  return ReadFileBytes(p);
}

// test_read_format_rar_basic: test.txt, testlink -> test.txt, testdir/test.txt, testdir,
// testemptydir (RAR 4, "test text document\r\n").
TEST(Rar, Rar4LibarchiveSample) {
  TempDir tmp;
  const fs::path rar = Decode(tmp.path(), "test_read_format_rar.rar");
  const Manifest m = UnpackForTest(rar, tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "rar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(chunk->length, fs::file_size(rar));
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << " " << p.message;
  const fs::path dir = tmp / "out" / FindChunkDir(m, "rar");
  EXPECT_EQ(FileText(dir / "test.txt"), "test text document\r\n");
  EXPECT_EQ(FileText(dir / "testdir/test.txt"), "test text document\r\n");
  EXPECT_TRUE(fs::is_symlink(dir / "testlink"));
  EXPECT_EQ(fs::read_symlink(dir / "testlink"), "test.txt");
  EXPECT_TRUE(fs::is_directory(dir / "testemptydir"));
}

// test_read_format_rar5_stored: helloworld.txt.
TEST(Rar, Rar5StoredLibarchiveSample) {
  TempDir tmp;
  const fs::path rar = Decode(tmp.path(), "test_read_format_rar5_stored.rar");
  const Manifest m = UnpackForTest(rar, tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "rar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(chunk->length, fs::file_size(rar));
  const fs::path dir = tmp / "out" / FindChunkDir(m, "rar");
  EXPECT_EQ(FileText(dir / "helloworld.txt"), "hello libarchive test suite!\n");
}

// test_read_format_rar5_compressed: test.bin, 1200 bytes; little-endian word i (k = i + 1)
// is max(k*k - 3k + 1, 0).
TEST(Rar, Rar5CompressedLibarchiveSample) {
  TempDir tmp;
  const fs::path rar = Decode(tmp.path(), "test_read_format_rar5_compressed.rar");
  const std::string junk = PseudoRandomBytes(61, 500);
  WriteFileBytes(tmp / "blob.bin", junk + ReadFileBytes(rar) + junk);
  const Manifest m = UnpackForTest(tmp / "blob.bin", tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "rar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(chunk->offset, 500u);
  EXPECT_EQ(chunk->length, fs::file_size(rar));
  std::string expected;
  for (int i = 0; i < 1200 / 4; ++i) {
    const long long k = i + 1;
    const long long v = std::max(k * k - 3 * k + 1, 0LL);
    for (int b = 0; b < 4; ++b) expected += static_cast<char>((v >> (8 * b)) & 0xff);
  }
  EXPECT_EQ(FileText(tmp / "out" / FindChunkDir(m, "rar") / "test.bin"), expected);
}

TEST(Rar, TruncatedArchiveReportsIt) {
  TempDir tmp;
  const std::string rar = ReadFileBytes(Decode(tmp.path(), "test_read_format_rar.rar"));
  WriteFileBytes(tmp / "cut.rar", rar.substr(0, 120));
  const Manifest m = UnpackForTest(tmp / "cut.rar", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "rar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

// test.txt renamed in place to ../x.txt; the file headers' CRCs are recomputed (a bad CRC
// would end the block walk before that member).
TEST(Rar, TraversalIsRefused) {
  TempDir tmp;
  Decode(tmp.path(), "test_read_format_rar.rar");
  const std::string script = R"PY(
import binascii, struct
d = bytearray(open("test_read_format_rar.rar", "rb").read())
pos = 7
while pos + 7 <= len(d):
    crc, typ, flags, size = struct.unpack_from("<HBHH", d, pos)
    add = struct.unpack_from("<I", d, pos + 7)[0] if typ == 0x74 or flags & 0x8000 else 0
    if typ == 0x74:
        nlen = struct.unpack_from("<H", d, pos + 26)[0]
        name = bytes(d[pos + 32:pos + 32 + nlen])
        if name == b"test.txt":
            d[pos + 32:pos + 40] = b"../x.txt"
        d[pos:pos + 2] = struct.pack("<H", binascii.crc32(bytes(d[pos + 2:pos + size])) & 0xFFFF)
    pos += size + add
open("evil.rar", "wb").write(d)
)PY";
  WriteFileBytes(tmp / "make.py", script);
  Shell(tmp.path(), "python3 make.py && mkdir -p out");
  const Manifest m = UnpackForTest(tmp / "evil.rar", tmp / "out/x");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "out/x.txt"));
  const std::string dir = FindChunkDir(m, "rar");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(tmp / "out/x" / dir / "testdir/test.txt"));
}

TEST(Rar, GarbageIsRejected) {
  ExpectRejected(GetRarHandler(), std::string("Rar!\x1a\x07\x00", 7) + PseudoRandomBytes(62, 300));
  ExpectRejected(GetRarHandler(),
                 std::string("Rar!\x1a\x07\x01\x00", 8) + PseudoRandomBytes(63, 300));
  ExpectRejected(GetRarHandler(), std::string("Rar!\x1a\x07\x00", 7));
}

}  // namespace
}  // namespace clearbox::unpack
