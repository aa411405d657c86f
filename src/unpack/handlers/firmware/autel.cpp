// Autel "ECC0101" obfuscated firmware (Autel drones, diagnostic tools and chargers; layout and
// table as binwalk v3 describes them, src/structures/autel.rs and src/extractors/autel.rs):
// a 32-byte little-endian header - magic "ECC0101\0", data size (u32), header size (u32,
// always 0x20), "Copyright Autel" in 16 bytes - then the data, obfuscated in blocks of 256
// bytes: byte i of a block decodes as ((byte + add[i]) ^ xor[i]) mod 256. The decoded data is
// written as `decoded.bin` (the engine unpacks it).
#include <algorithm>
#include <string>
#include <vector>

#include "unpack/handlers/firmware/autel_table.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic("ECC0101\0", 8);
constexpr std::string_view kCopyright("Copyright Autel\0", 16);
constexpr std::size_t kHeaderSize = 0x20;

// Data size of a valid header, or an error.
Result<std::uint32_t> ParseAutel(ByteView data) {
  if (data.size() < kHeaderSize || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no Autel ECC0101 magic");
  }
  if (LoadU32(data.data() + 12, Endian::kLittle) != kHeaderSize ||
      !HasBytesAt(data, 16, kCopyright)) {
    return Fail(ErrorCode::kNotThisFormat, "no Autel header after the ECC0101 magic");
  }
  const std::uint32_t data_size = LoadU32(data.data() + 8, Endian::kLittle);
  if (data_size == 0) return Fail(ErrorCode::kMalformed, "Autel header declares no data");
  return data_size;
}

class AutelHandler final : public Handler {
 public:
  std::string_view Name() const override { return "autel"; }
  std::string_view Description() const override {
    return "Autel ECC0101 obfuscated firmware: data decoded (per-position add/xor table)";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto data_size = ParseAutel(data);
    if (!data_size) return Forward(data_size);
    return std::min<std::uint64_t>(kHeaderSize + std::uint64_t{*data_size}, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto data_size = ParseAutel(data);
    if (!data_size) return Forward(data_size);
    ctx.SetMetadata("data_size", std::to_string(*data_size));
    const ByteView body = data.subspan(kHeaderSize);
    const std::size_t present = std::min<std::uint64_t>(*data_size, body.size());
    auto file = ctx.out().CreateFile("decoded.bin", 0644);
    if (!file) return Forward(file);
    std::vector<std::uint8_t> block(kAutelBlockSize);
    for (std::size_t at = 0; at < present; at += kAutelBlockSize) {
      const std::size_t n = std::min(kAutelBlockSize, present - at);
      for (std::size_t i = 0; i < n; ++i) {
        block[i] = AutelDecodeByte(body[at + i], i);
      }
      CLEARBOX_TRY(file->Write(ByteView(block.data(), n)));
      if (at % (1u << 20) == 0) CLEARBOX_TRY(ctx.budget().CheckDeadline());
    }
    CLEARBOX_TRY(file->Close());
    if (present < *data_size) {
      return Fail(ErrorCode::kTruncated, "Autel data declares " + std::to_string(*data_size) +
                                             " bytes, " + std::to_string(present) + " present");
    }
    return kHeaderSize + std::uint64_t{*data_size};
  }
};

}  // namespace

const Handler& GetAutelHandler() {
  static const AutelHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
