// eCos on MIPS: recognised by the kernel's exception handler, which every eCos MIPS image
// carries (binwalk v3 src/signatures/ecos.rs gives the instruction sequence):
//   mfc0 $k0, Cause ; [nop] ; andi $k0, $k0, 0x7f ; lui $k1, hi ; addiu/ori $k1, lo ; ...
// The handler names the OS, the byte order and the address of the VSR table the handler
// jumps through (from the lui/addiu pair). There is no header, so nothing is extracted.
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kMfc0K0Cause = 0x401A6800;  // mfc0 $k0, $13
constexpr std::uint32_t kAndiK0 = 0x335A007F;       // andi $k0, $k0, 0x7f
constexpr std::uint32_t kLuiK1 = 0x3C1B0000;        // lui $k1, imm (upper half)
constexpr std::uint32_t kAddiuK1 = 0x277B0000;      // addiu $k1, $k1, imm
constexpr std::uint32_t kOriK1 = 0x377B0000;        // ori $k1, $k1, imm

struct EcosHandlerCode {
  Endian endian = Endian::kBig;
  std::uint64_t length = 0;  // bytes of the recognised instructions
  std::uint32_t vsr_table = 0;
};

Result<EcosHandlerCode> ParseHandler(ByteView data) {
  for (const Endian endian : {Endian::kBig, Endian::kLittle}) {
    const auto word = [&](std::size_t i) -> std::uint32_t {
      return data.size() >= 4 * (i + 1) ? LoadU32(data.data() + 4 * i, endian) : 0;
    };
    if (word(0) != kMfc0K0Cause) continue;
    std::size_t i = word(1) == 0 ? 2 : 1;  // some versions leave the nop out
    if (word(i) != kAndiK0 || (word(i + 1) & 0xFFFF0000) != kLuiK1) continue;
    EcosHandlerCode code;
    code.endian = endian;
    code.vsr_table = (word(i + 1) & 0xFFFF) << 16;
    const std::uint32_t low = word(i + 2);
    if ((low & 0xFFFF0000) == kAddiuK1) {
      code.vsr_table += static_cast<std::uint32_t>(static_cast<std::int16_t>(low & 0xFFFF));
      i += 3;
    } else if ((low & 0xFFFF0000) == kOriK1) {
      code.vsr_table |= low & 0xFFFF;
      i += 3;
    } else {
      i += 2;
    }
    code.length = 4 * i;
    return code;
  }
  return Fail(ErrorCode::kNotThisFormat, "no eCos MIPS exception handler");
}

std::string Hex32(std::uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kDigits[(v >> shift) & 15]);
  return out;
}

class EcosHandler final : public Handler {
 public:
  std::string_view Name() const override { return "ecos"; }
  std::string_view Description() const override {
    return "eCos RTOS (MIPS): recognised by its kernel exception handler, byte order and VSR "
           "table address recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    // Little-endian words begin with a NUL byte, which vectorscan's literals cannot: those
    // signatures start one byte in.
    static constexpr Signature kSignatures[] = {
        {std::string_view("\x40\x1A\x68\x00\x00\x00\x00\x00\x33\x5A\x00\x7F", 12), 0},
        {std::string_view("\x40\x1A\x68\x00\x33\x5A\x00\x7F", 8), 0},
        {std::string_view("\x68\x1A\x40\x00\x00\x00\x00\x7F\x00\x5A\x33", 11), 1},
        {std::string_view("\x68\x1A\x40\x7F\x00\x5A\x33", 7), 1},
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto code = ParseHandler(data);
    if (!code) return Forward(code);
    return code->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto code = ParseHandler(data);
    if (!code) return Forward(code);
    ctx.SetMetadata("os", "eCos");
    ctx.SetMetadata("arch", "mips");
    ctx.SetMetadata("byte_order", code->endian == Endian::kBig ? "big" : "little");
    ctx.SetMetadata("vsr_table", Hex32(code->vsr_table));
    return code->length;
  }
};

}  // namespace

const Handler& GetEcosHandler() {
  static const EcosHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
