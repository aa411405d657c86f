// Hardening checks over a parsed ElfFile, the FORTIFY catalogue and the libc finder.
#include "elf/hardening.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <tuple>

namespace clearbox::elf {
namespace {

constexpr std::uint32_t kGnuPropertyAarch64Feature1And = 0xc0000000;
constexpr std::uint32_t kGnuPropertyX86Feature1And = 0xc0000002;
constexpr std::uint32_t kX86FeatureIbt = 1;
constexpr std::uint32_t kX86FeatureShstk = 2;
constexpr std::uint32_t kAarch64FeatureBti = 1;
constexpr std::uint32_t kAarch64FeaturePac = 2;
constexpr std::size_t kMaxPathEntries = 4096;

// glibc 2.36 (Debian 12) x86-64: every X with a default-version __X_chk in libc.so.6.
constexpr std::array<std::string_view, 79> kGlibcFortified = {
    "asprintf",       "confstr",        "dprintf",
    "explicit_bzero", "fdelt",          "fgets",
    "fgets_unlocked", "fgetws",         "fgetws_unlocked",
    "fprintf",        "fread",          "fread_unlocked",
    "fwprintf",       "getcwd",         "getdomainname",
    "getgroups",      "gethostname",    "getlogin_r",
    "gets",           "getwd",          "longjmp",
    "mbsnrtowcs",     "mbsrtowcs",      "mbstowcs",
    "memcpy",         "memmove",        "mempcpy",
    "memset",         "obstack_printf", "obstack_vprintf",
    "poll",           "ppoll",          "pread64",
    "pread",          "printf",         "ptsname_r",
    "read",           "readlink",       "readlinkat",
    "realpath",       "recv",           "recvfrom",
    "snprintf",       "sprintf",        "stpcpy",
    "stpncpy",        "strcat",         "strcpy",
    "strncat",        "strncpy",        "swprintf",
    "syslog",         "ttyname_r",      "vasprintf",
    "vdprintf",       "vfprintf",       "vfwprintf",
    "vprintf",        "vsnprintf",      "vsprintf",
    "vswprintf",      "vsyslog",        "vwprintf",
    "wcpcpy",         "wcpncpy",        "wcrtomb",
    "wcscat",         "wcscpy",         "wcsncat",
    "wcsncpy",        "wcsnrtombs",     "wcsrtombs",
    "wcstombs",       "wctomb",         "wmemcpy",
    "wmemmove",       "wmempcpy",       "wmemset",
    "wprintf",
};

// Imports fortified through another name's __X_chk: glibc's <bits/setjmp2.h> redirects
// longjmp, _longjmp and siglongjmp all to __longjmp_chk.
struct FortifyAlias {
  std::string_view name;
  std::string_view base;
};
constexpr std::array<FortifyAlias, 2> kFortifyAliases = {{
    {"_longjmp", "longjmp"},
    {"siglongjmp", "longjmp"},
}};

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// X of a name __X_chk, or empty.
std::string_view ChkBase(std::string_view name) {
  if (name.size() <= 6 || !StartsWith(name, "__") || !EndsWith(name, "_chk")) return {};
  return name.substr(2, name.size() - 6);
}

std::vector<std::string> SplitPath(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  while (out.size() < kMaxPathEntries) {
    const std::size_t colon = text.find(':', start);
    out.emplace_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return out;
}

// Reads GNU property notes (x86 IBT/SHSTK, AArch64 BTI/PAC).
void ReadProperties(const ElfFile& file, BinaryReport& report) {
  for (const auto& note : file.notes) {
    if (note.name != "GNU" || note.type != kNtGnuPropertyType0) continue;
    const std::uint64_t pad = file.bits == 64 ? 8 : 4;
    std::uint64_t pos = 0;
    const ByteView d = note.desc;
    while (pos <= d.size() && d.size() - pos >= 8) {
      const std::uint32_t type = LoadU32(d.data() + pos, file.endian);
      const std::uint64_t size = LoadU32(d.data() + pos + 4, file.endian);
      if (size > d.size() - pos - 8) break;
      if (size >= 4) {
        const std::uint32_t bits = LoadU32(d.data() + pos + 8, file.endian);
        if (type == kGnuPropertyX86Feature1And && file.machine != kEmAarch64) {
          report.ibt = report.ibt || (bits & kX86FeatureIbt) != 0;
          report.shstk = report.shstk || (bits & kX86FeatureShstk) != 0;
        } else if (type == kGnuPropertyAarch64Feature1And && file.machine == kEmAarch64) {
          report.bti = report.bti || (bits & kAarch64FeatureBti) != 0;
          report.pac = report.pac || (bits & kAarch64FeaturePac) != 0;
        }
      }
      pos += 8 + (size + pad - 1) / pad * pad;
    }
  }
}

void ReadFortify(const ElfFile& file, const FortifyCatalog& libc, BinaryReport& report) {
  std::set<std::string_view> imports;
  for (const auto& s : file.dynamic_symbols) {
    if (s.IsUndefined() && !s.name.empty()) imports.insert(s.name);
  }
  std::uint32_t fortified = 0;
  std::uint32_t plain = 0;
  for (std::string_view name : imports) {
    if (auto base = ChkBase(name); !base.empty() && libc.Contains(base)) {
      ++fortified;
    } else if (libc.Contains(name)) {
      ++plain;
    } else {
      for (const auto& alias : kFortifyAliases) {
        if (alias.name == name && libc.Contains(alias.base)) ++plain;
      }
    }
  }
  report.fortify.fortified = fortified;
  report.fortify.fortifiable = fortified + plain;
  if (report.fortify.fortifiable == 0) {
    report.fortify.verdict = "n/a";
  } else if (fortified == 0) {
    report.fortify.verdict = "no";
  } else {
    report.fortify.verdict = plain == 0 ? "yes" : "partial";
  }
}

}  // namespace

FortifyCatalog::FortifyCatalog(std::vector<std::string> names) : names_(std::move(names)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

bool FortifyCatalog::Contains(std::string_view name) const {
  return std::binary_search(names_.begin(), names_.end(), name,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

Result<FortifyCatalog> FortifyCatalog::FromLibc(ByteView libc_bytes) {
  auto file = ParseElf(libc_bytes);
  if (!file) return Forward(file);
  if (file->dynamic_symbols.empty()) {
    return Fail(ErrorCode::kMalformed, "libc has no dynamic symbols");
  }
  std::vector<std::string> names;
  for (const auto& s : file->dynamic_symbols) {
    if (s.IsUndefined() || s.hidden_version) continue;
    if (auto base = ChkBase(s.name); !base.empty()) names.emplace_back(base);
  }
  return FortifyCatalog(std::move(names));
}

const FortifyCatalog& FortifyCatalog::Default() {
  static const FortifyCatalog catalog(
      std::vector<std::string>(kGlibcFortified.begin(), kGlibcFortified.end()));
  return catalog;
}

std::string ArchitectureName(std::uint16_t machine, int bits) {
  switch (machine) {
    case kEmX86_64: return "x86-64";
    case kEmX86: return "x86";
    case kEmArm: return "arm";
    case kEmAarch64: return "aarch64";
    case kEmMips:
    case kEmMipsRs3Le: return bits == 64 ? "mips64" : "mips";
    case kEmPpc: return "powerpc";
    case kEmPpc64: return "powerpc64";
    case kEmRiscv: return bits == 64 ? "riscv64" : "riscv32";
    default: return "unknown-" + std::to_string(machine);
  }
}

BinaryReport AnalyzeElfFile(const ElfFile& file, const FortifyCatalog& libc) {
  BinaryReport r;
  r.arch = ArchitectureName(file.machine, file.bits);
  r.bits = file.bits;
  r.endian = file.endian == Endian::kLittle ? "little" : "big";

  bool relro_segment = false;
  for (const auto& p : file.segments) {
    if (p.type == kPtGnuStack) r.nx = (p.flags & kPfX) == 0;
    if (p.type == kPtGnuRelro) relro_segment = true;
  }
  const std::uint64_t flags = file.DynamicValue(kDtFlags).value_or(0);
  const std::uint64_t flags_1 = file.DynamicValue(kDtFlags1).value_or(0);
  const bool bind_now =
      file.HasDynamic(kDtBindNow) || (flags & kDfBindNow) != 0 || (flags_1 & kDf1Now) != 0;
  r.relro = !relro_segment ? "none" : bind_now ? "full" : "partial";

  r.pie = file.type == kEtDyn && (file.HasDynamic(kDtDebug) || (flags_1 & kDf1Pie) != 0);
  switch (file.type) {
    case kEtExec: r.type = "exec"; break;
    case kEtDyn: r.type = r.pie ? "pie" : "shared"; break;
    case kEtRel: r.type = "relocatable"; break;
    case kEtCore: r.type = "core"; break;
    default: r.type = "other"; break;
  }

  auto names_canary = [](const std::vector<Symbol>& symbols) {
    return std::any_of(symbols.begin(), symbols.end(), [](const Symbol& s) {
      return s.name.find("__stack_chk_fail") != std::string_view::npos ||
             s.name.find("__stack_chk_guard") != std::string_view::npos ||
             s.name.find("__intel_security_cookie") != std::string_view::npos;
    });
  };
  r.canary = names_canary(file.dynamic_symbols) || names_canary(file.symtab_symbols);
  r.stripped = !file.has_symtab;

  for (const auto& e : file.dynamic) {
    if (e.tag != kDtNeeded && e.tag != kDtRpath && e.tag != kDtRunpath && e.tag != kDtSoname) {
      continue;
    }
    auto text = file.DynamicString(e.value);
    if (!text) {
      if (r.warnings.size() < kMaxWarnings) {
        r.warnings.push_back("dynamic entry " + std::to_string(e.tag) +
                             " names a string outside the string table");
      }
      continue;
    }
    std::vector<std::string> parts;
    switch (e.tag) {
      case kDtNeeded: r.needed.emplace_back(*text); break;
      case kDtSoname: r.soname = std::string(*text); break;
      case kDtRpath:
        parts = SplitPath(*text);
        r.rpath.insert(r.rpath.end(), parts.begin(), parts.end());
        break;
      default:
        parts = SplitPath(*text);
        r.runpath.insert(r.runpath.end(), parts.begin(), parts.end());
        break;
    }
  }
  if (file.interpreter) r.interpreter = std::string(*file.interpreter);
  ReadProperties(file, r);
  ReadFortify(file, libc, r);
  r.warnings.insert(r.warnings.begin(), file.warnings.begin(), file.warnings.end());
  return r;
}

Result<BinaryReport> AnalyzeElf(ByteView bytes, const FortifyCatalog& libc) {
  auto file = ParseElf(bytes);
  if (!file) return Forward(file);
  return AnalyzeElfFile(*file, libc);
}

std::optional<std::string> FindLibcPath(std::span<const std::string> paths) {
  // Lower is better: (kind, debug copy, depth, path).
  using Rank = std::tuple<int, bool, std::size_t, std::string_view>;
  std::optional<Rank> best;
  for (const auto& path : paths) {
    const std::string_view p = path;
    const std::size_t slash = p.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? p : p.substr(slash + 1);
    int kind = -1;
    if (base == "libc.so.6") {
      kind = 0;
    } else if (StartsWith(base, "libc-2.") && EndsWith(base, ".so")) {
      kind = 1;
    } else if (base == "libc.so.0" || (StartsWith(base, "libuClibc-") && EndsWith(base, ".so"))) {
      kind = 2;
    } else if ((StartsWith(base, "ld-musl-") || StartsWith(base, "libc.musl-")) &&
               EndsWith(base, ".so.1")) {
      kind = 3;
    } else if (base == "libc.so") {
      kind = 4;  // musl's own name (OpenWrt); glibc's libc.so is a linker script
    }
    if (kind < 0) continue;
    const bool debug = p.find("/debug/") != std::string_view::npos || StartsWith(p, "debug/") ||
                       p.find(".build-id/") != std::string_view::npos;
    const auto depth = static_cast<std::size_t>(std::count(p.begin(), p.end(), '/'));
    Rank rank{kind, debug, depth, p};
    if (!best || rank < *best) best = rank;
  }
  if (!best) return std::nullopt;
  return std::string(std::get<3>(*best));
}

nlohmann::json ReportToJson(const BinaryReport& r) {
  nlohmann::json j;
  j["arch"] = r.arch;
  j["bits"] = r.bits;
  j["endian"] = r.endian;
  j["type"] = r.type;
  j["nx"] = r.nx;
  j["pie"] = r.pie;
  j["relro"] = r.relro;
  j["canary"] = r.canary;
  j["stripped"] = r.stripped;
  j["ibt"] = r.ibt;
  j["shstk"] = r.shstk;
  j["bti"] = r.bti;
  j["pac"] = r.pac;
  j["fortify"] = {{"fortified", r.fortify.fortified},
                  {"fortifiable", r.fortify.fortifiable},
                  {"verdict", r.fortify.verdict}};
  j["rpath"] = r.rpath;
  j["runpath"] = r.runpath;
  j["needed"] = r.needed;
  j["interpreter"] = r.interpreter;
  j["soname"] = r.soname;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace clearbox::elf
