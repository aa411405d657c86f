// xz (.xz stream format): one or more streams, each of any number of blocks, decoded with
// liblzma into one output file. The chunk ends after the last stream's footer, including
// stream padding between streams (and at the very end of the data).
#include <lzma.h>
#include <zlib.h>

#include <vector>

#include "unpack/handlers/compression/lzma_decode.hpp"
#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kXzMagic(
    "\xfd"
    "7zXZ\x00",
    6);
constexpr std::size_t kStreamHeaderBytes = 12;
// Dictionaries of real files are at most 64 MiB (xz -9e); this leaves room for custom ones.
constexpr std::uint64_t kMemoryLimit = 512ULL << 20;

// True when `data` starts with a valid xz stream header (magic, flags, CRC32 of flags).
bool IsStreamHeader(ByteView data) {
  if (data.size() < kStreamHeaderBytes || !HasBytesAt(data, 0, kXzMagic)) return false;
  if (data[6] != 0 || (data[7] & 0xf0) != 0) return false;
  const std::uint32_t stored = LoadU32(data.data() + 8, Endian::kLittle);
  return stored == static_cast<std::uint32_t>(crc32(0, data.data() + 6, 2));
}

class XzHandler final : public Handler {
 public:
  std::string_view Name() const override { return "xz"; }
  std::string_view Description() const override { return "xz stream"; }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kXzMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!IsStreamHeader(data)) return Fail(ErrorCode::kNotThisFormat, "no xz stream header");
    return 0;  // the end is known only after decoding
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    if (!IsStreamHeader(data)) return Fail(ErrorCode::kNotThisFormat, "no xz stream header");
    LazyOutput out(ctx, DecompressedName(ctx.container_name(),
                                         {{".xz", ""}, {".txz", ".tar"}, {".lzma2", ""}}));
    std::vector<std::uint8_t> buffer(kStreamBufferBytes);
    std::uint64_t consumed = 0;
    while (consumed < data.size()) {
      const ByteView stream = data.subspan(consumed);
      if (consumed > 0 && !IsStreamHeader(stream)) break;
      auto used = DecodeStream(stream, out, buffer, ctx);
      if (!used) {
        (void)out.Close();
        return Forward(used);
      }
      consumed += *used;
      ctx.NoteConsumed(consumed);
      // Stream padding: zero bytes in multiples of four, kept only when another stream
      // follows or the data ends there (as in a padded .xz file).
      std::uint64_t zeros = 0;
      while (consumed + zeros < data.size() && data[consumed + zeros] == 0) ++zeros;
      zeros -= zeros % 4;
      if (zeros == 0) continue;
      if (consumed + zeros == data.size() || IsStreamHeader(data.subspan(consumed + zeros))) {
        consumed += zeros;
        ctx.NoteConsumed(consumed);
      } else {
        break;
      }
    }
    CLEARBOX_TRY(out.Close());
    return consumed;
  }

 private:
  // Decodes one stream into `out`; returns the bytes it occupies (header to footer).
  static Result<std::uint64_t> DecodeStream(ByteView stream, LazyOutput& out,
                                            std::vector<std::uint8_t>& buffer,
                                            ExtractContext& ctx) {
    lzma_stream zs = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&zs, kMemoryLimit, 0) != LZMA_OK) {
      return Fail(ErrorCode::kInternal, "lzma_stream_decoder failed");
    }
    return RunLzmaDecoder(zs, stream, out, buffer, ctx, "xz stream");
  }
};

}  // namespace

const Handler& GetXzHandler() {
  static const XzHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
