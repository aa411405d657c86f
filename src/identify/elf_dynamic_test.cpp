// ReadElfDynamicInfo on programs and libraries built here by gcc, and on cut and flipped
// copies of them.
#include <gtest/gtest.h>

#include <algorithm>

#include "identify/elf_dynamic.hpp"
#include "support/test_support.hpp"

namespace clearbox::identify {
namespace {

using clearbox::testing::ReadFileBytes;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

ByteView View(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(ElfDynamic, NeededAndSonameOfRealBuilds) {
  TempDir dir;
  WriteFileBytes(dir / "lib.c", "int foo(void) { return 1; }\n");
  WriteFileBytes(dir / "main.c",
                 "#include <zlib.h>\nint foo(void);\n"
                 "int main(void) { return foo() + (zlibVersion() != 0); }\n");
  std::string out;
  ASSERT_EQ(RunShell("cd " + dir.path().string() +
                         " && gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -o libfoo.so.1 lib.c"
                         " && gcc -o prog main.c -L. -l:libfoo.so.1 -lz 2>&1",
                     &out),
            0)
      << out;
  const std::string prog = ReadFileBytes(dir / "prog");
  const ElfDynamicInfo p = ReadElfDynamicInfo(View(prog));
  EXPECT_TRUE(p.is_elf);
  EXPECT_TRUE(p.soname.empty());
  EXPECT_NE(std::find(p.needed.begin(), p.needed.end(), "libz.so.1"), p.needed.end());
  EXPECT_NE(std::find(p.needed.begin(), p.needed.end(), "libfoo.so.1"), p.needed.end());
  EXPECT_NE(std::find(p.needed.begin(), p.needed.end(), "libc.so.6"), p.needed.end());
  const ElfDynamicInfo l = ReadElfDynamicInfo(View(ReadFileBytes(dir / "libfoo.so.1")));
  EXPECT_EQ(l.soname, "libfoo.so.1");
  // Static programs and non-ELF data have no dynamic names.
  EXPECT_FALSE(ReadElfDynamicInfo(View("#!/bin/sh\necho hi\n")).is_elf);
  // Cut and flipped copies never read out of bounds (ASan) and never invent names.
  for (std::size_t cut = 0; cut < prog.size(); cut += 61) {
    const ElfDynamicInfo c = ReadElfDynamicInfo(View(prog.substr(0, cut)));
    EXPECT_LE(c.needed.size(), p.needed.size());
  }
  std::string flipped = prog;
  for (std::size_t i = 0; i < flipped.size(); i += 7) {
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    if (i % 4096 == 0) (void)ReadElfDynamicInfo(View(flipped));
  }
  (void)ReadElfDynamicInfo(View(flipped));
}

}  // namespace
}  // namespace clearbox::identify
