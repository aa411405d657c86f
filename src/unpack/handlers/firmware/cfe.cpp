// Broadcom CFE (Common Firmware Environment) bootloader: recognised by its entry-point seal,
// the word 0x43464531 ("CFE1") stored twice at offset 28 of the image (binwalk v3
// src/signatures/cfe.rs; CFE's MIPS vector table). Stored big-endian it reads "CFE1CFE1",
// little-endian "1EFC1EFC", which gives the byte order; the first word, the reset vector,
// must be a MIPS jump or branch in that order. A bootloader has no header that
// gives its length, so the chunk covers the vector table up to the seal (36 bytes) and the
// engine goes on scanning what follows (the compressed main CFE of "cfez" builds, NVRAM).
// CFE prints its version at run time from numbers, so no version text is looked for.
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kSealBig = "CFE1CFE1";
constexpr std::string_view kSealLittle = "1EFC1EFC";
constexpr std::size_t kSealOffset = 28;
constexpr std::uint64_t kChunkSize = kSealOffset + 8;

// True when `word` is a MIPS jump or branch (bal, j, jal, b/beq), as CFE's reset vector is.
bool IsMipsBranch(std::uint32_t word) {
  const std::uint32_t opcode = word >> 26;
  return opcode >= 1 && opcode <= 4;
}

Result<Endian> ParseSeal(ByteView data) {
  Endian endian;
  if (HasBytesAt(data, kSealOffset, kSealBig)) {
    endian = Endian::kBig;
  } else if (HasBytesAt(data, kSealOffset, kSealLittle)) {
    endian = Endian::kLittle;
  } else {
    return Fail(ErrorCode::kNotThisFormat, "no CFE seal at offset 28");
  }
  // The seal alone also turns up in text (sources, documentation, strings tables).
  if (!IsMipsBranch(LoadU32(data.data(), endian))) {
    return Fail(ErrorCode::kNotThisFormat, "CFE seal without a MIPS reset vector before it");
  }
  return endian;
}

class CfeHandler final : public Handler {
 public:
  std::string_view Name() const override { return "cfe"; }
  std::string_view Description() const override {
    return "Broadcom CFE bootloader: recognised by its entry-point seal (byte order recorded)";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kSealBig, kSealOffset},
                                                {kSealLittle, kSealOffset}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto endian = ParseSeal(data);
    if (!endian) return Forward(endian);
    return kChunkSize;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto endian = ParseSeal(data);
    if (!endian) return Forward(endian);
    ctx.SetMetadata("os", "Broadcom CFE");
    ctx.SetMetadata("byte_order", *endian == Endian::kBig ? "big" : "little");
    return kChunkSize;
  }
};

}  // namespace

const Handler& GetCfeHandler() {
  static const CfeHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
