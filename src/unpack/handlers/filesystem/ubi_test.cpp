#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "unpack/handlers/filesystem/ubi_test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Makes img.ubifs from a sample tree and ubi.img (one dynamic volume "rootfs") from it.
void MakeUbiImage(const TempDir& tmp, TreeFacts* src) {
  *src = MakeSampleTree(tmp / "src");
  WriteFileBytes(tmp / "ubinize.cfg",
                 "[rootfs]\nmode=ubi\nimage=" + (tmp / "img.ubifs").string() +
                     "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n");
  ASSERT_EQ(RunShell("mkfs.ubifs -r " + (tmp / "src").string() + " -m 2048 -e 129024 -c 200 -o " +
                     (tmp / "img.ubifs").string() + " && ubinize -o " + (tmp / "ubi.img").string() +
                     " -m 2048 -p 128KiB -s 512 -Q 7 " + (tmp / "ubinize.cfg").string()),
            0);
}

TEST(Ubi, VolumeFileEqualsUbifsImage) {
  TempDir tmp;
  TreeFacts src;
  MakeUbiImage(tmp, &src);
  const auto m = UnpackForTest(tmp / "ubi.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubi");
  ASSERT_FALSE(dir.empty());
  ASSERT_EQ(m.chunks.front().format, "ubi");
  EXPECT_EQ(m.chunks.front().length, fs::file_size(tmp / "ubi.img"));
  const std::string want = ReadFileBytes(tmp / "img.ubifs");
  const std::string got = ReadFileBytes(tmp / "out" / dir / "rootfs.ubifs");
  // The volume holds the image's LEBs; compare the image-sized prefix.
  ASSERT_GE(got.size(), want.size());
  EXPECT_TRUE(got.compare(0, want.size(), want) == 0);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << ": " << p.message;
}

TEST(Ubi, TwoVolumesAreSeparateFiles) {
  TempDir tmp;
  const std::string a = PseudoRandomBytes(1, 300000), b = PseudoRandomBytes(2, 5000);
  WriteFileBytes(tmp / "a.bin", a);
  WriteFileBytes(tmp / "b.bin", b);
  WriteFileBytes(tmp / "ubinize.cfg",
                 "[kernel]\nmode=ubi\nimage=" + (tmp / "a.bin").string() +
                     "\nvol_id=0\nvol_type=static\nvol_name=kernel\n"
                     "[cfg]\nmode=ubi\nimage=" +
                     (tmp / "b.bin").string() +
                     "\nvol_id=1\nvol_type=dynamic\nvol_size=1MiB\nvol_name=../../cfg\n");
  ASSERT_EQ(RunShell("ubinize -o " + (tmp / "ubi.img").string() + " -m 2048 -p 128KiB " +
                     (tmp / "ubinize.cfg").string()),
            0);
  const auto m = UnpackForTest(tmp / "ubi.img", tmp / "out");
  const std::string dir = FindChunkDir(m, "ubi");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(ReadFileBytes(tmp / "out" / dir / "kernel.bin"), a);  // static: exact size
  std::string cfg;
  for (const auto& f : m.files) {
    if (f.path.starts_with(dir + "/") && f.path.ends_with("cfg.bin")) {
      EXPECT_EQ(f.path.find('/', dir.size() + 1), std::string::npos);  // one component
      cfg = ReadFileBytes(tmp / "out" / f.path);
    }
  }
  ASSERT_GE(cfg.size(), b.size());
  EXPECT_EQ(cfg.substr(0, b.size()), b);
}

TEST(Ubi, TruncatedImageIsReported) {
  TempDir tmp;
  TreeFacts src;
  MakeUbiImage(tmp, &src);
  ASSERT_EQ(
      RunShell("head -c 400000 " + (tmp / "ubi.img").string() + " > " + (tmp / "cut.img").string()),
      0);
  const auto m = UnpackForTest(tmp / "cut.img", tmp / "out");
  EXPECT_TRUE(HasProblem(m, "truncated"));
}

TEST(Ubi, GarbageIsRejected) {
  TempDir tmp;
  std::string junk = PseudoRandomBytes(5, 600000);
  for (std::size_t i = 0; i + 4 < junk.size(); i += 131072) junk.replace(i, 4, "UBI#");
  WriteFileBytes(tmp / "junk.bin", junk);
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "out");
  EXPECT_TRUE(FindChunkDir(m, "ubi").empty());
}

// Mutates EC/VID headers and volume-table records and re-seals their CRCs so that the
// parser, not the CRC check, meets the damage; nothing may crash, hang or leak.
TEST(Ubi, ResealedMutationsNeverCrash) {
  using namespace flash_test;
  TempDir tmp;
  TreeFacts src;
  MakeUbiImage(tmp, &src);
  const std::string image = ReadFileBytes(tmp / "ubi.img");
  constexpr std::size_t kPeb = 128 * 1024;
  const std::size_t pebs = image.size() / kPeb;
  ASSERT_GE(pebs, 4u);
  Rng rng{4321};
  static constexpr std::uint8_t kSpecial[] = {0, 1, 0x7F, 0x80, 0xFE, 0xFF};
  for (int iter = 0; iter < 80; ++iter) {
    std::string img = image;
    for (int k = 0; k < 1 + static_cast<int>(rng.Below(3)); ++k) {
      const std::size_t peb = rng.Below(pebs) * kPeb;
      std::size_t at;
      switch (rng.Below(3)) {
        case 0: at = peb + 4 + rng.Below(56); break;                           // EC header
        case 1: at = peb + 512 + 4 + rng.Below(56); break;                     // VID header
        default: at = rng.Below(2) * kPeb + 2048 + rng.Below(4 * 172); break;  // vtbl
      }
      img[at] = static_cast<char>(rng.Below(2) ? kSpecial[rng.Below(6)] : rng.Below(256));
    }
    for (std::size_t p = 0; p < pebs; ++p) {
      const std::size_t peb = p * kPeb;
      PutU32(img, peb + 60, LinuxCrc(0xFFFFFFFF, img, peb, 60), true);
      const std::size_t vid = GetU32(img, peb + 16, true);
      if (vid + 64 <= kPeb)
        PutU32(img, peb + vid + 60, LinuxCrc(0xFFFFFFFF, img, peb + vid, 60), true);
    }
    for (std::size_t copy = 0; copy < 2; ++copy) {
      for (std::size_t r = 0; r < 4; ++r) {
        const std::size_t rec = copy * kPeb + 2048 + r * 172;
        PutU32(img, rec + 168, LinuxCrc(0xFFFFFFFF, img, rec, 168), true);
      }
    }
    if (rng.Below(5) == 0) img.resize(rng.Below(img.size()));
    RunHandlerOn("ubi", img, tmp / "out");
  }
}

TEST(Ubi, TrailingErasedBlocksBelongToTheImage) {
  TempDir tmp;
  TreeFacts src;
  MakeUbiImage(tmp, &src);
  const std::string image = ReadFileBytes(tmp / "ubi.img");
  WriteFileBytes(tmp / "dump.bin", image + std::string(3 * 128 * 1024, '\xff') + "tail");
  const auto m = UnpackForTest(tmp / "dump.bin", tmp / "out");
  ASSERT_FALSE(m.chunks.empty());
  EXPECT_EQ(m.chunks.front().format, "ubi");
  EXPECT_EQ(m.chunks.front().length, image.size() + 3 * 128 * 1024);
  EXPECT_EQ(ManifestFilesUnder(m, FindChunkDir(m, "ubifs")), src);
}

}  // namespace
}  // namespace clearbox::unpack
