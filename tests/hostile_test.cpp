// End-to-end hostile inputs through the clearbox binary: every case must finish with a
// recorded problem, nothing outside the output directory, bounded output, and a clean exit
// code (3 = completed with problems), never a crash.
#include <gtest/gtest.h>

#include "core/exit_codes.hpp"
#include "support/test_support.hpp"
#include "unpack/engine.hpp"

namespace clearbox {
namespace {

using namespace clearbox::testing;

// Runs `clearbox unpack` and parses the manifest.
unpack::Manifest RunCli(const fs::path& image, const fs::path& out, const std::string& extra,
                        int* exit_code) {
  std::string log;
  *exit_code = RunShell(
      ClearboxBinary() + " unpack " + image.string() + " -o " + out.string() + " " + extra, &log);
  auto manifest = unpack::ParseManifestJson(ReadFileBytes(out / "manifest.json"));
  EXPECT_TRUE(manifest) << log;
  return manifest ? *manifest : unpack::Manifest{};
}

// Every path under `dir` (recursively, links not followed).
std::size_t CountEntries(const fs::path& dir) {
  std::size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    ++n;
  }
  return n;
}

TEST(Hostile, TarTraversalAndLinkTricksStayInside) {
  TempDir tmp;
  // python3's tarfile writes exactly the members we ask for, including the evil ones.
  const std::string script = R"PY(
import io, tarfile
t = tarfile.open('evil.tar', 'w')
def add(name, data=b'x', kind=tarfile.REGTYPE, link=''):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = link
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
add('../escape-dotdot')
add('/tmp/clearbox-abs-escape')
add('ok/inner.txt', b'fine')
add('up', kind=tarfile.SYMTYPE, link='../../../../../../')
add('up/escape-through-link')
add('etc', kind=tarfile.SYMTYPE, link='/etc')
add('etc/passwd-overwrite')
add('hl', kind=tarfile.LNKTYPE, link='../../../../etc/passwd')
add('dev/sda', kind=tarfile.BLKTYPE)
t.close()
)PY";
  WriteFileBytes(tmp / "make.py", script);
  ASSERT_EQ(RunShell("cd " + tmp.path().string() + " && python3 make.py"), 0);
  int code = 0;
  const auto m = RunCli(tmp / "evil.tar", tmp / "out", "", &code);
  EXPECT_EQ(code, kExitWithProblems);
  EXPECT_TRUE(HasProblem(m, "traversal"));
  EXPECT_FALSE(fs::exists(tmp / "escape-dotdot"));
  EXPECT_FALSE(fs::exists("/tmp/clearbox-abs-escape"));
  // Only the output dir and the fixture files exist in the temp dir.
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    const auto name = e.path().filename().string();
    EXPECT_TRUE(name == "out" || name == "make.py" || name == "evil.tar") << name;
  }
  bool saw_ok = false;
  for (const auto& f : m.files) saw_ok |= f.path.ends_with("ok/inner.txt");
  EXPECT_TRUE(saw_ok);
}

TEST(Hostile, NestedZipBombIsBounded) {
  TempDir tmp;
  // Three levels: 8 x 8 copies of a zip holding 64 MiB of zeros = 4 GiB if unpacked fully.
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && head -c 67108864 /dev/zero > zeros && zip -q -9 l1.zip zeros"
                     " && for i in 1 2 3 4 5 6 7 8; do cp l1.zip a$i.zip; done"
                     " && zip -q -0 l2.zip a*.zip"
                     " && for i in 1 2 3 4 5 6 7 8; do cp l2.zip c$i.zip; done"
                     " && zip -q -0 bomb.zip c*.zip && rm zeros a*.zip c*.zip l1.zip l2.zip"),
            0);
  int code = 0;
  const auto m = RunCli(tmp / "bomb.zip", tmp / "out", "--max-total-bytes 268435456", &code);
  EXPECT_EQ(code, kExitWithProblems);
  EXPECT_TRUE(HasProblem(m, "limit-exceeded"));
  std::uint64_t written = 0;
  for (const auto& f : m.files) {
    if (f.type == unpack::EntryType::kFile) written += f.size;
  }
  EXPECT_LE(written, 268435456u + (8u << 20));
}

TEST(Hostile, FiftyLevelsOfNestingEndInADepthProblem) {
  TempDir tmp;
  WriteFileBytes(tmp / "l", "core\n");
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && for i in $(seq 1 25); do gzip -n -c l > l.gz && mv l.gz l;"
                     " tar cf l.tar l && mv l.tar l; done"),
            0);
  int code = 0;
  const auto m = RunCli(tmp / "l", tmp / "out", "", &code);
  EXPECT_EQ(code, kExitWithProblems);
  EXPECT_TRUE(HasProblem(m, "limit-exceeded"));
  std::uint32_t max_depth = 0;
  for (const auto& c : m.chunks) max_depth = std::max(max_depth, c.depth);
  EXPECT_EQ(max_depth, Limits::kDefaultMaxDepth);
}

TEST(Hostile, FileCountLimitStopsABranch) {
  TempDir tmp;
  ASSERT_EQ(RunShell("cd " + tmp.path().string() +
                     " && mkdir many && for i in $(seq 1 300); do echo $i > many/f$i; done"
                     " && tar cf many.tar many"),
            0);
  int code = 0;
  const auto m = RunCli(tmp / "many.tar", tmp / "out", "--max-files 100", &code);
  EXPECT_EQ(code, kExitWithProblems);
  EXPECT_TRUE(HasProblem(m, "limit-exceeded"));
  EXPECT_LE(CountEntries(tmp / "out"), 110u);
}

}  // namespace
}  // namespace clearbox
