#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

// jlha-utils' `lha a<level>` writes header levels 0, 1 and 2 (-lh5- for compressible files,
// -lh0- where compression does not pay).
void MakeLha(const fs::path& src, int level, const std::string& archive) {
  Shell(src, "find . -type f | sed 's|^\\./||' | sort | xargs lha a" + std::to_string(level) +
                 " ../" + archive + " > /dev/null");
}

class LhaRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(LhaRoundTrip, ExtractsEveryFile) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  MakeLha(tmp / "src", GetParam(), "img.lzh");
  const Manifest m = ExpectRoundTrip(tmp / "img.lzh", tmp / "out", "lha", facts);
  const ChunkRecord* chunk = FindChunk(m, "lha");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.lzh"));
}

INSTANTIATE_TEST_SUITE_P(Lha, LhaRoundTrip, ::testing::Values(0, 1, 2), [](const auto& param_info) {
  return "Level" + std::to_string(param_info.param);
});

TEST(Lha, CarvedBetweenJunk) {
  TempDir tmp;
  const TreeFacts facts = MakeSampleTree(tmp / "src");
  MakeLha(tmp / "src", 2, "img.lzh");
  const std::string lzh = ReadFileBytes(tmp / "img.lzh");
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(51, 999) + lzh + PseudoRandomBytes(52, 4321));
  const Manifest m = ExpectRoundTrip(tmp / "blob.bin", tmp / "out", "lha", facts);
  const ChunkRecord* chunk = FindChunk(m, "lha");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 999u);
  EXPECT_EQ(chunk->length, lzh.size());
}

TEST(Lha, TruncatedArchiveReportsIt) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  MakeLha(tmp / "src", 1, "img.lzh");
  const std::string lzh = ReadFileBytes(tmp / "img.lzh");
  WriteFileBytes(tmp / "cut.lzh", lzh.substr(0, lzh.size() / 2));
  const Manifest m = UnpackForTest(tmp / "cut.lzh", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "lha");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

// Level 0 stored members written by hand (header checksum and data CRC-16 correct), so that
// names jlha would refuse to write reach the reader; one member has a wrong data CRC.
TEST(Lha, HostileMembers) {
  TempDir tmp;
  const std::string script = R"PY(
import struct
def crc16(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc
def member(name, data, crc=None):
    name = name.encode()
    crc = crc16(data) if crc is None else crc
    body = b"-lh0-" + struct.pack("<IIIBBB", len(data), len(data), 0x5A340000, 0x20, 0, len(name))
    body += name + struct.pack("<H", crc)
    return bytes([len(body), sum(body) & 0xFF]) + body + data
out = member("../outside_lha", b"escaped\n") + member("/tmp/abs_lha", b"absolute\n")
out += member("badcrc.txt", b"corrupt\n", crc=0x1234) + member("fine.txt", b"fine\n") + b"\0"
open("evil.lzh", "wb").write(out)
)PY";
  WriteFileBytes(tmp / "make.py", script);
  Shell(tmp.path(), "python3 make.py && mkdir -p out");
  const Manifest m = UnpackForTest(tmp / "evil.lzh", tmp / "out/x");
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "out/outside_lha"));
  EXPECT_FALSE(fs::exists(tmp / "outside_lha"));
  EXPECT_FALSE(fs::exists("/tmp/abs_lha"));
  const std::string dir = FindChunkDir(m, "lha");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(tmp / "out/x" / dir / "fine.txt"));
  bool crc_problem = false;
  for (const auto& p : m.problems) crc_problem |= p.path.find("badcrc") != std::string::npos;
  EXPECT_TRUE(crc_problem);
}

TEST(Lha, GarbageIsRejected) {
  ExpectRejected(GetLhaHandler(), "xx-lh5-" + PseudoRandomBytes(53, 200));
  std::string bad_sum = "\x20\x00-lh0-" + std::string(30, '\x01');
  ExpectRejected(GetLhaHandler(), bad_sum);
  ExpectRejected(GetLhaHandler(), "xx-lh0-");
  // method names in a program's strings (as in a binary that reads LHA) are no archive
  ExpectRejected(GetLhaHandler(), std::string("\0\0-lh5-\0-lh6-\0-lh7-\0-lzs-\0", 26));
  for (std::uint64_t seed = 200; seed < 240; ++seed) {
    ExpectRejected(GetLhaHandler(), "xx-lh5-" + PseudoRandomBytes(seed, 30));
  }
}

}  // namespace
}  // namespace clearbox::unpack
