// 7z: the signature header (start header CRC checked) gives the chunk end, 32 bytes plus the
// next header's offset and size; extraction goes through libarchive.
#include <zlib.h>

#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kSignatureHeader = 32;
constexpr std::string_view kMagic("7z\xBC\xAF\x27\x1C", 6);

Result<std::uint64_t> SevenZipLength(ByteView data) {
  if (data.size() < kSignatureHeader || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no 7z signature header");
  }
  if (data[6] != 0) return Fail(ErrorCode::kNotThisFormat, "unknown 7z major version");
  const std::uint32_t stored_crc = LoadU32(data.data() + 8, Endian::kLittle);
  const std::uint32_t crc = static_cast<std::uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), data.data() + 12, static_cast<uInt>(kSignatureHeader - 12)));
  if (crc != stored_crc) return Fail(ErrorCode::kNotThisFormat, "7z start header CRC mismatch");
  const std::uint64_t next_offset = LoadU64(data.data() + 12, Endian::kLittle);
  const std::uint64_t next_size = LoadU64(data.data() + 20, Endian::kLittle);
  const std::uint64_t room = data.size() - kSignatureHeader;
  if (next_size == 0) return kSignatureHeader;  // an empty archive
  if (next_offset > room || next_size > room - next_offset) {
    return Fail(ErrorCode::kTruncated, "7z archive ends before its header: needs " +
                                           std::to_string(next_offset) + " + " +
                                           std::to_string(next_size) + " bytes after the start");
  }
  return kSignatureHeader + next_offset + next_size;
}

class SevenZipHandler final : public Handler {
 public:
  std::string_view Name() const override { return "7z"; }
  std::string_view Description() const override { return "7-Zip archive (libarchive)"; }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override { return SevenZipLength(data); }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto length = SevenZipLength(data);
    if (!length) return Forward(length);
    return ExtractWithLibarchive(data.subspan(0, *length), LibarchiveFormat::kSevenZip, ctx);
  }
};

}  // namespace

const Handler& GetSevenZipHandler() {
  static const SevenZipHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
