// ElfFile: a bounds-checked, read-only view of one ELF object (ELF32/ELF64, little or big
// endian) with the tables the hardening checks need: segments, sections, the dynamic table,
// dynamic and static symbols, notes and the interpreter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox::elf {

// e_type values.
inline constexpr std::uint16_t kEtRel = 1;
inline constexpr std::uint16_t kEtExec = 2;
inline constexpr std::uint16_t kEtDyn = 3;
inline constexpr std::uint16_t kEtCore = 4;

// e_machine values of the architectures we name.
inline constexpr std::uint16_t kEmX86 = 3;
inline constexpr std::uint16_t kEmMips = 8;
inline constexpr std::uint16_t kEmMipsRs3Le = 10;
inline constexpr std::uint16_t kEmPpc = 20;
inline constexpr std::uint16_t kEmPpc64 = 21;
inline constexpr std::uint16_t kEmArm = 40;
inline constexpr std::uint16_t kEmX86_64 = 62;
inline constexpr std::uint16_t kEmAarch64 = 183;
inline constexpr std::uint16_t kEmRiscv = 243;

// Program header (segment) types and flags.
inline constexpr std::uint32_t kPtLoad = 1;
inline constexpr std::uint32_t kPtDynamic = 2;
inline constexpr std::uint32_t kPtInterp = 3;
inline constexpr std::uint32_t kPtNote = 4;
inline constexpr std::uint32_t kPtGnuStack = 0x6474e551;
inline constexpr std::uint32_t kPtGnuRelro = 0x6474e552;
inline constexpr std::uint32_t kPtGnuProperty = 0x6474e553;
inline constexpr std::uint32_t kPfX = 1;
inline constexpr std::uint32_t kPfW = 2;
inline constexpr std::uint32_t kPfR = 4;

// Section types.
inline constexpr std::uint32_t kShtNull = 0;
inline constexpr std::uint32_t kShtSymtab = 2;
inline constexpr std::uint32_t kShtStrtab = 3;
inline constexpr std::uint32_t kShtDynamic = 6;
inline constexpr std::uint32_t kShtNote = 7;
inline constexpr std::uint32_t kShtNobits = 8;
inline constexpr std::uint32_t kShtDynsym = 11;
inline constexpr std::uint32_t kShtGnuVersym = 0x6fffffff;

// Section flags, the first reserved section index, note types of "GNU" notes, symbol types.
inline constexpr std::uint64_t kShfAlloc = 0x2;
inline constexpr std::uint64_t kShfExecInstr = 0x4;
inline constexpr std::uint16_t kShnLoReserve = 0xff00;
inline constexpr std::uint32_t kNtGnuBuildId = 3;
inline constexpr std::uint32_t kNtGnuPropertyType0 = 5;
inline constexpr std::uint8_t kSttFunc = 2;
inline constexpr std::uint8_t kSttFile = 4;
inline constexpr std::uint8_t kSttGnuIfunc = 10;

// Dynamic tags and flags.
inline constexpr std::uint64_t kDtNull = 0;
inline constexpr std::uint64_t kDtNeeded = 1;
inline constexpr std::uint64_t kDtHash = 4;
inline constexpr std::uint64_t kDtStrtab = 5;
inline constexpr std::uint64_t kDtSymtab = 6;
inline constexpr std::uint64_t kDtStrsz = 10;
inline constexpr std::uint64_t kDtSyment = 11;
inline constexpr std::uint64_t kDtSoname = 14;
inline constexpr std::uint64_t kDtRpath = 15;
inline constexpr std::uint64_t kDtDebug = 21;
inline constexpr std::uint64_t kDtBindNow = 24;
inline constexpr std::uint64_t kDtRunpath = 29;
inline constexpr std::uint64_t kDtFlags = 30;
inline constexpr std::uint64_t kDtGnuHash = 0x6ffffef5;
inline constexpr std::uint64_t kDtVersym = 0x6ffffff0;
inline constexpr std::uint64_t kDtFlags1 = 0x6ffffffb;
inline constexpr std::uint64_t kDfBindNow = 0x8;
inline constexpr std::uint64_t kDf1Now = 0x1;
inline constexpr std::uint64_t kDf1Pie = 0x08000000;

// Caps on hostile counts (each far above what real toolchains emit).
inline constexpr std::size_t kMaxProgramHeaders = 65535;
inline constexpr std::size_t kMaxSections = 1 << 18;
inline constexpr std::size_t kMaxDynamicEntries = 1 << 16;
inline constexpr std::size_t kMaxSymbols = 1 << 22;
inline constexpr std::size_t kMaxNotes = 4096;
inline constexpr std::size_t kMaxWarnings = 64;

// One program header.
struct ProgramHeader {
  std::uint32_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  std::uint64_t align = 0;
};

// One section header; `name` points into the file (empty when unreadable).
struct SectionHeader {
  std::string_view name;
  std::uint32_t type = 0;
  std::uint64_t flags = 0;
  std::uint64_t addr = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t addralign = 0;
  std::uint64_t entsize = 0;
};

// One dynamic table entry.
struct DynamicEntry {
  std::uint64_t tag = 0;
  std::uint64_t value = 0;
};

// One symbol; `name` points into the file. `hidden_version` is set when the symbol's
// version (GNU versym) is a non-default one (shown as name@VER, not name@@VER).
struct Symbol {
  std::string_view name;
  std::uint64_t value = 0;
  std::uint64_t size = 0;
  std::uint8_t info = 0;
  std::uint8_t other = 0;
  std::uint16_t shndx = 0;
  bool hidden_version = false;
  bool IsUndefined() const { return shndx == 0; }
};

// One note (from PT_NOTE segments, or SHT_NOTE sections when there are no note segments).
struct Note {
  std::string_view name;  // without the terminating NUL
  std::uint32_t type = 0;
  ByteView desc;
  std::uint64_t align = 4;  // 4, or 8 for 8-aligned notes (.note.gnu.property on ELF64)
};

// A parsed ELF object. Borrows `bytes`: every view in it points into the caller's buffer,
// which must outlive the ElfFile.
struct ElfFile {
  ByteView bytes;
  int bits = 0;  // 32 or 64
  Endian endian = Endian::kLittle;
  std::uint8_t os_abi = 0;
  std::uint16_t type = 0;
  std::uint16_t machine = 0;
  std::uint32_t flags = 0;
  std::uint64_t entry = 0;
  std::vector<ProgramHeader> segments;
  std::vector<SectionHeader> sections;
  std::vector<DynamicEntry> dynamic;  // up to (not including) DT_NULL
  ByteView dynamic_strings;           // the string table DT_STRTAB points at
  std::vector<Symbol> dynamic_symbols;
  bool has_symtab = false;  // a SHT_SYMTAB section exists (not stripped)
  std::vector<Symbol> symtab_symbols;
  std::optional<std::string_view> interpreter;  // PT_INTERP, without the NUL
  std::vector<Note> notes;
  std::vector<std::string> warnings;  // damage met and skipped (at most kMaxWarnings)

  // The NUL-terminated string at `offset` of the dynamic string table, if inside it.
  std::optional<std::string_view> DynamicString(std::uint64_t offset) const;
  // The file offset of virtual address `vaddr` through the PT_LOAD segments, if mapped
  // from the file for at least `size` bytes.
  std::optional<std::uint64_t> FileOffsetOf(std::uint64_t vaddr, std::uint64_t size) const;
  // True if the dynamic table has an entry with `tag`.
  bool HasDynamic(std::uint64_t tag) const;
  // The value of the first dynamic entry with `tag`.
  std::optional<std::uint64_t> DynamicValue(std::uint64_t tag) const;
};

// Parses an ELF object. kNotThisFormat when the bytes do not start with the ELF magic;
// kMalformed for an unknown class/encoding or impossible header sizes; kTruncated when
// the ELF or program header table is cut. Damage further in (bad sections, symbols, notes,
// dynamic table) is skipped and recorded in `warnings`.
Result<ElfFile> ParseElf(ByteView bytes);

}  // namespace clearbox::elf
