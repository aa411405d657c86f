// ELF-aware comparison: the loaded image (PT_LOAD segments, or the allocated sections of a
// relocatable object) compared byte for byte after masking only the ranges a tolerated class
// explains; unloaded sections compared by name.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "elf/elf_file.hpp"
#include "equiv/comparison_recorder.hpp"
#include "equiv/file_compare.hpp"

namespace clearbox::equiv {
namespace {

using elf::kNtGnuBuildId;
using elf::kShfAlloc;
using elf::kShfExecInstr;
using elf::kShnLoReserve;
using elf::kShtNull;
using elf::kSttFile;
using elf::kSttFunc;
using elf::kSttGnuIfunc;

std::string Hex(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
  return buffer;
}

// A file range a tolerated class explains on one side.
struct MaskRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  ToleratedClass tolerated_class = ToleratedClass::kBuildId;
  std::string where;
};

// The masked ranges of one side, sorted by start.
class Masks {
 public:
  void Add(MaskRange range) { ranges_.push_back(std::move(range)); }
  void Sort() {
    std::sort(ranges_.begin(), ranges_.end(),
              [](const MaskRange& a, const MaskRange& b) { return a.begin < b.begin; });
  }
  // The range holding file offset `offset`, if any.
  const MaskRange* Find(std::uint64_t offset) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), offset,
                               [](std::uint64_t o, const MaskRange& r) { return o < r.begin; });
    // Ranges rarely overlap; a few steps back find any that still covers `offset`.
    for (std::size_t steps = 0; it != ranges_.begin() && steps < 8; ++steps) {
      --it;
      if (offset < it->end) return &*it;
    }
    return nullptr;
  }

 private:
  std::vector<MaskRange> ranges_;
};

// Function symbols of one side, for naming the function that holds an address.
class FunctionIndex {
 public:
  explicit FunctionIndex(const elf::ElfFile& file) {
    const auto& symbols = file.symtab_symbols.empty() ? file.dynamic_symbols : file.symtab_symbols;
    for (const auto& symbol : symbols) {
      const std::uint8_t type = symbol.info & 0xf;
      if ((type != kSttFunc && type != kSttGnuIfunc) || symbol.size == 0 || symbol.name.empty() ||
          symbol.IsUndefined()) {
        continue;
      }
      if (symbol.value > UINT64_MAX - symbol.size) continue;
      entries_.push_back({symbol.shndx, symbol.value, symbol.value + symbol.size, symbol.name});
    }
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.start, a.end, a.name) < std::tie(b.start, b.end, b.name);
    });
  }
  bool empty() const { return entries_.empty(); }
  // The function holding `address` (in section `shndx` when `by_section`), or "".
  std::string_view At(std::uint64_t address, bool by_section, std::uint32_t shndx) const {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), address,
                               [](std::uint64_t a, const Entry& e) { return a < e.start; });
    // Walk back over the few entries that start at or before `address`.
    for (std::size_t steps = 0; it != entries_.begin() && steps < 64; ++steps) {
      --it;
      if (address < it->end && (!by_section || it->shndx == shndx)) return it->name;
    }
    return {};
  }

 private:
  struct Entry {
    std::uint16_t shndx;
    std::uint64_t start;
    std::uint64_t end;
    std::string_view name;
  };
  std::vector<Entry> entries_;
};

// A stretch of bytes the two sides must agree on: a PT_LOAD segment's file bytes or an
// allocated section of a relocatable object.
struct Region {
  std::uint64_t offset_a = 0;
  std::uint64_t offset_b = 0;
  std::uint64_t size = 0;
  std::uint64_t address_a = 0;  // address of the first byte (section-relative for ET_REL)
  std::uint64_t address_b = 0;
  bool by_section = false;  // ET_REL: function symbols are relative to shndx
  bool executable = false;  // the rebuilt side maps it executable (PF_X / SHF_EXECINSTR)
  std::uint32_t shndx_a = 0;
  std::uint32_t shndx_b = 0;
  std::string fallback_where;  // where, when no section holds an address
};

// The allocated sections of one side by address, for saying where a byte is.
class SectionIndex {
 public:
  explicit SectionIndex(const elf::ElfFile& file) {
    for (const auto& section : file.sections) {
      if ((section.flags & kShfAlloc) == 0 || section.size == 0 || section.name.empty()) continue;
      if (section.addr > UINT64_MAX - section.size) continue;
      entries_.push_back({section.addr, section.addr + section.size, section.name,
                          (section.flags & kShfExecInstr) != 0});
    }
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.start < b.start; });
  }
  std::string_view At(std::uint64_t address) const {
    const Entry* entry = Find(address);
    return entry != nullptr ? entry->name : std::string_view{};
  }
  // Whether the section holding `address` is executable; nullopt when no section holds it.
  std::optional<bool> ExecutableAt(std::uint64_t address) const {
    const Entry* entry = Find(address);
    return entry != nullptr ? std::optional<bool>(entry->executable) : std::nullopt;
  }

 private:
  struct Entry {
    std::uint64_t start;
    std::uint64_t end;
    std::string_view name;
    bool executable;
  };
  const Entry* Find(std::uint64_t address) const {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), address,
                               [](std::uint64_t a, const Entry& e) { return a < e.start; });
    for (std::size_t steps = 0; it != entries_.begin() && steps < 64; ++steps) {
      --it;
      if (address < it->end) return &*it;
    }
    return nullptr;
  }
  std::vector<Entry> entries_;
};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// True when `text` at `at` holds a __DATE__ string "Mmm dd yyyy".
bool IsDateAt(std::string_view text, std::size_t at) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (at + 11 > text.size()) return false;
  const std::string_view s = text.substr(at, 11);
  if (std::find(kMonths.begin(), kMonths.end(), s.substr(0, 3)) == kMonths.end()) return false;
  return s[3] == ' ' && (s[4] == ' ' || IsDigit(s[4])) && IsDigit(s[5]) && s[6] == ' ' &&
         IsDigit(s[7]) && IsDigit(s[8]) && IsDigit(s[9]) && IsDigit(s[10]);
}

// True when `text` at `at` holds a __TIME__ string "hh:mm:ss".
bool IsTimeAt(std::string_view text, std::size_t at) {
  if (at + 8 > text.size()) return false;
  const std::string_view s = text.substr(at, 8);
  return s[0] >= '0' && s[0] <= '2' && IsDigit(s[1]) && s[2] == ':' && s[3] >= '0' && s[3] <= '5' &&
         IsDigit(s[4]) && s[5] == ':' && s[6] >= '0' && s[6] <= '6' && IsDigit(s[7]);
}

// Positions of `text` inside a date- or time-shaped window.
std::vector<bool> TimestampCover(std::string_view text) {
  std::vector<bool> covered(text.size(), false);
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::size_t length = IsDateAt(text, i) ? 11 : IsTimeAt(text, i) ? 8 : 0;
    for (std::size_t k = 0; k < length; ++k) covered[i + k] = true;
  }
  return covered;
}

bool IsPrintable(std::uint8_t c) {
  return c >= 0x20 && c < 0x7f;
}
bool IsPathChar(char c) {
  return IsPrintable(static_cast<std::uint8_t>(c)) && c != ' ';
}

// How a differing run inside a string is explained: the string's bounds and the classes used
// (a `__DATE__ " from " __FILE__` string needs both).
struct StringExplanation {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool timestamp = false;
  bool path = false;
};

// True when the differing bytes of `sa`/`sb` inside the path-character token around `at` lie
// in its directory part: the token starts with '/' on both sides and a '/' follows the last
// differing byte in it. Sets `*token_end` to the end of the token.
bool InDirectoryPart(std::string_view sa, std::string_view sb, std::size_t at,
                     std::size_t* token_end) {
  std::size_t token_begin = at;
  while (token_begin > 0 && IsPathChar(sa[token_begin - 1]) && IsPathChar(sb[token_begin - 1])) {
    --token_begin;
  }
  std::size_t end = at;
  while (end < sa.size() && IsPathChar(sa[end]) && IsPathChar(sb[end])) ++end;
  *token_end = end;
  if (end == at || sa[token_begin] != '/' || sb[token_begin] != '/') return false;
  std::size_t last_differing = at;
  for (std::size_t i = at; i < end; ++i) {
    if (sa[i] != sb[i]) last_differing = i;
  }
  return sa.substr(last_differing + 1, end - last_differing - 1).find('/') !=
         std::string_view::npos;
}

// Explains the differing bytes [first, last] of two equal-size byte ranges as build path and
// timestamp text: both sides hold NUL-terminated printable strings at the same place and of
// the same length, and every differing byte lies in a date/time window on both sides
// (timestamp) or in the directory part of an absolute path whose file part is the same (build
// path).
std::optional<StringExplanation> ExplainAsString(const std::uint8_t* a, const std::uint8_t* b,
                                                 std::size_t size, std::size_t first,
                                                 std::size_t last, const Tolerances& tolerances) {
  std::size_t begin = first;
  while (begin > 0 && a[begin - 1] != 0 && b[begin - 1] != 0) {
    if (first - begin >= kMaxStringLength) return std::nullopt;
    --begin;
  }
  if (begin > 0 && (a[begin - 1] != 0 || b[begin - 1] != 0)) return std::nullopt;
  std::size_t end = last + 1;
  while (end < size && a[end] != 0 && b[end] != 0) {
    if (end - last >= kMaxStringLength) return std::nullopt;
    ++end;
  }
  if (end >= size || a[end] != 0 || b[end] != 0) return std::nullopt;
  for (std::size_t i = begin; i < end; ++i) {
    if (!IsPrintable(a[i]) || !IsPrintable(b[i])) return std::nullopt;
  }
  const std::string_view sa(reinterpret_cast<const char*>(a + begin), end - begin);
  const std::string_view sb(reinterpret_cast<const char*>(b + begin), end - begin);
  const bool timestamps = tolerances.Allows(ToleratedClass::kBuildTimestamp);
  const bool paths = tolerances.Allows(ToleratedClass::kBuildPath);
  const auto cover_a = timestamps ? TimestampCover(sa) : std::vector<bool>(sa.size(), false);
  const auto cover_b = timestamps ? TimestampCover(sb) : std::vector<bool>(sb.size(), false);
  StringExplanation explanation{begin, end};
  std::size_t i = 0;
  while (i < sa.size()) {
    if (sa[i] == sb[i]) {
      ++i;
    } else if (cover_a[i] && cover_b[i]) {
      explanation.timestamp = true;
      ++i;
    } else {
      std::size_t token_end = i;
      if (!paths || !InDirectoryPart(sa, sb, i, &token_end)) return std::nullopt;
      explanation.path = true;
      i = token_end;
    }
  }
  if (!explanation.timestamp && !explanation.path) return std::nullopt;
  return explanation;
}

// Compares two parsed ELF objects into `recorder`.
class ElfComparer {
 public:
  ElfComparer(const elf::ElfFile& a, const elf::ElfFile& b, const Tolerances& tolerances,
              ComparisonRecorder& recorder)
      : a_(a),
        b_(b),
        tolerances_(tolerances),
        recorder_(recorder),
        functions_a_(a),
        functions_b_(b),
        sections_a_(a),
        sections_b_(b) {}

  void Run() {
    if (!CheckBounds(a_, "delivered") || !CheckBounds(b_, "rebuilt")) return;
    CompareHeaders();
    AddMasks(a_, masks_a_);
    AddMasks(b_, masks_b_);
    masks_a_.Sort();
    masks_b_.Sort();
    std::vector<Region> regions;
    const bool relocatable = LoadSegments(a_).empty() && LoadSegments(b_).empty();
    if (relocatable) {
      regions = AllocatedSectionRegions();
    } else if (auto same = SameLoadLayout()) {
      regions = std::move(*same);
    } else {
      recorder_.Differ({"program headers", {}, 0, "the loadable segments differ"});
      regions = AllocatedSectionRegions();
    }
    for (const auto& region : regions) CompareRegion(region);
    CompareUnloadedSections();
    CompareSymbolTables();
    CompareTrailingData();
  }

 private:
  // Every PT_LOAD segment and every section with file bytes must lie inside the file.
  bool CheckBounds(const elf::ElfFile& file, std::string_view side) {
    const std::uint64_t size = file.bytes.size();
    for (const auto& segment : file.segments) {
      if (segment.type != elf::kPtLoad) continue;
      if (segment.offset > size || segment.filesz > size - segment.offset) {
        recorder_.Uncomparable(std::string(side) + ": a PT_LOAD segment at offset " +
                               Hex(segment.offset) + " of " + std::to_string(segment.filesz) +
                               " bytes lies outside the file");
        return false;
      }
    }
    for (const auto& section : file.sections) {
      if (section.type == elf::kShtNobits || section.type == kShtNull) continue;
      if (section.offset > size || section.size > size - section.offset) {
        recorder_.Uncomparable(
            std::string(side) + ": section " +
            (section.name.empty() ? std::string("(unnamed)") : std::string(section.name)) + " of " +
            std::to_string(section.size) + " bytes at " + Hex(section.offset) +
            " lies outside the file");
        return false;
      }
    }
    return true;
  }

  static std::vector<elf::ProgramHeader> LoadSegments(const elf::ElfFile& file) {
    std::vector<elf::ProgramHeader> loads;
    for (const auto& segment : file.segments) {
      if (segment.type == elf::kPtLoad) loads.push_back(segment);
    }
    std::sort(loads.begin(), loads.end(),
              [](const auto& x, const auto& y) { return x.vaddr < y.vaddr; });
    return loads;
  }

  void CompareHeaders() {
    std::string detail;
    auto field = [&](std::string_view name, std::uint64_t x, std::uint64_t y) {
      if (x == y) return;
      if (!detail.empty()) detail += "; ";
      detail += std::string(name) + " " + Hex(x) + " vs " + Hex(y);
    };
    field("class", a_.bits, b_.bits);
    field("data", static_cast<std::uint64_t>(a_.endian), static_cast<std::uint64_t>(b_.endian));
    field("e_machine", a_.machine, b_.machine);
    field("e_type", a_.type, b_.type);
    field("e_entry", a_.entry, b_.entry);
    field("e_flags", a_.flags, b_.flags);
    field("osabi", a_.os_abi, b_.os_abi);
    if (!detail.empty()) recorder_.Differ({"ELF header", {}, 0, detail});
    std::string program_headers;
    if (a_.segments.size() != b_.segments.size()) {
      program_headers = std::to_string(a_.segments.size()) + " vs " +
                        std::to_string(b_.segments.size()) + " program headers";
    } else {
      for (std::size_t i = 0; i < a_.segments.size(); ++i) {
        const auto& x = a_.segments[i];
        const auto& y = b_.segments[i];
        if (x.type != y.type || x.flags != y.flags || x.vaddr != y.vaddr || x.filesz != y.filesz ||
            x.memsz != y.memsz || x.align != y.align || x.offset != y.offset) {
          program_headers = "program header " + std::to_string(i) + " differs";
          break;
        }
      }
    }
    if (!program_headers.empty()) recorder_.Differ({"program headers", {}, 0, program_headers});
  }

  // The ranges tolerated classes explain on one side: the build-id descriptor and the ELF
  // header fields that only locate the section header table.
  void AddMasks(const elf::ElfFile& file, Masks& masks) {
    const std::uint8_t* base = file.bytes.data();
    const std::uint64_t size = file.bytes.size();
    if (tolerances_.Allows(ToleratedClass::kBuildId)) {
      for (const auto& note : file.notes) {
        if (note.name != "GNU" || note.type != kNtGnuBuildId || note.desc.empty()) continue;
        if (note.desc.data() < base || note.desc.data() + note.desc.size() > base + size) continue;
        const std::uint64_t begin = static_cast<std::uint64_t>(note.desc.data() - base);
        masks.Add(
            {begin, begin + note.desc.size(), ToleratedClass::kBuildId, ".note.gnu.build-id"});
      }
    }
    if (tolerances_.Allows(ToleratedClass::kSectionLayout)) {
      struct Field {
        std::uint64_t offset;
        std::uint64_t size;
        const char* name;
      };
      const std::array<Field, 3> fields =
          file.bits == 64
              ? std::array<Field, 3>{{{0x28, 8, "e_shoff"},
                                      {0x3c, 2, "e_shnum"},
                                      {0x3e, 2, "e_shstrndx"}}}
              : std::array<Field, 3>{
                    {{0x20, 4, "e_shoff"}, {0x30, 2, "e_shnum"}, {0x32, 2, "e_shstrndx"}}};
      for (const auto& f : fields) {
        if (f.offset + f.size <= size) {
          masks.Add({f.offset, f.offset + f.size, ToleratedClass::kSectionLayout,
                     std::string("ELF header ") + f.name});
        }
      }
    }
  }

  // The PT_LOAD segments as regions when both sides load the same layout.
  std::optional<std::vector<Region>> SameLoadLayout() {
    const auto loads_a = LoadSegments(a_);
    const auto loads_b = LoadSegments(b_);
    if (loads_a.size() != loads_b.size()) return std::nullopt;
    std::vector<Region> regions;
    for (std::size_t i = 0; i < loads_a.size(); ++i) {
      const auto& x = loads_a[i];
      const auto& y = loads_b[i];
      if (x.vaddr != y.vaddr || x.memsz != y.memsz || x.filesz != y.filesz || x.flags != y.flags) {
        return std::nullopt;
      }
      Region region;
      region.offset_a = x.offset;
      region.offset_b = y.offset;
      region.size = x.filesz;
      region.executable = (y.flags & elf::kPfX) != 0;
      region.address_a = x.vaddr;
      region.address_b = y.vaddr;
      region.fallback_where = "segment " + std::to_string(i) + " (loaded bytes outside sections)";
      regions.push_back(std::move(region));
    }
    return regions;
  }

  // Allocated sections with file bytes, paired by name (the k-th of a name with the k-th);
  // a section on one side only or of another size is a difference.
  std::vector<Region> AllocatedSectionRegions() {
    auto collect = [](const elf::ElfFile& file) {
      std::map<std::pair<std::string_view, int>, std::uint32_t> by_name;
      std::map<std::string_view, int> seen;
      for (std::uint32_t i = 0; i < file.sections.size(); ++i) {
        const auto& s = file.sections[i];
        if ((s.flags & kShfAlloc) == 0 || s.type == elf::kShtNobits || s.type == kShtNull) continue;
        by_name[{s.name, seen[s.name]++}] = i;
      }
      return by_name;
    };
    const auto sections_a = collect(a_);
    const auto sections_b = collect(b_);
    std::vector<Region> regions;
    for (const auto& [key, index_a] : sections_a) {
      const auto& x = a_.sections[index_a];
      const auto found = sections_b.find(key);
      const std::string name = key.first.empty() ? "(unnamed section)" : std::string(key.first);
      if (found == sections_b.end()) {
        recorder_.Differ({name, {}, x.size, "section only in delivered"});
        continue;
      }
      const auto& y = b_.sections[found->second];
      if (x.size != y.size) {
        if (name == ".note.gnu.build-id" && recorder_.Tolerate(ToleratedClass::kBuildId, name)) {
          continue;
        }
        recorder_.Differ({name, DifferingFunctionsByName(x, index_a, y, found->second),
                          x.size > y.size ? x.size - y.size : y.size - x.size,
                          "size " + std::to_string(x.size) + " vs " + std::to_string(y.size)});
        continue;
      }
      Region region;
      region.offset_a = x.offset;
      region.offset_b = y.offset;
      region.size = x.size;
      region.address_a = a_.type == elf::kEtRel ? 0 : x.addr;
      region.address_b = b_.type == elf::kEtRel ? 0 : y.addr;
      region.by_section = a_.type == elf::kEtRel;
      region.executable = (y.flags & kShfExecInstr) != 0;
      region.shndx_a = index_a;
      region.shndx_b = found->second;
      region.fallback_where = name;
      regions.push_back(std::move(region));
    }
    for (const auto& [key, index_b] : sections_b) {
      if (sections_a.count(key) == 0) {
        recorder_.Differ({key.first.empty() ? "(unnamed section)" : std::string(key.first),
                          {},
                          b_.sections[index_b].size,
                          "section only in rebuilt"});
      }
    }
    return regions;
  }

  // The function symbols inside two differently sized sections whose bytes or sizes differ.
  std::vector<std::string> DifferingFunctionsByName(const elf::SectionHeader& x,
                                                    std::uint32_t index_a,
                                                    const elf::SectionHeader& y,
                                                    std::uint32_t index_b) {
    auto functions = [](const elf::ElfFile& file, const elf::SectionHeader& s,
                        std::uint32_t index) {
      std::map<std::string_view, ByteView> out;
      const auto& symbols =
          file.symtab_symbols.empty() ? file.dynamic_symbols : file.symtab_symbols;
      for (const auto& symbol : symbols) {
        const std::uint8_t type = symbol.info & 0xf;
        if ((type != kSttFunc && type != kSttGnuIfunc) || symbol.name.empty()) continue;
        std::uint64_t start = 0;
        if (file.type == elf::kEtRel) {
          if (symbol.shndx != index) continue;
          start = symbol.value;
        } else {
          if (symbol.value < s.addr) continue;
          start = symbol.value - s.addr;
        }
        if (start > s.size || symbol.size > s.size - start) continue;
        out.emplace(symbol.name, file.bytes.subspan(s.offset + start, symbol.size));
      }
      return out;
    };
    const auto fa = functions(a_, x, index_a);
    const auto fb = functions(b_, y, index_b);
    std::vector<std::string> names;
    for (const auto& [name, bytes] : fa) {
      const auto other = fb.find(name);
      if (other == fb.end() || other->second.size() != bytes.size() ||
          std::memcmp(other->second.data(), bytes.data(), bytes.size()) != 0) {
        names.emplace_back(name);
      }
    }
    for (const auto& [name, bytes] : fb) {
      if (fa.count(name) == 0) names.emplace_back(name);
    }
    if (names.size() > kMaxFunctionsPerDifference) names.resize(kMaxFunctionsPerDifference);
    return names;
  }

  // Where address `offset` of `region` lies: its section, else the region's fallback.
  std::string WhereIs(const Region& region, std::uint64_t offset) const {
    if (region.by_section) return region.fallback_where;
    if (region.offset_a + offset < (a_.bits == 64 ? 64u : 52u) && region.offset_a == 0) {
      return "ELF header";
    }
    std::string_view name = sections_a_.At(region.address_a + offset);
    if (name.empty()) name = sections_b_.At(region.address_b + offset);
    return name.empty() ? region.fallback_where : std::string(name);
  }

  // True when byte `offset` of `region` is code on the rebuilt side: in an SHF_EXECINSTR
  // section, or in an executable segment where no section says otherwise.
  bool IsCodeAt(const Region& region, std::uint64_t offset) const {
    if (region.by_section) return region.executable;
    return sections_b_.ExecutableAt(region.address_b + offset).value_or(region.executable);
  }

  std::string FunctionAt(const Region& region, std::uint64_t offset) const {
    std::string_view name =
        functions_a_.At(region.address_a + offset, region.by_section, region.shndx_a);
    if (name.empty()) {
      name = functions_b_.At(region.address_b + offset, region.by_section, region.shndx_b);
    }
    return std::string(name);
  }

  // Records the unexplained differing bytes [first, end) of `region`.
  void RecordRun(const Region& region, std::uint64_t first, std::uint64_t end) {
    // Split by section so that each byte is counted where it lies.
    std::uint64_t at = first;
    while (at < end) {
      const std::string where = WhereIs(region, at);
      std::uint64_t stop = at + 1;
      while (stop < end && WhereIs(region, stop) == where) ++stop;
      Difference difference{where, {}, stop - at, ""};
      const std::string first_function = FunctionAt(region, at);
      if (!first_function.empty()) difference.functions.push_back(first_function);
      const std::string last_function = FunctionAt(region, stop - 1);
      if (!last_function.empty() && last_function != first_function) {
        difference.functions.push_back(last_function);
      }
      recorder_.Differ(std::move(difference));
      at = stop;
    }
  }

  // Compares one region; masked bytes and string classes explain what they can.
  void CompareRegion(const Region& region) {
    const std::uint8_t* pa = a_.bytes.data() + region.offset_a;
    const std::uint8_t* pb = b_.bytes.data() + region.offset_b;
    if (std::memcmp(pa, pb, region.size) == 0) return;
    std::uint64_t i = 0;
    while (i < region.size) {
      if (pa[i] == pb[i]) {
        ++i;
        continue;
      }
      const MaskRange* mask_a = masks_a_.Find(region.offset_a + i);
      const MaskRange* mask_b = masks_b_.Find(region.offset_b + i);
      if (mask_a != nullptr && mask_b != nullptr &&
          mask_a->tolerated_class == mask_b->tolerated_class &&
          recorder_.Tolerate(mask_a->tolerated_class, mask_a->where)) {
        ++i;
        continue;
      }
      // An unmasked run of differing bytes.
      std::uint64_t run_end = i + 1;
      while (run_end < region.size && pa[run_end] != pb[run_end] &&
             masks_a_.Find(region.offset_a + run_end) == nullptr) {
        ++run_end;
      }
      // Strings explain bytes only where the rebuilt side (built from the reviewed source,
      // so its section table is trusted) holds data: never inside code.
      if (string_runs_ < kMaxStringRuns && !IsCodeAt(region, i)) {
        ++string_runs_;
        if (auto explained = ExplainAsString(pa, pb, region.size, i, run_end - 1, tolerances_)) {
          const std::string where = Hex(region.address_a + explained->begin) + " (" +
                                    WhereIs(region, explained->begin) + ")";
          const bool tolerated =
              (!explained->timestamp ||
               recorder_.Tolerate(ToleratedClass::kBuildTimestamp, where)) &&
              (!explained->path || recorder_.Tolerate(ToleratedClass::kBuildPath, where));
          if (tolerated) {
            i = explained->end;
            continue;
          }
        }
      }
      RecordRun(region, i, run_end);
      i = run_end;
    }
  }

  static bool IsDebugSection(std::string_view name) {
    for (std::string_view prefix : {".debug_", ".zdebug_", ".rela.debug_", ".rel.debug_",
                                    ".gnu_debugaltlink", ".gdb_index", ".stab"}) {
      if (name.starts_with(prefix)) return true;
    }
    return false;
  }

  // Unloaded sections (not SHF_ALLOC) paired by name; symbol tables are compared separately.
  void CompareUnloadedSections() {
    auto collect = [](const elf::ElfFile& file) {
      std::map<std::pair<std::string_view, int>, ByteView> by_name;
      std::map<std::string_view, int> seen;
      for (const auto& s : file.sections) {
        if ((s.flags & kShfAlloc) != 0 || s.type == kShtNull) continue;
        if (s.type == elf::kShtSymtab || s.name == ".strtab" || s.name == ".shstrtab") continue;
        const ByteView content =
            s.type == elf::kShtNobits ? ByteView{} : file.bytes.subspan(s.offset, s.size);
        by_name[{s.name, seen[s.name]++}] = content;
      }
      return by_name;
    };
    const auto sections_a = collect(a_);
    const auto sections_b = collect(b_);
    std::map<std::pair<std::string_view, int>, std::pair<const ByteView*, const ByteView*>> all;
    for (const auto& [key, bytes] : sections_a) all[key].first = &bytes;
    for (const auto& [key, bytes] : sections_b) all[key].second = &bytes;
    for (const auto& [key, pair] : all) {
      const auto [x, y] = pair;
      const std::string name = key.first.empty() ? "(unnamed section)" : std::string(key.first);
      if (x != nullptr && y != nullptr && x->size() == y->size() &&
          std::memcmp(x->data(), y->data(), x->size()) == 0) {
        continue;
      }
      if (IsDebugSection(name) && recorder_.Tolerate(ToleratedClass::kDebugInfo, name)) continue;
      if (name == ".gnu_debuglink" && recorder_.Tolerate(ToleratedClass::kGnuDebuglink, name)) {
        continue;
      }
      if (x == nullptr || y == nullptr) {
        recorder_.Differ({name,
                          {},
                          (x != nullptr ? x : y)->size(),
                          x != nullptr ? "section only in delivered" : "section only in rebuilt"});
        continue;
      }
      std::uint64_t differing =
          x->size() > y->size() ? x->size() - y->size() : y->size() - x->size();
      const std::size_t common = std::min(x->size(), y->size());
      for (std::size_t i = 0; i < common; ++i) differing += (*x)[i] != (*y)[i];
      recorder_.Differ({name,
                        {},
                        differing,
                        x->size() == y->size() ? ""
                                               : "size " + std::to_string(x->size()) + " vs " +
                                                     std::to_string(y->size())});
    }
  }

  std::string SectionNameOf(const elf::ElfFile& file, std::uint16_t shndx) const {
    if (shndx != 0 && shndx < kShnLoReserve && shndx < file.sections.size()) {
      return std::string(file.sections[shndx].name);
    }
    return "#" + std::to_string(shndx);
  }

  // .symtab: tolerated when one side is stripped; otherwise compared symbol by symbol (name,
  // value, size, type and binding, visibility, section by name), file symbols by base name.
  void CompareSymbolTables() {
    if (!a_.has_symtab && !b_.has_symtab) return;
    if (a_.has_symtab != b_.has_symtab) {
      const std::string where = a_.has_symtab ? "rebuilt stripped" : "delivered stripped";
      if (!recorder_.Tolerate(ToleratedClass::kSymbolTable, where)) {
        recorder_.Differ(
            {".symtab", {}, 0, a_.has_symtab ? "only in delivered" : "only in rebuilt"});
      }
      return;
    }
    const auto& x = a_.symtab_symbols;
    const auto& y = b_.symtab_symbols;
    if (x.size() != y.size()) {
      recorder_.Differ({".symtab",
                        {},
                        0,
                        std::to_string(x.size()) + " vs " + std::to_string(y.size()) + " symbols"});
      return;
    }
    Difference difference{".symtab", {}, 0, ""};
    std::uint64_t differing = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto& s = x[i];
      const auto& t = y[i];
      const bool same_fields = s.value == t.value && s.size == t.size && s.info == t.info &&
                               s.other == t.other &&
                               SectionNameOf(a_, s.shndx) == SectionNameOf(b_, t.shndx);
      if (same_fields && s.name == t.name) continue;
      if (same_fields && (s.info & 0xf) == kSttFile) {
        auto base = [](std::string_view path) { return path.substr(path.rfind('/') + 1); };
        if (base(s.name) == base(t.name) &&
            recorder_.Tolerate(ToleratedClass::kBuildPath,
                               "file symbol " + std::string(base(s.name)))) {
          continue;
        }
      }
      ++differing;
      if (difference.functions.size() < kMaxFunctionsPerDifference) {
        difference.functions.emplace_back(s.name.empty() ? t.name : s.name);
      }
    }
    if (differing > 0) {
      difference.detail = std::to_string(differing) + " symbols differ";
      recorder_.Differ(std::move(difference));
    }
  }

  // Where the described parts of a file end: headers, tables, sections and segments.
  static std::uint64_t DescribedExtent(const elf::ElfFile& file) {
    const std::uint64_t size = file.bytes.size();
    std::uint64_t extent = std::min<std::uint64_t>(size, file.bits == 64 ? 64 : 52);
    auto cover = [&](std::uint64_t offset, std::uint64_t length) {
      if (offset <= size && length <= size - offset) extent = std::max(extent, offset + length);
    };
    for (const auto& segment : file.segments) cover(segment.offset, segment.filesz);
    for (const auto& section : file.sections) {
      if (section.type != elf::kShtNobits) cover(section.offset, section.size);
    }
    // Program and section header tables.
    const bool wide = file.bits == 64;
    const std::uint64_t phoff =
        wide ? (size >= 0x28 ? LoadU64(file.bytes.data() + 0x20, file.endian) : 0)
             : (size >= 0x20 ? LoadU32(file.bytes.data() + 0x1c, file.endian) : 0);
    const std::uint64_t shoff =
        wide ? (size >= 0x30 ? LoadU64(file.bytes.data() + 0x28, file.endian) : 0)
             : (size >= 0x24 ? LoadU32(file.bytes.data() + 0x20, file.endian) : 0);
    const std::uint64_t phentsize = wide ? 56 : 32;
    const std::uint64_t shentsize = wide ? 64 : 40;
    if (file.segments.size() < (std::uint64_t{1} << 32) / phentsize) {
      cover(phoff, file.segments.size() * phentsize);
    }
    if (file.sections.size() < (std::uint64_t{1} << 32) / shentsize) {
      cover(shoff, file.sections.size() * shentsize);
    }
    return extent;
  }

  // Bytes after everything the ELF structures describe (appended data) must agree.
  void CompareTrailingData() {
    const std::uint64_t extent_a = DescribedExtent(a_);
    const std::uint64_t extent_b = DescribedExtent(b_);
    const ByteView tail_a = a_.bytes.subspan(extent_a);
    const ByteView tail_b = b_.bytes.subspan(extent_b);
    if (tail_a.size() == tail_b.size() &&
        std::memcmp(tail_a.data(), tail_b.data(), tail_a.size()) == 0) {
      return;
    }
    std::uint64_t differing = tail_a.size() > tail_b.size() ? tail_a.size() - tail_b.size()
                                                            : tail_b.size() - tail_a.size();
    const std::size_t common = std::min(tail_a.size(), tail_b.size());
    for (std::size_t i = 0; i < common; ++i) differing += tail_a[i] != tail_b[i];
    recorder_.Differ(
        {"data appended after the ELF image",
         {},
         differing,
         std::to_string(tail_a.size()) + " vs " + std::to_string(tail_b.size()) + " bytes"});
  }

  const elf::ElfFile& a_;
  const elf::ElfFile& b_;
  const Tolerances& tolerances_;
  ComparisonRecorder& recorder_;
  FunctionIndex functions_a_;
  FunctionIndex functions_b_;
  SectionIndex sections_a_;
  SectionIndex sections_b_;
  Masks masks_a_;
  Masks masks_b_;
  std::size_t string_runs_ = 0;
};

}  // namespace

FileComparison CompareElfPair(ByteView delivered, ByteView rebuilt, const Tolerances& tolerances) {
  ComparisonRecorder recorder(tolerances);
  if (delivered.size() == rebuilt.size() &&
      std::memcmp(delivered.data(), rebuilt.data(), delivered.size()) == 0) {
    return recorder.Finish("elf", /*bytes_differ=*/false);
  }
  auto a = elf::ParseElf(delivered);
  if (!a) {
    recorder.Uncomparable("delivered: not a usable ELF file: " + a.error().message);
    return recorder.Finish("elf", true);
  }
  auto b = elf::ParseElf(rebuilt);
  if (!b) {
    recorder.Uncomparable("rebuilt: not a usable ELF file: " + b.error().message);
    return recorder.Finish("elf", true);
  }
  ElfComparer comparer(*a, *b, tolerances, recorder);
  comparer.Run();
  return recorder.Finish("elf", true);
}

}  // namespace clearbox::equiv
