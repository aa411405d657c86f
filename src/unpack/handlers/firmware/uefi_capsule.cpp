// UEFI capsule (UEFI specification 2.x, section 8.5.3 "UpdateCapsule", EFI_CAPSULE_HEADER):
// capsule GUID[16], HeaderSize u32, Flags u32, CapsuleImageSize u32, little-endian. The image
// after the header (firmware volumes, an FMP payload, a vendor-signed BIOS) is carved as
// `payload` and unpacked in turn; GUID, kind, sizes and flags go to the chunk's metadata.
//
// Candidates are the capsule GUIDs UEFITool knows by name: the EFI capsule, the FMP capsule,
// Intel's, and AMI Aptio's signed and unsigned capsules.
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderBytes = 28;
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

struct CapsuleKind {
  std::string_view guid;
  std::string_view name;
};

constexpr CapsuleKind kKinds[] = {
    {std::string_view("\xbd\x86\x66\x3b\x76\x0d\x30\x40\xb7\x0e\xb5\x51\x9e\x2f\xc5\xa0", 16),
     "EFI capsule"},
    {std::string_view("\xed\xd5\xcb\x6d\x2d\xe8\x44\x4c\xbd\xa1\x71\x94\x19\x9a\xd9\x2a", 16),
     "FMP capsule"},
    {std::string_view("\xb9\x82\x91\x53\xb5\xab\x91\x43\xb6\x9a\xe3\xa9\x43\xf7\x2f\xcc", 16),
     "Intel capsule"},
    {std::string_view("\x8b\xa6\x3c\x4a\x23\x77\xfb\x48\x80\x3d\x57\x8c\xc1\xfe\xc4\x4d", 16),
     "AMI Aptio signed capsule"},
    {std::string_view("\x90\xbb\xee\x14\x0a\x89\xdb\x43\xae\xd1\x5d\x3c\x45\x88\xa4\x18", 16),
     "AMI Aptio capsule"},
};

struct CapsuleHeader {
  std::string_view kind;
  std::uint32_t header_size = 0;
  std::uint32_t flags = 0;
  std::uint32_t image_size = 0;
};

Result<CapsuleHeader> ParseCapsuleHeader(ByteView data) {
  if (data.size() < kHeaderBytes) return Fail(ErrorCode::kNotThisFormat, "short capsule");
  CapsuleHeader h;
  for (const CapsuleKind& kind : kKinds) {
    if (HasBytesAt(data, 0, kind.guid)) h.kind = kind.name;
  }
  if (h.kind.empty()) return Fail(ErrorCode::kNotThisFormat, "unknown capsule GUID");
  h.header_size = LoadU32(data.data() + 16, Endian::kLittle);
  h.flags = LoadU32(data.data() + 20, Endian::kLittle);
  h.image_size = LoadU32(data.data() + 24, Endian::kLittle);
  if (h.header_size < kHeaderBytes || h.header_size > kMaxHeaderBytes ||
      h.header_size >= h.image_size) {
    return Fail(ErrorCode::kNotThisFormat, "capsule header/image size");
  }
  return h;
}

class UefiCapsuleHandler final : public Handler {
 public:
  std::string_view Name() const override { return "uefi-capsule"; }
  std::string_view Description() const override {
    return "UEFI capsule (EFI, FMP, Intel, AMI Aptio GUIDs): payload carved, GUID and sizes "
           "recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kKinds[0].guid, 0},
                                                {kKinds[1].guid, 0},
                                                {kKinds[2].guid, 0},
                                                {kKinds[3].guid, 0},
                                                {kKinds[4].guid, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseCapsuleHeader(data);
    if (!header) return Forward(header);
    return std::min<std::uint64_t>(header->image_size, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseCapsuleHeader(data);
    if (!header) return Forward(header);
    const CapsuleHeader& h = *header;
    ctx.SetMetadata("capsule_guid", GuidText(data.subspan(0, 16)));
    ctx.SetMetadata("kind", h.kind);
    ctx.SetMetadata("header_size", std::to_string(h.header_size));
    ctx.SetMetadata("image_size", std::to_string(h.image_size));
    ctx.SetMetadata("flags", "0x" + HexBytes(ByteView(data.data() + 20, 4)));
    const ByteView image = data.subspan(0, std::min<std::uint64_t>(h.image_size, data.size()));
    CLEARBOX_TRY(
        CarvePartition(image, h.header_size, h.image_size - h.header_size, "payload", ctx));
    if (data.size() < h.image_size) {
      return Fail(ErrorCode::kTruncated, "capsule of " + std::to_string(h.image_size) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return h.image_size;
  }
};

}  // namespace

const Handler& GetUefiCapsuleHandler() {
  static const UefiCapsuleHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
