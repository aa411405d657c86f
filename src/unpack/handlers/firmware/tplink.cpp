// TP-Link firmware header (OpenWrt's mktplinkfw/mktplinkfw2 layouts, as binwalk v3 and
// firmware-mod-kit's tpl-tool describe them): a 512-byte big-endian header, then the kernel
// and root filesystem at the offsets it gives (from the header start).
//
//   v1 (version 0x01000000): vendor name[24] at 4, firmware version[36] at 28, hardware id
//      at 0x40, hardware revision 0x44, region 0x48, two MD5 slots, kernel load address at
//      0x74, entry 0x78, total length 0x7c, kernel offset/length 0x80/0x84, rootfs
//      offset/length 0x88/0x8c, bootloader offset/length 0x90/0x94, version triple
//      (3 x u16) at 0x98.
//   v2 (version 0x02000000): firmware version[48] at 4, hardware id 0x34, revision 0x38,
//      the same load/length/offset fields from 0x68, 0x55aa at 0x8c and 0xa5 at 0x90,
//      version triple (3 x u8) at 0x91.
//
// The kernel, rootfs and (when present) bootloader are written as `kernel`, `rootfs` and
// `bootloader`; vendor, model (hardware id/revision) and version strings go to the chunk's
// metadata. The MD5 slots hold salted digests (the salt differs between models), so they are
// not checked. A v1 candidate needs "TP-LINK Technologies" as vendor, a v2 candidate the
// 0x55aa/0xa5 markers and a printable version string.
#include <array>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderBytes = 512;
constexpr std::uint32_t kVersion1 = 0x01000000;
constexpr std::uint32_t kVersion2 = 0x02000000;
constexpr std::size_t kV2LayoutOffset = 0x68;  // load address and the offsets that follow
constexpr std::size_t kV1LayoutOffset = 0x74;

struct TplinkHeader {
  std::uint32_t version = 0;
  std::string vendor;
  std::string firmware_version;
  std::uint32_t hardware_id = 0;
  std::uint32_t hardware_revision = 0;
  std::uint32_t load_address = 0;
  std::uint32_t entry_point = 0;
  std::uint32_t total_length = 0;
  std::uint32_t kernel_offset = 0, kernel_length = 0;
  std::uint32_t rootfs_offset = 0, rootfs_length = 0;
  std::uint32_t boot_offset = 0, boot_length = 0;
  std::string release;  // "major.minor.patch"
};

// True when [offset, offset + length) is inside the image's `total` bytes (length 0 = unused).
bool PartFits(std::uint32_t offset, std::uint32_t length, std::uint32_t total) {
  if (length == 0) return true;
  return offset >= kHeaderBytes && offset <= total && length <= total - offset;
}

Result<TplinkHeader> ParseTplinkHeader(ByteView data) {
  if (data.size() < kHeaderBytes) return Fail(ErrorCode::kNotThisFormat, "short TP-Link header");
  ByteReader r(data.subspan(0, kHeaderBytes), Endian::kBig);
  TplinkHeader h;
  h.version = LoadU32(data.data(), Endian::kBig);
  std::size_t layout = 0;
  if (h.version == kVersion1) {
    if (!HasBytesAt(data, 4, "TP-LINK Technologies")) {
      return Fail(ErrorCode::kNotThisFormat, "TP-Link v1 without vendor name");
    }
    h.vendor = HeaderText(data.subspan(4, 24));
    h.firmware_version = HeaderText(data.subspan(28, 36));
    h.hardware_id = LoadU32(data.data() + 0x40, Endian::kBig);
    h.hardware_revision = LoadU32(data.data() + 0x44, Endian::kBig);
    layout = kV1LayoutOffset;
    h.release = std::to_string(LoadU16(data.data() + 0x98, Endian::kBig)) + "." +
                std::to_string(LoadU16(data.data() + 0x9a, Endian::kBig)) + "." +
                std::to_string(LoadU16(data.data() + 0x9c, Endian::kBig));
  } else if (h.version == kVersion2) {
    if (LoadU16(data.data() + 0x8c, Endian::kBig) != 0x55aa || data[0x90] != 0xa5 ||
        !IsPrintableField(data.subspan(4, 48))) {
      return Fail(ErrorCode::kNotThisFormat, "TP-Link v2 markers missing");
    }
    h.vendor = "TP-Link";
    h.firmware_version = HeaderText(data.subspan(4, 48));
    h.hardware_id = LoadU32(data.data() + 0x34, Endian::kBig);
    h.hardware_revision = LoadU32(data.data() + 0x38, Endian::kBig);
    layout = kV2LayoutOffset;
    h.release = std::to_string(data[0x91]) + "." + std::to_string(data[0x92]) + "." +
                std::to_string(data[0x93]);
  } else {
    return Fail(ErrorCode::kNotThisFormat, "TP-Link header version");
  }
  CLEARBOX_TRY(r.Seek(layout));
  std::uint32_t* fields[] = {&h.load_address,  &h.entry_point,   &h.total_length,
                             &h.kernel_offset, &h.kernel_length, &h.rootfs_offset,
                             &h.rootfs_length, &h.boot_offset,   &h.boot_length};
  for (std::uint32_t* field : fields) {
    auto value = r.U32();
    if (!value) return Forward(value);
    *field = *value;
  }
  if (h.total_length < kHeaderBytes) {
    return Fail(ErrorCode::kNotThisFormat, "TP-Link length below the header");
  }
  if (h.kernel_length == 0 || !PartFits(h.kernel_offset, h.kernel_length, h.total_length) ||
      !PartFits(h.rootfs_offset, h.rootfs_length, h.total_length) ||
      !PartFits(h.boot_offset, h.boot_length, h.total_length)) {
    return Fail(ErrorCode::kMalformed, "TP-Link kernel/rootfs outside the image length");
  }
  return h;
}

class TplinkHandler final : public Handler {
 public:
  std::string_view Name() const override { return "tplink"; }
  std::string_view Description() const override {
    return "TP-Link firmware header v1/v2: kernel, rootfs (and bootloader) carved, vendor, "
           "model and version recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    // v1 by its vendor string; v2 (no vendor field) by the 0x55aa 0x?? 0x?? 0xa5 marker
    // cannot be one literal, so by its version word followed by the usual "ver. " text.
    static constexpr Signature kSignatures[] = {
        {std::string_view("\x01\x00\x00\x00TP-LINK Technologies", 24), 0},
        {std::string_view("\x02\x00\x00\x00ver. ", 9), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseTplinkHeader(data);
    if (!header) return Forward(header);
    return std::min<std::uint64_t>(header->total_length, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseTplinkHeader(data);
    if (!header) return Forward(header);
    const TplinkHeader& h = *header;
    ctx.SetMetadata("header_version", h.version == kVersion1 ? "1" : "2");
    ctx.SetMetadata("vendor", h.vendor);
    ctx.SetMetadata("firmware_version", h.firmware_version);
    ctx.SetMetadata("hardware_id",
                    "0x" + HexBytes(data.subspan(h.version == kVersion1 ? 0x40 : 0x34, 4)));
    ctx.SetMetadata("hardware_revision", std::to_string(h.hardware_revision));
    ctx.SetMetadata("release", h.release);
    const ByteView image = data.subspan(0, std::min<std::uint64_t>(h.total_length, data.size()));
    CLEARBOX_TRY(CarvePartition(image, h.kernel_offset, h.kernel_length, "kernel", ctx));
    if (h.rootfs_length) {
      CLEARBOX_TRY(CarvePartition(image, h.rootfs_offset, h.rootfs_length, "rootfs", ctx));
    }
    if (h.boot_length) {
      CLEARBOX_TRY(CarvePartition(image, h.boot_offset, h.boot_length, "bootloader", ctx));
    }
    if (data.size() < h.total_length) {
      return Fail(ErrorCode::kTruncated, "TP-Link image of " + std::to_string(h.total_length) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return h.total_length;
  }
};

}  // namespace

const Handler& GetTplinkHandler() {
  static const TplinkHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
