#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

TEST(Gzip, RoundTripKeepsStoredNameAndContent) {
  TempDir tmp;
  const std::string payload = PseudoRandomBytes(11, 200000);
  WriteFileBytes(tmp / "rootfs.img", payload);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && gzip -9 rootfs.img"), 0);
  const auto m = UnpackForTest(tmp / "rootfs.img.gz", tmp / "out");
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "gzip"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->first, "rootfs.img");
  EXPECT_EQ(files.begin()->second.size, payload.size());
  EXPECT_TRUE(m.problems.empty());
}

TEST(Gzip, MultiMemberStreamIsOneFile) {
  TempDir tmp;
  WriteFileBytes(tmp / "a", "first part\n");
  WriteFileBytes(tmp / "b", "second part\n");
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + " && gzip -n -c a > m.gz && gzip -n -c b >> m.gz"), 0);
  const auto m = UnpackForTest(tmp / "m.gz", tmp / "out");
  ASSERT_EQ(m.chunks.size(), 1u);
  const auto files = ManifestFilesUnder(m, m.chunks[0].extracted_to);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->second.size, 23u);
}

TEST(Gzip, TruncatedStreamKeepsPartialOutputAndReportsIt) {
  TempDir tmp;
  WriteFileBytes(tmp / "data", PseudoRandomBytes(12, 300000));
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && gzip -n -c data | head -c 150000 > cut.gz"),
            0);
  const auto m = UnpackForTest(tmp / "cut.gz", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_FALSE(m.chunks[0].complete);
}

TEST(Gzip, HostileStoredNameCannotEscape) {
  TempDir tmp;
  WriteFileBytes(tmp / "x", "payload\n");
  // Hand-made header with FNAME "../../evil".
  std::string gz = "\x1f\x8b\x08\x08" + std::string(4, '\0') + std::string("\x00\x03", 2) +
                   "../../evil" + std::string(1, '\0');
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && gzip -n -c x > x.gz"), 0);
  const std::string body = ReadFileBytes(tmp / "x.gz").substr(10);
  WriteFileBytes(tmp / "evil.gz", gz + body);
  const auto m = UnpackForTest(tmp / "evil.gz", tmp / "out");
  EXPECT_FALSE(fs::exists(tmp / "evil"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "gzip"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->first, "evil");
}

}  // namespace
}  // namespace clearbox::unpack
