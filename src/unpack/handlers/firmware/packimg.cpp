// PackImg section header (vendor firmware bundles; layout as binwalk v3 describes it,
// src/structures/packimg.rs): 32 bytes, "--PaCkImGs--" (12 bytes), 4 padding bytes, a
// little-endian u32 data size at offset 16, padding to 32; the data follows and is written
// as `payload.bin` for the engine to unpack. A bundle of several sections is found section
// by section by the engine's scan. As in binwalk, the padding must be zero and the section's
// data must all be present: the magic alone turns up in text, with a size made of letters.
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic = "--PaCkImGs--";
constexpr std::uint64_t kHeaderSize = 32;

struct PackImgHeader {
  std::uint64_t data_size = 0;
};

Result<PackImgHeader> ParsePackImg(ByteView data) {
  if (data.size() < kHeaderSize || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no PackImg header");
  }
  if (LoadU32(data.data() + 12, Endian::kLittle) != 0) {
    return Fail(ErrorCode::kNotThisFormat, "PackImg padding is not zero");
  }
  PackImgHeader h;
  h.data_size = LoadU32(data.data() + 16, Endian::kLittle);
  if (h.data_size == 0) return Fail(ErrorCode::kNotThisFormat, "PackImg section without data");
  if (h.data_size > data.size() - kHeaderSize) {
    return Fail(ErrorCode::kNotThisFormat, "PackImg section larger than the rest of the image");
  }
  return h;
}

class PackImgHandler final : public Handler {
 public:
  std::string_view Name() const override { return "packimg"; }
  std::string_view Description() const override {
    return "PackImg firmware section header: section data carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParsePackImg(data);
    if (!header) return Forward(header);
    return kHeaderSize + header->data_size;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParsePackImg(data);
    if (!header) return Forward(header);
    ctx.SetMetadata("data_size", std::to_string(header->data_size));
    auto written =
        ctx.out().WriteFile("payload.bin", data.subspan(kHeaderSize, header->data_size), 0644);
    if (!ctx.ContinueAfter(written, "payload.bin")) return Forward(written);
    return kHeaderSize + header->data_size;
  }
};

}  // namespace

const Handler& GetPackImgHandler() {
  static const PackImgHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
