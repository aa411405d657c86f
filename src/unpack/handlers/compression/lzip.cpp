// lzip (.lz): members of "LZIP", version 1, a coded dictionary size, LZMA data and a
// 20-byte trailer (CRC32, data size, member size), decoded with liblzma's lzip decoder.
// Concatenated members (as plzip and `cat a.lz b.lz` make) are one output file, as lzip -d
// gives them.
#include <lzma.h>

#include <vector>

#include "unpack/handlers/compression/lzma_decode.hpp"
#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kLzipMagic("LZIP\x01", 5);
constexpr std::size_t kHeaderBytes = 6;
constexpr std::size_t kTrailerBytes = 20;
// lzip's largest dictionary is 512 MiB; the decoder needs a little more than that.
constexpr std::uint64_t kMemoryLimit = 600ULL << 20;

// True when `data` starts with a member header whose dictionary size lzip allows
// (4 KiB to 512 MiB: base 2^12..2^29, less up to 7 sixteenths of it).
bool IsMemberHeader(ByteView data) {
  if (data.size() < kHeaderBytes + kTrailerBytes || !HasBytesAt(data, 0, kLzipMagic)) {
    return false;
  }
  const unsigned exponent = data[5] & 0x1f;
  const unsigned fraction = data[5] >> 5;
  if (exponent < 12 || exponent > 29) return false;
  return !(exponent == 12 && fraction != 0);  // below 4 KiB
}

class LzipHandler final : public Handler {
 public:
  std::string_view Name() const override { return "lzip"; }
  std::string_view Description() const override {
    return "lzip stream (one or more members; CRC32 and sizes checked by liblzma)";
  }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kLzipMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!IsMemberHeader(data)) return Fail(ErrorCode::kNotThisFormat, "no lzip member header");
    return 0;  // the end is known only after decoding
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    if (!IsMemberHeader(data)) return Fail(ErrorCode::kNotThisFormat, "no lzip member header");
    LazyOutput out(ctx, DecompressedName(ctx.container_name(), {{".lz", ""}, {".tlz", ".tar"}}));
    std::vector<std::uint8_t> buffer(kStreamBufferBytes);
    return DecodeConcatenatedStreams(data, out, ctx, IsMemberHeader, [&](ByteView member) {
      return DecodeMember(member, out, buffer, ctx);
    });
  }

 private:
  // Decodes one member into `out`; returns the bytes it occupies (header to trailer).
  static Result<std::uint64_t> DecodeMember(ByteView member, LazyOutput& out,
                                            std::vector<std::uint8_t>& buffer,
                                            ExtractContext& ctx) {
    lzma_stream zs = LZMA_STREAM_INIT;
    // Without LZMA_CONCATENATED the decoder stops after one member; the trailer's CRC32 and
    // sizes are checked by liblzma.
    if (lzma_lzip_decoder(&zs, kMemoryLimit, 0) != LZMA_OK) {
      return Fail(ErrorCode::kInternal, "lzma_lzip_decoder failed");
    }
    return RunLzmaDecoder(zs, member, out, buffer, ctx, "lzip member");
  }
};

}  // namespace

const Handler& GetLzipHandler() {
  static const LzipHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
