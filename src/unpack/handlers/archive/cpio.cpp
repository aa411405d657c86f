// cpio (newc "070701", crc "070702", portable odc "070707", and the old binary format in
// either byte order, magic 070707 as a 16-bit word): the chunk end is found by walking the
// headers to "TRAILER!!!"; extraction goes through libarchive.
#include <algorithm>

#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kNewcHeader = 110;
constexpr std::size_t kOdcHeader = 76;
constexpr std::size_t kBinaryHeader = 26;                    // 13 16-bit words
constexpr std::string_view kBinaryLittleMagic = "\xC7\x71";  // 070707 as a 16-bit word
constexpr std::string_view kBinaryBigMagic = "\x71\xC7";
constexpr std::uint64_t kMaxNameSize = 4096 + 1;
constexpr std::uint64_t kBlock = 512;  // cpio pads the archive to its block size

// Parses `len` ASCII digits of `base` (8 or 16); false on any other character.
bool ParseDigits(const std::uint8_t* p, std::size_t len, unsigned base, std::uint64_t* out) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint8_t c = p[i];
    unsigned d = 0;
    if (c >= '0' && c <= '7')
      d = c - '0';
    else if (base == 16 && c >= '8' && c <= '9')
      d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

// Where a cpio walk ended.
struct CpioExtent {
  std::uint64_t length = 0;
  bool trailer = false;    // "TRAILER!!!" was reached
  bool truncated = false;  // a header or member runs past the end of the data
};

// One parsed header: sizes and where its name and data are.
struct CpioMember {
  std::uint64_t name_offset = 0, name_size = 0, data_offset = 0, data_size = 0, next = 0;
};

// The header variants; binary ones pad names and data to 2 bytes, newc to 4, odc not at all.
enum class CpioKind { kNewc, kOdc, kBinaryLittle, kBinaryBig };

std::uint64_t PadTo(std::uint64_t v, CpioKind kind) {
  switch (kind) {
    case CpioKind::kNewc: return (v + 3) & ~std::uint64_t{3};
    case CpioKind::kOdc: return v;
    case CpioKind::kBinaryLittle:
    case CpioKind::kBinaryBig: return (v + 1) & ~std::uint64_t{1};
  }
  return v;
}

// The `index`th 16-bit word of a binary header.
std::uint64_t BinaryWord(const std::uint8_t* h, std::size_t index, CpioKind kind) {
  const std::uint8_t a = h[index * 2], b = h[index * 2 + 1];
  return kind == CpioKind::kBinaryLittle ? (a | (b << 8)) : ((a << 8) | b);
}

// Parses the header at `pos`; kNotThisFormat for a bad header, kTruncated if cut off.
Result<CpioMember> ParseMember(ByteView data, std::uint64_t pos, CpioKind kind) {
  const std::size_t header = kind == CpioKind::kNewc  ? kNewcHeader
                             : kind == CpioKind::kOdc ? kOdcHeader
                                                      : kBinaryHeader;
  // kMalformed marks a cut header or name, kTruncated cut member data (see CpioLength).
  if (data.size() - pos < header) return Fail(ErrorCode::kMalformed, "cpio header cut off");
  const std::uint8_t* h = data.data() + pos;
  CpioMember m;
  if (kind == CpioKind::kBinaryLittle || kind == CpioKind::kBinaryBig) {
    // magic dev ino mode uid gid nlink rdev mtime[2] namesize filesize[2]; 32-bit values
    // are two words, the high one first.
    m.name_size = BinaryWord(h, 10, kind);
    m.data_size = (BinaryWord(h, 11, kind) << 16) | BinaryWord(h, 12, kind);
  } else if (kind == CpioKind::kNewc) {
    std::uint64_t field = 0;
    for (std::size_t i = 0; i < 13; ++i) {
      if (!ParseDigits(h + 6 + i * 8, 8, 16, &field)) {
        return Fail(ErrorCode::kNotThisFormat, "bad cpio newc header field");
      }
      if (i == 6) m.data_size = field;
      if (i == 11) m.name_size = field;
    }
  } else {
    std::uint64_t field = 0;
    for (std::size_t off = 6; off < 48; off += 6) {
      if (!ParseDigits(h + off, 6, 8, &field)) {
        return Fail(ErrorCode::kNotThisFormat, "bad cpio odc header field");
      }
    }
    if (!ParseDigits(h + 48, 11, 8, &field) || !ParseDigits(h + 59, 6, 8, &m.name_size) ||
        !ParseDigits(h + 65, 11, 8, &m.data_size)) {
      return Fail(ErrorCode::kNotThisFormat, "bad cpio odc header field");
    }
  }
  if (m.name_size == 0 || m.name_size > kMaxNameSize) {
    return Fail(ErrorCode::kNotThisFormat, "implausible cpio name size");
  }
  m.name_offset = pos + header;
  const std::uint64_t end = PadTo(m.name_offset + m.name_size, kind);
  if (end > data.size()) return Fail(ErrorCode::kMalformed, "cpio name cut off");
  if (data[m.name_offset + m.name_size - 1] != 0) {
    return Fail(ErrorCode::kNotThisFormat, "cpio name not NUL-terminated");
  }
  m.data_offset = end;
  const std::uint64_t data_end = PadTo(m.data_offset + m.data_size, kind);
  if (data_end > data.size()) return Fail(ErrorCode::kTruncated, "cpio member data cut off");
  m.next = data_end;
  return m;
}

// Walks the headers from the archive start.
Result<CpioExtent> CpioLength(ByteView data) {
  if (data.size() < 6) return Fail(ErrorCode::kNotThisFormat, "short cpio data");
  std::string_view magic = AsText(data.subspan(0, 6));
  CpioKind kind = CpioKind::kNewc;
  if (magic == "070707") {
    kind = CpioKind::kOdc;
  } else if (magic.starts_with(kBinaryLittleMagic)) {
    kind = CpioKind::kBinaryLittle;
    magic = kBinaryLittleMagic;
  } else if (magic.starts_with(kBinaryBigMagic)) {
    kind = CpioKind::kBinaryBig;
    magic = kBinaryBigMagic;
  } else if (magic != "070701" && magic != "070702") {
    return Fail(ErrorCode::kNotThisFormat, "no cpio magic");
  }
  const bool binary = kind == CpioKind::kBinaryLittle || kind == CpioKind::kBinaryBig;
  std::uint64_t pos = 0;
  std::uint64_t members = 0;
  // An archive that ends before its trailer. The binary magic is two bytes and matches often
  // by chance, so a binary walk counts only after two well-formed members.
  auto unfinished = [&](CpioExtent extent) -> Result<CpioExtent> {
    if (binary && members < 2) return Fail(ErrorCode::kNotThisFormat, "short binary cpio walk");
    return extent;
  };
  while (true) {
    if (!HasBytesAt(data, pos, magic)) {
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, "no cpio magic");
      return unfinished(CpioExtent{pos, false, false});
    }
    auto m = ParseMember(data, pos, kind);
    if (!m) {
      const ErrorCode code = m.error().code;
      if (code == ErrorCode::kTruncated) return unfinished(CpioExtent{data.size(), false, true});
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, m.error().message);
      if (code == ErrorCode::kMalformed) return unfinished(CpioExtent{data.size(), false, true});
      return unfinished(CpioExtent{pos, false, false});
    }
    ++members;
    const std::string_view name = AsText(data.subspan(m->name_offset, m->name_size - 1));
    pos = m->next;
    if (name == "TRAILER!!!") break;
  }
  // Zero padding up to the block size belongs to the archive.
  const std::uint64_t padded =
      std::min<std::uint64_t>((pos + kBlock - 1) / kBlock * kBlock, data.size());
  if (std::all_of(data.begin() + static_cast<std::ptrdiff_t>(pos),
                  data.begin() + static_cast<std::ptrdiff_t>(padded),
                  [](std::uint8_t b) { return b == 0; })) {
    pos = padded;
  }
  return CpioExtent{pos, true, false};
}

class CpioHandler final : public Handler {
 public:
  std::string_view Name() const override { return "cpio"; }
  std::string_view Description() const override {
    return "cpio archive (newc, crc, odc, old binary in both byte orders; initramfs)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {"070701", 0}, {"070702", 0}, {"070707", 0}, {kBinaryLittleMagic, 0}, {kBinaryBigMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = CpioLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = CpioLength(data);
    if (!extent) return Forward(extent);
    auto result =
        ExtractWithLibarchive(data.subspan(0, extent->length), LibarchiveFormat::kCpio, ctx);
    if (extent->truncated) return AsTruncated(result, "cpio member runs past the end of the data");
    if (result && !extent->trailer) {
      ctx.ReportProblem(ErrorCode::kTruncated, "", "cpio archive without TRAILER!!!");
    }
    return result;
  }
};

}  // namespace

const Handler& GetCpioHandler() {
  static const CpioHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
