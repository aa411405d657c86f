#include "identify/elf_dynamic.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace clearbox::identify {
namespace {

constexpr std::uint32_t kPtLoad = 1;
constexpr std::uint32_t kPtDynamic = 2;
constexpr std::uint64_t kDtNull = 0;
constexpr std::uint64_t kDtNeeded = 1;
constexpr std::uint64_t kDtStrtab = 5;
constexpr std::uint64_t kDtStrsz = 10;
constexpr std::uint64_t kDtSoname = 14;

struct Segment {
  std::uint32_t type = 0;
  std::uint64_t offset = 0, vaddr = 0, filesz = 0;
};

// Reads a 32- or 64-bit unsigned word at `offset`.
std::optional<std::uint64_t> Word(ByteView bytes, std::uint64_t offset, bool is64, Endian e) {
  if (offset > bytes.size()) return std::nullopt;
  if (is64) {
    auto v = ReadU64At(bytes, static_cast<std::size_t>(offset), e);
    return v ? std::optional<std::uint64_t>(*v) : std::nullopt;
  }
  auto v = ReadU32At(bytes, static_cast<std::size_t>(offset), e);
  return v ? std::optional<std::uint64_t>(*v) : std::nullopt;
}

}  // namespace

ElfDynamicInfo ReadElfDynamicInfo(ByteView bytes) {
  ElfDynamicInfo info;
  if (bytes.size() < 52 || !HasBytesAt(bytes, 0,
                                       "\x7f"
                                       "ELF"))
    return info;
  const std::uint8_t cls = bytes[4], data = bytes[5];
  if ((cls != 1 && cls != 2) || (data != 1 && data != 2)) return info;
  const bool is64 = cls == 2;
  const Endian e = data == 1 ? Endian::kLittle : Endian::kBig;
  if (is64 && bytes.size() < 64) return info;
  const auto phoff = Word(bytes, is64 ? 32 : 28, is64, e);
  const auto phentsize = ReadU16At(bytes, is64 ? 54 : 42, e);
  const auto phnum = ReadU16At(bytes, is64 ? 56 : 44, e);
  if (!phoff || !phentsize || !phnum) return info;
  info.is_elf = true;
  const std::uint64_t min_entsize = is64 ? 56 : 32;
  if (*phentsize < min_entsize || *phnum > kMaxProgramHeaders) return info;
  std::vector<Segment> segments;
  for (std::uint64_t i = 0; i < *phnum; ++i) {
    const std::uint64_t at = *phoff + i * *phentsize;
    if (at < *phoff || at > bytes.size() || bytes.size() - at < min_entsize) break;
    Segment s;
    auto type = ReadU32At(bytes, static_cast<std::size_t>(at), e);
    if (!type) break;
    s.type = *type;
    // Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz; Elf32_Phdr: type, offset, vaddr,
    // paddr, filesz.
    auto offset = Word(bytes, at + (is64 ? 8 : 4), is64, e);
    auto vaddr = Word(bytes, at + (is64 ? 16 : 8), is64, e);
    auto filesz = Word(bytes, at + (is64 ? 32 : 16), is64, e);
    if (!offset || !vaddr || !filesz) break;
    s.offset = *offset;
    s.vaddr = *vaddr;
    s.filesz = *filesz;
    segments.push_back(s);
  }
  const Segment* dynamic = nullptr;
  for (const auto& s : segments) {
    if (s.type == kPtDynamic) dynamic = &s;
  }
  if (!dynamic || dynamic->offset > bytes.size()) return info;
  const std::uint64_t entsize = is64 ? 16 : 8;
  const std::uint64_t available =
      std::min<std::uint64_t>(dynamic->filesz, bytes.size() - dynamic->offset);
  std::uint64_t strtab = 0, strsz = 0;
  bool have_strtab = false;
  std::vector<std::uint64_t> needed_offsets;
  std::optional<std::uint64_t> soname_offset;
  for (std::uint64_t i = 0; i < available / entsize && i < kMaxDynamicEntries; ++i) {
    const std::uint64_t at = dynamic->offset + i * entsize;
    auto tag = Word(bytes, at, is64, e);
    auto val = Word(bytes, at + entsize / 2, is64, e);
    if (!tag || !val || *tag == kDtNull) break;
    if (*tag == kDtNeeded && needed_offsets.size() < kMaxNeeded) needed_offsets.push_back(*val);
    if (*tag == kDtSoname) soname_offset = *val;
    if (*tag == kDtStrtab) {
      strtab = *val;
      have_strtab = true;
    }
    if (*tag == kDtStrsz) strsz = *val;
  }
  if (!have_strtab) return info;
  // DT_STRTAB is an address: map it to a file offset through the PT_LOAD segments.
  std::optional<std::uint64_t> strtab_offset;
  for (const auto& s : segments) {
    if (s.type == kPtLoad && strtab >= s.vaddr && strtab - s.vaddr < s.filesz) {
      strtab_offset = s.offset + (strtab - s.vaddr);
      break;
    }
  }
  if (!strtab_offset || *strtab_offset >= bytes.size()) return info;
  const std::uint64_t table_end =
      strsz ? std::min<std::uint64_t>(bytes.size(), *strtab_offset + strsz) : bytes.size();
  auto name_at = [&](std::uint64_t rel) -> std::string {
    const std::uint64_t start = *strtab_offset + rel;
    if (rel >= table_end || start >= table_end) return {};
    std::string out;
    for (std::uint64_t p = start; p < table_end && out.size() < kMaxDynamicNameBytes; ++p) {
      const char c = static_cast<char>(bytes[static_cast<std::size_t>(p)]);
      if (c == '\0') return out;
      out.push_back(c);
    }
    return {};  // unterminated
  };
  for (std::uint64_t rel : needed_offsets) {
    std::string name = name_at(rel);
    if (!name.empty()) info.needed.push_back(std::move(name));
  }
  if (soname_offset) info.soname = name_at(*soname_offset);
  return info;
}

}  // namespace clearbox::identify
