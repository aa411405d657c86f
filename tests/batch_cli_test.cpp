// `clearbox batch` through the real binary: a directory and a LIST of images, every image
// scanned by a child `clearbox scan` into OUT/scans/<name>/, the summary table and a
// deterministic batch-summary.json; a second run resumes (nothing rescanned) and rescans only
// what changed or did not complete; unreadable entries fail alone (exit 3); results never leave
// OUT whatever the listed paths look like.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace clearbox {
namespace {

using testing::ClearboxBinary;
using testing::ReadFileBytes;
using testing::RunShell;
using testing::TempDir;
using testing::WriteFileBytes;
namespace fs = std::filesystem;

std::string Quote(const fs::path& path) {
  return "'" + path.string() + "'";
}

// Two small firmware-like archives (a BusyBox banner in a tar.gz, an ELF-less config tree) and
// one text file, under DIR/images.
void MakeImages(const fs::path& dir) {
  fs::create_directories(dir / "tree/etc");
  WriteFileBytes(dir / "tree/etc/passwd", "root::0:0:root:/root:/bin/sh\n");
  WriteFileBytes(dir / "tree/etc/banner", "BusyBox v1.36.1 (2024-01-01) multi-call binary\n");
  fs::create_directories(dir / "images/vendor");
  ASSERT_EQ(RunShell("tar -C " + Quote(dir / "tree") + " -czf " +
                     Quote(dir / "images/router-1.0.tar.gz") + " etc"),
            0);
  ASSERT_EQ(RunShell("tar -C " + Quote(dir / "tree") + " -cf " +
                     Quote(dir / "images/vendor/camera 2.tar") + " etc"),
            0);
  WriteFileBytes(dir / "images/readme.txt", "release notes\n");
}

nlohmann::json Summary(const fs::path& out) {
  return nlohmann::json::parse(ReadFileBytes(out / "batch-summary.json"));
}

TEST(BatchCommand, ScansADirectoryResumesAndRescansOnlyWhatChanged) {
  TempDir tmp;
  MakeImages(tmp.path());
  const std::string run = Quote(ClearboxBinary()) + " batch " + Quote(tmp / "images") + " -o " +
                          Quote(tmp / "out") + " --no-vuln -j 2";
  std::string output;
  ASSERT_EQ(RunShell(run, &output), 0) << output;
  EXPECT_NE(output.find("3 images: 3 completed, 0 failed"), std::string::npos) << output;
  const auto summary = Summary(tmp / "out");
  ASSERT_EQ(summary["images"].size(), 3u);
  EXPECT_EQ(summary["images"][0]["input"], "readme.txt") << "sorted by path";
  EXPECT_EQ(summary["images"][1]["input"], "router-1.0.tar.gz");
  EXPECT_EQ(summary["images"][2]["input"], "vendor/camera 2.tar");
  for (const auto& image : summary["images"]) {
    EXPECT_EQ(image["status"], "scanned") << image.dump();
    const fs::path results = tmp / "out" / image["results"].get<std::string>();
    EXPECT_TRUE(fs::exists(results / "report.json")) << results;
    EXPECT_TRUE(fs::exists(results / "sbom.cdx.json")) << results;
    EXPECT_FALSE(fs::exists(results / "unpacked")) << "extracted trees are removed by default";
  }
  EXPECT_GE(summary["images"][1]["summary"]["files"].get<int>(), 2);
  const std::string first_summary = ReadFileBytes(tmp / "out/batch-summary.json");

  // Again: every image resumed, the same summary byte for byte.
  ASSERT_EQ(RunShell(run, &output), 0) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 8) << output;
  EXPECT_EQ(output.find(": scanned"), std::string::npos) << output;
  EXPECT_NE(output.find("resumed"), std::string::npos) << output;
  EXPECT_EQ(ReadFileBytes(tmp / "out/batch-summary.json"), first_summary);

  // One image changes, one scan's completion marker is lost: only those two are scanned.
  WriteFileBytes(tmp / "images/readme.txt", "release notes, second edition\n");
  fs::remove(tmp / "out" / summary["images"][2]["results"].get<std::string>() / "batch-done.json");
  ASSERT_EQ(RunShell(run, &output), 0) << output;
  EXPECT_NE(output.find("readme.txt: scanned"), std::string::npos) << output;
  EXPECT_NE(output.find("router-1.0.tar.gz: resumed"), std::string::npos) << output;
  EXPECT_NE(output.find("vendor/camera 2.tar: scanned"), std::string::npos) << output;
}

TEST(BatchCommand, AListWithMissingAndHostilePathsFailsThoseAloneAndStaysInsideOut) {
  TempDir tmp;
  MakeImages(tmp.path());
  fs::create_directories(tmp / "lists/deep");
  std::ofstream(tmp / "lists/deep/images.list")
      << "# the evaluation set\n"
      << "\n"
      << "../../images/router-1.0.tar.gz\n"
      << (tmp / "images/vendor/camera 2.tar").string() << "\n"
      << "../../images/router-1.0.tar.gz\n"  // listed twice: scanned once
      << "../../images/no-such-image.bin\n";
  std::string output;
  const std::string run = Quote(ClearboxBinary()) + " batch " +
                          Quote(tmp / "lists/deep/images.list") + " -o " + Quote(tmp / "out") +
                          " --no-vuln -q";
  EXPECT_EQ(RunShell(run, &output), 3) << output;
  EXPECT_NE(output.find("3 images: 2 completed, 1 failed"), std::string::npos) << output;
  const auto summary = Summary(tmp / "out");
  ASSERT_EQ(summary["images"].size(), 3u);
  EXPECT_EQ(summary["images"][0]["status"], "failed");
  EXPECT_NE(summary["images"][0]["error"].get<std::string>().find("cannot read"),
            std::string::npos);
  for (const auto& entry : fs::directory_iterator(tmp / "out/scans")) {
    EXPECT_EQ(entry.path().parent_path(), tmp / "out/scans");
    EXPECT_FALSE(entry.path().filename().string().starts_with(".")) << entry.path();
  }
  EXPECT_FALSE(fs::exists(tmp / "images/router-1.0.tar.gz.d")) << "nothing written beside inputs";
  // Usage errors: no such input, an empty directory.
  fs::create_directories(tmp / "empty");
  EXPECT_EQ(RunShell(Quote(ClearboxBinary()) + " batch " + Quote(tmp / "nothing") + " -o " +
                         Quote(tmp / "o2"),
                     &output),
            4);
  EXPECT_NE(output.find("no such directory or list"), std::string::npos) << output;
  EXPECT_EQ(RunShell(Quote(ClearboxBinary()) + " batch " + Quote(tmp / "empty") + " -o " +
                         Quote(tmp / "o3"),
                     &output),
            4);
}

}  // namespace
}  // namespace clearbox
