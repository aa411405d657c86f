// cpio (newc "070701", crc "070702", portable odc "070707"): the chunk end is found by
// walking the ASCII headers to "TRAILER!!!"; extraction goes through libarchive.
#include <algorithm>

#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kNewcHeader = 110;
constexpr std::size_t kOdcHeader = 76;
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

// Parses the header at `pos`; kNotThisFormat for a bad header, kTruncated if cut off.
Result<CpioMember> ParseMember(ByteView data, std::uint64_t pos, bool newc) {
  const std::size_t header = newc ? kNewcHeader : kOdcHeader;
  // kMalformed marks a cut header or name, kTruncated cut member data (see CpioLength).
  if (data.size() - pos < header) return Fail(ErrorCode::kMalformed, "cpio header cut off");
  const std::uint8_t* h = data.data() + pos;
  CpioMember m;
  if (newc) {
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
  std::uint64_t end = m.name_offset + m.name_size;
  if (newc) end = (end + 3) & ~std::uint64_t{3};
  if (end > data.size()) return Fail(ErrorCode::kMalformed, "cpio name cut off");
  if (data[m.name_offset + m.name_size - 1] != 0) {
    return Fail(ErrorCode::kNotThisFormat, "cpio name not NUL-terminated");
  }
  m.data_offset = end;
  std::uint64_t data_end = m.data_offset + m.data_size;
  if (newc) data_end = (data_end + 3) & ~std::uint64_t{3};
  if (data_end > data.size()) return Fail(ErrorCode::kTruncated, "cpio member data cut off");
  m.next = data_end;
  return m;
}

// Walks the headers from the archive start.
Result<CpioExtent> CpioLength(ByteView data) {
  if (data.size() < 6) return Fail(ErrorCode::kNotThisFormat, "short cpio data");
  const std::string_view magic = AsText(data.subspan(0, 6));
  if (magic != "070701" && magic != "070702" && magic != "070707") {
    return Fail(ErrorCode::kNotThisFormat, "no cpio magic");
  }
  const bool newc = magic != "070707";
  std::uint64_t pos = 0;
  std::uint64_t members = 0;
  while (true) {
    if (!HasBytesAt(data, pos, magic)) {
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, "no cpio magic");
      return CpioExtent{pos, false, false};
    }
    auto m = ParseMember(data, pos, newc);
    if (!m) {
      const ErrorCode code = m.error().code;
      if (code == ErrorCode::kTruncated) return CpioExtent{data.size(), false, true};
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, m.error().message);
      if (code == ErrorCode::kMalformed) return CpioExtent{data.size(), false, true};
      return CpioExtent{pos, false, false};
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
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"070701", 0}, {"070702", 0}, {"070707", 0}};
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
