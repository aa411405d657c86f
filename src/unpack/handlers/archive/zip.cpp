// zip (stored, deflated and what libarchive reads; zip64 end records): the chunk ends at the
// end-of-central-directory record that is consistent with the candidate start.
#include <cstring>
#include <optional>

#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/archive/zip_layout.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kLocalHeader = 30;
constexpr std::size_t kEocdSize = 22;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EocdSize = 56;
constexpr std::uint16_t kFlagDataDescriptor = 0x0008;

// Checks that a local file header looks like a real one (cheap false-candidate rejection);
// `magic` is the header's expected first four bytes.
Result<void> CheckLocalHeader(ByteView data, std::uint64_t pos,
                              std::string_view magic = "PK\x03\x04") {
  if (pos > data.size() || data.size() - pos < kLocalHeader || !HasBytesAt(data, pos, magic)) {
    return Fail(ErrorCode::kNotThisFormat, "no zip local header");
  }
  const std::uint8_t* h = data.data() + pos;
  const std::uint16_t version = LoadU16(h + 4, Endian::kLittle);
  const std::uint16_t method = LoadU16(h + 8, Endian::kLittle);
  const std::uint16_t name_len = LoadU16(h + 26, Endian::kLittle);
  if ((version & 0xff) > 100 || name_len == 0) {
    return Fail(ErrorCode::kNotThisFormat, "implausible zip local header");
  }
  switch (method) {
    case 0:
    case 1:
    case 6:
    case 8:
    case 9:
    case 12:
    case 14:
    case 93:
    case 95:
    case 98:
    case 99: break;
    default: return Fail(ErrorCode::kNotThisFormat, "unknown zip compression method");
  }
  if (data.size() - pos - kLocalHeader < name_len) {
    return Fail(ErrorCode::kTruncated, "zip local header name cut off");
  }
  for (std::size_t i = 0; i < name_len; ++i) {
    if (h[kLocalHeader + i] == 0) return Fail(ErrorCode::kNotThisFormat, "NUL in zip name");
  }
  return {};
}

// Length of the zip when `eocd` (relative to the candidate start) is a consistent end record.
std::optional<std::uint64_t> LengthIfConsistent(ByteView data, std::uint64_t eocd) {
  if (data.size() - eocd < kEocdSize) return std::nullopt;
  const std::uint8_t* e = data.data() + eocd;
  std::uint64_t cd_size = LoadU32(e + 12, Endian::kLittle);
  std::uint64_t cd_offset = LoadU32(e + 16, Endian::kLittle);
  const std::uint16_t comment = LoadU16(e + 20, Endian::kLittle);
  const std::uint64_t end = eocd + kEocdSize + comment;
  if (end > data.size()) return std::nullopt;
  std::uint64_t cd_end_expected = eocd;
  if (cd_offset == 0xffffffff || cd_size == 0xffffffff) {
    // zip64: the locator sits right before the end record and points at the zip64 record.
    if (eocd < kZip64LocatorSize || !HasBytesAt(data, eocd - kZip64LocatorSize, "PK\x06\x07")) {
      return std::nullopt;
    }
    const std::uint64_t record = LoadU64(e - kZip64LocatorSize + 8, Endian::kLittle);
    if (record > eocd || eocd - record < kZip64EocdSize ||
        !HasBytesAt(data, record, "PK\x06\x06")) {
      return std::nullopt;
    }
    cd_size = LoadU64(data.data() + record + 40, Endian::kLittle);
    cd_offset = LoadU64(data.data() + record + 48, Endian::kLittle);
    cd_end_expected = record;
  }
  if (cd_offset > cd_end_expected || cd_end_expected - cd_offset != cd_size) return std::nullopt;
  if (cd_size > 0 && !HasBytesAt(data, cd_offset, "PK\x01\x02")) return std::nullopt;
  return end;
}

}  // namespace

// Finds the first consistent end record after the start; without one, a run of complete
// local members that is cut off by the end of the data is a truncated zip.
Result<ZipExtent> ZipLength(ByteView data, std::string_view first_magic) {
  CLEARBOX_TRY(CheckLocalHeader(data, 0, first_magic));
  const std::uint8_t* base = data.data();
  std::uint64_t from = kLocalHeader;
  while (from < data.size()) {
    const void* hit = memmem(base + from, data.size() - from, "PK\x05\x06", 4);
    if (hit == nullptr) break;
    const std::uint64_t eocd = static_cast<const std::uint8_t*>(hit) - base;
    if (auto end = LengthIfConsistent(data, eocd)) return ZipExtent{*end, true};
    from = eocd + 1;
  }
  // No directory: walk local members with known sizes.
  std::uint64_t pos = 0;
  std::uint64_t members = 0;
  while (true) {
    const std::string_view magic = pos == 0 ? first_magic : std::string_view("PK\x03\x04");
    if (!HasBytesAt(data, pos, magic)) break;
    auto ok = CheckLocalHeader(data, pos, magic);
    if (!ok) {
      if (ok.error().code == ErrorCode::kTruncated && members > 0)
        return ZipExtent{data.size(), false};
      break;
    }
    const std::uint8_t* h = base + pos;
    const std::uint16_t flags = LoadU16(h + 6, Endian::kLittle);
    const std::uint64_t csize = LoadU32(h + 18, Endian::kLittle);
    const std::uint64_t name_len = LoadU16(h + 26, Endian::kLittle);
    const std::uint64_t extra_len = LoadU16(h + 28, Endian::kLittle);
    if ((flags & kFlagDataDescriptor) || csize == 0xffffffff) break;
    const std::uint64_t next = pos + kLocalHeader + name_len + extra_len + csize;
    if (next > data.size()) {
      if (members > 0) return ZipExtent{data.size(), false};
      break;
    }
    ++members;
    pos = next;
  }
  // Complete members followed by the start of a central directory that was cut off.
  if (members > 0 && HasBytesAt(data, pos, "PK\x01\x02")) return ZipExtent{data.size(), false};
  return Fail(ErrorCode::kNotThisFormat, "no consistent zip end of central directory");
}

namespace {

class ZipHandler final : public Handler {
 public:
  std::string_view Name() const override { return "zip"; }
  std::string_view Description() const override {
    return "ZIP archive (stored, deflate; libarchive)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"PK\x03\x04", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = ZipLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = ZipLength(data);
    if (!extent) return Forward(extent);
    const ByteView chunk = data.subspan(0, extent->length);
    if (extent->has_directory) {
      return ExtractWithLibarchive(chunk, LibarchiveFormat::kZipSeekable, ctx);
    }
    return AsTruncated(ExtractWithLibarchive(chunk, LibarchiveFormat::kZipStreamable, ctx),
                       "zip ends before its central directory");
  }
};

}  // namespace

const Handler& GetZipHandler() {
  static const ZipHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
