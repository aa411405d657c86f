#include <gtest/gtest.h>

#include <chrono>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// An .its with a gzip'd kernel, a tar ramdisk of the sample tree and a device tree.
constexpr const char* kIts = R"(/dts-v1/;
/ {
  description = "clearbox FIT test";
  #address-cells = <1>;
  images {
    kernel {
      description = "kernel";
      data = /incbin/("./src/kernel");
      type = "kernel";
      arch = "arm";
      os = "linux";
      compression = "gzip";
      load = <0x8000>;
      entry = <0x8000>;
      hash-1 { algo = "crc32"; };
    };
    ramdisk {
      description = "ramdisk";
      data = /incbin/("./src/ramdisk");
      type = "ramdisk";
      arch = "arm";
      os = "linux";
      compression = "none";
      load = <0x1000000>;
      entry = <0x1000000>;
    };
    fdt-1 {
      description = "board dtb";
      data = /incbin/("./src/fdt-1");
      type = "flat_dt";
      arch = "arm";
      compression = "none";
    };
  };
  configurations {
    default = "conf-1";
    conf-1 { kernel = "kernel"; ramdisk = "ramdisk"; fdt = "fdt-1"; };
  };
};
)";

// Builds src/{kernel,ramdisk,fdt-1} and image.its in `tmp`.
void MakeFitSources(const TempDir& tmp) {
  MakeSampleTree(tmp / "tree");
  WriteFileBytes(tmp / "image.its", kIts);
  WriteFileBytes(tmp / "board.dts",
                 "/dts-v1/;\n/ { model = \"demo\"; compatible = \"demo,board\"; };\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkdir -p src && gzip -n -c tree/lib/libc.so.6 > src/kernel"
                     " && tar --sort=name --owner=0 --group=0 --mtime=@0 -C tree -cf src/ramdisk ."
                     " && dtc -I dts -O dtb -o src/fdt-1 board.dts"),
            0);
}

TEST(Fit, EmbeddedImagesRoundTripWithMkimage) {
  TempDir tmp;
  MakeFitSources(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && mkimage -f image.its image.itb"), 0);
  const auto m = UnpackForTest(tmp / "image.itb", tmp / "out");
  const std::string dir = FindChunkDir(m, "fit");
  ASSERT_EQ(dir, "0x00000000.fit");
  EXPECT_EQ(ManifestFilesUnder(m, dir), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
  EXPECT_EQ(m.chunks[0].length, fs::file_size(tmp / "image.itb"));
}

TEST(Fit, ExternalDataRoundTripWithMkimageE) {
  TempDir tmp;
  MakeFitSources(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && mkimage -E -f image.its ext.itb"), 0);
  const auto m = UnpackForTest(tmp / "ext.itb", tmp / "out");
  const std::string dir = FindChunkDir(m, "fit");
  ASSERT_EQ(dir, "0x00000000.fit");
  EXPECT_EQ(ManifestFilesUnder(m, dir), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
  // The chunk covers the external data after the tree too.
  ASSERT_FALSE(m.chunks.empty());
  EXPECT_GE(m.chunks[0].length.value_or(0) + 4, fs::file_size(tmp / "ext.itb"));
}

TEST(Fit, ExternalDataAtAbsolutePositionWithMkimageP) {
  TempDir tmp;
  MakeFitSources(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && mkimage -E -p 0x1000 -f image.its pos.itb"),
            0);
  const auto m = UnpackForTest(tmp / "pos.itb", tmp / "out");
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "fit")), HashTree(tmp / "src"));
  EXPECT_TRUE(m.problems.empty());
}

TEST(Fit, TruncatedImageIsReported) {
  TempDir tmp;
  MakeFitSources(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkimage -f image.its image.itb && head -c 60000 image.itb > cut.itb"),
            0);
  const auto m = UnpackForTest(tmp / "cut.itb", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Fit, TruncatedExternalDataIsReportedPerImage) {
  TempDir tmp;
  MakeFitSources(tmp);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkimage -E -f image.its ext.itb && head -c 3000 ext.itb > cut.itb"),
            0);
  const auto m = UnpackForTest(tmp / "cut.itb", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_FALSE(FindChunkDir(m, "fit").empty());
}

TEST(Fit, PlainDeviceTreeIsLeftToTheDtbHandler) {
  TempDir tmp;
  WriteFileBytes(tmp / "board.dts",
                 "/dts-v1/;\n/ { model = \"demo\"; soc { uart@0 { reg = <0 4>; }; }; };\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && dtc -I dts -O dtb -o board.dtb board.dts"),
            0);
  const auto m = UnpackForTest(tmp / "board.dtb", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "fit").empty());
  EXPECT_EQ(FindChunkDir(m, "dtb"), "0x00000000.dtb");
  EXPECT_TRUE(m.problems.empty());
}

TEST(Fit, GarbageWithMagicIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(21, 100000);
  for (std::size_t at : {0u, 4096u, 50001u}) junk.replace(at, 4, "\xd0\x0d\xfe\xed");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "fit").empty());
  EXPECT_FALSE(HasProblem(m, "truncated"));
}

TEST(Fit, HostileExternalSizesAndNamesStayBounded) {
  TempDir tmp;
  // External data claimed far past the end, and a node name that is only dots.
  WriteFileBytes(tmp / "evil.dts", R"(/dts-v1/;
/ {
  images {
    huge { data-offset = <0xfffffff0>; data-size = <0xffffffff>; };
    pos { data-position = <0xffffff00>; data-size = <0x7fffffff>; };
    ... { data = "dots"; };
    nodata { description = "nothing"; };
  };
};
)");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && dtc -I dts -O dtb -o evil.itb evil.dts"),
            0);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "evil.itb", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(HasProblem(m, "truncated"));
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const auto files = ManifestFilesUnder(m, FindChunkDir(m, "fit"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->first, "image");
  EXPECT_EQ(files.begin()->second.size, 5u);
  for (const auto& entry : fs::directory_iterator(tmp.path())) {
    const auto name = entry.path().filename().string();
    EXPECT_TRUE(name == "out" || name == "evil.dts" || name == "evil.itb") << name;
  }
}

}  // namespace
}  // namespace clearbox::unpack
