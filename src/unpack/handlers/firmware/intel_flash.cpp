// Intel flash descriptor (the SPI flash image of Intel chipsets, as the public PCH/ICH
// datasheets, binwalk v3's pchrom structure and UEFITool describe it): the signature
// 0x0FF0A55A at 0x10, FLMAP0 at 0x14 whose bits 16-23 give the region section base (FRBA,
// in 16-byte units), then one FLREG register per region at FRBA: bits 0-14 the region base
// and bits 16-30 the limit, in 4 KiB units (the limit's last 4 KiB included). A region whose
// base is above its limit is unused.
//
// Regions 0-9 (descriptor, BIOS, ME, GbE, PDR, DevExp1, BIOS2, 7, EC, DevExp2) are carved as
// <name>.bin and unpacked in turn (the BIOS region holds the UEFI firmware volumes). The chunk
// is the whole flash image: up to the highest region limit. Data that ends with the
// descriptor region (descriptor.bin itself) is not taken for a flash image.
#include <algorithm>

#include "core/hashing.hpp"
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kSignatureOffset = 0x10;
constexpr std::size_t kDescriptorBytes = 4096;
constexpr std::size_t kRegionCount = 10;
constexpr std::uint64_t kMaxFlashBytes = 256u << 20;
constexpr std::uint32_t kRegionMask = 0x7FFF;
constexpr std::string_view kRegionNames[kRegionCount] = {
    "descriptor", "bios", "me", "gbe", "pdr", "devexp1", "bios2", "region7", "ec", "devexp2"};

struct Region {
  std::uint64_t base = 0;
  std::uint64_t end = 0;  // one past the last byte
  bool used = false;
};

struct FlashLayout {
  Region regions[kRegionCount];
  std::uint64_t length = 0;
};

Result<FlashLayout> ParseDescriptor(ByteView data) {
  if (data.size() < kDescriptorBytes || !HasBytesAt(data, kSignatureOffset, "\x5A\xA5\xF0\x0F")) {
    return Fail(ErrorCode::kNotThisFormat, "no flash descriptor");
  }
  const std::uint32_t flmap0 = LoadU32(data.data() + 0x14, Endian::kLittle);
  const std::size_t frba = ((flmap0 >> 16) & 0xFF) << 4;
  if (frba < 0x20 || frba + 4 * kRegionCount > kDescriptorBytes) {
    return Fail(ErrorCode::kNotThisFormat, "flash descriptor region base");
  }
  FlashLayout layout;
  for (std::size_t i = 0; i < kRegionCount; ++i) {
    const std::uint32_t flreg = LoadU32(data.data() + frba + 4 * i, Endian::kLittle);
    const std::uint64_t base = std::uint64_t{flreg & kRegionMask} << 12;
    const std::uint64_t limit = std::uint64_t{(flreg >> 16) & kRegionMask} << 12;
    Region& r = layout.regions[i];
    // Only the descriptor lives at 0: a zero register of a later region is an unused one.
    r.used = base <= limit && (i == 0 || base != 0) && flreg != 0xFFFFFFFF;
    if (!r.used) continue;
    r.base = base;
    r.end = limit + 0x1000;
    if (r.end > kMaxFlashBytes) return Fail(ErrorCode::kNotThisFormat, "flash region limit");
    layout.length = std::max(layout.length, r.end);
  }
  const Region& descriptor = layout.regions[0];
  if (!descriptor.used || descriptor.base != 0 || !layout.regions[1].used) {
    return Fail(ErrorCode::kNotThisFormat, "flash descriptor without descriptor/BIOS region");
  }
  // The descriptor region carved on its own (descriptor.bin) is not a flash image again.
  if (data.size() <= descriptor.end) {
    return Fail(ErrorCode::kNotThisFormat, "flash descriptor region alone");
  }
  return layout;
}

class IntelFlashHandler final : public Handler {
 public:
  std::string_view Name() const override { return "intel-ifd"; }
  std::string_view Description() const override {
    return "Intel flash descriptor image: descriptor, BIOS, ME, GbE, PDR (and later) regions "
           "carved by FLREG";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"\x5A\xA5\xF0\x0F", kSignatureOffset}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseDescriptor(data);
    if (!layout) return Forward(layout);
    return std::min<std::uint64_t>(layout->length, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout = ParseDescriptor(data);
    if (!layout) return Forward(layout);
    const ByteView image = data.subspan(0, std::min<std::uint64_t>(layout->length, data.size()));
    for (std::size_t i = 0; i < kRegionCount; ++i) {
      const Region& r = layout->regions[i];
      if (!r.used) continue;
      const std::string name(kRegionNames[i]);
      ctx.SetMetadata("region." + name, HexOffset(r.base) + "-" + HexOffset(r.end - 1));
      CLEARBOX_TRY(CarvePartition(image, r.base, r.end - r.base, name + ".bin", ctx));
    }
    if (data.size() < layout->length) {
      return Fail(ErrorCode::kTruncated, "flash image of " + std::to_string(layout->length) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return layout->length;
  }
};

}  // namespace

const Handler& GetIntelFlashHandler() {
  static const IntelFlashHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
