#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "support/test_support.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::testing;

// Debian 12 has no user-space exFAT writer (exfat-fuse needs a mount), so mkfs.exfat makes
// the volume and this writer adds files to it by the specification: entry sets with name
// hash and set checksum, clusters marked in the allocation bitmap, FAT chains written for
// fragmented files; fsck.exfat then checks the result before the test uses it.
class ExfatWriter {
 public:
  explicit ExfatWriter(std::string image) : d_(std::move(image)) {
    sector_ = std::size_t{1} << static_cast<std::uint8_t>(d_[108]);
    cluster_ = sector_ << static_cast<std::uint8_t>(d_[109]);
    fat_ = Le(80, 4) * sector_;
    heap_ = Le(88, 4) * sector_;
    root_ = static_cast<std::uint32_t>(Le(96, 4));
    // The bitmap is the root's 0x81 entry.
    for (std::size_t p = ClusterAt(root_);; p += 32) {
      if (static_cast<std::uint8_t>(d_[p]) == 0x81) {
        bitmap_ = ClusterAt(static_cast<std::uint32_t>(Le(p + 20, 4)));
        break;
      }
    }
  }

  std::size_t cluster_bytes() const { return cluster_; }
  const std::string& image() const { return d_; }

  // Writes `content` into `clusters` (chained in that order unless `contiguous`), and adds
  // the entry set to the directory whose first cluster is `dir`. `length` > content size
  // makes a file whose tail past the valid data length reads as zeros.
  void AddFile(std::uint32_t dir, const std::u16string& name, const std::string& content,
               const std::vector<std::uint32_t>& clusters, bool contiguous, bool directory = false,
               std::uint64_t length = 0) {
    if (length == 0) length = content.size();
    for (std::size_t i = 0; i < clusters.size(); ++i) {
      const std::size_t n =
          std::min(cluster_, content.size() - std::min(content.size(), i * cluster_));
      if (n) d_.replace(ClusterAt(clusters[i]), n, content.substr(i * cluster_, n));
      d_[bitmap_ + (clusters[i] - 2) / 8] |= static_cast<char>(1 << ((clusters[i] - 2) % 8));
      if (!contiguous) {
        PutLe(fat_ + 4 * clusters[i], i + 1 < clusters.size() ? clusters[i + 1] : 0xffffffffu, 4);
      }
    }
    const std::size_t name_entries = (name.size() + 14) / 15;
    std::string set(32 * (2 + name_entries), '\0');
    set[0] = '\x85';
    set[1] = static_cast<char>(1 + name_entries);
    PutLeIn(set, 4, directory ? 0x10 : 0x20, 2);
    set[32] = '\xc0';
    set[33] = static_cast<char>(clusters.empty() ? 0x01 : (contiguous ? 0x03 : 0x01));
    set[35] = static_cast<char>(name.size());
    PutLeIn(set, 36, NameHash(name), 2);
    PutLeIn(set, 40, content.size(), 8);
    PutLeIn(set, 52, clusters.empty() ? 0 : clusters[0], 4);
    PutLeIn(set, 56, length, 8);
    for (std::size_t i = 0; i < name.size(); ++i) {
      const std::size_t e = 64 + 32 * (i / 15);
      set[e] = '\xc1';
      PutLeIn(set, e + 2 + 2 * (i % 15), name[i], 2);
    }
    std::uint16_t sum = 0;
    for (std::size_t i = 0; i < set.size(); ++i) {
      if (i == 2 || i == 3) continue;
      sum = static_cast<std::uint16_t>(((sum & 1) ? 0x8000 : 0) + (sum >> 1) +
                                       static_cast<std::uint8_t>(set[i]));
    }
    PutLeIn(set, 2, sum, 2);
    std::size_t p = ClusterAt(dir);
    while (d_[p] != '\0') p += 32;
    d_.replace(p, set.size(), set);
  }

  std::size_t ClusterAt(std::uint32_t c) const { return heap_ + (c - 2) * cluster_; }
  std::uint32_t root() const { return root_; }

 private:
  std::uint64_t Le(std::size_t at, int n) const {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(d_[at + i]);
    return v;
  }
  static void PutLeIn(std::string& s, std::size_t at, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
  }
  void PutLe(std::size_t at, std::uint64_t v, int n) { PutLeIn(d_, at, v, n); }
  // The name hash over the up-cased name (ASCII and Latin-1 letters are enough here).
  static std::uint16_t NameHash(const std::u16string& name) {
    std::uint16_t hash = 0;
    for (char16_t c : name) {
      if ((c >= u'a' && c <= u'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7)) c -= 0x20;
      for (const std::uint8_t b :
           {static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(c >> 8)}) {
        hash = static_cast<std::uint16_t>(((hash & 1) ? 0x8000 : 0) + (hash >> 1) + b);
      }
    }
    return hash;
  }

  std::string d_;
  std::size_t sector_ = 0, cluster_ = 0, fat_ = 0, heap_ = 0, bitmap_ = 0;
  std::uint32_t root_ = 0;
};

// An 8 MiB exFAT volume (4 KiB clusters) with a contiguous file, a fragmented one with a
// long non-ASCII name, an empty file, a file with a zero tail, and a directory with a file.
// Fills `expect` with the tree it should give and returns the image.
std::string MakeVolume(const TempDir& tmp) {
  EXPECT_EQ(RunShell("truncate -s 8M " + (tmp / "mk.img").string() + " && mkfs.exfat -c 4K " +
                     (tmp / "mk.img").string() + " >/dev/null"),
            0);
  ExfatWriter w(ReadFileBytes(tmp / "mk.img"));
  const std::string hello = "hello, exFAT\n";
  const std::string frag = PseudoRandomBytes(21, 10000);
  const std::string nested = PseudoRandomBytes(22, 5000);
  const std::string head = PseudoRandomBytes(23, 100);
  w.AddFile(w.root(), u"hello.txt", hello, {40}, true);
  w.AddFile(w.root(), u"A long exFAT name with \u00fcn\u00efcode beyond fifteen.bin", frag,
            {60, 45, 52}, false);
  w.AddFile(w.root(), u"empty", "", {}, true);
  w.AddFile(w.root(), u"sparse.bin", head, {70, 71}, true, false, 8192);
  w.AddFile(w.root(), u"dir", std::string(4096, '\0'), {80}, true, true);
  w.AddFile(80, u"nested.bin", nested, {81, 82}, true);
  WriteFileBytes(tmp / "expect/hello.txt", hello);
  WriteFileBytes(tmp /
                     "expect/A long exFAT name with \xc3\xbcn\xc3\xaf"
                     "code beyond fifteen.bin",
                 frag);
  WriteFileBytes(tmp / "expect/empty", "");
  WriteFileBytes(tmp / "expect/sparse.bin", head + std::string(8192 - 100, '\0'));
  WriteFileBytes(tmp / "expect/dir/nested.bin", nested);
  return w.image();
}

TEST(Exfat, TreeIsExtractedExactly) {
  TempDir tmp;
  WriteFileBytes(tmp / "fs.img", MakeVolume(tmp));
  // The fixture is a valid volume by exfatprogs' own checker.
  std::string fsck;
  EXPECT_EQ(RunShell("fsck.exfat -n " + (tmp / "fs.img").string() + " 2>&1", &fsck), 0) << fsck;
  const auto m = UnpackForTest(tmp / "fs.img", tmp / "out");
  ASSERT_EQ(FindChunkDir(m, "exfat"), "0x00000000.exfat");
  EXPECT_EQ(ManifestFilesUnder(m, "0x00000000.exfat"), HashTree(tmp / "expect"));
  EXPECT_TRUE(m.problems.empty()) << m.problems[0].path << " " << m.problems[0].message;
  EXPECT_TRUE(FindChunkDir(m, "mbr").empty());
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].length, 8u << 20);
}

TEST(Exfat, HostileChainsAndSetsAreReported) {
  TempDir tmp;
  std::string img = MakeVolume(tmp);
  const std::size_t heap = 4096u * 512;
  const std::size_t fat = 2048u * 512;
  // The fragmented file's chain loops (60 -> 45 -> 60), the directory's entry set is corrupted.
  img[fat + 4 * 45] = 60;
  img[fat + 4 * 45 + 1] = img[fat + 4 * 45 + 2] = img[fat + 4 * 45 + 3] = 0;
  const std::size_t root = heap + (5 - 2) * 4096u;
  for (std::size_t p = root;; p += 32) {
    if (static_cast<std::uint8_t>(img[p]) == 0x85 && img[p + 4] == 0x10) {
      img[p + 64 + 2] = '/';  // "/ir": checksum no longer matches either
      break;
    }
  }
  WriteFileBytes(tmp / "bad.img", img);
  const auto start = std::chrono::steady_clock::now();
  const auto m = UnpackForTest(tmp / "bad.img", tmp / "out");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(HasProblem(m, "malformed"));
  const auto files = ManifestFilesUnder(m, "0x00000000.exfat");
  EXPECT_EQ(files.count("hello.txt"), 1u);
  EXPECT_EQ(files.count("dir/nested.bin"), 0u);
  for (const auto& f : m.files) EXPECT_TRUE(f.path.starts_with("0x00000000.exfat")) << f.path;
  // Cut volumes: reported, never crashed.
  for (std::size_t cut : {std::size_t{700}, img.size() / 4, heap + 50 * 4096u}) {
    WriteFileBytes(tmp / "cut.img", img.substr(0, cut));
    fs::remove_all(tmp / "out2");
    const auto m2 = UnpackForTest(tmp / "cut.img", tmp / "out2");
    EXPECT_FALSE(m2.problems.empty()) << cut;
  }
}

}  // namespace
}  // namespace clearbox::unpack
