// BuildCache: entries round-trip under $CLEARBOX_CACHE_DIR, names cannot leave the
// directory, and caching can be switched off.
#include "core/build_cache.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace clearbox {
namespace {

namespace fs = std::filesystem;

class BuildCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("clearbox-cache-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ::setenv("CLEARBOX_CACHE_DIR", (dir_ / "c").c_str(), 1);
    ::unsetenv("CLEARBOX_NO_CACHE");
  }
  void TearDown() override {
    ::unsetenv("CLEARBOX_CACHE_DIR");
    ::unsetenv("CLEARBOX_NO_CACHE");
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(BuildCacheTest, EntriesRoundTripAndReplaceAtomically) {
  EXPECT_EQ(CacheDir(), dir_ / "c");
  EXPECT_FALSE(ReadCacheEntry("hsdb", "abc123"));
  const std::string blob("\0\1binary\xff", 9);
  WriteCacheEntry("hsdb", "abc123", blob);
  EXPECT_EQ(ReadCacheEntry("hsdb", "abc123"), blob);
  WriteCacheEntry("hsdb", "abc123", "second");
  EXPECT_EQ(ReadCacheEntry("hsdb", "abc123"), "second");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "c").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "c")) ++entries;
  EXPECT_EQ(entries, 1u);  // no temporary file left behind
}

TEST_F(BuildCacheTest, NamesThatCouldLeaveTheDirectoryAreRefused) {
  WriteCacheEntry("hsdb", "../escape", "x");
  WriteCacheEntry("../hsdb", "k", "x");
  WriteCacheEntry("hsdb", "A/B", "x");
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
  EXPECT_FALSE(fs::exists(dir_ / "c"));
  EXPECT_FALSE(ReadCacheEntry("hsdb", "../escape"));
}

TEST_F(BuildCacheTest, NoCacheSwitchesItOff) {
  ::setenv("CLEARBOX_NO_CACHE", "1", 1);
  EXPECT_FALSE(CacheDir());
  WriteCacheEntry("hsdb", "k", "x");
  EXPECT_FALSE(ReadCacheEntry("hsdb", "k"));
  EXPECT_FALSE(fs::exists(dir_ / "c"));
}

}  // namespace
}  // namespace clearbox
