// FAT fixtures for the fat and partition-table tests: a source tree with long, mixed-case and
// non-ASCII names, and FAT12/16/32 images made by mkfs.vfat and filled by mcopy (mtools).
#pragma once

#include <string>

#include "support/test_support.hpp"

namespace clearbox::testing {

// MakeSampleTree plus names that need VFAT long names or the NT case flags, a code page
// name, files of exactly 512/2048/4096 bytes, a multi-cluster file and an empty directory.
inline TreeFacts MakeFatTree(const fs::path& dir) {
  MakeSampleTree(dir);
  WriteFileBytes(dir / "A rather long file name with spaces.txt", "long name\n");
  WriteFileBytes(dir / "MiXeD.Case", "mixed\n");
  WriteFileBytes(dir / "\xc3\xbcn\xc3\xaf.txt", "code page 850 short name\n");
  WriteFileBytes(dir / "sizes/s512.bin", PseudoRandomBytes(11, 512));
  WriteFileBytes(dir / "sizes/s2048.bin", PseudoRandomBytes(12, 2048));
  WriteFileBytes(dir / "sizes/s4096.bin", PseudoRandomBytes(13, 4096));
  WriteFileBytes(dir / "sizes/a very long directory name/multi-cluster.bin",
                 PseudoRandomBytes(14, 300000));
  fs::create_directories(dir / "empty dir");
  return HashTree(dir);
}

// `mkfs.vfat -F <bits>` on a new image of `kib` KiB, then the contents of `src` copied in.
inline int MakeFatImage(int bits, const fs::path& src, const fs::path& img, int kib,
                        const std::string& extra = "") {
  return RunShell("rm -f " + img.string() + " && mkfs.vfat -C -F " + std::to_string(bits) + " " +
                  extra + " -n TESTVOL " + img.string() + " " + std::to_string(kib) +
                  " >/dev/null && cd " + src.string() +
                  " && LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 mcopy -s -Q -i " + img.string() +
                  " * ::/");
}

}  // namespace clearbox::testing
