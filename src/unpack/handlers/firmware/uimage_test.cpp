#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"
#include "unpack/handlers/firmware/firmware_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

std::string Be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A legacy header with a valid header CRC for any claimed size, name and data CRC.
std::string MakeHeader(std::uint32_t size, std::uint32_t dcrc, const std::string& name,
                       std::uint8_t type = 2) {
  std::string h =
      Be32(0x27051956) + Be32(0) + Be32(0) + Be32(size) + Be32(0x8000) + Be32(0x8000) + Be32(dcrc);
  h += std::string{'\x05', '\x02', static_cast<char>(type), '\x00'};
  std::string n = name.substr(0, 32);
  n.resize(32, '\0');
  h += n;
  const auto crc = Crc32(ByteView(reinterpret_cast<const std::uint8_t*>(h.data()), h.size()));
  return h.substr(0, 4) + Be32(crc) + h.substr(8);
}

std::uint32_t CrcOf(const std::string& s) {
  return Crc32(ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

TEST(UImage, KernelRoundTripWithMkimage) {
  TempDir tmp;
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkdir src && gzip -n -c tree/bin/busybox > src/Linux-demo"
                     " && mkimage -A arm -O linux -T kernel -C gzip -a 0x8000 -e 0x8000"
                     " -n Linux-demo -d src/Linux-demo uImage"),
            0);
  const auto m = UnpackForTest(tmp / "uImage", tmp / "out");
  const std::string dir = FindChunkDir(m, "uimage");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
  ASSERT_EQ(m.chunks.size() >= 1, true);
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "uImage"));
  // The gzip payload is unpacked by recursion.
  EXPECT_FALSE(FindChunkDir(m, "gzip").empty());
}

TEST(UImage, MultiFileImageIsSplit) {
  TempDir tmp;
  MakeSampleTree(tmp / "tree");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkdir src && cp tree/etc/passwd src/multi-demo-0"
                     " && cp tree/bin/busybox src/multi-demo-1 && cp tree/var/log/messages "
                     "src/multi-demo-2"
                     " && mkimage -A arm -O linux -T multi -C none -n multi-demo"
                     " -d src/multi-demo-0:src/multi-demo-1:src/multi-demo-2 multi.img"),
            0);
  const auto m = UnpackForTest(tmp / "multi.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "uimage");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ManifestFilesUnder(m, dir), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
}

TEST(UImage, TruncatedImageKeepsPartialPayloadAndReportsIt) {
  TempDir tmp;
  WriteFileBytes(tmp / "k", PseudoRandomBytes(5, 100000));
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkimage -A arm -O linux -T kernel -C none -a 0 -e 0 -n k -d k u.img"
                     " && head -c 50000 u.img > cut.img"),
            0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_FALSE(m.chunks[0].complete);
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "uimage"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->second.size, 50000u - 64u);
}

TEST(UImage, BadDataCrcIsReportedButExtracted) {
  TempDir tmp;
  const std::string payload = PseudoRandomBytes(6, 4000);
  WriteFileBytes(tmp / "bad.img", MakeHeader(4000, CrcOf(payload) ^ 1, "fw.bin") + payload);
  const auto m = UnpackForTest(tmp / "bad.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "uimage"));
  ASSERT_EQ(files.count("fw.bin"), 1u);
  EXPECT_EQ(files.at("fw.bin").size, 4000u);
}

TEST(UImage, GarbageWithMagicIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(7, 200000);
  for (std::size_t at : {0u, 1000u, 77777u, 150000u}) junk.replace(at, 4, Be32(0x27051956));
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "uimage").empty());
}

TEST(UImage, HostileHeaderHugeSizeAndTraversalName) {
  TempDir tmp;
  // Claims 4 GiB of payload in a tiny file, and a name that tries to leave the output.
  WriteFileBytes(tmp / "evil.img", MakeHeader(0xffffffffu, 0, "../../../evil") + "tiny payload");
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "evil.img", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_FALSE(fs::exists(tmp / "evil"));
  EXPECT_FALSE(fs::exists(tmp / "out/../evil"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "uimage"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->first, "evil");
}

TEST(UImage, HostileMultiTableRunsPastPayload) {
  TempDir tmp;
  // A multi-file table: one sane sub-image, then one claiming 3 GiB.
  const std::string body = Be32(4) + Be32(0xc0000000u) + Be32(0) + "abcd" + "rest";
  WriteFileBytes(tmp / "multi.img",
                 MakeHeader(static_cast<std::uint32_t>(body.size()), CrcOf(body), "m", 4) + body);
  const auto m = UnpackForTest(tmp / "multi.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "uimage"));
  ASSERT_EQ(files.count("m-0"), 1u);
  EXPECT_EQ(files.at("m-0").size, 4u);
}

}  // namespace
}  // namespace clearbox::unpack
