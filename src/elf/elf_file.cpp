// ELF parsing: one code path for ELF32/ELF64 and both byte orders; every table read is
// bounds-checked against the file and every count is capped.
#include "elf/elf_file.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace clearbox::elf {
namespace {

constexpr std::uint8_t kClass32 = 1;
constexpr std::uint8_t kClass64 = 2;
constexpr std::uint8_t kData2Lsb = 1;
constexpr std::uint8_t kData2Msb = 2;
constexpr std::uint16_t kPnXnum = 0xffff;
constexpr std::uint16_t kShnXindex = 0xffff;
constexpr std::size_t kEhdrSize32 = 52;
constexpr std::size_t kEhdrSize64 = 64;
constexpr std::size_t kPhdrSize32 = 32;
constexpr std::size_t kPhdrSize64 = 56;
constexpr std::size_t kShdrSize32 = 40;
constexpr std::size_t kShdrSize64 = 64;
constexpr std::size_t kSymSize32 = 16;
constexpr std::size_t kSymSize64 = 24;
constexpr std::uint16_t kVersymHidden = 0x8000;

// The bytes [offset, offset + size) of `bytes`, if entirely inside it.
std::optional<ByteView> Slice(ByteView bytes, std::uint64_t offset, std::uint64_t size) {
  if (offset > bytes.size() || size > bytes.size() - offset) return std::nullopt;
  return bytes.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
}

// The NUL-terminated string at `offset` of `table` (to its end if unterminated).
std::optional<std::string_view> StringAt(ByteView table, std::uint64_t offset) {
  if (offset >= table.size()) return std::nullopt;
  const auto rest = AsText(table.subspan(static_cast<std::size_t>(offset)));
  return rest.substr(0, rest.find('\0'));
}

class Parser {
 public:
  explicit Parser(ElfFile& file) : f_(file) {}

  Result<void> Run() {
    CLEARBOX_TRY(ReadHeader());
    ReadSectionHeaders();
    CLEARBOX_TRY(ReadProgramHeaders());
    ReadInterpreter();
    ReadDynamic();
    ReadDynamicSymbols();
    ReadSymtab();
    ReadNotes();
    return {};
  }

 private:
  void Warn(std::string message) {
    if (f_.warnings.size() < kMaxWarnings) f_.warnings.push_back(std::move(message));
  }

  // Reads an address/offset-sized word (4 bytes in ELF32, 8 in ELF64).
  Result<std::uint64_t> Word(ByteReader& r) const {
    if (f_.bits == 64) return r.U64();
    auto v = r.U32();
    if (!v) return Forward(v);
    return std::uint64_t{*v};
  }

  Result<void> ReadHeader() {
    const ByteView b = f_.bytes;
    if (!HasBytesAt(b, 0,
                    "\x7f"
                    "ELF")) {
      return Fail(ErrorCode::kNotThisFormat, "no ELF magic");
    }
    if (b.size() < 16) return Fail(ErrorCode::kTruncated, "ELF identification cut short");
    const std::uint8_t cls = b[4];
    const std::uint8_t data = b[5];
    if (cls != kClass32 && cls != kClass64) {
      return Fail(ErrorCode::kMalformed, "unknown ELF class " + std::to_string(cls));
    }
    if (data != kData2Lsb && data != kData2Msb) {
      return Fail(ErrorCode::kMalformed, "unknown ELF data encoding " + std::to_string(data));
    }
    f_.bits = cls == kClass64 ? 64 : 32;
    f_.endian = data == kData2Lsb ? Endian::kLittle : Endian::kBig;
    f_.os_abi = b[7];
    const std::size_t ehdr_size = f_.bits == 64 ? kEhdrSize64 : kEhdrSize32;
    if (b.size() < ehdr_size) return Fail(ErrorCode::kTruncated, "ELF header cut short");
    ByteReader r(b, f_.endian);
    CLEARBOX_TRY(r.Seek(16));
    f_.type = *r.U16();
    f_.machine = *r.U16();
    (void)*r.U32();  // e_version
    f_.entry = *Word(r);
    phoff_ = *Word(r);
    shoff_ = *Word(r);
    f_.flags = *r.U32();
    (void)*r.U16();  // e_ehsize
    phentsize_ = *r.U16();
    phnum_ = *r.U16();
    shentsize_ = *r.U16();
    shnum_ = *r.U16();
    shstrndx_ = *r.U16();
    return {};
  }

  // Section headers are optional for loading, so damage here is a warning, not an error.
  void ReadSectionHeaders() {
    if (shoff_ == 0) return;
    const std::size_t entsize = f_.bits == 64 ? kShdrSize64 : kShdrSize32;
    if (shentsize_ != entsize) {
      Warn("section header size " + std::to_string(shentsize_) + " is not " +
           std::to_string(entsize) + "; sections ignored");
      return;
    }
    auto first = Slice(f_.bytes, shoff_, entsize);
    if (!first) {
      Warn("section header table lies outside the file; sections ignored");
      return;
    }
    const SectionHeader zero = ReadSection(*first).first;
    std::uint64_t count = shnum_;
    if (count == 0) count = zero.size;  // extended numbering: the count is in section 0
    std::uint32_t strndx = shstrndx_;
    if (strndx == kShnXindex) strndx = zero.link;
    if (phnum_ == kPnXnum) extended_phnum_ = zero.info;
    if (count > kMaxSections) {
      Warn("section count " + std::to_string(count) + " exceeds the cap; sections ignored");
      return;
    }
    auto table = Slice(f_.bytes, shoff_, count * entsize);
    if (!table) {
      Warn("section header table runs past the end of the file; sections ignored");
      return;
    }
    std::vector<std::uint32_t> name_offsets;
    f_.sections.reserve(static_cast<std::size_t>(count));
    name_offsets.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
      auto [section, name] = ReadSection(table->subspan(static_cast<std::size_t>(i * entsize)));
      f_.sections.push_back(section);
      name_offsets.push_back(name);
    }
    if (strndx != 0 && strndx < f_.sections.size()) {
      auto names = SectionBytes(f_.sections[strndx]);
      if (names) {
        for (std::size_t i = 0; i < f_.sections.size(); ++i) {
          f_.sections[i].name = StringAt(*names, name_offsets[i]).value_or("");
        }
      } else {
        Warn("section name table lies outside the file");
      }
    }
  }

  // One section header entry and the offset of its name in the section name table.
  std::pair<SectionHeader, std::uint32_t> ReadSection(ByteView raw) const {
    ByteReader r(raw, f_.endian);
    SectionHeader s;
    const std::uint32_t name = *r.U32();
    s.type = *r.U32();
    s.flags = *Word(r);
    s.addr = *Word(r);
    s.offset = *Word(r);
    s.size = *Word(r);
    s.link = *r.U32();
    s.info = *r.U32();
    s.addralign = *Word(r);
    s.entsize = *Word(r);
    return {s, name};
  }

  // The content of a section, if it has file content inside the file.
  std::optional<ByteView> SectionBytes(const SectionHeader& s) const {
    if (s.type == kShtNobits) return std::nullopt;
    return Slice(f_.bytes, s.offset, s.size);
  }

  Result<void> ReadProgramHeaders() {
    std::uint64_t count = phnum_ == kPnXnum ? extended_phnum_ : phnum_;
    if (count == 0 || phoff_ == 0) return {};
    const std::size_t entsize = f_.bits == 64 ? kPhdrSize64 : kPhdrSize32;
    if (phentsize_ != entsize) {
      return Fail(ErrorCode::kMalformed, "program header size " + std::to_string(phentsize_) +
                                             " is not " + std::to_string(entsize));
    }
    if (count > kMaxProgramHeaders) {
      return Fail(ErrorCode::kMalformed,
                  "program header count " + std::to_string(count) + " exceeds the cap");
    }
    auto table = Slice(f_.bytes, phoff_, count * entsize);
    if (!table) return Fail(ErrorCode::kTruncated, "program header table runs past the file");
    f_.segments.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
      ByteReader r(table->subspan(static_cast<std::size_t>(i * entsize)), f_.endian);
      ProgramHeader p;
      p.type = *r.U32();
      if (f_.bits == 64) {
        p.flags = *r.U32();
        p.offset = *r.U64();
        p.vaddr = *r.U64();
        (void)*r.U64();  // p_paddr
        p.filesz = *r.U64();
        p.memsz = *r.U64();
        p.align = *r.U64();
      } else {
        p.offset = *r.U32();
        p.vaddr = *r.U32();
        (void)*r.U32();  // p_paddr
        p.filesz = *r.U32();
        p.memsz = *r.U32();
        p.flags = *r.U32();
        p.align = *r.U32();
      }
      f_.segments.push_back(p);
    }
    return {};
  }

  void ReadInterpreter() {
    for (const auto& p : f_.segments) {
      if (p.type != kPtInterp) continue;
      auto bytes = Slice(f_.bytes, p.offset, p.filesz);
      if (!bytes) {
        Warn("PT_INTERP lies outside the file");
        return;
      }
      auto text = AsText(*bytes);
      f_.interpreter = text.substr(0, text.find('\0'));
      return;
    }
  }

  // The dynamic table: PT_DYNAMIC (what the loader reads), else the SHT_DYNAMIC section.
  void ReadDynamic() {
    std::optional<ByteView> table;
    bool present = false;
    for (const auto& p : f_.segments) {
      if (p.type != kPtDynamic) continue;
      present = true;
      table = Slice(f_.bytes, p.offset, p.filesz);
      break;
    }
    const SectionHeader* dynamic_section = nullptr;
    for (const auto& s : f_.sections) {
      if (s.type == kShtDynamic) {
        dynamic_section = &s;
        break;
      }
    }
    if (!table && dynamic_section != nullptr) {
      present = true;
      table = SectionBytes(*dynamic_section);
    }
    if (!present) return;
    if (!table) {
      Warn("dynamic table lies outside the file");
      return;
    }
    const std::size_t entsize = f_.bits == 64 ? 16 : 8;
    ByteReader r(*table, f_.endian);
    while (r.Remaining() >= entsize) {
      if (f_.dynamic.size() >= kMaxDynamicEntries) {
        Warn("dynamic table longer than the cap; truncated");
        break;
      }
      DynamicEntry e;
      e.tag = *Word(r);
      e.value = *Word(r);
      if (e.tag == kDtNull) break;
      f_.dynamic.push_back(e);
    }
    // The string table DT_STRTAB points at, else the one the .dynamic section links to.
    if (auto strtab = f_.DynamicValue(kDtStrtab)) {
      if (auto extent = MappedExtent(*strtab)) {
        std::uint64_t size = extent->second;
        if (auto strsz = f_.DynamicValue(kDtStrsz)) size = std::min(size, *strsz);
        f_.dynamic_strings = *Slice(f_.bytes, extent->first, size);
        return;
      }
    }
    if (dynamic_section != nullptr && dynamic_section->link < f_.sections.size()) {
      if (auto s = SectionBytes(f_.sections[dynamic_section->link])) {
        f_.dynamic_strings = *s;
        return;
      }
    }
    if (f_.HasDynamic(kDtStrtab)) Warn("dynamic string table not found in the file");
  }

  // File offset of `vaddr` and the number of file bytes its PT_LOAD segment holds from there.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> MappedExtent(std::uint64_t vaddr) const {
    for (const auto& p : f_.segments) {
      if (p.type != kPtLoad || vaddr < p.vaddr || vaddr - p.vaddr >= p.filesz) continue;
      const std::uint64_t delta = vaddr - p.vaddr;
      if (p.offset > f_.bytes.size() || delta > f_.bytes.size() - p.offset) continue;
      const std::uint64_t offset = p.offset + delta;
      const std::uint64_t available =
          std::min<std::uint64_t>(p.filesz - delta, f_.bytes.size() - offset);
      return std::make_pair(offset, available);
    }
    return std::nullopt;
  }

  std::vector<Symbol> ParseSymbols(ByteView table, std::uint64_t count, ByteView strings,
                                   const char* what) {
    std::vector<Symbol> out;
    const std::size_t entsize = f_.bits == 64 ? kSymSize64 : kSymSize32;
    count = std::min<std::uint64_t>(count, table.size() / entsize);
    if (count > kMaxSymbols) {
      Warn(std::string(what) + " has more symbols than the cap; truncated");
      count = kMaxSymbols;
    }
    out.reserve(static_cast<std::size_t>(count));
    bool bad_name = false;
    for (std::uint64_t i = 0; i < count; ++i) {
      ByteReader r(table.subspan(static_cast<std::size_t>(i * entsize), entsize), f_.endian);
      Symbol s;
      const std::uint32_t name = *r.U32();
      if (f_.bits == 64) {
        s.info = *r.U8();
        s.other = *r.U8();
        s.shndx = *r.U16();
        s.value = *r.U64();
        s.size = *r.U64();
      } else {
        s.value = *r.U32();
        s.size = *r.U32();
        s.info = *r.U8();
        s.other = *r.U8();
        s.shndx = *r.U16();
      }
      auto text = StringAt(strings, name);
      if (!text && name != 0) bad_name = true;
      s.name = text.value_or("");
      out.push_back(s);
    }
    if (bad_name) Warn(std::string(what) + ": symbol names outside the string table");
    return out;
  }

  void ReadDynamicSymbols() {
    const std::size_t entsize = f_.bits == 64 ? kSymSize64 : kSymSize32;
    const SectionHeader* dynsym = nullptr;
    for (const auto& s : f_.sections) {
      if (s.type == kShtDynsym) {
        dynsym = &s;
        break;
      }
    }
    if (dynsym != nullptr) {
      auto table = SectionBytes(*dynsym);
      if (table) {
        ByteView strings = f_.dynamic_strings;
        if (dynsym->link < f_.sections.size() && dynsym->link != 0) {
          if (auto s = SectionBytes(f_.sections[dynsym->link])) strings = *s;
        }
        f_.dynamic_symbols = ParseSymbols(*table, table->size() / entsize, strings, ".dynsym");
      } else {
        Warn(".dynsym lies outside the file");
      }
    } else if (auto symtab = f_.DynamicValue(kDtSymtab)) {
      // No section headers (e.g. sstrip'ed): the loader's view, sized by the hash table.
      auto extent = MappedExtent(*symtab);
      auto count = DynamicSymbolCount();
      if (extent && count) {
        auto table = *Slice(f_.bytes, extent->first, extent->second);
        f_.dynamic_symbols = ParseSymbols(table, *count, f_.dynamic_strings, "DT_SYMTAB");
      } else {
        Warn("DT_SYMTAB present but its symbols cannot be located or counted");
      }
    }
    ReadVersions(dynsym);
  }

  // Number of dynamic symbols from DT_HASH (nchain) or DT_GNU_HASH (highest chain end).
  std::optional<std::uint64_t> DynamicSymbolCount() const {
    if (auto hash = f_.DynamicValue(kDtHash)) {
      if (auto extent = MappedExtent(*hash); extent && extent->second >= 8) {
        return *ReadU32At(f_.bytes, extent->first + 4, f_.endian);
      }
    }
    auto gnu = f_.DynamicValue(kDtGnuHash);
    if (!gnu) return std::nullopt;
    auto extent = MappedExtent(*gnu);
    if (!extent || extent->second < 16) return std::nullopt;
    auto area = *Slice(f_.bytes, extent->first, extent->second);
    const std::uint64_t nbuckets = LoadU32(area.data(), f_.endian);
    const std::uint64_t symoffset = LoadU32(area.data() + 4, f_.endian);
    const std::uint64_t bloom_size = LoadU32(area.data() + 8, f_.endian);
    const std::uint64_t word = f_.bits == 64 ? 8 : 4;
    const std::uint64_t buckets_at = 16 + bloom_size * word;
    if (bloom_size > area.size() || nbuckets > area.size() ||
        buckets_at + nbuckets * 4 > area.size()) {
      return std::nullopt;
    }
    std::uint64_t max_index = 0;
    for (std::uint64_t i = 0; i < nbuckets; ++i) {
      max_index =
          std::max<std::uint64_t>(max_index, LoadU32(area.data() + buckets_at + i * 4, f_.endian));
    }
    if (max_index < symoffset) return symoffset;
    const std::uint64_t chains_at = buckets_at + nbuckets * 4;
    for (std::uint64_t index = max_index;; ++index) {
      const std::uint64_t at = chains_at + (index - symoffset) * 4;
      if (at + 4 > area.size() || index - max_index > kMaxSymbols) return std::nullopt;
      if (LoadU32(area.data() + at, f_.endian) & 1) return index + 1;
    }
  }

  void ReadVersions(const SectionHeader* dynsym) {
    if (f_.dynamic_symbols.empty()) return;
    std::optional<ByteView> versym;
    for (const auto& s : f_.sections) {
      if (s.type == kShtGnuVersym) {
        versym = SectionBytes(s);
        break;
      }
    }
    if (!versym && dynsym == nullptr) {
      if (auto v = f_.DynamicValue(kDtVersym)) {
        if (auto extent = MappedExtent(*v)) versym = Slice(f_.bytes, extent->first, extent->second);
      }
    }
    if (!versym) return;
    const std::size_t n = std::min(f_.dynamic_symbols.size(), versym->size() / 2);
    for (std::size_t i = 0; i < n; ++i) {
      f_.dynamic_symbols[i].hidden_version =
          (LoadU16(versym->data() + i * 2, f_.endian) & kVersymHidden) != 0;
    }
  }

  void ReadSymtab() {
    const std::size_t entsize = f_.bits == 64 ? kSymSize64 : kSymSize32;
    for (const auto& s : f_.sections) {
      if (s.type != kShtSymtab) continue;
      f_.has_symtab = true;
      auto table = SectionBytes(s);
      if (!table) {
        Warn(".symtab lies outside the file");
        return;
      }
      ByteView strings;
      if (s.link < f_.sections.size())
        strings = SectionBytes(f_.sections[s.link]).value_or(ByteView{});
      f_.symtab_symbols = ParseSymbols(*table, table->size() / entsize, strings, ".symtab");
      return;
    }
  }

  void ReadNoteArea(ByteView area, std::uint64_t align) {
    align = align == 8 ? 8 : 4;
    std::uint64_t pos = 0;
    while (area.size() - pos >= 12) {
      if (f_.notes.size() >= kMaxNotes) {
        Warn("more notes than the cap; rest ignored");
        return;
      }
      const std::uint64_t namesz = LoadU32(area.data() + pos, f_.endian);
      const std::uint64_t descsz = LoadU32(area.data() + pos + 4, f_.endian);
      const std::uint32_t type = LoadU32(area.data() + pos + 8, f_.endian);
      const std::uint64_t name_at = pos + 12;
      const std::uint64_t desc_at = (name_at + namesz + align - 1) / align * align;
      if (namesz > area.size() || descsz > area.size() || desc_at + descsz > area.size()) {
        Warn("note runs past its segment or section");
        return;
      }
      Note n;
      auto name =
          AsText(area.subspan(static_cast<std::size_t>(name_at), static_cast<std::size_t>(namesz)));
      n.name = name.substr(0, name.find('\0'));
      n.type = type;
      n.desc = area.subspan(static_cast<std::size_t>(desc_at), static_cast<std::size_t>(descsz));
      n.align = align;
      f_.notes.push_back(n);
      pos = (desc_at + descsz + align - 1) / align * align;
      if (pos > area.size()) return;
    }
  }

  // Notes from PT_NOTE segments; else PT_GNU_PROPERTY; else SHT_NOTE sections (objects).
  void ReadNotes() {
    bool any = false;
    for (std::uint32_t wanted : {kPtNote, kPtGnuProperty}) {
      for (const auto& p : f_.segments) {
        if (p.type != wanted) continue;
        any = true;
        if (auto area = Slice(f_.bytes, p.offset, p.filesz)) {
          ReadNoteArea(*area, p.align);
        } else {
          Warn("note segment lies outside the file");
        }
      }
      if (any) return;
    }
    for (const auto& s : f_.sections) {
      if (s.type != kShtNote) continue;
      if (auto area = SectionBytes(s)) ReadNoteArea(*area, s.addralign);
    }
  }

  ElfFile& f_;
  std::uint64_t phoff_ = 0;
  std::uint64_t shoff_ = 0;
  std::uint16_t phentsize_ = 0;
  std::uint16_t phnum_ = 0;
  std::uint16_t shentsize_ = 0;
  std::uint16_t shnum_ = 0;
  std::uint16_t shstrndx_ = 0;
  std::uint64_t extended_phnum_ = 0;
};

}  // namespace

std::optional<std::string_view> ElfFile::DynamicString(std::uint64_t offset) const {
  return StringAt(dynamic_strings, offset);
}

std::optional<std::uint64_t> ElfFile::FileOffsetOf(std::uint64_t vaddr, std::uint64_t size) const {
  for (const auto& p : segments) {
    if (p.type != kPtLoad || vaddr < p.vaddr || vaddr - p.vaddr > p.filesz) continue;
    const std::uint64_t delta = vaddr - p.vaddr;
    if (size > p.filesz - delta || p.offset > bytes.size() || delta > bytes.size() - p.offset) {
      continue;
    }
    if (!Slice(bytes, p.offset + delta, size)) continue;
    return p.offset + delta;
  }
  return std::nullopt;
}

bool ElfFile::HasDynamic(std::uint64_t tag) const {
  return std::any_of(dynamic.begin(), dynamic.end(),
                     [tag](const DynamicEntry& e) { return e.tag == tag; });
}

std::optional<std::uint64_t> ElfFile::DynamicValue(std::uint64_t tag) const {
  for (const auto& e : dynamic) {
    if (e.tag == tag) return e.value;
  }
  return std::nullopt;
}

Result<ElfFile> ParseElf(ByteView bytes) {
  ElfFile file;
  file.bytes = bytes;
  Parser parser(file);
  CLEARBOX_TRY(parser.Run());
  return file;
}

}  // namespace clearbox::elf
