// ISO 9660 (with Rock Ridge and Joliet names): the primary volume descriptor at 32 KiB gives
// the volume size; extraction goes through libarchive.
#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kPvdOffset = 0x8000;
constexpr std::size_t kPvdSize = 2048;

// The volume's declared size in bytes, from the both-endian fields of the PVD.
Result<std::uint64_t> IsoDeclaredLength(ByteView data) {
  if (data.size() < kPvdOffset + kPvdSize || data[kPvdOffset] != 1 ||
      !HasBytesAt(data, kPvdOffset + 1, "CD001") || data[kPvdOffset + 6] != 1) {
    return Fail(ErrorCode::kNotThisFormat, "no ISO 9660 primary volume descriptor");
  }
  const std::uint8_t* pvd = data.data() + kPvdOffset;
  const std::uint32_t blocks_le = LoadU32(pvd + 80, Endian::kLittle);
  const std::uint32_t blocks_be = LoadU32(pvd + 84, Endian::kBig);
  const std::uint16_t block_le = LoadU16(pvd + 128, Endian::kLittle);
  const std::uint16_t block_be = LoadU16(pvd + 130, Endian::kBig);
  if (blocks_le != blocks_be || block_le != block_be) {
    return Fail(ErrorCode::kNotThisFormat, "ISO 9660 both-endian fields disagree");
  }
  if (block_le != 512 && block_le != 1024 && block_le != 2048 && block_le != 4096) {
    return Fail(ErrorCode::kNotThisFormat, "implausible ISO 9660 logical block size");
  }
  const std::uint64_t length = std::uint64_t{blocks_le} * block_le;
  if (length < kPvdOffset + kPvdSize) {
    return Fail(ErrorCode::kNotThisFormat, "ISO 9660 volume smaller than its descriptors");
  }
  return length;
}

class Iso9660Handler final : public Handler {
 public:
  std::string_view Name() const override { return "iso9660"; }
  std::string_view Description() const override {
    return "ISO 9660 CD image (Rock Ridge, Joliet; libarchive)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"CD001", kPvdOffset + 1}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto length = IsoDeclaredLength(data);
    if (!length) return Forward(length);
    // A cut image is still extracted as far as it goes (Extract reports the truncation).
    return std::min<std::uint64_t>(*length, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto length = IsoDeclaredLength(data);
    if (!length) return Forward(length);
    const std::uint64_t have = std::min<std::uint64_t>(*length, data.size());
    auto result = ExtractWithLibarchive(data.subspan(0, have), LibarchiveFormat::kIso9660, ctx);
    if (have < *length) {
      return AsTruncated(result, "ISO 9660 volume declares " + std::to_string(*length) +
                                     " bytes but only " + std::to_string(have) + " are present");
    }
    return result;
  }
};

}  // namespace

const Handler& GetIso9660Handler() {
  static const Iso9660Handler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
