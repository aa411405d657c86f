// ELF parser: header errors, section-less (sstrip'ed) files through the dynamic table,
// extended numbering, other architectures (clang + lld fixtures) and hostile mutations.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "elf/elf_file.hpp"
#include "elf/elf_test_support.hpp"
#include "elf/hardening.hpp"

namespace clearbox::elf {
namespace {

using clearbox::testing::HaveTool;
using clearbox::testing::PseudoRandomBytes;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;

ByteView View(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void Put16(std::string& s, std::size_t at, std::uint16_t v) {
  s[at] = static_cast<char>(v & 0xff);
  s[at + 1] = static_cast<char>(v >> 8);
}
void Put32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void Put64(std::string& s, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Builds a small x86-64 test program with gcc; empty when gcc fails.
std::string BuildProgram(const TempDir& dir, const std::string& name, const std::string& flags) {
  const auto src = dir.path() / "p.c";
  clearbox::testing::WriteFileBytes(
      src,
      "#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n"
      "int main(int c, char** v) { char b[16]; strcpy(b, v[0]); printf(\"%s\\n\", b);"
      " return (int)read(0, b, c); }\n");
  const auto out = dir.path() / name;
  std::string log;
  if (RunShell("gcc -w -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong " + flags + " '" +
                   src.string() + "' -o '" + out.string() + "'",
               &log) != 0) {
    ADD_FAILURE() << log;
    return {};
  }
  return testing::Slurp(out.string());
}

TEST(ParseElfTest, HeaderErrors) {
  EXPECT_EQ(ParseElf(View("hello world")).error().code, ErrorCode::kNotThisFormat);
  EXPECT_EQ(ParseElf(View("")).error().code, ErrorCode::kNotThisFormat);
  EXPECT_EQ(ParseElf(View(std::string("\x7f"
                                      "ELF",
                                      4)))
                .error()
                .code,
            ErrorCode::kTruncated);
  std::string ident(
      "\x7f"
      "ELF\x02\x01\x01",
      7);
  ident.resize(16, '\0');
  // Identification only: the ELF64 header (64 bytes) is cut.
  EXPECT_EQ(ParseElf(View(ident)).error().code, ErrorCode::kTruncated);
  std::string bad_class = ident;
  bad_class[4] = 3;
  bad_class.resize(64, '\0');
  EXPECT_EQ(ParseElf(View(bad_class)).error().code, ErrorCode::kMalformed);
  std::string bad_data = ident;
  bad_data[5] = 0;
  bad_data.resize(64, '\0');
  EXPECT_EQ(ParseElf(View(bad_data)).error().code, ErrorCode::kMalformed);
  // A bare header with no tables is a valid (empty) ELF.
  std::string bare = ident;
  bare.resize(64, '\0');
  Put16(bare, 16, kEtExec);
  Put16(bare, 18, kEmRiscv);
  auto file = ParseElf(View(bare));
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->bits, 64);
  EXPECT_TRUE(file->segments.empty());
  auto report = AnalyzeElfFile(*file, FortifyCatalog::Default());
  EXPECT_EQ(report.arch, "riscv64");
  EXPECT_EQ(report.type, "exec");
  EXPECT_FALSE(report.nx);
  EXPECT_EQ(report.relro, "none");
  // Hostile program header counts and sizes.
  std::string hostile = bare;
  Put64(hostile, 32, 64);      // e_phoff
  Put16(hostile, 54, 56);      // e_phentsize
  Put16(hostile, 56, 0xfffe);  // e_phnum: far past the file
  EXPECT_EQ(ParseElf(View(hostile)).error().code, ErrorCode::kTruncated);
  Put16(hostile, 54, 12);  // impossible entry size
  EXPECT_EQ(ParseElf(View(hostile)).error().code, ErrorCode::kMalformed);
  // A section table outside the file or with a huge count is skipped with a warning.
  std::string sections = bare;
  Put64(sections, 40, 1ull << 40);  // e_shoff
  Put16(sections, 58, 64);
  Put16(sections, 60, 3);
  auto skipped = ParseElf(View(sections));
  ASSERT_TRUE(skipped.has_value());
  EXPECT_TRUE(skipped->sections.empty());
  EXPECT_FALSE(skipped->warnings.empty());
}

// A hand-made ELF64 with one PT_NOTE holding an x86 feature property whose padded size runs
// past the note's end; the note ends the file (in an exact-size buffer, so ASan sees any
// read past it).
TEST(ParseElfTest, PropertyNoteAtTheEndOfTheFile) {
  std::string f(
      "\x7f"
      "ELF\x02\x01\x01",
      7);
  f.resize(64, '\0');
  Put16(f, 16, kEtDyn);
  Put16(f, 18, kEmX86_64);
  Put64(f, 32, 64);  // e_phoff
  Put16(f, 52, 64);  // e_ehsize
  Put16(f, 54, 56);  // e_phentsize
  Put16(f, 56, 1);   // e_phnum
  std::string ph(56, '\0');
  Put32(ph, 0, kPtNote);
  Put32(ph, 4, kPfR);
  Put64(ph, 8, 120);  // p_offset
  Put64(ph, 32, 28);  // p_filesz
  Put64(ph, 48, 8);   // p_align
  f += ph;
  std::string note(28, '\0');
  Put32(note, 0, 4);   // namesz
  Put32(note, 4, 12);  // descsz: one property of 4 data bytes, not padded to 8
  Put32(note, 8, 5);   // NT_GNU_PROPERTY_TYPE_0
  note.replace(12, 4, std::string("GNU\0", 4));
  Put32(note, 16, 0xc0000002);  // GNU_PROPERTY_X86_FEATURE_1_AND
  Put32(note, 20, 4);
  Put32(note, 24, 3);  // IBT | SHSTK
  f += note;
  ASSERT_EQ(f.size(), 148u);
  const std::vector<std::uint8_t> exact(f.begin(), f.end());
  auto report = AnalyzeElf(ByteView(exact.data(), exact.size()), FortifyCatalog::Default());
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(report->ibt);
  EXPECT_TRUE(report->shstk);
  EXPECT_EQ(report->type, "shared");
  EXPECT_FALSE(report->nx);  // no PT_GNU_STACK
}

class RealElfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTool("gcc")) GTEST_SKIP() << "gcc not installed";
  }
};

// Removing the section headers (what sstrip does to firmware binaries) must leave every
// loader-visible property intact: the symbols come from DT_SYMTAB, counted by DT_GNU_HASH
// or DT_HASH.
TEST_F(RealElfTest, SectionlessFilesReadThroughTheDynamicTable) {
  TempDir dir;
  for (const std::string hash : {"gnu", "sysv"}) {
    SCOPED_TRACE(hash);
    std::string bytes =
        BuildProgram(dir, "prog-" + hash,
                     "-Wl,--hash-style=" + hash + " -Wl,-z,relro,-z,now -Wl,-rpath,/opt/a:/opt/b");
    ASSERT_FALSE(bytes.empty());
    auto full = AnalyzeElf(View(bytes), FortifyCatalog::Default());
    ASSERT_TRUE(full.has_value());
    EXPECT_GT(full->fortify.fortified, 0u);
    EXPECT_TRUE(full->canary);
    EXPECT_FALSE(full->stripped);
    std::string sstripped = bytes;
    Put64(sstripped, 40, 0);  // e_shoff
    Put16(sstripped, 60, 0);  // e_shnum
    Put16(sstripped, 62, 0);  // e_shstrndx
    auto parsed = ParseElf(View(sstripped));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(parsed->sections.empty());
    EXPECT_FALSE(parsed->dynamic_symbols.empty());
    // DT_STRTAB's address maps to where the string table was found in the file.
    auto strtab = parsed->DynamicValue(kDtStrtab);
    ASSERT_TRUE(strtab.has_value());
    auto offset = parsed->FileOffsetOf(*strtab, parsed->dynamic_strings.size());
    ASSERT_TRUE(offset.has_value());
    EXPECT_EQ(*offset,
              static_cast<std::uint64_t>(parsed->dynamic_strings.data() - parsed->bytes.data()));
    EXPECT_FALSE(parsed->FileOffsetOf(*strtab, bytes.size()).has_value());
    auto bare = AnalyzeElfFile(*parsed, FortifyCatalog::Default());
    EXPECT_TRUE(bare.stripped);
    EXPECT_EQ(bare.canary, full->canary);
    EXPECT_EQ(bare.fortify.fortified, full->fortify.fortified);
    EXPECT_EQ(bare.fortify.fortifiable, full->fortify.fortifiable);
    EXPECT_EQ(bare.needed, full->needed);
    EXPECT_EQ(bare.rpath, full->rpath);
    EXPECT_EQ(bare.runpath, full->runpath);
    // Debian's ld writes DT_RUNPATH for -rpath (new dtags by default).
    EXPECT_EQ(full->runpath, (std::vector<std::string>{"/opt/a", "/opt/b"}));
    EXPECT_EQ(bare.relro, "full");
    EXPECT_EQ(bare.nx, full->nx);
    EXPECT_EQ(bare.type, full->type);
    EXPECT_EQ(bare.interpreter, full->interpreter);
  }
}

// AnalyzeElf keeps no shared mutable state: threads analysing at once agree.
TEST_F(RealElfTest, ConcurrentAnalysesAgree) {
  TempDir dir;
  const std::string bytes = BuildProgram(dir, "prog", "-Wl,-rpath,/opt/t");
  ASSERT_FALSE(bytes.empty());
  auto reference = AnalyzeElf(View(bytes), FortifyCatalog::Default());
  ASSERT_TRUE(reference.has_value());
  const std::string expected = ReportToJson(*reference).dump();
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = AnalyzeElf(View(bytes), FortifyCatalog::Default());
        results[t] = r ? ReportToJson(*r).dump() : "error";
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
}

// PN_XNUM: the program header count lives in section 0's sh_info.
TEST_F(RealElfTest, ExtendedProgramHeaderNumbering) {
  TempDir dir;
  std::string bytes = BuildProgram(dir, "prog", "");
  ASSERT_FALSE(bytes.empty());
  auto original = ParseElf(View(bytes));
  ASSERT_TRUE(original.has_value());
  const std::uint64_t shoff = LoadU64(View(bytes).data() + 40, Endian::kLittle);
  std::string extended = bytes;
  Put16(extended, 56, 0xffff);
  Put32(extended, static_cast<std::size_t>(shoff) + 44,
        static_cast<std::uint32_t>(original->segments.size()));
  auto parsed = ParseElf(View(extended));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->segments.size(), original->segments.size());
  EXPECT_EQ(parsed->dynamic.size(), original->dynamic.size());
}

// Flipped bytes and cut tails of real ELF files (x86-64 and, when clang can build them,
// big-endian MIPS and 32-bit ARM): never a crash (ASan/UBSan watch), always a bounded result.
TEST_F(RealElfTest, MutationsNeverCrash) {
  TempDir dir;
  std::vector<std::string> samples;
  samples.push_back(BuildProgram(dir, "prog", "-Wl,-rpath,/x"));
  if (HaveTool("clang") && HaveTool("ld.lld")) {
    const auto src = dir.path() / "s.c";
    clearbox::testing::WriteFileBytes(
        src,
        "int n; int f(int x) { return x + n; }\nvoid _start(void) { n = f(n); for (;;) {} }\n");
    for (const char* target : {"mips-linux-gnu", "powerpc64-linux-gnu", "arm-linux-gnueabihf"}) {
      const auto out = dir.path() / (std::string(target) + ".so");
      if (RunShell(std::string("clang --target=") + target +
                   " -ffreestanding -nostdlib -fuse-ld=lld -fPIC -shared -Wl,-rpath,/r '" +
                   src.string() + "' -o '" + out.string() + "'") == 0) {
        samples.push_back(testing::Slurp(out.string()));
      }
    }
  }
  constexpr int kRounds = 700;
  int parsed_ok = 0;
  int rejected = 0;
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const std::string& original = samples[s];
    ASSERT_GT(original.size(), 512u);
    const std::string noise = PseudoRandomBytes(s + 1, 4 * kRounds);
    for (int round = 0; round < kRounds; ++round) {
      std::string m = original;
      // Flip up to 4 bytes, mostly in the headers and tables near the start.
      for (int k = 0; k < 4; ++k) {
        const auto r = static_cast<std::uint8_t>(noise[round * 4 + k]);
        const std::size_t span =
            (round % 3 == 0) ? m.size() : std::min<std::size_t>(m.size(), 1024);
        const std::size_t at =
            (static_cast<std::size_t>(r) * 2654435761u + round * 97 + k * 31) % span;
        m[at] = static_cast<char>(m[at] ^ (r | 1));
      }
      if (round % 5 == 0) m.resize((round * 131) % m.size());
      auto report = AnalyzeElf(View(m), FortifyCatalog::Default());
      if (report) {
        ++parsed_ok;
        EXPECT_TRUE(report->bits == 32 || report->bits == 64);
      } else {
        ++rejected;
      }
    }
  }
  EXPECT_GT(parsed_ok, 0);
  EXPECT_GT(rejected, 0);
}

// ELF32/ELF64, little and big endian, for ARM, AArch64, MIPS, PowerPC, RISC-V and x86, built
// by clang + lld without a sysroot: the values the flags must produce, and checksec agrees on
// NX, PIE, RELRO, RPATH and RUNPATH.
TEST(CrossArchTest, FixturesMatchFlagsAndChecksec) {
  for (const char* tool : {"clang", "ld.lld", "checksec"}) {
    if (!HaveTool(tool)) GTEST_SKIP() << tool << " not installed";
  }
  TempDir dir;
  std::string log;
  const auto script = testing::SourceDir() + "/scripts/elf/make-cross-fixtures.sh";
  ASSERT_EQ(RunShell("'" + script + "' '" + dir.path().string() + "'", &log), 0) << log;
  const auto rows = testing::ReadTsv((dir.path() / "cross.tsv").string());
  ASSERT_GE(rows.size(), 40u) << log;
  std::vector<std::string> files;
  std::set<std::string> kinds;  // arch/bits/endian seen
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 13u);
    files.push_back(row[0]);
    SCOPED_TRACE(row[0]);
    const std::string bytes = testing::Slurp(row[0]);
    auto r = AnalyzeElf(View(bytes), FortifyCatalog::Default());
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->arch, row[1]);
    EXPECT_EQ(std::to_string(r->bits), row[2]);
    EXPECT_EQ(r->endian, row[3]);
    EXPECT_EQ(r->type, row[4]);
    EXPECT_EQ(r->nx ? "yes" : "no", row[5]);
    EXPECT_EQ(r->pie ? "yes" : "no", row[6]);
    EXPECT_EQ(r->relro, row[7]);
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ":") + x;
      return s.empty() ? std::string("-") : s;
    };
    EXPECT_EQ(join(r->rpath), row[8]);
    EXPECT_EQ(join(r->runpath), row[9]);
    EXPECT_EQ(r->bti ? "yes" : "no", row[10]);
    EXPECT_EQ(r->pac ? "yes" : "no", row[11]);
    EXPECT_EQ(r->needed.empty() ? "-" : r->needed[0], row[12]);
    if (row[4] == "shared") {
      EXPECT_EQ(r->soname, "libcross.so");
    }
    kinds.insert(row[1] + "/" + row[2] + "/" + row[3]);
  }
  for (const char* want : {"arm/32/little", "aarch64/64/little", "aarch64/64/big", "mips/32/big",
                           "mips/32/little", "mips64/64/big", "powerpc/32/big", "powerpc64/64/big",
                           "riscv32/32/little", "riscv64/64/little", "x86/32/little"}) {
    EXPECT_TRUE(kinds.count(want)) << want;
  }
  // checksec is slow (a bash script running readelf per property): relocatable objects,
  // which it reports trivially (no segments, no dynamic table), are left out.
  std::erase_if(files, [](const std::string& f) { return f.ends_with(".o"); });
  const auto checksec = testing::RunChecksec(files, dir.path());
  int compared = 0;
  for (const auto& file : files) {
    auto it = checksec.find(file);
    ASSERT_NE(it, checksec.end()) << file;
    auto r = AnalyzeElf(View(testing::Slurp(file)), FortifyCatalog::Default());
    ASSERT_TRUE(r.has_value());
    const auto ours = testing::AsChecksec(*r);
    for (const char* key : {"relro", "nx", "pie", "rpath", "runpath", "symbols", "canary"}) {
      EXPECT_EQ(ours.at(key), it->second.at(key)) << key << " of " << file;
    }
    ++compared;
  }
  std::printf("[cross] %d fixtures compared with checksec\n", compared);
}

}  // namespace
}  // namespace clearbox::elf
