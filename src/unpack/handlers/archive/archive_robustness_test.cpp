// Mutated real archives through Probe and Extract of every archive handler: under ASan and
// UBSan nothing may crash, hang, or write outside the scratch directory.
#include <cstdlib>
#include <vector>

#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

constexpr int kDefaultMutations = 40;

// Mutants per fixture; CLEARBOX_ARCHIVE_MUTATIONS raises it for a longer local stress run.
int MutationCount() {
  const char* env = std::getenv("CLEARBOX_ARCHIVE_MUTATIONS");
  const int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : kDefaultMutations;
}

// Probes and, when accepted, extracts `bytes` with `handler` into `out` under small limits.
void ProbeAndExtract(const Handler& handler, const std::string& bytes, const fs::path& out) {
  const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto probe = handler.Probe(view);
  if (!probe) return;
  ASSERT_LE(*probe, bytes.size());
  std::error_code ec;
  fs::remove_all(out, ec);
  Limits limits;
  limits.max_total_bytes = 16 << 20;
  limits.max_files = 2000;
  limits.handler_seconds = 10;
  Budget run(limits);
  ChunkBudget chunk(run, bytes.size());
  auto dir = SafeDir::Create(out.string(), "out", &chunk);
  ASSERT_TRUE(dir.has_value());
  std::vector<ProblemRecord> problems;
  ExtractContext ctx(**dir, chunk, "mutant.bin", problems, std::string(handler.Name()), 0);
  auto consumed = handler.Extract(*probe ? view.subspan(0, *probe) : view, ctx);
  if (consumed) {
    EXPECT_LE(*consumed, bytes.size());
  }
  (void)(*dir)->TakeEntries();
}

// Mutates bytes of `original` (mostly near the start and end, where headers and directories
// live) and cuts it at random lengths; every variant goes through the handler.
// `focus` moves the start window (ISO 9660 descriptors begin at 32 KiB).
void Mutate(const Handler& handler, const std::string& original, const fs::path& scratch,
            std::size_t focus = 0) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL ^ original.size();
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const int mutations = MutationCount();
  for (int i = 0; i < mutations; ++i) {
    std::string bytes = original;
    const int flips = 1 + static_cast<int>(next() % 8);
    for (int f = 0; f < flips; ++f) {
      const std::uint64_t r = next();
      std::size_t pos = 0;
      const std::size_t window = std::min<std::size_t>(bytes.size(), 4096);
      switch (r % 3) {
        case 0: pos = std::min(bytes.size() - 1, focus + (r >> 8) % (4 * window)); break;
        case 1: pos = bytes.size() - 1 - (r >> 8) % window; break;
        default: pos = (r >> 8) % bytes.size(); break;
      }
      bytes[pos] = static_cast<char>(next() & 0xff);
    }
    if (next() % 4 == 0) bytes.resize(next() % bytes.size());
    ProbeAndExtract(handler, bytes, scratch / "out");
  }
  SUCCEED();
}

// A small tree so that each mutant is cheap to extract.
void MakeSmallTree(const fs::path& src) {
  WriteFileBytes(src / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  WriteFileBytes(src / "bin/tool", PseudoRandomBytes(61, 3000));
  std::string text;
  for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + "\n";
  WriteFileBytes(src / "var/log/messages", text);
  WriteFileBytes(src / "empty", "");
}

TEST(ArchiveRobustness, MutatedTar) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp.path(), "ln -s ../etc/passwd src/bin/link && tar --format=gnu -C src -cf a.tar .");
  Mutate(GetTarHandler(), ReadFileBytes(tmp / "a.tar"), tmp.path());
}

TEST(ArchiveRobustness, MutatedCpio) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp / "src", "find . | cpio --quiet -o -H newc > ../a.cpio");
  Mutate(GetCpioHandler(), ReadFileBytes(tmp / "a.cpio"), tmp.path());
  Shell(tmp / "src", "find . | cpio --quiet -o -H odc > ../b.cpio");
  Mutate(GetCpioHandler(), ReadFileBytes(tmp / "b.cpio"), tmp.path());
}

TEST(ArchiveRobustness, MutatedZip) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp / "src", "zip -q -r -9 -y ../a.zip .");
  Mutate(GetZipHandler(), ReadFileBytes(tmp / "a.zip"), tmp.path());
}

TEST(ArchiveRobustness, MutatedArj) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  for (const char* method : {"0", "1", "4"}) {
    Shell(tmp / "src",
          std::string("rm -f ../a.arj && arj a -m") + method + " -r -y ../a.arj . > /dev/null");
    Mutate(GetArjHandler(), ReadFileBytes(tmp / "a.arj"), tmp.path());
  }
}

TEST(ArchiveRobustness, MutatedCab) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp / "src", "find . -type f | sed 's|^\\./||' | xargs gcab -c -z ../a.cab");
  Mutate(GetCabHandler(), ReadFileBytes(tmp / "a.cab"), tmp.path());
  Shell(tmp / "src", "find . -type f | sed 's|^\\./||' | xargs gcab -c ../b.cab");
  Mutate(GetCabHandler(), ReadFileBytes(tmp / "b.cab"), tmp.path());
}

TEST(ArchiveRobustness, MutatedLha) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp / "src", "find . -type f | sed 's|^\\./||' | xargs lha a2 ../a.lzh > /dev/null");
  Mutate(GetLhaHandler(), ReadFileBytes(tmp / "a.lzh"), tmp.path());
  Shell(tmp / "src", "find . -type f | sed 's|^\\./||' | xargs lha a0 ../b.lzh > /dev/null");
  Mutate(GetLhaHandler(), ReadFileBytes(tmp / "b.lzh"), tmp.path());
}

// RAR fixtures are libarchive's test archives (tests/oracle/libarchive-rar), uudecoded here.
TEST(ArchiveRobustness, MutatedRar) {
  TempDir tmp;
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  WriteFileBytes(tmp / "uu.py",
                 "import binascii,sys\n"
                 "lines=[l for l in open(sys.argv[1]) if l.strip() and not l.startswith('begin')]\n"
                 "lines=lines[:lines.index('end\\n')] if 'end\\n' in lines else lines\n"
                 "open(sys.argv[2],'wb').write(b''.join(binascii.a2b_uu(l) for l in lines))\n");
  for (const char* name : {"test_read_format_rar.rar", "test_read_format_rar5_compressed.rar"}) {
    Shell(tmp.path(), std::string("python3 uu.py '") + src + "/tests/oracle/libarchive-rar/" +
                          name + ".uu' a.rar");
    Mutate(GetRarHandler(), ReadFileBytes(tmp / "a.rar"), tmp.path());
  }
}

TEST(ArchiveRobustness, MutatedSevenZip) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp / "src", std::string(HaveTool("7zz") ? "7zz" : "7z") + " a -bd -bso0 ../a.7z .");
  Mutate(GetSevenZipHandler(), ReadFileBytes(tmp / "a.7z"), tmp.path());
}

TEST(ArchiveRobustness, MutatedAr) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp / "src", "ar rcs ../a.a etc/passwd bin/tool var/log/messages empty");
  Mutate(GetArHandler(), ReadFileBytes(tmp / "a.a"), tmp.path());
}

TEST(ArchiveRobustness, MutatedIso9660) {
  TempDir tmp;
  MakeSmallTree(tmp / "src");
  Shell(tmp.path(), "xorriso -as mkisofs -quiet -R -J -o a.iso src/ 2>/dev/null");
  // Mutate the descriptors and directories rather than the padding after them.
  Mutate(GetIso9660Handler(), ReadFileBytes(tmp / "a.iso"), tmp.path(), 0x8000);
}

}  // namespace
}  // namespace clearbox::unpack
