#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

// A flat directory (ar keeps only base names), with a name longer than 15 bytes.
TreeFacts MakeFlatTree(const fs::path& dir) {
  WriteFileBytes(dir / "passwd", "root:x:0:0:root:/root:/bin/sh\n");
  WriteFileBytes(dir / "busybox", PseudoRandomBytes(41, 70001));
  WriteFileBytes(dir / "libc.so.6", PseudoRandomBytes(42, 13001));
  WriteFileBytes(dir / "a_member_name_longer_than_sixteen.bin", PseudoRandomBytes(43, 999));
  WriteFileBytes(dir / "empty", "");
  return HashTree(dir);
}

TEST(Ar, RoundTripWithLongNames) {
  TempDir tmp;
  const TreeFacts facts = MakeFlatTree(tmp / "src");
  Shell(tmp / "src", "ar rcs ../img.a *");
  const Manifest m = ExpectRoundTrip(tmp / "img.a", tmp / "out", "ar", facts);
  const ChunkRecord* chunk = FindChunk(m, "ar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->length, fs::file_size(tmp / "img.a"));
}

TEST(Ar, DebianPackageIsUnpackedDownToItsDataTar) {
  TempDir tmp;
  const fs::path pkg = tmp / "pkg";
  const TreeFacts facts = MakeSampleTree(pkg / "opt/sample");
  WriteFileBytes(pkg / "DEBIAN/control",
                 "Package: sample\nVersion: 1.0\nArchitecture: all\n"
                 "Maintainer: Test <test@example.org>\nDescription: test package\n");
  Shell(tmp.path(), "dpkg-deb --root-owner-group -Zgzip --build pkg sample.deb >/dev/null");
  const Manifest m = UnpackForTest(tmp / "sample.deb", tmp / "out");
  const std::string ar_dir = FindChunkDir(m, "ar");
  ASSERT_FALSE(ar_dir.empty());
  EXPECT_NE(FindEntry(m, ar_dir + "/debian-binary"), nullptr);
  EXPECT_NE(FindEntry(m, ar_dir + "/control.tar.gz"), nullptr);
  EXPECT_NE(FindEntry(m, ar_dir + "/data.tar.gz"), nullptr);
  const ChunkRecord* data_tar = nullptr;
  const ChunkRecord* control_tar = nullptr;
  for (const auto& c : m.chunks) {
    if (c.format != "tar") continue;
    if (c.container.find("data.tar") != std::string::npos) data_tar = &c;
    if (c.container.find("control.tar") != std::string::npos) control_tar = &c;
  }
  ASSERT_NE(data_tar, nullptr) << "data.tar was not unpacked recursively";
  ASSERT_NE(control_tar, nullptr);
  EXPECT_EQ(ManifestFilesUnder(m, data_tar->extracted_to + "/opt/sample"), facts);
  EXPECT_NE(FindEntry(m, control_tar->extracted_to + "/control"), nullptr);
}

TEST(Ar, TruncatedArchiveReportsIt) {
  TempDir tmp;
  MakeFlatTree(tmp / "src");
  Shell(tmp / "src", "ar rcs ../img.a * && head -c 40000 ../img.a > ../cut.a");
  const Manifest m = UnpackForTest(tmp / "cut.a", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const ChunkRecord* chunk = FindChunk(m, "ar");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->complete);
}

TEST(Ar, GarbageIsRejected) {
  ExpectRejected(GetArHandler(), "!<arch>\n" + PseudoRandomBytes(44, 200));
  ExpectRejected(GetArHandler(), "!<arch>\n" + std::string(60, ' '));
}

TEST(Ar, TraversalNameIsRefused) {
  TempDir tmp;
  // A BSD-style long name "#1/15" whose name is "../outside_file".
  std::string member_name = "../outside_file";
  std::string header = "#1/" + std::to_string(member_name.size());
  header.resize(16, ' ');
  auto field = [](const std::string& v, std::size_t n) {
    std::string s = v;
    s.resize(n, ' ');
    return s;
  };
  const std::string body = member_name + "escaped\n";  // 23 bytes: one byte of padding
  header += field("0", 12) + field("0", 6) + field("0", 6) + field("100644", 8) +
            field(std::to_string(body.size()), 10) + "`\n";
  std::string fine = field("fine.txt/", 16) + field("0", 12) + field("0", 6) + field("0", 6) +
                     field("100644", 8) + field("5", 10) + "`\n" + "fine\n" + "\n";
  WriteFileBytes(tmp / "evil.a", "!<arch>\n" + header + body + "\n" + fine);
  const Manifest m = UnpackForTest(tmp / "evil.a", tmp / "out");
  EXPECT_FALSE(fs::exists(tmp / "outside_file"));
  EXPECT_TRUE(HasProblem(m, "traversal"));
  const std::string dir = FindChunkDir(m, "ar");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(tmp / "out" / dir / "fine.txt"));
}

}  // namespace
}  // namespace clearbox::unpack
