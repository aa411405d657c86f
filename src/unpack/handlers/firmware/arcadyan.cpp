// Arcadyan's obfuscated LZMA images (firmware of Arcadyan-made routers, e.g. for Vodafone and
// O2): a 4-byte prefix, then an LZMA_Alone stream whose first bytes are scrambled. Two 32-byte
// blocks, at 4 and at 0x68, are swapped; the block that lands at 4 then has each byte's nibbles
// swapped and each pair of bytes exchanged. Unscrambled, the LZMA header starts at 4 (and the
// scrambled block at 0x68 begins with the bytes "\x00\xd5\x08\x00", the signature). The stream
// is decoded into `decompressed`; the chunk ends where the LZMA stream ends.
//
// Unscrambling needs a copy of the data: at most kMaxImageBytes are copied (Arcadyan kernels
// and root filesystems are a few MiB), a longer stream is reported as cut short.
#include <algorithm>
#include <vector>

#include "unpack/handlers/compression/lzma_alone.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kPrefixBytes = 4;
constexpr std::size_t kBlockBytes = 32;
constexpr std::size_t kSecondBlock = 0x68;
constexpr std::size_t kScrambledEnd = kSecondBlock + kBlockBytes;  // 0x88
constexpr std::size_t kProbeBytes = 64 * 1024;
constexpr std::size_t kMaxImageBytes = 64u << 20;

// A copy of the first `limit` bytes of `data` with the scrambled head put back in order.
std::vector<std::uint8_t> Unscramble(ByteView data, std::size_t limit) {
  std::vector<std::uint8_t> out(data.begin(), data.begin() + std::min(limit, data.size()));
  // The two blocks trade places.
  std::copy(data.begin() + kSecondBlock, data.begin() + kScrambledEnd, out.begin() + kPrefixBytes);
  std::copy(data.begin() + kPrefixBytes, data.begin() + kPrefixBytes + kBlockBytes,
            out.begin() + kSecondBlock);
  // The block now at 4: nibbles swapped in each byte, then bytes swapped in each pair.
  for (std::size_t i = kPrefixBytes; i < kPrefixBytes + kBlockBytes; ++i) {
    out[i] = static_cast<std::uint8_t>((out[i] << 4) | (out[i] >> 4));
  }
  for (std::size_t i = kPrefixBytes; i < kPrefixBytes + kBlockBytes; i += 2) {
    std::swap(out[i], out[i + 1]);
  }
  return out;
}

class ArcadyanHandler final : public Handler {
 public:
  std::string_view Name() const override { return "arcadyan"; }
  std::string_view Description() const override {
    return "Arcadyan obfuscated LZMA image: header unscrambled, LZMA stream decoded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    // vectorscan's literal API refuses literals that begin with a NUL byte: the signature
    // skips the block's leading zero.
    static constexpr Signature kSignatures[] = {
        {std::string_view("\xd5\x08\x00", 3), kSecondBlock + 1}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (data.size() <= kScrambledEnd) return Fail(ErrorCode::kNotThisFormat, "short Arcadyan");
    const auto head = Unscramble(data, kProbeBytes);
    CLEARBOX_TRY(CheckLzmaAloneStart(ByteView(head).subspan(kPrefixBytes)));
    return 0;  // the end is known only after decoding
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    if (data.size() <= kScrambledEnd) return Fail(ErrorCode::kNotThisFormat, "short Arcadyan");
    const auto image = Unscramble(data, kMaxImageBytes);
    auto used = ExtractLzmaAlone(ByteView(image).subspan(kPrefixBytes), ctx, "decompressed");
    if (!used) {
      if (used.error().code == ErrorCode::kTruncated && data.size() > kMaxImageBytes) {
        return Fail(ErrorCode::kLimitExceeded, "Arcadyan LZMA stream longer than the " +
                                                   std::to_string(kMaxImageBytes >> 20) +
                                                   " MiB unscrambled");
      }
      return Forward(used);
    }
    return kPrefixBytes + *used;
  }
};

}  // namespace

const Handler& GetArcadyanHandler() {
  static const ArcadyanHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
