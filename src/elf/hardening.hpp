// Hardening report of one ELF binary: type, architecture, NX, PIE, RELRO, stack canary,
// FORTIFY_SOURCE, RPATH/RUNPATH, symbols, CET properties and the dynamic dependencies.
// Semantics follow Debian's checksec 2.6 where it is right; docs/architecture.md (src/elf)
// lists the deliberate differences.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/byte_reader.hpp"
#include "core/result.hpp"
#include "elf/elf_file.hpp"

namespace clearbox::elf {

// FORTIFY_SOURCE counts over the binary's imported dynamic symbols:
//   fortified   = imports named __X_chk for X in the libc's catalogue,
//   fortifiable = fortified + imports named exactly X for X in the catalogue.
// verdict: "n/a" when fortifiable == 0 (nothing the libc can fortify is called, or the libc
// offers no __*_chk functions, e.g. musl); "yes" when every fortifiable import is fortified;
// "partial" when some are (usual for -D_FORTIFY_SOURCE builds: calls whose buffer size is
// unknown at compile time stay plain); "no" when none is.
struct FortifyReport {
  std::uint32_t fortified = 0;
  std::uint32_t fortifiable = 0;
  std::string verdict = "n/a";
};

// Everything we report on one ELF binary.
struct BinaryReport {
  std::string arch;    // "x86-64", "x86", "arm", "aarch64", "mips", "mips64", "powerpc",
                       // "powerpc64", "riscv32", "riscv64", or "unknown-<e_machine>"
  int bits = 0;        // 32 or 64
  std::string endian;  // "little" or "big"
  std::string type;    // "exec", "pie", "shared", "relocatable", "core", "other"
  bool nx = false;     // PT_GNU_STACK present and not executable
  bool pie = false;    // ET_DYN with DT_DEBUG or DF_1_PIE (an executable, not a library)
  bool canary =
      false;  // a symbol naming __stack_chk_fail/__stack_chk_guard/__intel_security_cookie
  bool stripped = false;  // no SHT_SYMTAB section
  bool ibt = false;       // x86 GNU property IBT (from .note.gnu.property)
  bool shstk = false;     // x86 GNU property SHSTK
  bool bti = false;       // AArch64 GNU property BTI
  bool pac = false;       // AArch64 GNU property PAC
  std::string relro;      // "none", "partial" (PT_GNU_RELRO), "full" (and BIND_NOW)
  FortifyReport fortify;
  std::vector<std::string> rpath, runpath, needed;  // paths split at ':'; needed in order
  std::string interpreter, soname;
  std::vector<std::string> warnings;  // parser warnings (damage skipped)
};

// Names a libc offers in fortified form: X for which the libc defines __X_chk.
class FortifyCatalog {
 public:
  // Reads the defined, default-version __X_chk dynamic symbols of a libc ELF.
  // kNotThisFormat if not ELF, kMalformed if it has no dynamic symbols at all.
  static Result<FortifyCatalog> FromLibc(ByteView libc_bytes);
  // The glibc 2.36 list, for images in which no libc is found.
  static const FortifyCatalog& Default();

  FortifyCatalog() = default;
  // A catalogue of plain names (e.g. "memcpy"); sorted and deduplicated here.
  explicit FortifyCatalog(std::vector<std::string> names);

  bool Contains(std::string_view name) const;
  const std::vector<std::string>& Names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

// The architecture name of an e_machine value for a given class (bits).
std::string ArchitectureName(std::uint16_t machine, int bits);

// Analyses an already parsed ELF. Pure; thread-safe.
BinaryReport AnalyzeElfFile(const ElfFile& file, const FortifyCatalog& libc);

// Parses and analyses one ELF; errors as ParseElf. Thread-safe (no shared mutable state).
Result<BinaryReport> AnalyzeElf(ByteView bytes, const FortifyCatalog& libc);

// Chooses the libc of an unpacked tree among relative paths: glibc libc.so.6, then old
// glibc libc-2.x.so, then uClibc libc.so.0 / libuClibc-*.so, then musl ld-musl-*.so.1 /
// libc.musl-*.so.1; within a kind the shallowest non-debug path, then the smallest path.
// nullopt when none. Only names are looked at: the caller reads (and resolves) the file.
std::optional<std::string> FindLibcPath(std::span<const std::string> paths);

// The report as a JSON object with stable keys (see BinaryReport).
nlohmann::json ReportToJson(const BinaryReport& report);

}  // namespace clearbox::elf
