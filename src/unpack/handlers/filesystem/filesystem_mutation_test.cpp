// Robustness: images made by the real tools, then damaged (flipped bytes, cut tails), must
// unpack without crashing, hanging or writing outside the output directory.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

void MutateAndUnpack(const std::string& make_image, int rounds, std::uint64_t seed) {
  TempDir tmp;
  MakeSampleTree(tmp / "src");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && " + make_image + " >/dev/null 2>&1"), 0);
  const std::string original = ReadFileBytes(tmp / "fs.img");
  ASSERT_FALSE(original.empty());
  std::uint64_t state = seed;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  Limits limits;
  limits.max_total_bytes = 64 << 20;
  limits.handler_seconds = 20;
  for (int round = 0; round < rounds; ++round) {
    std::string image = original;
    const int flips = 1 + static_cast<int>(next() % 16);
    for (int i = 0; i < flips; ++i) {
      // Metadata sits mostly at the start and the end; aim there half of the time.
      std::size_t pos = next() % image.size();
      if (next() % 2) pos = next() % std::min<std::size_t>(image.size(), 2048);
      if (next() % 4 == 0)
        pos = image.size() - 1 - next() % std::min<std::size_t>(image.size(), 8192);
      image[pos] = static_cast<char>(next());
    }
    if (next() % 5 == 0) image.resize(image.size() - next() % (image.size() / 2));
    const fs::path img = tmp / ("m" + std::to_string(round) + ".img");
    const fs::path out = tmp / ("out" + std::to_string(round));
    WriteFileBytes(img, image);
    (void)UnpackForTest(img, out, limits);
    fs::remove(img);
    fs::remove_all(out);
  }
  EXPECT_FALSE(fs::exists(tmp / "etc"));
  EXPECT_FALSE(fs::exists(tmp / "bin"));
}

TEST(FilesystemMutation, Squashfs) {
  MutateAndUnpack("mksquashfs src fs.img -comp gzip -noappend -quiet -no-progress", 25, 1);
}

TEST(FilesystemMutation, Extfs) {
  MutateAndUnpack("mke2fs -q -t ext4 -d src -F fs.img 2M", 25, 2);
}

TEST(FilesystemMutation, Cramfs) {
  MutateAndUnpack("mkfs.cramfs src fs.img", 25, 3);
}

TEST(FilesystemMutation, Romfs) {
  MutateAndUnpack("genromfs -d src -f fs.img", 25, 4);
}

}  // namespace
}  // namespace clearbox::unpack
