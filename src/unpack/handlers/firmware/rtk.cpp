// Realtek "RTK0" firmware header (layout as binwalk v3 describes it, src/structures/rtk.rs):
// eight little-endian u32 fields - magic "RTK0", image_size (the whole image, header
// included), checksum, unknown, header_size (the header's length after the magic), three
// more - followed by the payload, which is written as `payload.bin` (the engine unpacks it).
// The declared image size must be the rest of the container (binwalk's own check), which
// keeps the 4-byte magic from matching by chance.
#include <algorithm>
#include <cstdio>
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic = "RTK0";
constexpr std::size_t kFieldsSize = 32;
constexpr std::uint32_t kMaxHeaderSize = 1u << 16;

// The header's facts.
struct RtkHeader {
  std::uint32_t image_size = 0;
  std::uint32_t checksum = 0;
  std::uint64_t header_size = 0;  // magic included
  std::uint32_t identifier = 0;
};

Result<RtkHeader> ParseRtk(ByteView data) {
  if (data.size() < kFieldsSize || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no RTK0 magic");
  }
  RtkHeader h;
  h.image_size = LoadU32(data.data() + 4, Endian::kLittle);
  h.checksum = LoadU32(data.data() + 8, Endian::kLittle);
  const std::uint32_t header_size = LoadU32(data.data() + 16, Endian::kLittle);
  h.identifier = LoadU32(data.data() + 28, Endian::kLittle);
  h.header_size = std::uint64_t{header_size} + kMagic.size();
  if (header_size < kFieldsSize - kMagic.size() || header_size > kMaxHeaderSize ||
      h.image_size != data.size() || h.header_size > h.image_size) {
    return Fail(ErrorCode::kNotThisFormat, "RTK0 header sizes do not match the image");
  }
  return h;
}

std::string Hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

class RtkHandler final : public Handler {
 public:
  std::string_view Name() const override { return "rtk"; }
  std::string_view Description() const override {
    return "Realtek RTK0 firmware header: payload carved (header fields recorded)";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseRtk(data);
    if (!header) return Forward(header);
    return header->image_size;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseRtk(data);
    if (!header) return Forward(header);
    ctx.SetMetadata("image_size", std::to_string(header->image_size));
    ctx.SetMetadata("header_size", std::to_string(header->header_size));
    ctx.SetMetadata("checksum", Hex32(header->checksum));
    ctx.SetMetadata("identifier", Hex32(header->identifier));
    const ByteView payload =
        data.subspan(header->header_size, header->image_size - header->header_size);
    auto written = ctx.out().WriteFile("payload.bin", payload, 0644);
    if (!ctx.ContinueAfter(written, "payload.bin")) return Forward(written);
    return header->image_size;
  }
};

}  // namespace

const Handler& GetRtkHandler() {
  static const RtkHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
