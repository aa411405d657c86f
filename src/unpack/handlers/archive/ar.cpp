// ar (System V/GNU and BSD names; Debian .deb packages are ar archives): the chunk end is
// found by walking the 60-byte member headers; extraction goes through libarchive.
#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kMagicSize = 8;
constexpr std::size_t kMemberHeader = 60;

// Parses a space-padded decimal field; false on anything else.
bool ParseDecimal(const std::uint8_t* p, std::size_t len, bool required, std::uint64_t* out) {
  std::size_t i = 0;
  std::uint64_t v = 0;
  bool digits = false;
  for (; i < len && p[i] >= '0' && p[i] <= '9'; ++i) {
    v = v * 10 + (p[i] - '0');
    digits = true;
  }
  for (; i < len; ++i) {
    if (p[i] != ' ') return false;
  }
  *out = v;
  return digits || !required;
}

// True when the 60 bytes at p form a plausible member header; sets the member size.
bool ParseHeader(const std::uint8_t* p, std::uint64_t* size) {
  if (p[58] != '`' || p[59] != '\n') return false;
  std::uint64_t ignored = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (p[i] < 0x20 || p[i] > 0x7e) return false;
  }
  // mtime, uid, gid are decimal (may be blank); mode is octal (digits only checked).
  if (!ParseDecimal(p + 16, 12, false, &ignored) || !ParseDecimal(p + 28, 6, false, &ignored) ||
      !ParseDecimal(p + 34, 6, false, &ignored) || !ParseDecimal(p + 40, 8, false, &ignored)) {
    return false;
  }
  return ParseDecimal(p + 48, 10, true, size);
}

// Where an ar walk ended.
struct ArExtent {
  std::uint64_t length = 0;
  bool truncated = false;
};

Result<ArExtent> ArLength(ByteView data) {
  if (!HasBytesAt(data, 0, "!<arch>\n")) return Fail(ErrorCode::kNotThisFormat, "no ar magic");
  std::uint64_t pos = kMagicSize;
  std::uint64_t members = 0;
  while (data.size() - pos >= kMemberHeader) {
    std::uint64_t size = 0;
    if (!ParseHeader(data.data() + pos, &size)) break;
    const std::uint64_t body = pos + kMemberHeader;
    if (size > data.size() - body) return ArExtent{data.size(), true};
    ++members;
    pos = body + size;
    if ((pos & 1) && pos < data.size() && data[pos] == '\n') ++pos;  // 2-byte alignment
  }
  if (members == 0) {
    if (pos == data.size()) return ArExtent{pos, false};  // an empty archive
    return Fail(ErrorCode::kNotThisFormat, "ar magic without a valid member header");
  }
  return ArExtent{pos, false};
}

class ArHandler final : public Handler {
 public:
  std::string_view Name() const override { return "ar"; }
  std::string_view Description() const override {
    return "ar archive (Debian .deb packages, static libraries)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"!<arch>\n", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = ArLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = ArLength(data);
    if (!extent) return Forward(extent);
    auto result =
        ExtractWithLibarchive(data.subspan(0, extent->length), LibarchiveFormat::kAr, ctx);
    if (extent->truncated) return AsTruncated(result, "ar member runs past the end of the data");
    return result;
  }
};

}  // namespace

const Handler& GetArHandler() {
  static const ArHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
