// Xiaomi HDR1 / HDR2 router firmware (layout of OpenWrt's firmware-utils xiaomifw.c and
// unblob's xiaomi/hdr.py), little-endian:
//   HDR1 (48 bytes): "HDR1", signature offset, CRC32, u16 unused, u16 device id, 8 blob offsets
//   HDR2 (80 bytes): "HDR2", signature offset, CRC32, u32 unused, device id (8 chars),
//                    region (8 chars), 16 unused bytes, 8 blob offsets
// Each blob is a 48-byte header - magic 0x0000babe, flash offset, size, u16 type, u16
// unused, name (32 chars) - and its data; the RSA signature block (16-byte header and 256
// bytes) starts at the signature offset and ends the image. The CRC32 (zlib's polynomial,
// initial 0xffffffff, no final inversion) covers the image from byte 12 to its end. Each blob
// is written under its own name; a CRC that fails is reported and the blobs carved anyway.
#include <set>
#include <string>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHdr1Size = 48;
constexpr std::size_t kHdr2Size = 80;
constexpr std::size_t kBlobCount = 8;
constexpr std::size_t kBlobHeaderSize = 48;
constexpr std::uint32_t kBlobMagic = 0x0000babe;
constexpr std::uint64_t kSignatureBlockSize = 16 + 0x100;
constexpr std::size_t kCrcStart = 12;

struct Blob {
  std::uint64_t data_offset = 0;  // from the image start
  std::uint32_t size = 0;
  std::uint32_t flash_offset = 0;
  std::uint16_t type = 0;
  std::string name;
};

struct XiaomiImage {
  bool hdr2 = false;
  std::uint64_t signature_offset = 0;
  std::uint32_t crc32 = 0;
  std::string device;
  std::string region;
  std::vector<Blob> blobs;
  std::uint64_t length() const { return signature_offset + kSignatureBlockSize; }
};

std::uint32_t U32(ByteView data, std::size_t at) {
  return LoadU32(data.data() + at, Endian::kLittle);
}

// Parses the header and every blob header; the image may run past `data` (Extract reports
// that). A blob that does not fit before the signature is not this format.
Result<XiaomiImage> ParseXiaomi(ByteView data) {
  XiaomiImage image;
  image.hdr2 = HasBytesAt(data, 0, "HDR2");
  if (!image.hdr2 && !HasBytesAt(data, 0, "HDR1")) {
    return Fail(ErrorCode::kNotThisFormat, "no HDR1/HDR2 magic");
  }
  const std::size_t header_size = image.hdr2 ? kHdr2Size : kHdr1Size;
  if (data.size() < header_size) return Fail(ErrorCode::kNotThisFormat, "short Xiaomi header");
  image.signature_offset = U32(data, 4);
  image.crc32 = U32(data, 8);
  if (image.hdr2) {
    if (!IsPrintableField(data.subspan(16, 8))) {
      return Fail(ErrorCode::kNotThisFormat, "Xiaomi HDR2 device id is not text");
    }
    image.device = HeaderText(data.subspan(16, 8));
    image.region = HeaderText(data.subspan(24, 8));
  } else {
    image.device = std::to_string(LoadU16(data.data() + 14, Endian::kLittle));
  }
  if (image.signature_offset < header_size + kBlobHeaderSize) {
    return Fail(ErrorCode::kNotThisFormat, "Xiaomi signature offset inside the header");
  }
  const std::size_t offsets_at = header_size - 4 * kBlobCount;
  for (std::size_t i = 0; i < kBlobCount; ++i) {
    const std::uint64_t at = U32(data, offsets_at + 4 * i);
    if (at == 0) break;
    if (at < header_size || at + kBlobHeaderSize > image.signature_offset) {
      return Fail(ErrorCode::kNotThisFormat, "Xiaomi blob offset out of the image");
    }
    if (at + kBlobHeaderSize > data.size()) break;  // cut short: reported by Extract
    if (U32(data, at) != kBlobMagic) {
      return Fail(ErrorCode::kNotThisFormat, "Xiaomi blob header magic missing");
    }
    Blob blob;
    blob.flash_offset = U32(data, at + 4);
    blob.size = U32(data, at + 8);
    blob.type = LoadU16(data.data() + at + 12, Endian::kLittle);
    blob.name = HeaderText(data.subspan(at + 16, 32));
    blob.data_offset = at + kBlobHeaderSize;
    if (blob.size == 0 || blob.data_offset + blob.size > image.signature_offset) {
      return Fail(ErrorCode::kNotThisFormat, "Xiaomi blob runs past the signature");
    }
    image.blobs.push_back(std::move(blob));
  }
  if (image.blobs.empty()) return Fail(ErrorCode::kNotThisFormat, "Xiaomi image has no blob");
  return image;
}

class XiaomiHdrHandler final : public Handler {
 public:
  std::string_view Name() const override { return "xiaomi-hdr"; }
  std::string_view Description() const override {
    return "Xiaomi HDR1/HDR2 router firmware: CRC32 checked, each blob carved under its name; "
           "device, region and blob flash offsets recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"HDR1", 0}, {"HDR2", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto image = ParseXiaomi(data);
    if (!image) return Forward(image);
    return std::min<std::uint64_t>(image->length(), data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto image = ParseXiaomi(data);
    if (!image) return Forward(image);
    ctx.SetMetadata("header", image->hdr2 ? "HDR2" : "HDR1");
    ctx.SetMetadata("device", image->device);
    if (image->hdr2) ctx.SetMetadata("region", image->region);
    const bool whole = image->length() <= data.size();
    if (whole) {
      const std::uint32_t crc =
          Crc32(data.subspan(kCrcStart, image->length() - kCrcStart)) ^ 0xffffffffu;
      ctx.SetMetadata("crc32", crc == image->crc32 ? "ok" : "mismatch");
      if (crc != image->crc32) {
        ctx.ReportProblem(ErrorCode::kMalformed, "", "Xiaomi image CRC32 mismatch; carved anyway");
      }
    }
    std::set<std::string> used;
    for (std::size_t i = 0; i < image->blobs.size(); ++i) {
      const Blob& blob = image->blobs[i];
      const std::string name =
          UniqueMemberName(SafeMemberName(blob.name, "blob" + std::to_string(i)), used);
      ctx.SetMetadata("blob" + std::to_string(i), name + " type " + std::to_string(blob.type) +
                                                      " flash offset " +
                                                      std::to_string(blob.flash_offset));
      CLEARBOX_TRY(CarvePartition(data, blob.data_offset, blob.size, name, ctx));
    }
    if (!whole) {
      return Fail(ErrorCode::kTruncated, "Xiaomi image declares " +
                                             std::to_string(image->length()) + " bytes, " +
                                             std::to_string(data.size()) + " present");
    }
    return image->length();
  }
};

}  // namespace

const Handler& GetXiaomiHdrHandler() {
  static const XiaomiHdrHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
