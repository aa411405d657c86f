// Binary equivalence on real programs built with the Debian toolchain at test time: the same
// source built twice (other directory, other timestamps, -g levels, stripped) is EQUIVALENT
// with the classes named; real changes are DIFFERENT with where; hostile input is UNCOMPARABLE.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/mapped_file.hpp"
#include "elf/elf_file.hpp"
#include "equiv/equiv_html.hpp"
#include "equiv/equiv_report.hpp"
#include "equiv/file_compare.hpp"
#include "equiv/tree_compare.hpp"
#include "support/test_support.hpp"

namespace clearbox::equiv {
namespace {

using testing::ReadFileBytes;
using testing::RunShell;
using testing::TempDir;
using testing::WriteFileBytes;
using testing::fs::path;

// A small program with a build path (__FILE__), build timestamps and a function that holds
// the constant FACTOR and a loop the optimiser treats differently at -O2 and -O3.
std::string ProgramSource(int factor) {
  return "#include <stdio.h>\n"
         "const char *build_file = __FILE__;\n"
         "static const char build_date[] = __DATE__;\n"
         "static const char build_time[] = __TIME__;\n"
         "__attribute__((noinline)) int scale(int x) { return x * " +
         std::to_string(factor) +
         " + 1; }\n"
         "__attribute__((noinline)) int sum(const int *a, int n) {\n"
         "  int s = 0;\n"
         "  for (int i = 0; i < n; i++) s += a[i] * a[i] + (s >> 3);\n"
         "  return s;\n"
         "}\n"
         "int main(int argc, char **argv) {\n"
         "  int v[64];\n"
         "  for (int i = 0; i < 64; i++) v[i] = i * argc;\n"
         "  printf(\"%s %s %s %d %d %s\\n\", build_file, build_date, build_time, scale(argc),\n"
         "         sum(v, 64), argv[0]);\n"
         "  return 0;\n"
         "}\n";
}

// Builds `source` as DIR/prog.c into DIR/prog (absolute source path, so __FILE__ holds DIR);
// `epoch` sets SOURCE_DATE_EPOCH for __DATE__/__TIME__.
path Build(const path& dir, const std::string& source, const std::string& flags,
           const std::string& epoch) {
  WriteFileBytes(dir / "prog.c", source);
  const path out = dir / "prog";
  const std::string command = "cd '" + dir.string() + "' && SOURCE_DATE_EPOCH=" + epoch +
                              " gcc -w " + flags + " '" + (dir / "prog.c").string() + "' -o '" +
                              out.string() + "'";
  EXPECT_EQ(RunShell(command), 0) << command;
  return out;
}

FileComparison CompareFiles(const path& a, const path& b, const Tolerances& tolerances = {}) {
  return CompareFilesOnDisk(a, b, tolerances);
}

std::vector<std::string> ClassNames(const FileComparison& c) {
  std::vector<std::string> names;
  for (const auto& hit : c.classes) names.emplace_back(ToleratedClassName(hit.tolerated_class));
  return names;
}

bool HasClass(const FileComparison& c, std::string_view name) {
  const auto names = ClassNames(c);
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string Describe(const FileComparison& c) {
  EquivReport report;
  report.files.push_back({"x", c});
  return RenderEquivJson(report);
}

bool NamesFunction(const FileComparison& c, std::string_view section, std::string_view function) {
  for (const auto& d : c.differences) {
    if (d.where == section &&
        std::find(d.functions.begin(), d.functions.end(), function) != d.functions.end()) {
      return true;
    }
  }
  return false;
}

class EquivBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveTool("gcc") || !testing::HaveTool("strip")) GTEST_SKIP() << "no gcc/strip";
  }
  TempDir tmp_;
};

// One string holding both a build date and the build path ("built " __DATE__ " from "
// __FILE__, as version banners do): each differing byte is explained by one class or the
// other; any other changed byte in the same string is a difference.
TEST_F(EquivBuild, BannerWithDateAndPathInOneStringIsEquivalent) {
  const auto source = [](const std::string& word) {
    return "#include <stdio.h>\n"
           "static const char banner[] = \"" +
           word +
           " \" __DATE__ \" \" __TIME__ \" from \" __FILE__;\n"
           "int main(void) { puts(banner); return 0; }\n";
  };
  const path a = Build(tmp_ / "build-vendor", source("built"), "-O2", "1600000000");
  const path b = Build(tmp_ / "build-lab-01", source("built"), "-O2", "1700000000");
  const FileComparison c = CompareFiles(a, b);
  EXPECT_EQ(c.verdict, Verdict::kEquivalent) << Describe(c);
  EXPECT_TRUE(HasClass(c, "build-path")) << Describe(c);
  EXPECT_TRUE(HasClass(c, "build-timestamp")) << Describe(c);
  const path d = Build(tmp_ / "build-lab-02", source("bUilt"), "-O2", "1700000000");
  const FileComparison changed = CompareFiles(a, d);
  EXPECT_EQ(changed.verdict, Verdict::kDifferent) << Describe(changed);
  Tolerances no_paths;
  no_paths.Forbid(ToleratedClass::kBuildPath);
  EXPECT_EQ(CompareFiles(a, b, no_paths).verdict, Verdict::kDifferent);
}

TEST_F(EquivBuild, SameSourceOtherDirectoryTimestampsDebugLevelAndStripIsEquivalent) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2 -g", "0");
  const path b = Build(tmp_ / "build-b", ProgramSource(3), "-O2 -g0", "1700000000");
  ASSERT_EQ(RunShell("strip '" + b.string() + "'"), 0);
  const FileComparison c = CompareFiles(a, b);
  EXPECT_EQ(c.verdict, Verdict::kEquivalent) << Describe(c);
  for (const char* name :
       {"build-id", "debug-info", "symbol-table", "build-path", "build-timestamp"}) {
    EXPECT_TRUE(HasClass(c, name)) << name << "\n" << Describe(c);
  }
  // Both unstripped, -g on both: the debug sections differ (paths), still EQUIVALENT.
  const path c_dir_a = Build(tmp_ / "build-c", ProgramSource(3), "-O2 -g", "0");
  const path c_dir_b = Build(tmp_ / "build-d", ProgramSource(3), "-O2 -g", "0");
  const FileComparison both_debug = CompareFiles(c_dir_a, c_dir_b);
  EXPECT_EQ(both_debug.verdict, Verdict::kEquivalent) << Describe(both_debug);
  EXPECT_TRUE(HasClass(both_debug, "build-path")) << Describe(both_debug);
  EXPECT_TRUE(HasClass(both_debug, "debug-info")) << Describe(both_debug);
}

TEST_F(EquivBuild, SwitchedOffClassMakesTheDifferenceReal) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2", "0");
  const path b = Build(tmp_ / "build-b", ProgramSource(3), "-O2", "1700000000");
  // Another directory of the same length, other timestamps.
  const FileComparison tolerated = CompareFiles(a, b);
  EXPECT_EQ(tolerated.verdict, Verdict::kEquivalent) << Describe(tolerated);
  Tolerances strict;
  strict.Forbid(ToleratedClass::kBuildTimestamp);
  strict.Forbid(ToleratedClass::kBuildPath);
  const FileComparison c = CompareFiles(a, b, strict);
  EXPECT_EQ(c.verdict, Verdict::kDifferent) << Describe(c);
  EXPECT_FALSE(HasClass(c, "build-timestamp"));
}

TEST_F(EquivBuild, OneConstantChangedNamesTheFunction) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2", "0");
  const path b = Build(tmp_ / "build-b", ProgramSource(5), "-O2", "0");
  const FileComparison c = CompareFiles(a, b);
  EXPECT_EQ(c.verdict, Verdict::kDifferent) << Describe(c);
  EXPECT_TRUE(NamesFunction(c, ".text", "scale")) << Describe(c);
  // Named from the other side's symbol table when the delivered side is stripped.
  ASSERT_EQ(RunShell("strip '" + a.string() + "'"), 0);
  const FileComparison stripped = CompareFiles(a, b);
  EXPECT_EQ(stripped.verdict, Verdict::kDifferent);
  EXPECT_TRUE(NamesFunction(stripped, ".text", "scale")) << Describe(stripped);
}

TEST_F(EquivBuild, O2AgainstO3IsDifferent) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2", "0");
  const path b = Build(tmp_ / "build-b", ProgramSource(3), "-O3", "0");
  const FileComparison c = CompareFiles(a, b);
  EXPECT_EQ(c.verdict, Verdict::kDifferent) << Describe(c);
  EXPECT_GT(c.differing_bytes, 0u);
}

// Flips one byte of .text and one of the build-id: the build-id class must not explain the
// code change.
TEST_F(EquivBuild, FlippedTextByteWithChangedBuildIdIsDifferent) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2", "0");
  std::string bytes = ReadFileBytes(a);
  const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto elf = elf::ParseElf(view);
  ASSERT_TRUE(elf.has_value());
  std::uint64_t text_offset = 0;
  for (const auto& symbol : elf->symtab_symbols) {
    if (symbol.name == "scale") text_offset = elf->FileOffsetOf(symbol.value, 1).value_or(0);
  }
  std::uint64_t build_id_offset = 0;
  for (const auto& note : elf->notes) {
    if (note.name == "GNU" && note.type == 3) {
      build_id_offset = static_cast<std::uint64_t>(note.desc.data() - view.data());
    }
  }
  ASSERT_NE(text_offset, 0u);
  ASSERT_NE(build_id_offset, 0u);
  std::string changed = bytes;
  changed[build_id_offset] = static_cast<char>(changed[build_id_offset] ^ 0x5a);
  WriteFileBytes(tmp_ / "only-build-id", changed);
  const FileComparison build_id_only = CompareFiles(a, tmp_ / "only-build-id");
  EXPECT_EQ(build_id_only.verdict, Verdict::kEquivalent) << Describe(build_id_only);
  EXPECT_EQ(ClassNames(build_id_only), std::vector<std::string>{"build-id"});
  changed[text_offset] = static_cast<char>(changed[text_offset] ^ 0x01);
  WriteFileBytes(tmp_ / "flipped", changed);
  const FileComparison c = CompareFiles(a, tmp_ / "flipped");
  EXPECT_EQ(c.verdict, Verdict::kDifferent) << Describe(c);
  ASSERT_FALSE(c.differences.empty());
  EXPECT_EQ(c.differences.front().where, ".text");
  EXPECT_EQ(c.differences.front().bytes, 1u);
  EXPECT_EQ(c.differences.front().functions, std::vector<std::string>{"scale"}) << Describe(c);
}

// Code shaped like a build path on both sides is still code: string classes never explain
// bytes the rebuilt side maps as instructions.
TEST_F(EquivBuild, PathShapedBytesInCodeAreDifferent) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2", "0");
  std::string bytes = ReadFileBytes(a);
  const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto elf = elf::ParseElf(view);
  ASSERT_TRUE(elf.has_value());
  std::uint64_t at = 0;
  for (const auto& symbol : elf->symtab_symbols) {
    if (symbol.name == "main") at = elf->FileOffsetOf(symbol.value, 16).value_or(0);
  }
  ASSERT_NE(at, 0u);
  std::string other = bytes;
  const std::string shaped_a("\0/b/aa/f.c\0", 12);
  const std::string shaped_b("\0/b/bb/f.c\0", 12);
  bytes.replace(at, shaped_a.size(), shaped_a);
  other.replace(at, shaped_b.size(), shaped_b);
  WriteFileBytes(tmp_ / "code-a", bytes);
  WriteFileBytes(tmp_ / "code-b", other);
  const FileComparison c = CompareFiles(tmp_ / "code-a", tmp_ / "code-b");
  EXPECT_EQ(c.verdict, Verdict::kDifferent) << Describe(c);
  EXPECT_TRUE(NamesFunction(c, ".text", "main")) << Describe(c);
}

TEST_F(EquivBuild, KernelModuleSignatureIsTolerated) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2 -c", "0");
  std::string signed_module = ReadFileBytes(a);
  const std::string signature(256, '\x42');
  signed_module += signature;
  // struct module_signature: algo, hash, id_type, signer_len, key_id_len, pad[3], sig_len (BE).
  signed_module += std::string("\0\0\x02\0\0\0\0\0\0\0\x01\x00", 12);
  signed_module += "~Module signature appended~\n";
  WriteFileBytes(tmp_ / "signed.ko", signed_module);
  const FileComparison c = CompareFiles(tmp_ / "signed.ko", a);
  EXPECT_EQ(c.verdict, Verdict::kEquivalent) << Describe(c);
  EXPECT_TRUE(HasClass(c, "module-signature"));
  Tolerances strict;
  strict.Forbid(ToleratedClass::kModuleSignature);
  EXPECT_EQ(CompareFiles(tmp_ / "signed.ko", a, strict).verdict, Verdict::kDifferent);
}

// The kernel's own signing tool (linux-kbuild's scripts/sign-file): one module signed by two
// vendors' keys is EQUIVALENT to the unsigned rebuild and to each other; a signed module whose
// code changed is DIFFERENT, signature or not.
TEST_F(EquivBuild, ModulesSignedBySignFileAreComparedWithoutTheirSignatures) {
  const path sign_file = "/usr/lib/linux-kbuild-6.1/scripts/sign-file";
  if (!std::filesystem::exists(sign_file) || !testing::HaveTool("openssl")) {
    GTEST_SKIP() << "no sign-file (Debian package linux-kbuild-6.1) or openssl";
  }
  const path rebuilt = Build(tmp_ / "build-a", ProgramSource(3), "-O2 -c", "0");
  const path vendor = Build(tmp_ / "build-b", ProgramSource(3), "-O2 -c", "0");
  const path changed = Build(tmp_ / "build-c", ProgramSource(4), "-O2 -c", "0");
  const std::string dir = tmp_.path().string();
  for (const char* key : {"vendor", "other"}) {
    ASSERT_EQ(RunShell("cd '" + dir + "' && openssl req -new -nodes -utf8 -sha256 -days 3650 " +
                       "-batch -x509 -subj '/CN=" + key + " signing key/' -outform PEM -out " +
                       key + ".pem -keyout " + key + ".pem -newkey rsa:2048 2>/dev/null"),
              0);
  }
  std::filesystem::copy_file(vendor, tmp_ / "vendor.ko");
  std::filesystem::copy_file(vendor, tmp_ / "other.ko");
  std::filesystem::copy_file(changed, tmp_ / "changed.ko");
  for (const auto& [key, module] :
       {std::pair{"vendor", "vendor.ko"}, {"other", "other.ko"}, {"vendor", "changed.ko"}}) {
    ASSERT_EQ(RunShell("cd '" + dir + "' && " + sign_file.string() + " sha256 " + key + ".pem " +
                       key + ".pem " + module),
              0);
  }
  ASSERT_GT(std::filesystem::file_size(tmp_ / "vendor.ko"), std::filesystem::file_size(vendor));

  const FileComparison signed_vs_unsigned = CompareFiles(tmp_ / "vendor.ko", rebuilt);
  EXPECT_EQ(signed_vs_unsigned.verdict, Verdict::kEquivalent) << Describe(signed_vs_unsigned);
  EXPECT_TRUE(HasClass(signed_vs_unsigned, "module-signature"));
  const FileComparison two_signers = CompareFiles(tmp_ / "vendor.ko", tmp_ / "other.ko");
  EXPECT_EQ(two_signers.verdict, Verdict::kEquivalent) << Describe(two_signers);
  EXPECT_TRUE(HasClass(two_signers, "module-signature"));
  const FileComparison changed_code = CompareFiles(tmp_ / "changed.ko", rebuilt);
  EXPECT_EQ(changed_code.verdict, Verdict::kDifferent) << Describe(changed_code);
  Tolerances strict;
  strict.Forbid(ToleratedClass::kModuleSignature);
  EXPECT_EQ(CompareFiles(tmp_ / "vendor.ko", rebuilt, strict).verdict, Verdict::kDifferent);
}

TEST(EquivFormats, GzipHeaderIsToleratedAndPayloadCompared) {
  if (!testing::HaveTool("gzip")) GTEST_SKIP() << "no gzip";
  TempDir tmp;
  WriteFileBytes(tmp / "a/data.txt", "line one\nline two\n");
  WriteFileBytes(tmp / "b/data.txt", "line one\nline two\n");
  WriteFileBytes(tmp / "c/data.txt", "line one\nline 2\n");
  ASSERT_EQ(RunShell("cd '" + tmp.path().string() +
                     "' && touch -d @1000 a/data.txt && touch -d @100000 b/data.txt && "
                     "gzip -k a/data.txt && gzip -9 -k b/data.txt && gzip -k c/data.txt"),
            0);
  const FileComparison same = CompareFiles(tmp / "a/data.txt.gz", tmp / "b/data.txt.gz");
  EXPECT_EQ(same.verdict, Verdict::kEquivalent) << Describe(same);
  EXPECT_TRUE(HasClass(same, "gzip-header"));
  const FileComparison other = CompareFiles(tmp / "a/data.txt.gz", tmp / "c/data.txt.gz");
  EXPECT_EQ(other.verdict, Verdict::kDifferent) << Describe(other);
  EXPECT_NE(other.text_diff.find("-line two\n+line 2\n"), std::string::npos) << other.text_diff;
}

// The same module compiled at two source mtimes: only the .pyc header differs.
TEST(EquivFormats, PycHeaderIsTolerated) {
  if (!testing::HaveTool("python3")) GTEST_SKIP() << "no python3";
  TempDir tmp;
  const std::string dir = tmp.path().string();
  WriteFileBytes(tmp / "m.py", "def f(x):\n    return x * 3\n");
  const std::string compile =
      "python3 -c \"import py_compile; py_compile.compile('m.py', cfile='OUT')\"";
  auto compile_to = [&](const std::string& out) {
    std::string command = compile;
    command.replace(command.find("OUT"), 3, out);
    return RunShell("cd '" + dir + "' && " + command);
  };
  ASSERT_EQ(RunShell("touch -d @1000 '" + dir + "/m.py'"), 0);
  ASSERT_EQ(compile_to("a.pyc"), 0);
  ASSERT_EQ(RunShell("touch -d @2000 '" + dir + "/m.py'"), 0);
  ASSERT_EQ(compile_to("b.pyc"), 0);
  WriteFileBytes(tmp / "m.py", "def f(x):\n    return x * 5\n");
  ASSERT_EQ(compile_to("c.pyc"), 0);
  const FileComparison same = CompareFiles(tmp / "a.pyc", tmp / "b.pyc");
  EXPECT_EQ(same.verdict, Verdict::kEquivalent) << Describe(same);
  EXPECT_EQ(ClassNames(same), std::vector<std::string>{"pyc-header"});
  EXPECT_EQ(CompareFiles(tmp / "a.pyc", tmp / "c.pyc").verdict, Verdict::kDifferent);
}

// tar and ar archives member by member: timestamps and order tolerated, contents compared.
TEST(EquivFormats, ArchivesCompareMemberByMember) {
  if (!testing::HaveTool("tar") || !testing::HaveTool("ar")) GTEST_SKIP() << "no tar/ar";
  TempDir tmp;
  const std::string dir = tmp.path().string();
  WriteFileBytes(tmp / "t/x.txt", "x content\n");
  WriteFileBytes(tmp / "t/y.txt", "y content\n");
  ASSERT_EQ(RunShell("cd '" + dir + "/t' && tar --mtime=@1000 -cf ../a.tar x.txt y.txt && " +
                     "tar --mtime=@2000 --owner=7 -cf ../b.tar y.txt x.txt && " +
                     "gzip -c ../b.tar > ../b.tar.gz && gzip -c ../a.tar > ../a.tar.gz && " +
                     "ar qcS ../a.a x.txt y.txt 2>/dev/null && sleep 1 && touch y.txt && " +
                     "ar qcSU ../b.a x.txt y.txt 2>/dev/null && " +
                     "printf 'changed\\n' > x.txt && tar --mtime=@1000 -cf ../c.tar x.txt y.txt"),
            0);
  FileComparison c = CompareFiles(tmp / "a.tar", tmp / "b.tar");
  EXPECT_EQ(c.verdict, Verdict::kEquivalent) << Describe(c);
  EXPECT_TRUE(HasClass(c, "archive-metadata")) << Describe(c);
  c = CompareFiles(tmp / "a.tar.gz", tmp / "b.tar.gz");
  EXPECT_EQ(c.verdict, Verdict::kEquivalent) << Describe(c);
  c = CompareFiles(tmp / "a.a", tmp / "b.a");
  EXPECT_EQ(c.verdict, Verdict::kEquivalent) << Describe(c);
  EXPECT_EQ(c.kind, "ar");
  c = CompareFiles(tmp / "a.tar", tmp / "c.tar");
  EXPECT_EQ(c.verdict, Verdict::kDifferent) << Describe(c);
  ASSERT_FALSE(c.differences.empty());
  EXPECT_EQ(c.differences.front().where, "member x.txt: text") << Describe(c);
  Tolerances strict;
  strict.Forbid(ToleratedClass::kArchiveMetadata);
  EXPECT_EQ(CompareFiles(tmp / "a.tar", tmp / "b.tar", strict).verdict, Verdict::kDifferent);
}

// zip (Info-ZIP) with other timestamps, extra fields, compression level and member order, and
// cpio (newc and odc, GNU cpio) with other timestamps, inode numbers and order: EQUIVALENT;
// one changed member: DIFFERENT at that member; a cut archive falls back to bytes.
TEST(EquivFormats, ZipAndCpioCompareMemberByMember) {
  if (!testing::HaveTool("zip") || !testing::HaveTool("cpio")) GTEST_SKIP() << "no zip/cpio";
  TempDir tmp;
  const std::string dir = tmp.path().string();
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "line " + std::to_string(i) + " of a compressible file\n";
  WriteFileBytes(tmp / "a/x.txt", "x content\n");
  WriteFileBytes(tmp / "a/sub/big.txt", big);
  WriteFileBytes(tmp / "b/x.txt", "x content\n");
  WriteFileBytes(tmp / "b/sub/big.txt", big);
  WriteFileBytes(tmp / "c/x.txt", "x changed\n");
  WriteFileBytes(tmp / "c/sub/big.txt", big);
  ASSERT_EQ(RunShell("cd '" + dir + "' && find a c -exec touch -h -d @1000 {} + && " +
                     "find b -exec touch -h -d @2000000 {} + && " +
                     "(cd a && zip -q -r -9 ../a.zip x.txt sub) && " +
                     "(cd b && zip -q -r -1 -X ../b.zip sub x.txt) && " +
                     "(cd c && zip -q -r -9 ../c.zip x.txt sub) && " +
                     "for s in a b c; do (cd $s && find . | sort | cpio --quiet -o -H newc " +
                     "> ../$s.cpio && find . | sort -r | cpio --quiet -o -H odc > ../$s.odc); " +
                     "done && head -c 300 a.cpio > cut.cpio && cp b.cpio cut-b.cpio"),
            0);
  for (const char* kind : {"zip", "cpio", "odc"}) {
    const std::string ext = std::string(".") + kind;
    FileComparison c = CompareFiles(tmp / ("a" + ext), tmp / ("b" + ext));
    EXPECT_EQ(c.verdict, Verdict::kEquivalent) << kind << Describe(c);
    EXPECT_TRUE(HasClass(c, "archive-metadata")) << kind << Describe(c);
    EXPECT_EQ(c.kind, kind == std::string("zip") ? "zip" : "cpio");
    c = CompareFiles(tmp / ("a" + ext), tmp / ("c" + ext));
    EXPECT_EQ(c.verdict, Verdict::kDifferent) << kind << Describe(c);
    ASSERT_FALSE(c.differences.empty()) << kind;
    EXPECT_NE(c.differences.front().where.find("x.txt"), std::string::npos) << kind << Describe(c);
    Tolerances strict;
    strict.Forbid(ToleratedClass::kArchiveMetadata);
    EXPECT_EQ(CompareFiles(tmp / ("a" + ext), tmp / ("b" + ext), strict).verdict,
              Verdict::kDifferent)
        << kind;
  }
  const FileComparison cut = CompareFiles(tmp / "cut.cpio", tmp / "cut-b.cpio");
  EXPECT_EQ(cut.verdict, Verdict::kDifferent) << Describe(cut);
  EXPECT_EQ(cut.kind, "binary");
}

TEST(EquivFormats, TextDiffExcerptIsBounded) {
  std::string a;
  std::string b;
  for (int i = 0; i < 5000; ++i) {
    a += "line " + std::to_string(i) + "\n";
    b += "line " + std::to_string(i % 7 == 0 ? -i : i) + "\n";
  }
  const auto view = [](const std::string& s) {
    return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  const FileComparison c = CompareContents(view(a), view(b), {});
  EXPECT_EQ(c.verdict, Verdict::kDifferent);
  EXPECT_EQ(c.kind, "text");
  EXPECT_LE(c.text_diff.size(), kMaxTextDiffBytes + 64);
  EXPECT_NE(c.text_diff.find("more lines"), std::string::npos);
}

TEST_F(EquivBuild, HostileElfIsUncomparableNeverACrash) {
  const path a = Build(tmp_ / "build-a", ProgramSource(3), "-O2", "0");
  const std::string bytes = ReadFileBytes(a);
  // Truncated inside the program header table.
  WriteFileBytes(tmp_ / "truncated", bytes.substr(0, 100));
  FileComparison c = CompareFiles(tmp_ / "truncated", a);
  EXPECT_EQ(c.verdict, Verdict::kUncomparable) << Describe(c);
  EXPECT_NE(c.reason.find("delivered"), std::string::npos) << c.reason;
  c = CompareFiles(a, tmp_ / "truncated");
  EXPECT_EQ(c.verdict, Verdict::kUncomparable) << Describe(c);
  EXPECT_NE(c.reason.find("rebuilt"), std::string::npos) << c.reason;
  // Malformed: unknown ELF class.
  std::string bad_class = bytes;
  bad_class[4] = 9;
  WriteFileBytes(tmp_ / "bad-class", bad_class);
  EXPECT_EQ(CompareFiles(a, tmp_ / "bad-class").verdict, Verdict::kUncomparable);
  // A huge section size: every section's sh_size set to 2^60.
  std::string huge = bytes;
  const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto elf = elf::ParseElf(view);
  ASSERT_TRUE(elf.has_value());
  const std::uint64_t shoff = LoadU64(view.data() + 0x28, Endian::kLittle);
  for (std::size_t i = 1; i < elf->sections.size(); ++i) {
    const std::uint64_t at = shoff + i * 64 + 32;
    for (int k = 0; k < 8; ++k) huge[at + k] = k == 7 ? '\x10' : '\0';
  }
  WriteFileBytes(tmp_ / "huge", huge);
  c = CompareFiles(a, tmp_ / "huge");
  EXPECT_TRUE(c.verdict == Verdict::kUncomparable || c.verdict == Verdict::kDifferent)
      << Describe(c);
  // A PT_LOAD past the end of the file.
  std::string far_load = bytes;
  const std::uint64_t phoff = LoadU64(view.data() + 0x20, Endian::kLittle);
  for (std::size_t i = 0; i < elf->segments.size(); ++i) {
    if (elf->segments[i].type != elf::kPtLoad) continue;
    const std::uint64_t at = phoff + i * 56 + 32;  // p_filesz
    for (int k = 0; k < 8; ++k) far_load[at + k] = k == 5 ? '\x7f' : '\0';
    break;
  }
  WriteFileBytes(tmp_ / "far-load", far_load);
  c = CompareFiles(tmp_ / "far-load", a);
  EXPECT_EQ(c.verdict, Verdict::kUncomparable) << Describe(c);
}

TEST(EquivTree, DirectoriesPairByPathWithOnlyInAndSymlinkLoops) {
  TempDir tmp;
  const path a = tmp / "delivered";
  const path b = tmp / "rebuilt";
  WriteFileBytes(a / "etc/motd", "hello\n");
  WriteFileBytes(b / "etc/motd", "hello\n");
  WriteFileBytes(a / "etc/issue", "Release 1\n");
  WriteFileBytes(b / "etc/issue", "Release 2\n");
  WriteFileBytes(a / "usr/lib/only-delivered", "x");
  WriteFileBytes(b / "usr/share/only-rebuilt", "y");
  WriteFileBytes(b / "usr/bin/loop", "a file on this side");
  std::filesystem::create_directories(a / "usr/bin");
  std::filesystem::create_symlink("loop", a / "usr/bin/loop");
  std::filesystem::create_symlink("self", a / "usr/bin/self");
  std::filesystem::create_symlink("self", b / "usr/bin/self");
  std::filesystem::create_symlink("../..", a / "usr/bin/up");
  std::filesystem::create_symlink("../..", b / "usr/bin/up");
  auto results = CompareTrees({a, false}, {b, false}, {}, 2);
  ASSERT_TRUE(results.has_value());
  std::map<std::string, Verdict> verdicts;
  for (const auto& r : *results) verdicts[r.path] = r.comparison.verdict;
  EXPECT_EQ(verdicts["etc/motd"], Verdict::kIdentical);
  EXPECT_EQ(verdicts["etc/issue"], Verdict::kDifferent);
  EXPECT_EQ(verdicts["usr/lib/only-delivered"], Verdict::kOnlyInDelivered);
  EXPECT_EQ(verdicts["usr/share/only-rebuilt"], Verdict::kOnlyInRebuilt);
  EXPECT_EQ(verdicts["usr/bin/loop"], Verdict::kUncomparable);
  EXPECT_EQ(verdicts["usr/bin/self"], Verdict::kIdentical);
  EXPECT_EQ(verdicts["usr/bin/up"], Verdict::kIdentical);
  EXPECT_EQ(results->size(), 7u);
  EXPECT_TRUE(std::is_sorted(results->begin(), results->end(),
                             [](const auto& x, const auto& y) { return x.path < y.path; }));
  for (const auto& r : *results) {
    if (r.path == "etc/issue") {
      EXPECT_NE(r.comparison.text_diff.find("-Release 1\n+Release 2\n"), std::string::npos)
          << r.comparison.text_diff;
    }
    if (r.path == "usr/bin/loop") {
      EXPECT_NE(r.comparison.reason.find("symlink"), std::string::npos) << r.comparison.reason;
    }
  }
  // equiv.json, written entry by entry, is valid JSON with the counts after the files.
  EquivReport report;
  report.files = *results;
  const auto doc = nlohmann::json::parse(RenderEquivJson(report));
  EXPECT_EQ(doc["files"].size(), 7u);
  EXPECT_EQ(doc["counts"]["ONLY_IN_DELIVERED"], 1);
  EXPECT_EQ(doc["counts"]["IDENTICAL"], 3);
  EXPECT_EQ(doc["verdict"], "NOT_EQUIVALENT");
  const auto empty = nlohmann::json::parse(RenderEquivJson(EquivReport{}));
  EXPECT_TRUE(empty["files"].empty());
  EXPECT_EQ(empty["verdict"], "EQUIVALENT");
}

// Hostile names and details are escaped; a document that is not an object renders a page.
TEST(EquivHtml, EscapesEverythingFromTheDocument) {
  const auto doc = nlohmann::json::parse(R"({"verdict": "NOT_EQUIVALENT",
    "delivered": {"input": "<b>a</b>", "kind": "directory"}, "rebuilt": {"input": "b"},
    "files": [{"path": "x<script>alert(1)</script>", "verdict": "DIFFERENT", "kind": "text",
               "text_diff": "-</pre><img src=x>\n+y"}],
    "counts": {"DIFFERENT": 1}})");
  const std::string page = RenderEquivHtml(doc);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<img src=x>"), std::string::npos);
  EXPECT_EQ(page.find("<b>a</b>"), std::string::npos);
  EXPECT_NE(page.find("x&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(RenderEquivHtml(nlohmann::json::array()).find("<html"), std::string::npos);
}

// The CLI end to end: exit codes, equiv.json deterministic.
TEST_F(EquivBuild, CliOnTwoDirectories) {
  const std::string bin = testing::ClearboxBinary();
  const path a = tmp_ / "delivered";
  const path b = tmp_ / "rebuilt";
  std::filesystem::create_directories(a / "usr/bin");
  std::filesystem::create_directories(b / "usr/bin");
  const path pa = Build(tmp_ / "build-a", ProgramSource(3), "-O2 -g", "0");
  const path pb = Build(tmp_ / "build-b", ProgramSource(3), "-O2", "1700000000");
  std::filesystem::copy_file(pa, a / "usr/bin/prog");
  std::filesystem::copy_file(pb, b / "usr/bin/prog");
  WriteFileBytes(a / "etc/version", "1.0\n");
  WriteFileBytes(b / "etc/version", "1.0\n");
  const auto run = [&](const std::string& extra, const path& out, std::string* output) {
    const int status = RunShell("'" + bin + "' equiv '" + a.string() + "' '" + b.string() +
                                    "' -o '" + out.string() + "' " + extra + " 2>&1",
                                output);
    return status;
  };
  std::string output;
  EXPECT_EQ(run("", tmp_ / "out1", &output), 0) << output;
  EXPECT_NE(output.find("verdict: EQUIVALENT"), std::string::npos) << output;
  const std::string json1 = ReadFileBytes(tmp_ / "out1/equiv.json");
  EXPECT_EQ(run("-q", tmp_ / "out2", &output), 0) << output;
  EXPECT_EQ(json1, ReadFileBytes(tmp_ / "out2/equiv.json"));
  EXPECT_NE(json1.find("\"build-timestamp\""), std::string::npos) << json1;
  // Both directories are named by their tree digest; an attestation names both.
  const auto doc1 = nlohmann::json::parse(json1);
  ASSERT_TRUE(doc1["delivered"].contains("tree_sha256")) << json1;
  EXPECT_NE(doc1["delivered"]["tree_sha256"], doc1["rebuilt"]["tree_sha256"]);
  ASSERT_EQ(RunShell("'" + bin + "' keygen lab.example/equiv -o '" + (tmp_ / "key").string() +
                     "' >/dev/null 2>&1"),
            0);
  EXPECT_EQ(RunShell("'" + bin + "' attest '" + (tmp_ / "out1/equiv.json").string() + "' --key '" +
                         (tmp_ / "key.skey").string() + "' -o '" +
                         (tmp_ / "equiv.dsse.json").string() + "' 2>&1",
                     &output),
            0)
      << output;
  EXPECT_NE(output.find("attested delivered/ sha256:" +
                        doc1["delivered"]["tree_sha256"].get<std::string>()),
            std::string::npos)
      << output;
  const auto envelope = nlohmann::json::parse(ReadFileBytes(tmp_ / "equiv.dsse.json"));
  std::string payload;
  ASSERT_EQ(RunShell("python3 -c 'import base64,sys; sys.stdout.write(base64.b64decode(sys.argv[1])"
                     ".decode())' " +
                         envelope["payload"].get<std::string>(),
                     &payload),
            0);
  const auto statement = nlohmann::json::parse(payload);
  EXPECT_EQ(statement["predicateType"], std::string(kEquivPredicateType));
  ASSERT_EQ(statement["subject"].size(), 2u) << payload;
  EXPECT_EQ(statement["subject"][1]["digest"]["sha256"], doc1["rebuilt"]["tree_sha256"]);
  EXPECT_EQ(statement["predicate"]["verdict"], "EQUIVALENT");
  // A real difference, and a file on one side only: exit 1.
  const path pc = Build(tmp_ / "build-c", ProgramSource(5), "-O2", "0");
  std::filesystem::copy_file(pc, b / "usr/bin/prog",
                             std::filesystem::copy_options::overwrite_existing);
  WriteFileBytes(b / "etc/extra", "x\n");
  EXPECT_EQ(run("", tmp_ / "out3", &output), 1) << output;
  EXPECT_NE(output.find("DIFFERENT usr/bin/prog: .text"), std::string::npos) << output;
  EXPECT_NE(output.find("scale"), std::string::npos) << output;
  EXPECT_NE(output.find("ONLY_IN_REBUILT etc/extra"), std::string::npos) << output;
  // equiv.html says what equiv.json says: the failing paths first, with where.
  const std::string page = ReadFileBytes(tmp_ / "out3/equiv.html");
  EXPECT_NE(page.find("NOT_EQUIVALENT"), std::string::npos);
  const auto different_row = page.find(">usr/bin/prog<");
  ASSERT_NE(different_row, std::string::npos) << page.substr(0, 2000);
  EXPECT_LT(page.find(">etc/extra<"), page.find(">etc/version<"));
  EXPECT_NE(page.find(".text: ", different_row), std::string::npos);
  EXPECT_NE(page.find("scale", different_row), std::string::npos);
  EXPECT_EQ(ReadFileBytes(tmp_ / "out1/equiv.html"), ReadFileBytes(tmp_ / "out2/equiv.html"));
  EXPECT_EQ(run("--no-tolerate no-such-class", tmp_ / "out4", &output), 2) << output;
  EXPECT_EQ(RunShell("'" + bin + "' equiv '" + (tmp_ / "missing").string() + "' '" + b.string() +
                     "' -o '" + (tmp_ / "out5").string() + "' >/dev/null 2>&1"),
            4);
}

// Two .deb packages of the same tree made at other times: unpacked and compared member by
// member (ar, tar, compression timestamps and order do not matter).
TEST_F(EquivBuild, CliOnTwoDebPackages) {
  if (!testing::HaveTool("dpkg-deb")) GTEST_SKIP() << "no dpkg-deb";
  const std::string bin = testing::ClearboxBinary();
  for (const char* side : {"a", "b"}) {
    const path root = tmp_ / side / "pkg";
    WriteFileBytes(root / "DEBIAN/control",
                   "Package: demo\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@t>\n"
                   "Description: demo\n");
    WriteFileBytes(root / "usr/share/doc/demo/README", "demo package\n");
    const std::string stamp = side[0] == 'a' ? "@1000" : "@2000000";
    ASSERT_EQ(RunShell("cd '" + (tmp_ / side).string() + "' && find pkg -exec touch -h -d " +
                       stamp + " {} + && SOURCE_DATE_EPOCH=" + stamp.substr(1) +
                       " dpkg-deb --root-owner-group -Zxz -b pkg demo.deb >/dev/null"),
              0);
  }
  std::string output;
  const int status =
      RunShell("'" + bin + "' equiv '" + (tmp_ / "a/demo.deb").string() + "' '" +
                   (tmp_ / "b/demo.deb").string() + "' -o '" + (tmp_ / "out").string() + "' 2>&1",
               &output);
  EXPECT_EQ(status, 0) << output;
  const std::string json = ReadFileBytes(tmp_ / "out/equiv.json");
  EXPECT_NE(json.find("usr/share/doc/demo/README"), std::string::npos) << json;
  EXPECT_NE(json.find("\"kind\": \"image\""), std::string::npos) << json;
}

}  // namespace
}  // namespace clearbox::equiv
