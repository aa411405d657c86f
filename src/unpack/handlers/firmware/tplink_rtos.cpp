// TP-Link RTOS firmware header (layout as binwalk v3 describes it, src/structures/tplink.rs):
// big-endian, magic 00 14 2F C0, 16 unknown bytes, "IMG0", data size (the image is data size
// + 20 bytes long), model number (u16), hardware revision major and minor (u8 each); the
// header is 0x94 bytes and the rest is the RTOS image, written as `firmware.bin` for the
// engine to unpack (typically LZMA or a VxWorks image).
#include <cstdio>
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic1("\x00\x14\x2f\xc0", 4);
constexpr std::string_view kMagic2 = "IMG0";
constexpr std::size_t kMagic2Offset = 20;
constexpr std::uint64_t kHeaderSize = 0x94;

struct RtosHeader {
  std::uint64_t total = 0;
  std::uint16_t model = 0;
  std::uint8_t hw_major = 0;
  std::uint8_t hw_minor = 0;
};

Result<RtosHeader> ParseRtosHeader(ByteView data) {
  if (data.size() < kHeaderSize || !HasBytesAt(data, 0, kMagic1) ||
      !HasBytesAt(data, kMagic2Offset, kMagic2)) {
    return Fail(ErrorCode::kNotThisFormat, "no TP-Link RTOS header");
  }
  RtosHeader h;
  h.total = std::uint64_t{LoadU32(data.data() + 24, Endian::kBig)} + kMagic2Offset;
  h.model = LoadU16(data.data() + 28, Endian::kBig);
  h.hw_major = data[30];
  h.hw_minor = data[31];
  if (h.total < kHeaderSize) return Fail(ErrorCode::kNotThisFormat, "TP-Link RTOS size");
  if (h.total > data.size()) {
    return Fail(ErrorCode::kTruncated, "TP-Link RTOS image of " + std::to_string(h.total) +
                                           " bytes, only " + std::to_string(data.size()) +
                                           " present");
  }
  return h;
}

class TplinkRtosHandler final : public Handler {
 public:
  std::string_view Name() const override { return "tplink-rtos"; }
  std::string_view Description() const override {
    return "TP-Link RTOS firmware header: model and hardware revision recorded, image carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    // "IMG0" rather than the first magic, which starts with a NUL byte.
    static constexpr Signature kSignatures[] = {{kMagic2, kMagic2Offset}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseRtosHeader(data);
    if (!header) return Forward(header);
    return header->total;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseRtosHeader(data);
    if (!header) return Forward(header);
    char model[8];
    std::snprintf(model, sizeof model, "%X", header->model);
    ctx.SetMetadata("model", model);
    ctx.SetMetadata("hardware_version",
                    std::to_string(header->hw_major) + "." + std::to_string(header->hw_minor));
    CLEARBOX_TRY(ctx.out().WriteFile("firmware.bin",
                                     data.subspan(kHeaderSize, header->total - kHeaderSize), 0644));
    return header->total;
  }
};

}  // namespace

const Handler& GetTplinkRtosHandler() {
  static const TplinkRtosHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
