// bzip2: "BZh1".."BZh9" then a block (pi) or end-of-stream (sqrt pi) magic; concatenated
// streams (as pbzip2 and `cat a.bz2 b.bz2` make) are decoded with libbz2 into one file.
#include <bzlib.h>

#include <algorithm>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kInputStep = 1 << 20;

// True when `data` starts a bzip2 stream: "BZh", a level digit and a block or end magic.
bool IsStreamStart(ByteView data) {
  if (data.size() < 10 || !HasBytesAt(data, 0, "BZh") || data[3] < '1' || data[3] > '9') {
    return false;
  }
  return HasBytesAt(data, 4, "\x31\x41\x59\x26\x53\x59") ||
         HasBytesAt(data, 4, "\x17\x72\x45\x38\x50\x90");
}

#define CLEARBOX_BZ2_SIGNATURES(level)                                  \
  {std::string_view("BZh" #level "\x31\x41\x59\x26\x53\x59", 10), 0}, { \
    std::string_view("BZh" #level "\x17\x72\x45\x38\x50\x90", 10), 0    \
  }

class Bzip2Handler final : public Handler {
 public:
  std::string_view Name() const override { return "bzip2"; }
  std::string_view Description() const override { return "bzip2 stream"; }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        CLEARBOX_BZ2_SIGNATURES(1), CLEARBOX_BZ2_SIGNATURES(2), CLEARBOX_BZ2_SIGNATURES(3),
        CLEARBOX_BZ2_SIGNATURES(4), CLEARBOX_BZ2_SIGNATURES(5), CLEARBOX_BZ2_SIGNATURES(6),
        CLEARBOX_BZ2_SIGNATURES(7), CLEARBOX_BZ2_SIGNATURES(8), CLEARBOX_BZ2_SIGNATURES(9),
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!IsStreamStart(data)) return Fail(ErrorCode::kNotThisFormat, "no bzip2 stream header");
    return 0;  // the end is known only after decoding
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    if (!IsStreamStart(data)) return Fail(ErrorCode::kNotThisFormat, "no bzip2 stream header");
    LazyOutput out(
        ctx, DecompressedName(ctx.container_name(),
                              {{".bz2", ""}, {".bzip2", ""}, {".tbz2", ".tar"}, {".tbz", ".tar"}}));
    std::vector<std::uint8_t> buffer(kStreamBufferBytes);
    return DecodeConcatenatedStreams(data, out, ctx, IsStreamStart, [&](ByteView stream) {
      return DecodeStream(stream, out, buffer, ctx);
    });
  }

 private:
  // Decodes one stream into `out`; returns the bytes it occupies.
  static Result<std::uint64_t> DecodeStream(ByteView stream, LazyOutput& out,
                                            std::vector<std::uint8_t>& buffer,
                                            ExtractContext& ctx) {
    bz_stream bz{};
    if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) {
      return Fail(ErrorCode::kInternal, "BZ2_bzDecompressInit failed");
    }
    std::uint64_t fed = 0;
    int rc = BZ_OK;
    Result<void> status;
    bool output_full = false;  // libbz2 may hold more output than it could give
    while (true) {
      if (bz.avail_in == 0 && !output_full) {
        if (fed == stream.size()) break;
        const std::uint64_t step = std::min<std::uint64_t>(stream.size() - fed, kInputStep);
        bz.next_in = const_cast<char*>(reinterpret_cast<const char*>(stream.data() + fed));
        bz.avail_in = static_cast<unsigned>(step);
        fed += step;
        status = ctx.budget().CheckDeadline();
        if (!status) break;
      }
      bz.next_out = reinterpret_cast<char*>(buffer.data());
      bz.avail_out = static_cast<unsigned>(buffer.size());
      const unsigned in_before = bz.avail_in;
      rc = BZ2_bzDecompress(&bz);
      const std::size_t produced = buffer.size() - bz.avail_out;
      output_full = bz.avail_out == 0;
      if (produced) {
        status = out.Write(ByteView(buffer.data(), produced));
        if (!status) break;
      }
      if (rc != BZ_OK) break;
      // No progress with input left and room for output cannot happen in libbz2, but a
      // loop that ends on its own is cheaper than proving it.
      if (produced == 0 && bz.avail_in == in_before && in_before > 0) {
        rc = BZ_DATA_ERROR;
        break;
      }
    }
    const std::uint64_t used = (std::uint64_t{bz.total_in_hi32} << 32) | bz.total_in_lo32;
    BZ2_bzDecompressEnd(&bz);
    if (!status) return Forward(status);
    const std::string after = " after " + std::to_string(out.written()) + " output bytes";
    switch (rc) {
      case BZ_STREAM_END: return used;
      case BZ_OK: return Fail(ErrorCode::kTruncated, "bzip2 stream ends early" + after);
      case BZ_MEM_ERROR: return Fail(ErrorCode::kInternal, "bzip2 out of memory" + after);
      default: return Fail(ErrorCode::kMalformed, "bzip2 data corrupt" + after);
    }
  }
};

}  // namespace

const Handler& GetBzip2Handler() {
  static const Bzip2Handler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
