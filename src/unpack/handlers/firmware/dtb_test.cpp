// Device tree blobs compiled by dtc (device-tree-compiler): the extracted tree.dts, compiled
// again by dtc, must give the same tree, and large properties come out as files.
#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

constexpr const char* kBoardDts = R"(/dts-v1/;
/memreserve/ 0x10000000 0x4000;
/ {
  model = "clearbox demo board";
  compatible = "clearbox,demo", "clearbox,generic";
  #address-cells = <1>;
  #size-cells = <1>;
  chosen { bootargs = "console=ttyS0,115200 root=/dev/mtdblock2 quote=\"x\""; };
  memory@80000000 { device_type = "memory"; reg = <0x80000000 0x8000000>; };
  soc {
    ranges;
    mac-address = [00 11 22 33 44 55];
    uart@10000000 { compatible = "ns16550a"; reg = <0x10000000 0x100>; status = "okay"; };
    firmware {
      wifi { firmware-name = "wifi.bin"; blob = /incbin/("blob.bin"); };
    };
  };
};
)";

// Compiles board.dts (with an 8 KiB blob.bin) into board.dtb in `tmp`.
void MakeBoard(const TempDir& tmp) {
  WriteFileBytes(tmp / "board.dts", kBoardDts);
  WriteFileBytes(tmp / "blob.bin", PseudoRandomBytes(77, 8192));
  ASSERT_EQ(
      RunShell("cd " + tmp.path().string() + " && dtc -q -I dts -O dtb -o board.dtb board.dts"), 0);
}

// dtc's own decompilation of a blob (the reference text).
std::string Decompile(const fs::path& dtb) {
  std::string text;
  EXPECT_EQ(RunShell("dtc -q -I dtb -O dts " + dtb.string(), &text), 0);
  return text;
}

TEST(Dtb, TreeDtsCompilesBackToTheSameTree) {
  TempDir tmp;
  MakeBoard(tmp);
  const auto m = UnpackForTest(tmp / "board.dtb", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "dtb"), "0x00000000.dtb");
  EXPECT_TRUE(m.problems.empty()) << m.problems.front().message;
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "board.dtb"));
  const fs::path dir = tmp / "out/0x00000000.dtb";
  EXPECT_EQ(FileSha256(dir / "wifi.blob"), FileSha256(tmp / "blob.bin"));
  const std::string dts = ReadFileBytes(dir / "tree.dts");
  EXPECT_NE(dts.find("compatible = \"clearbox,demo\", \"clearbox,generic\";"), std::string::npos)
      << dts;
  EXPECT_NE(dts.find("/memreserve/ 0x10000000 0x4000;"), std::string::npos) << dts;
  EXPECT_NE(dts.find("mac-address = [00 11 22 33 44 55];"), std::string::npos) << dts;
  EXPECT_NE(dts.find("blob = /incbin/(\"wifi.blob\");"), std::string::npos) << dts;
  ASSERT_EQ(RunShell("cd " + dir.string() + " && dtc -q -I dts -O dtb -o " +
                     (tmp / "again.dtb").string() + " tree.dts"),
            0);
  EXPECT_EQ(Decompile(tmp / "again.dtb"), Decompile(tmp / "board.dtb"));
}

TEST(Dtb, FitImagesAreLeftToTheFitHandler) {
  TempDir tmp;
  MakeBoard(tmp);
  WriteFileBytes(tmp / "fit.its", R"(/dts-v1/;
/ { description = "fit"; #address-cells = <1>;
  images { kernel { data = /incbin/("blob.bin"); type = "kernel"; compression = "none"; }; };
  configurations { default = "c"; c { kernel = "kernel"; }; }; };
)");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && dtc -q -I dts -O dtb -o fit.itb fit.its"),
            0);
  const auto m = UnpackForTest(tmp / "fit.itb", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "fit"), "0x00000000.fit");
  EXPECT_TRUE(FindChunkDir(m, "dtb").empty());
}

TEST(Dtb, EmbeddedTruncatedAndHostileTreesStayBounded) {
  TempDir tmp;
  MakeBoard(tmp);
  const std::string dtb = ReadFileBytes(tmp / "board.dtb");
  // Embedded at an odd offset in random data, with chance magics around it.
  std::string fw = PseudoRandomBytes(3, 50000);
  for (std::size_t at : {100u, 20000u}) fw.replace(at, 4, "\xd0\x0d\xfe\xed");
  fw.insert(30001, dtb);
  WriteFileBytes(tmp / "fw.bin", fw);
  auto m = UnpackForTest(tmp / "fw.bin", tmp / "out");
  EXPECT_EQ(FindChunkDir(m, "dtb"), "0x00007531.dtb");
  EXPECT_EQ(ManifestFilesUnder(m, "0x00007531.dtb").size(), 2u);
  // Cut: reported truncated, nothing extracted.
  WriteFileBytes(tmp / "cut.dtb", dtb.substr(0, dtb.size() - 100));
  m = UnpackForTest(tmp / "cut.dtb", tmp / "out2");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_TRUE(FindChunkDir(m, "dtb").empty());
  // 100 nested nodes (the limit is 64): refused as malformed.
  std::string deep = "/dts-v1/;\n/ {";
  for (int i = 0; i < 100; ++i) deep += " n {";
  for (int i = 0; i < 100; ++i) deep += " };";
  deep += " };\n";
  WriteFileBytes(tmp / "deep.dts", deep);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && dtc -q -I dts -O dtb -o deep.dtb deep.dts"),
            0);
  const auto start = std::chrono::steady_clock::now();
  m = UnpackForTest(tmp / "deep.dtb", tmp / "out3");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(HasProblem(m, "malformed"));
  EXPECT_TRUE(FindChunkDir(m, "dtb").empty());
}

}  // namespace
}  // namespace clearbox::unpack
