#include "unpack/safe_dir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

ByteView Bytes(const std::string& s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

struct SafeDirFixture : ::testing::Test {
  TempDir tmp;
  Budget run{Limits{}};
  ChunkBudget budget{run, 1 << 20};
  std::unique_ptr<SafeDir> dir;
  void SetUp() override {
    auto created = SafeDir::Create((tmp.path() / "root").string(), "root", &budget);
    ASSERT_TRUE(created) << created.error().message;
    dir = std::move(*created);
  }
  // Everything that exists outside root/ inside the temp dir.
  std::vector<std::string> Outside() {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(tmp.path())) {
      if (e.path().filename() != "root") out.push_back(e.path().filename().string());
    }
    return out;
  }
};

TEST(SafeDirNormalize, ConfinesPaths) {
  EXPECT_EQ(*SafeDir::NormalizeMember("a/./b//c"), "a/b/c");
  EXPECT_EQ(*SafeDir::NormalizeMember("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(*SafeDir::NormalizeMember("a/../b"), "b");
  EXPECT_EQ(SafeDir::NormalizeMember("../x").error().code, ErrorCode::kTraversal);
  EXPECT_EQ(SafeDir::NormalizeMember("a/../../x").error().code, ErrorCode::kTraversal);
  EXPECT_EQ(SafeDir::NormalizeMember(std::string("a\0b", 3)).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(SafeDir::NormalizeMember(std::string(300, 'x')).error().code, ErrorCode::kMalformed);
}

TEST_F(SafeDirFixture, WritesFilesWithHashAndRecordsThem) {
  ASSERT_TRUE(dir->WriteFile("etc/passwd", Bytes("abc"), 0644));
  auto entries = dir->TakeEntries();
  ASSERT_EQ(entries.size(), 2u);  // etc (implicit directory) and the file
  EXPECT_EQ(entries[1].path, "root/etc/passwd");
  EXPECT_EQ(entries[1].sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(testing::ReadFileBytes(tmp.path() / "root/etc/passwd"), "abc");
}

TEST_F(SafeDirFixture, RefusesTraversalAndAbsoluteEscape) {
  EXPECT_EQ(dir->WriteFile("../evil", Bytes("x"), 0644).error().code, ErrorCode::kTraversal);
  EXPECT_EQ(dir->WriteFile("a/../../evil", Bytes("x"), 0644).error().code, ErrorCode::kTraversal);
  ASSERT_TRUE(dir->WriteFile("/abs", Bytes("x"), 0644));  // lands inside the root
  EXPECT_TRUE(fs::exists(tmp.path() / "root/abs"));
  EXPECT_TRUE(Outside().empty());
}

TEST_F(SafeDirFixture, NeverWritesThroughSymlinks) {
  fs::create_directory(tmp.path() / "victim");
  // A link pointing out is refused outright.
  auto out_link = dir->CreateSymlink("up", "../../victim");
  ASSERT_FALSE(out_link);
  EXPECT_EQ(out_link.error().code, ErrorCode::kTraversal);
  EXPECT_FALSE(fs::is_symlink(tmp.path() / "root/up"));
  // An absolute link is rewritten to stay inside.
  ASSERT_TRUE(dir->CreateSymlink("etc", "/victim"));
  EXPECT_EQ(fs::read_symlink(tmp.path() / "root/etc").string(), "victim");
  ASSERT_TRUE(dir->CreateSymlink("bin/sh", "/bin/busybox"));
  EXPECT_EQ(fs::read_symlink(tmp.path() / "root/bin/sh").string(), "../bin/busybox");
  // A write through a symlinked directory fails, even though the link stays inside.
  ASSERT_TRUE(dir->CreateDirectory("real", 0755));
  ASSERT_TRUE(dir->CreateSymlink("alias", "real"));
  auto through = dir->WriteFile("alias/file", Bytes("x"), 0644);
  ASSERT_FALSE(through);
  EXPECT_EQ(through.error().code, ErrorCode::kTraversal);
  // A file replacing a symlink replaces the link, it does not follow it.
  ASSERT_TRUE(dir->WriteFile("etc", Bytes("data"), 0644));
  EXPECT_FALSE(fs::is_symlink(tmp.path() / "root/etc"));
  EXPECT_TRUE(fs::is_empty(tmp.path() / "victim"));
}

TEST_F(SafeDirFixture, HardlinksStayInsideAndDevicesAreOnlyRecorded) {
  ASSERT_TRUE(dir->WriteFile("a", Bytes("abc"), 0755));
  ASSERT_TRUE(dir->CreateHardlink("b", "a"));
  EXPECT_EQ(testing::ReadFileBytes(tmp.path() / "root/b"), "abc");
  EXPECT_FALSE(dir->CreateHardlink("c", "../../etc/passwd"));
  EXPECT_FALSE(dir->CreateHardlink("d", "missing"));
  ASSERT_TRUE(dir->RecordSpecial("dev/console", EntryType::kCharDevice, 0600, 5, 1));
  EXPECT_FALSE(fs::exists(tmp.path() / "root/dev/console"));
  bool found = false;
  for (const auto& e : dir->TakeEntries()) {
    if (e.path == "root/dev/console") {
      found = true;
      EXPECT_FALSE(e.created);
      EXPECT_EQ(e.device_major, 5u);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(SafeDirFixture, SetuidBitIsRecordedButNotApplied) {
  ASSERT_TRUE(dir->WriteFile("bin/su", Bytes("x"), 04755));
  struct stat st {};
  ASSERT_EQ(::stat((tmp.path() / "root/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07000, 0u);
  for (const auto& e : dir->TakeEntries()) {
    if (e.path == "root/bin/su") {
      EXPECT_EQ(e.mode, 04755u);
    }
  }
}

// Where `link` leads once every component is followed (as a tool reading the output would).
fs::path Physical(const fs::path& link) {
  std::error_code ec;
  return fs::weakly_canonical(link, ec);
}

TEST_F(SafeDirFixture, LinksCannotEscapeThroughOtherLinksInEitherOrder) {
  // s -> up to the root; e -> s/<one '..' fewer than its depth>/etc/passwd. Read as text, e
  // stays inside; followed through s, it would climb out to the host's /etc/passwd.
  const std::string deep = "d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15";
  std::string ups, ups_less_one;
  for (int i = 0; i < 16; ++i) ups += "../";
  for (int i = 0; i < 15; ++i) ups_less_one += "../";
  for (const bool reverse : {false, true}) {
    const std::string base = reverse ? "r/" + deep : deep;
    ASSERT_TRUE(dir->CreateDirectory(base, 0755));
    const std::string s_up = reverse ? ups + "../" : ups;
    auto make_s = [&] { return dir->CreateSymlink(base + "/s", s_up); };
    auto make_e = [&] {
      return dir->CreateSymlink(base + "/e", "s/" + ups_less_one + "etc/passwd");
    };
    if (reverse) {
      ASSERT_TRUE(make_e());
      ASSERT_TRUE(make_s());
    } else {
      ASSERT_TRUE(make_s());
      ASSERT_TRUE(make_e());
    }
    const fs::path root = fs::canonical(tmp.path() / "root");
    for (const char* name : {"/s", "/e"}) {
      const fs::path resolved = Physical(tmp.path() / "root" / (base + name));
      EXPECT_TRUE(resolved.string().starts_with(root.string()))
          << base << name << " -> " << resolved;
    }
  }
  EXPECT_TRUE(Outside().empty());
}

TEST_F(SafeDirFixture, ImplicitParentDirectoriesAreCharged) {
  Limits limits;
  limits.max_files = 50;
  Budget small(limits);
  ChunkBudget chunk(small, 100);
  auto created = SafeDir::Create((tmp.path() / "few").string(), "few", &chunk);
  ASSERT_TRUE(created);
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "level" + std::to_string(i) + "/";
  auto r = (*created)->WriteFile(deep + "f", Bytes("x"), 0644);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimitExceeded);
  EXPECT_EQ(small.files_created(), 50u);
  std::size_t on_disk = 0;
  for (auto it = fs::recursive_directory_iterator(tmp.path() / "few");
       it != fs::recursive_directory_iterator(); ++it) {
    ++on_disk;
  }
  EXPECT_LE(on_disk, 50u);
}

TEST_F(SafeDirFixture, HardLinkOntoADirectoryIsAMemberProblem) {
  ASSERT_TRUE(dir->WriteFile("f", Bytes("abc"), 0644));
  ASSERT_TRUE(dir->CreateDirectory("d", 0755));
  auto r = dir->CreateHardlink("d", "f");
  ASSERT_FALSE(r);
  // kMalformed lets the archive go on; kIo used to stop the whole archive.
  EXPECT_EQ(r.error().code, ErrorCode::kMalformed);
  EXPECT_TRUE(fs::is_directory(tmp.path() / "root/d"));
}

TEST_F(SafeDirFixture, HugeSparseHoleStopsOnlyItsMember) {
  Budget sparse_run{Limits{}};
  ChunkBudget chunk(sparse_run, 1024);  // 16 MiB allowance
  auto created = SafeDir::Create((tmp.path() / "sparse").string(), "sparse", &chunk);
  ASSERT_TRUE(created);
  auto writer = (*created)->CreateFile("huge", 0644);
  ASSERT_TRUE(writer);
  auto hole = writer->WriteZeros(17ULL << 30);
  ASSERT_FALSE(hole);
  EXPECT_EQ(hole.error().code, ErrorCode::kLimitExceeded);
  ASSERT_TRUE(writer->Close());
  EXPECT_EQ(sparse_run.bytes_written(), 0u);
  EXPECT_TRUE((*created)->WriteFile("after", Bytes("still written"), 0644));
}

TEST_F(SafeDirFixture, ChargesTheBudget) {
  Limits limits;
  limits.max_total_bytes = 10;
  Budget small(limits);
  ChunkBudget chunk(small, 100);
  auto created = SafeDir::Create((tmp.path() / "small").string(), "small", &chunk);
  ASSERT_TRUE(created);
  auto r = (*created)->WriteFile("big", Bytes(std::string(64, 'x')), 0644);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimitExceeded);
}

}  // namespace
}  // namespace clearbox::unpack
