#include <cstdlib>

#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

// Debian's arj: -m0 stored, -m1..-m3 LZ77 + Huffman, -m4 fastest; -r recurses.
void MakeArj(const fs::path& src, int method, const std::string& archive) {
  Shell(src, "arj a -m" + std::to_string(method) + " -r -y ../" + archive + " . > /dev/null");
}

class ArjRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(ArjRoundTrip, ExtractsEveryFile) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  MakeArj(tmp / "src", GetParam(), "img.arj");
  const Manifest m = ExpectRoundTrip(tmp / "img.arj", tmp / "out", "arj", facts);
  const ChunkRecord* chunk = FindChunk(m, "arj");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.arj"));
}

INSTANTIATE_TEST_SUITE_P(Arj, ArjRoundTrip, ::testing::Values(0, 1, 2, 3, 4),
                         [](const auto& param_info) {
                           return "Method" + std::to_string(param_info.param);
                         });

TEST(Arj, CarvedBetweenJunk) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  MakeArj(tmp / "src", 1, "img.arj");
  const std::string arj = ReadFileBytes(tmp / "img.arj");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(71, 1234) + arj + PseudoRandomBytes(72, 999));
  const Manifest m = ExpectRoundTrip(tmp / "blob.bin", tmp / "out", "arj", facts);
  const ChunkRecord* chunk = FindChunk(m, "arj");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 1234u);
  EXPECT_EQ(chunk->length, arj.size());
}

// binwalk v3's sample (tests/oracle/binwalk/arj.bin): method 1, secret.txt at offset 13.
TEST(Arj, BinwalkSampleMatchesArj) {
  TempDir tmp;
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  const fs::path sample = fs::path(src) / "tests/oracle/binwalk/arj.bin";
  Shell(tmp.path(), "mkdir ref && arj e -y '" + sample.string() + "' ref/ > /dev/null");
  const Manifest m = UnpackForTest(sample, tmp / "out");
  const ChunkRecord* chunk = FindChunk(m, "arj");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 13u);
  EXPECT_TRUE(chunk->complete);
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "arj")), HashTree(tmp / "ref"));
}

TEST(Arj, TruncatedArchiveReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  MakeArj(tmp / "src", 1, "img.arj");
  const std::string arj = ReadFileBytes(tmp / "img.arj");
  WriteFileBytes(tmp / "cut.arj", arj.substr(0, arj.size() / 2));
  const Manifest m = UnpackForTest(tmp / "cut.arj", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "arj");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

TEST(Arj, CorruptDataIsAProblem) {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "line " + std::to_string(i) + " of a log\n";
  WriteFileBytes(tmp / "src/log.txt", text);
  for (int method : {0, 1, 4}) {
    const std::string name = "m" + std::to_string(method) + ".arj";
    MakeArj(tmp / "src", method, name);
    std::string arj = ReadFileBytes(tmp / name);
    for (std::size_t i = arj.size() / 2; i < arj.size() / 2 + 40; ++i) arj[i] = '\x5a';
    WriteFileBytes(tmp / ("bad" + name), arj);
    const Manifest m = UnpackForTest(tmp / ("bad" + name), tmp / ("out" + name));
    EXPECT_FALSE(m.problems.empty()) << name;
  }
}

// Member names rewritten in place with the header CRC-32 recomputed.
TEST(Arj, TraversalIsRefused) {
  TempDir tmp;
  WriteFileBytes(tmp / "src/aaaaaaaaaa", "escaped\n");
  WriteFileBytes(tmp / "src/bbbbbbbbbb", "absolute\n");
  WriteFileBytes(tmp / "src/fine.txt", "fine\n");
  MakeArj(tmp / "src", 0, "img.arj");
  const std::string script = R"PY(
import binascii, struct
d = bytearray(open("img.arj", "rb").read())
for old, new in ((b"aaaaaaaaaa", b"../outside"), (b"bbbbbbbbbb", b"/tmp/abs_j")):
    at = d.find(old)
    d[at:at + 10] = new
    start = d.rfind(b"\x60\xea", 0, at)
    size = struct.unpack_from("<H", d, start + 2)[0]
    d[start + 4 + size:start + 8 + size] = struct.pack("<I", binascii.crc32(bytes(d[start + 4:start + 4 + size])))
open("out/evil.arj", "wb").write(d)
)PY";
  WriteFileBytes(tmp / "make.py", script);
  Shell(tmp.path(), "mkdir -p out && python3 make.py");
  const Manifest m = UnpackForTest(tmp / "out/evil.arj", tmp / "out/x");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "out/outside"));
  EXPECT_FALSE(fs::exists("/tmp/abs_j"));
  const std::string dir = FindChunkDir(m, "arj");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(tmp / "out/x" / dir / "fine.txt"));
}

TEST(Arj, GarbageIsRejected) {
  ExpectRejected(GetArjHandler(), "\x60\xEA" + PseudoRandomBytes(73, 300));
  ExpectRejected(GetArjHandler(), std::string("\x60\xEA\x00\x00", 4));
  ExpectRejected(GetArjHandler(), std::string("\x60\xEA\x28\x00", 4) + std::string(60, '\0'));
  // The magic by chance near the end of random data: a cut header, not a truncated archive.
  for (std::uint64_t seed = 100; seed < 140; ++seed) {
    ExpectRejected(GetArjHandler(),
                   std::string("\x60\xEA\x80\x00", 4) + PseudoRandomBytes(seed, 60));
  }
}

}  // namespace
}  // namespace clearbox::unpack
