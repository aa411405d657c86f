// Non-ASCII member names come back with their exact UTF-8 bytes from every libarchive-based
// handler, whatever the process locale (the CLI and the tests run in the "C" locale, where
// libarchive used to drop such names as "entry without a name").
#include "unpack/handlers/archive/archive_test_util.hpp"

namespace clearbox::unpack {
namespace {

using namespace archive_test;

// A tree whose names are Latin, Greek, Cyrillic and CJK text in UTF-8, plus one ASCII file.
TreeFacts MakeUtf8Tree(const fs::path& dir) {
  WriteFileBytes(dir / "ascii.txt", "plain\n");
  WriteFileBytes(dir / "\xC3\xA9t\xC3\xA9.txt", "summer\n");  // été.txt
  WriteFileBytes(dir / "\xCE\xB5\xCE\xBB" / "\xD0\xB4\xD0\xB0\xD0\xBD\xD0\xBD\xD1\x8B\xD0\xB5.txt",
                 "greek dir, cyrillic file\n");  // ελ/данные.txt
  WriteFileBytes(dir / "\xE4\xB8\xAD\xE6\x96\x87.bin", PseudoRandomBytes(5, 3000));  // 中文.bin
  return HashTree(dir);
}

// Packs MakeUtf8Tree with `command` (run inside the tree; writes ../img) and expects every
// name back, with no problem recorded by the `format` handler.
void ExpectUtf8NamesKept(const std::string& command, const std::string& format) {
  TempDir tmp;
  const TreeFacts facts = MakeUtf8Tree(tmp / "src");
  Shell(tmp / "src", command);
  ExpectRoundTrip(tmp / "img", tmp / "out", format, facts);
}

TEST(Utf8Names, ZipByInfoZip) {
  ExpectUtf8NamesKept("LC_ALL=C.UTF-8 zip -q -r -9 ../img.zip . && mv ../img.zip ../img", "zip");
}

TEST(Utf8Names, ZipByPython) {
  ExpectUtf8NamesKept(
      "python3 -c \"import os, zipfile\n"
      "z = zipfile.ZipFile('../img', 'w', zipfile.ZIP_DEFLATED)\n"
      "for d, _, fs in sorted(os.walk('.')):\n"
      "  for f in sorted(fs): z.write(os.path.join(d, f))\n"
      "z.close()\"",
      "zip");
}

TEST(Utf8Names, PaxTar) {
  ExpectUtf8NamesKept("tar --format=pax -cf ../img .", "tar");
}

TEST(Utf8Names, GnuTar) {
  ExpectUtf8NamesKept("tar --format=gnu -cf ../img .", "tar");
}

TEST(Utf8Names, SevenZip) {
  const std::string tool = HaveTool("7zz") ? "7zz" : "7z";
  ExpectUtf8NamesKept("LC_ALL=C.UTF-8 " + tool + " a -bd -bso0 ../img.7z . && mv ../img.7z ../img",
                      "7z");
}

TEST(Utf8Names, IsoWithJolietAndRockRidge) {
  ExpectUtf8NamesKept(
      "LC_ALL=C.UTF-8 xorriso -as mkisofs -quiet -input-charset utf-8 -R -J -o ../img . "
      "2>/dev/null",
      "iso9660");
}

TEST(Utf8Names, NewcCpio) {
  ExpectUtf8NamesKept("find . | LC_ALL=C sort | cpio --quiet -o -H newc > ../img", "cpio");
}

}  // namespace
}  // namespace clearbox::unpack
