#include "unpack/engine.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "core/hashing.hpp"
#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

TEST(Engine, CarvesGzipBehindAHeaderAndRecordsGaps) {
  TempDir tmp;
  const std::string payload = PseudoRandomBytes(7, 50000);
  WriteFileBytes(tmp / "kernel", payload);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && gzip -9 -n kernel"), 0);
  const std::string header = "VENDORHDR" + std::string(503, '\x11');
  const std::string trailer(1000, '\0');
  WriteFileBytes(tmp / "fw.bin", header + ReadFileBytes(tmp / "kernel.gz") + trailer);

  const Manifest m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].offset, 512u);
  EXPECT_EQ(m.chunks[0].format, "gzip");
  ASSERT_TRUE(m.chunks[0].length);
  EXPECT_EQ(*m.chunks[0].length, fs::file_size(tmp / "kernel.gz"));
  EXPECT_EQ(m.chunks[0].extracted_to, "0x00000200.gzip");
  ASSERT_EQ(m.gaps.size(), 2u);
  EXPECT_EQ(m.gaps[0].offset, 0u);
  EXPECT_EQ(m.gaps[0].length, 512u);
  EXPECT_EQ(m.gaps[1].length, 1000u);
  EXPECT_DOUBLE_EQ(m.gaps[1].entropy, 0.0);
  const auto files = ManifestFilesUnder(m, "0x00000200.gzip");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(
      files.begin()->second.sha256,
      Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size())));
  EXPECT_TRUE(m.problems.empty());
  EXPECT_TRUE(fs::exists(tmp / "out/manifest.json"));
}

TEST(Engine, TwoRunsGiveByteIdenticalManifests) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("cd " + (tmp / "src").string() + " && tar cf - . | gzip -n > ../fw.tgz"), 0);
  UnpackForTest(tmp / "fw.tgz", tmp / "a");
  UnpackForTest(tmp / "fw.tgz", tmp / "b");
  const std::string a = ReadFileBytes(tmp / "a/manifest.json");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, ReadFileBytes(tmp / "b/manifest.json"));
}

TEST(Engine, HandsEveryCreatedObjectToTheAnalysisCallbackWithItsContent) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("cd " + (tmp / "src").string() +
                     " && ln -s a/b.txt link && tar cf - . | gzip -n > ../fw.tgz"),
            0);
  std::mutex mutex;
  std::map<std::string, std::string> seen;  // path -> sha256 of the bytes passed
  std::map<std::string, FileKind> kinds;
  UnpackOptions options;
  options.image_path = (tmp / "fw.tgz").string();
  options.output_dir = (tmp / "out").string();
  options.on_entry = [&](const FileView& view) {
    std::lock_guard lock(mutex);
    kinds[std::string(view.path)] = view.kind;
    if (view.kind == FileKind::kRegular) {
      seen[std::string(view.path)] = Sha256Hex(view.bytes);
      EXPECT_EQ(view.sha256, seen[std::string(view.path)]) << view.path;
    }
  };
  auto m = Unpack(options);
  ASSERT_TRUE(m);
  std::size_t regular = 0;
  for (const auto& e : m->files) {
    ASSERT_TRUE(kinds.count(e.path)) << e.path;
    if (e.type == EntryType::kFile) {
      ++regular;
      EXPECT_EQ(seen[e.path], e.sha256) << e.path;
    }
    if (e.type == EntryType::kSymlink) {
      EXPECT_EQ(kinds[e.path], FileKind::kSymlink);
    }
    if (e.type == EntryType::kDirectory) {
      EXPECT_EQ(kinds[e.path], FileKind::kDirectory);
    }
  }
  EXPECT_GT(regular, 3u);
  EXPECT_EQ(kinds.size(), m->files.size());
}

TEST(Engine, NestingDepthLimitIsRecorded) {
  TempDir tmp;
  WriteFileBytes(tmp / "l", "innermost payload\n");
  // 50 levels of gzip inside gzip.
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && for i in $(seq 1 50); do gzip -n -c l > l.gz && mv l.gz l; done"),
            0);
  Limits limits;
  limits.max_depth = 10;
  const Manifest m = UnpackForTest(tmp / "l", tmp / "out", limits);
  EXPECT_TRUE(HasProblem(m, "limit-exceeded"));
  EXPECT_EQ(m.chunks.size(), 11u);  // depths 0..10 are unpacked, then the limit stops it
  // With the default limit (32) the stop comes later but still comes.
  const Manifest d = UnpackForTest(tmp / "l", tmp / "out2");
  EXPECT_TRUE(HasProblem(d, "limit-exceeded"));
  EXPECT_EQ(d.chunks.size(), Limits::kDefaultMaxDepth + 1);
}

TEST(Engine, ZeroBombStopsAtTheRatioLimit) {
  TempDir tmp;
  // 1 GiB of zeros as 1024 concatenated gzip members of 1 MiB each (~1 MiB in all).
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && head -c 1048576 /dev/zero | gzip -9 > m.gz"
                     " && for i in $(seq 1 1024); do cat m.gz; done > bomb.gz"),
            0);
  const Manifest m = UnpackForTest(tmp / "bomb.gz", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "limit-exceeded"));
  std::uint64_t written = 0;
  for (const auto& f : m.files) written += f.size;
  EXPECT_LT(written, 1ULL << 30);
  // Bounded by the ratio: 250 times the ~1 MiB input, plus one buffer.
  EXPECT_LE(written, 250 * fs::file_size(tmp / "bomb.gz") + (1 << 20));
}

TEST(Engine, TotalBytesLimitStopsOneBranchOnly) {
  TempDir tmp;
  WriteFileBytes(tmp / "big", PseudoRandomBytes(9, 3 << 20));
  WriteFileBytes(tmp / "small", "small\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && gzip -n -c small > s.gz && gzip -n -c big > b.gz && cat s.gz b.gz "
                     "> fw.bin"),
            0);
  Limits limits;
  limits.max_total_bytes = 1 << 20;
  const Manifest m = UnpackForTest(tmp / "fw.bin", tmp / "out", limits);
  EXPECT_TRUE(HasProblem(m, "limit-exceeded"));
}

TEST(Engine, UnusableInputIsAnError) {
  TempDir tmp;
  UnpackOptions options;
  options.image_path = (tmp / "missing").string();
  options.output_dir = (tmp / "out").string();
  auto r = Unpack(options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  WriteFileBytes(tmp / "img", "x");
  WriteFileBytes(tmp / "full/keep", "precious");
  options.image_path = (tmp / "img").string();
  options.output_dir = (tmp / "full").string();
  EXPECT_FALSE(Unpack(options));
  EXPECT_EQ(ReadFileBytes(tmp / "full/keep"), "precious");
}

TEST(Engine, UnknownImageIsOneGapAndAProblem) {
  TempDir tmp;
  WriteFileBytes(tmp / "noise", PseudoRandomBytes(4, 4096));
  const Manifest m = UnpackForTest(tmp / "noise", tmp / "out");
  EXPECT_TRUE(m.chunks.empty());
  ASSERT_EQ(m.gaps.size(), 1u);
  EXPECT_GT(m.gaps[0].entropy, 7.5);
  EXPECT_TRUE(HasProblem(m, "unsupported"));
}

}  // namespace
}  // namespace clearbox::unpack
