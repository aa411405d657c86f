// VxWorks image, recognised without extraction: the chunk is the kernel banner
// "WIND version X.Y" (what binwalk v3 matches); the OS is named, the WIND kernel version and
// the "VxWorks<version>" release string found within kSearchBytes after the banner are
// recorded, and the built-in symbol table found there is carved as `symtab.bin` for
// identification.
//
// Symbol table entries (binwalk v3 src/structures/vxworks.rs): 16 bytes - name pointer,
// value pointer, type (0x500 function, 0x700 initialised data, 0x900 uninitialised data),
// group (0) - in the target's byte order (the type's second byte is 0 on big-endian
// targets). A table is at least kMinSymbols consecutive such entries with non-zero pointers.
//
// Probe gives no length (0): Extract sees the rest of the container, so that it can look
// past the banner, and reports only the banner as the chunk's bytes; carving goes on after
// it. The symbol table and version string are only read, never claimed.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kBanner = "WIND version ";
constexpr std::size_t kMaxVersionChars = 32;
constexpr std::size_t kSearchBytes = 32u << 20;
constexpr std::size_t kSymbolBytes = 16;
constexpr std::size_t kMinSymbols = 8;
constexpr std::size_t kMaxSymbols = 1u << 20;

// The version text after the banner ("2.6"): digits and dots, at least one digit.
std::string BannerVersion(ByteView data) {
  std::string version;
  for (std::size_t i = kBanner.size(); i < data.size() && version.size() < kMaxVersionChars; ++i) {
    const char c = static_cast<char>(data[i]);
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.')) break;
    version.push_back(c);
  }
  if (version.empty() || !std::isdigit(static_cast<unsigned char>(version[0]))) return "";
  return version;
}

// The first "VxWorks" followed by an optional space and a version in `area`, or "".
std::string FindReleaseString(ByteView area) {
  const std::string_view text = AsText(area);
  for (std::size_t at = text.find("VxWorks"); at != std::string_view::npos;
       at = text.find("VxWorks", at + 1)) {
    std::size_t i = at + 7;
    if (i < text.size() && text[i] == ' ') ++i;
    std::string version;
    while (i < text.size() && version.size() < kMaxVersionChars &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      version.push_back(text[i++]);
    }
    if (!version.empty() && std::isdigit(static_cast<unsigned char>(version[0]))) return version;
  }
  return "";
}

// True when an entry of the table sits at `p` (both byte orders tried by the caller).
bool IsSymbol(const std::uint8_t* p, Endian endian) {
  const std::uint32_t type = LoadU32(p + 8, endian);
  return (type == 0x500 || type == 0x700 || type == 0x900) && LoadU32(p + 12, endian) == 0 &&
         LoadU32(p, endian) != 0 && LoadU32(p + 4, endian) != 0;
}

struct SymbolTable {
  std::size_t offset = 0;
  std::size_t count = 0;
  Endian endian = Endian::kBig;
};

// The first run of at least kMinSymbols entries in `area`, found by the type/group bytes
// (at any byte offset: the banner need not be aligned like the table).
std::optional<SymbolTable> FindSymbolTable(ByteView area) {
  static constexpr std::uint8_t kGroup[4] = {0, 0, 0, 0};
  for (std::size_t pos = 0; pos + kSymbolBytes * kMinSymbols <= area.size(); ++pos) {
    // The cheap test first: the type field's 0x05/0x07/0x09 byte and a zero group.
    const std::uint8_t* p = area.data() + pos;
    const bool big = (p[10] == 5 || p[10] == 7 || p[10] == 9) && p[8] == 0 && p[9] == 0;
    const bool little = (p[9] == 5 || p[9] == 7 || p[9] == 9) && p[8] == 0 && p[10] == 0;
    if ((!big && !little) || p[11] != 0 || std::memcmp(p + 12, kGroup, 4) != 0) continue;
    const Endian endian = big ? Endian::kBig : Endian::kLittle;
    std::size_t count = 0;
    while (count < kMaxSymbols && pos + (count + 1) * kSymbolBytes <= area.size() &&
           IsSymbol(area.data() + pos + count * kSymbolBytes, endian)) {
      ++count;
    }
    if (count >= kMinSymbols) return SymbolTable{pos, count, endian};
  }
  return std::nullopt;
}

class VxWorksHandler final : public Handler {
 public:
  std::string_view Name() const override { return "vxworks"; }
  std::string_view Description() const override {
    return "VxWorks image: recognised by its WIND kernel banner (OS and versions recorded), "
           "symbol table carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kBanner, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!HasBytesAt(data, 0, kBanner) || BannerVersion(data).empty()) {
      return Fail(ErrorCode::kNotThisFormat, "no WIND version banner");
    }
    return 0;  // Extract looks past the banner and claims only the banner
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    const std::string wind = BannerVersion(data);
    if (!HasBytesAt(data, 0, kBanner) || wind.empty()) {
      return Fail(ErrorCode::kNotThisFormat, "no WIND version banner");
    }
    const std::uint64_t banner_bytes = kBanner.size() + wind.size();
    ctx.SetMetadata("os", "VxWorks");
    ctx.SetMetadata("wind_version", wind);
    const ByteView area = data.subspan(0, std::min(data.size(), kSearchBytes));
    const std::string release = FindReleaseString(area);
    if (!release.empty()) ctx.SetMetadata("vxworks_version", release);
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    if (const auto table = FindSymbolTable(area)) {
      ctx.SetMetadata("symbols", std::to_string(table->count));
      ctx.SetMetadata("symtab_offset_from_banner", std::to_string(table->offset));
      ctx.SetMetadata("byte_order", table->endian == Endian::kBig ? "big" : "little");
      auto written = ctx.out().WriteFile(
          "symtab.bin", area.subspan(table->offset, table->count * kSymbolBytes), 0644);
      if (!ctx.ContinueAfter(written, "symtab.bin")) return Forward(written);
    }
    return banner_bytes;
  }
};

}  // namespace

const Handler& GetVxWorksHandler() {
  static const VxWorksHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
