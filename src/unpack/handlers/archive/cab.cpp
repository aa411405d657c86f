// Microsoft Cabinet (.cab): the CFHEADER's cbCabinet gives the chunk length; the other header
// fields are checked for sanity (reserved words zero, version 1.x, file table inside the
// cabinet, at least one folder and file). Extraction goes through libarchive (stored,
// MSZIP, LZX; Quantum is not supported by libarchive and is reported per member).
#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderSize = 36;  // CFHEADER without the optional reserve fields
constexpr std::string_view kMagic("MSCF\0\0\0\0", 8);  // signature + reserved1
constexpr std::uint16_t kKnownFlags = 0x0007;  // PREV_CABINET, NEXT_CABINET, RESERVE_PRESENT
constexpr std::uint32_t kCfFolderSize = 8;
constexpr std::uint32_t kCfFileMinSize = 17;  // 16 bytes + at least the name's NUL

struct CabExtent {
  std::uint64_t length = 0;    // bytes of the chunk present in the data
  std::uint64_t declared = 0;  // cbCabinet
};

Result<CabExtent> CabLength(ByteView data) {
  if (data.size() < kHeaderSize || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no CAB header");
  }
  const std::uint32_t cb_cabinet = LoadU32(data.data() + 8, Endian::kLittle);
  const std::uint32_t reserved2 = LoadU32(data.data() + 12, Endian::kLittle);
  const std::uint32_t coff_files = LoadU32(data.data() + 16, Endian::kLittle);
  const std::uint32_t reserved3 = LoadU32(data.data() + 20, Endian::kLittle);
  const std::uint8_t version_major = data[25];
  const std::uint16_t folders = LoadU16(data.data() + 26, Endian::kLittle);
  const std::uint16_t files = LoadU16(data.data() + 28, Endian::kLittle);
  const std::uint16_t flags = LoadU16(data.data() + 30, Endian::kLittle);
  if (reserved2 != 0 || reserved3 != 0 || version_major != 1 || (flags & ~kKnownFlags) != 0) {
    return Fail(ErrorCode::kNotThisFormat, "CAB header fields out of range");
  }
  if (folders == 0 || files == 0) return Fail(ErrorCode::kNotThisFormat, "CAB without files");
  const std::uint64_t min_files_at = kHeaderSize + std::uint64_t{folders} * kCfFolderSize;
  if (coff_files < min_files_at ||
      std::uint64_t{coff_files} + std::uint64_t{files} * kCfFileMinSize > cb_cabinet) {
    return Fail(ErrorCode::kNotThisFormat, "CAB file table outside the cabinet");
  }
  if (cb_cabinet > data.size()) {
    return CabExtent{data.size(), cb_cabinet};
  }
  return CabExtent{cb_cabinet, cb_cabinet};
}

class CabHandler final : public Handler {
 public:
  std::string_view Name() const override { return "cab"; }
  std::string_view Description() const override {
    return "Microsoft Cabinet (stored, MSZIP, LZX; libarchive)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = CabLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = CabLength(data);
    if (!extent) return Forward(extent);
    auto result =
        ExtractWithLibarchive(data.subspan(0, extent->length), LibarchiveFormat::kCab, ctx);
    if (extent->length < extent->declared) {
      return AsTruncated(result, "CAB declares " + std::to_string(extent->declared) +
                                     " bytes, only " + std::to_string(extent->length) + " present");
    }
    return result;
  }
};

}  // namespace

const Handler& GetCabHandler() {
  static const CabHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
