#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

// Python that writes newc members: member(name, data, mode, size, rdev major, rdev minor).
const char* const kNewcWriter = R"PY(
import sys
out = bytearray()
ino = [1]
def member(name, data=b"", mode=0o100644, size=None, rmaj=0, rmin=0):
    nb = name.encode() + b"\0"
    size = len(data) if size is None else size
    fields = [ino[0], mode, 0, 0, 1, 0, size, 0, 0, rmaj, rmin, len(nb), 0]
    ino[0] += 1
    out.extend(("070701" + "".join("%08x" % v for v in fields)).encode() + nb)
    out.extend(b"\0" * (-len(out) % 4))
    out.extend(data)
    out.extend(b"\0" * (-len(out) % 4))
)PY";

void CpioRoundTrip(const std::string& format) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp / "src", "find . | cpio --quiet -o -H " + format + " > ../img.cpio");
  const Manifest m = ExpectRoundTrip(tmp / "img.cpio", tmp / "out", "cpio", facts);
  const ChunkRecord* chunk = FindChunk(m, "cpio");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.cpio"));
}

TEST(Cpio, NewcRoundTrip) {
  CpioRoundTrip("newc");
}
TEST(Cpio, CrcRoundTrip) {
  CpioRoundTrip("crc");
}
TEST(Cpio, OdcRoundTrip) {
  CpioRoundTrip("odc");
}

TEST(Cpio, BinaryLittleEndianRoundTrip) {
  CpioRoundTrip("bin");  // GNU cpio writes the old binary format in host (little) byte order
}

TEST(Cpio, BinaryBigEndianRoundTrip) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  Shell(tmp / "src", "find . | cpio --quiet -o -H bin > ../le.cpio");
  // Byte-swaps every header word: the archive a big-endian machine's cpio would write.
  Shell(tmp.path(), R"(python3 -c "
import struct
d = bytearray(open('le.cpio', 'rb').read()); pos = 0
while True:
    w = struct.unpack_from('<13H', d, pos)
    assert w[0] == 0o70707
    struct.pack_into('>13H', d, pos, *w)
    name = bytes(d[pos + 26:pos + 26 + w[10] - 1])
    size = (w[11] << 16) | w[12]
    pos += 26 + w[10] + (w[10] & 1)
    pos += size + (size & 1)
    if name == b'TRAILER!!!': break
open('img.cpio', 'wb').write(d)
")");
  const Manifest m = ExpectRoundTrip(tmp / "img.cpio", tmp / "out", "cpio", facts);
  const ChunkRecord* chunk = FindChunk(m, "cpio");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.cpio"));
}

TEST(Cpio, SymlinkIsKept) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  Shell(tmp / "src", "ln -s etc/passwd link && find . | cpio --quiet -o -H newc > ../img.cpio");
  const Manifest m = UnpackForTest(tmp / "img.cpio", tmp / "out");
  const ExtractedEntry* link = FindEntry(m, FindChunkDir(m, "cpio") + "/link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, EntryType::kSymlink);
  EXPECT_EQ(link->link_target, "etc/passwd");
}

TEST(Cpio, TruncatedArchiveReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  Shell(tmp / "src", "find . | cpio --quiet -o -H newc > ../img.cpio");
  Shell(tmp.path(), "head -c 120000 img.cpio > cut.cpio");
  const Manifest m = UnpackForTest(tmp / "cut.cpio", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "cpio");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

TEST(Cpio, GarbageIsRejected) {
  ExpectRejected(GetCpioHandler(), "070701" + PseudoRandomBytes(3, 300));
  ExpectRejected(GetCpioHandler(), "070707" + std::string(200, '9'));
  ExpectRejected(GetCpioHandler(), "070702");
  ExpectRejected(GetCpioHandler(), "\xC7\x71" + PseudoRandomBytes(4, 300));
  ExpectRejected(GetCpioHandler(), "\x71\xC7" + PseudoRandomBytes(5, 300));
  // One well-formed binary member and then nothing: too little to tell from chance.
  std::string one("\xC7\x71", 2);
  one += std::string(18, '\0') + std::string("\x02\x00\x00\x00\x01\x00", 6) + "a" +
         std::string(1, '\0') + "x" + std::string(1, '\0');
  ExpectRejected(GetCpioHandler(), one + PseudoRandomBytes(6, 100));
}

TEST(Cpio, DeviceNodeIsRecordedNotCreated) {
  TempDir tmp;
  fs::create_directories(tmp / "src/dev");
  WriteFileBytes(tmp / "src/etc/inittab", "::sysinit:/etc/init.d/rcS\n");
  if (RunShell("mknod '" + (tmp / "src/dev/ttyS0").string() + "' c 4 64") == 0) {
    Shell(tmp / "src", "find . | cpio --quiet -o -H newc > ../img.cpio");
  } else {  // no mknod permission here: write the same member by hand
    WriteFileBytes(tmp / "make.py", std::string(kNewcWriter) +
                                        "member('dev', mode=0o40755)\n"
                                        "member('dev/ttyS0', mode=0o20620, rmaj=4, rmin=64)\n"
                                        "member('etc/inittab', b'::sysinit:/etc/init.d/rcS\\n')\n"
                                        "member('TRAILER!!!')\nopen('img.cpio','wb').write(out)\n");
    Shell(tmp.path(), "python3 make.py");
  }
  const Manifest m = UnpackForTest(tmp / "img.cpio", tmp / "out");
  const std::string dir = FindChunkDir(m, "cpio");
  const ExtractedEntry* dev = FindEntry(m, dir + "/dev/ttyS0");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->type, EntryType::kCharDevice);
  EXPECT_FALSE(dev->created);
  EXPECT_EQ(dev->device_major, 4u);
  EXPECT_EQ(dev->device_minor, 64u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / "out" / dir / "dev/ttyS0")));
  EXPECT_TRUE(fs::exists(tmp / "out" / dir / "etc/inittab"));
}

TEST(Cpio, TraversalIsRefused) {
  TempDir tmp;
  WriteFileBytes(tmp / "make.py", std::string(kNewcWriter) +
                                      "member('../outside_file', b'escaped\\n')\n"
                                      "member('link', b'../../../../etc/shadow', mode=0o120777)\n"
                                      "member('fine.txt', b'fine\\n')\n"
                                      "member('TRAILER!!!')\nopen('evil.cpio','wb').write(out)\n");
  Shell(tmp.path(), "python3 make.py");
  const Manifest m = UnpackForTest(tmp / "evil.cpio", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "outside_file"));
  const std::string dir = FindChunkDir(m, "cpio");
  EXPECT_TRUE(fs::exists(tmp / "out" / dir / "fine.txt"));
  const ExtractedEntry* link = FindEntry(m, dir + "/link");
  ASSERT_NE(link, nullptr);
  EXPECT_FALSE(link->created);
}

TEST(Cpio, HugeSizeFieldIsBoundedByTheData) {
  TempDir tmp;
  WriteFileBytes(tmp / "make.py", std::string(kNewcWriter) +
                                      "member('huge.bin', b'A' * 4096, size=0xffffffff)\n"
                                      "open('huge.cpio','wb').write(out)\n");
  Shell(tmp.path(), "python3 make.py");
  const Manifest m = UnpackForTest(tmp / "huge.cpio", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  for (const auto& f : m.files) EXPECT_LE(f.size, 8192u) << f.path;
}

}  // namespace
}  // namespace clearbox::unpack
