// JFFS2 rubin decoding. The coder is a 16-bit binary arithmetic coder: each output byte is
// eight binary symbols, least significant bit first; bit i is 1 with probability
// bits[i] / divider. The bit stream is read most significant bit first.
#include "unpack/handlers/filesystem/jffs2_rubin.hpp"

#include <array>

namespace clearbox::unpack::jffs2 {
namespace {

constexpr std::uint32_t kRegBits = 16;
constexpr std::uint32_t kUpper = 1u << (kRegBits - 1);  // 0x8000
constexpr std::uint32_t kLower = kUpper - 1;            // 0x7FFF
constexpr std::uint32_t kMipsDivider = 1043;
constexpr std::array<std::uint32_t, 8> kMipsBits = {277, 249, 290, 267, 229, 341, 212, 241};

// MSB-first bit source that refuses to read past the end of its input.
class BitSource {
 public:
  explicit BitSource(ByteView in) : in_(in) {}
  bool Pull(std::uint32_t* bit) {
    if (pos_ >= in_.size() * 8) return false;
    *bit = (in_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u;
    ++pos_;
    return true;
  }
  std::size_t pulled() const { return pos_; }

 private:
  ByteView in_;
  std::size_t pos_ = 0;
};

// Decodes into `out`; returns the number of input bits read.
Result<std::size_t> Decode(std::uint32_t divider, const std::array<std::uint32_t, 8>& bits,
                           ByteView in, std::span<std::uint8_t> out) {
  BitSource src(in);
  // p: width of the current interval, q: its low end, rec: the received code value.
  std::uint32_t p = 2 * kUpper, q = 0, rec = 0;
  for (std::uint32_t i = 0; i < kRegBits; ++i) {
    std::uint32_t b = 0;
    if (!src.Pull(&b)) return Fail(ErrorCode::kMalformed, "rubin data ends early");
    rec = (rec << 1) | b;
  }
  for (std::uint8_t& byte : out) {
    std::uint32_t value = 0;
    for (std::uint32_t i = 0; i < 8; ++i) {
      // Renormalise: p >= 1 always holds, so p doubles each step and q empties within
      // 16 shifts; the guard only protects against a logic error.
      for (int guard = 0; q >= kUpper || p + q <= kUpper; ++guard) {
        if (guard > 40) return Fail(ErrorCode::kMalformed, "rubin coder state diverged");
        std::uint32_t b = 0;
        if (!src.Pull(&b)) return Fail(ErrorCode::kMalformed, "rubin data ends early");
        q = (q & kLower) << 1;
        p <<= 1;
        rec = ((rec & kLower) << 1) | b;
      }
      const std::uint64_t a = divider - bits[i];  // weight of a 0 bit
      std::uint64_t split = a * p / divider;      // divider == a + bits[i]
      if (split == 0) split = 1;
      if (split >= p) split = p - 1;
      const auto s = static_cast<std::uint32_t>(split);
      if (rec >= q + s) {
        value |= 1u << i;
        q += s;
        p -= s;
      } else {
        p = s;
      }
    }
    byte = static_cast<std::uint8_t>(value);
  }
  return src.pulled();
}

// True when a stream of `in_bytes` bytes ends in its last byte after `bits` bits read (the
// encoder flushes its 16-bit register and pads to a byte).
bool EndsInLastByte(std::size_t bits, std::size_t in_bytes) {
  return in_bytes > 0 && bits <= in_bytes * 8 && bits + 8 > in_bytes * 8;
}

}  // namespace

Result<void> DynRubinDecompress(ByteView in, std::span<std::uint8_t> out) {
  if (in.size() < 8) return Fail(ErrorCode::kMalformed, "dynrubin data shorter than its table");
  std::array<std::uint32_t, 8> bits{};
  for (std::size_t i = 0; i < 8; ++i) bits[i] = in[i];
  auto bits_read = Decode(256, bits, in.subspan(8), out);
  if (!bits_read) return Forward(bits_read);
  return {};
}

Result<void> RubinMipsDecompress(ByteView in, std::span<std::uint8_t> out) {
  auto bits_read = Decode(kMipsDivider, kMipsBits, in, out);
  if (!bits_read) return Forward(bits_read);
  return {};
}

Result<void> Type3Decompress(ByteView in, std::span<std::uint8_t> out) {
  if (in.size() > 8) {
    std::array<std::uint32_t, 8> bits{};
    for (std::size_t i = 0; i < 8; ++i) bits[i] = in[i];
    auto dyn = Decode(256, bits, in.subspan(8), out);
    if (dyn && EndsInLastByte(*dyn, in.size() - 8)) return {};
  }
  auto mips = Decode(kMipsDivider, kMipsBits, in, out);
  if (!mips) return Forward(mips);
  if (!EndsInLastByte(*mips, in.size())) {
    return Fail(ErrorCode::kMalformed, "type 3 data is neither dynrubin nor rubinmips");
  }
  return {};
}

}  // namespace clearbox::unpack::jffs2
