// Zstandard: consecutive frames (and skippable frames between them) decoded with libzstd's
// streaming API into one output file; the chunk ends after the last frame.
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, ZSTD_d_windowLogMax
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kFrameMagic = 0xFD2FB528;
constexpr std::uint32_t kSkippableMagic = 0x184D2A50;  // low 4 bits are free
constexpr std::size_t kInputStep = 1 << 20;
// Windows up to 1 GiB (zstd --long=30); the library default stops at 128 MiB.
constexpr int kWindowLogMax = 30;
// A run of skippable frames longer than this is not worth following.
constexpr int kMaxSkippableRun = 64;

enum class FrameKind { kNone, kFrame, kSkippable };

// What kind of frame starts `data`, after a cheap header check.
FrameKind KindAt(ByteView data) {
  if (data.size() < 8) return FrameKind::kNone;
  const std::uint32_t magic = LoadU32(data.data(), Endian::kLittle);
  if ((magic & 0xFFFFFFF0U) == kSkippableMagic) {
    const std::uint64_t size = LoadU32(data.data() + 4, Endian::kLittle);
    return size <= data.size() - 8 ? FrameKind::kSkippable : FrameKind::kNone;
  }
  if (magic != kFrameMagic) return FrameKind::kNone;
  ZSTD_frameHeader fh{};
  if (ZSTD_getFrameHeader(&fh, data.data(), data.size()) != 0) return FrameKind::kNone;
  if (fh.frameType != ZSTD_frame) return FrameKind::kNone;
  if (fh.windowSize > (1ULL << kWindowLogMax)) return FrameKind::kNone;
  // The first block header: a reserved type or a block larger than the format allows is
  // not zstd.
  if (data.size() < fh.headerSize + 3) return FrameKind::kNone;
  const std::uint8_t* b = data.data() + fh.headerSize;
  const std::uint32_t block = b[0] | (b[1] << 8) | (std::uint32_t{b[2]} << 16);
  const std::uint32_t type = (block >> 1) & 3;
  const std::uint32_t size = block >> 3;
  if (type == 3) return FrameKind::kNone;
  if (type != 1 && size > std::min<std::uint64_t>(fh.windowSize, ZSTD_BLOCKSIZE_MAX)) {
    return FrameKind::kNone;
  }
  return FrameKind::kFrame;
}

// Frames and skippable frames from here on; stops at the first frame, or fails.
Result<std::uint64_t> SkipSkippables(ByteView data) {
  std::uint64_t pos = 0;
  for (int i = 0; i < kMaxSkippableRun; ++i) {
    const FrameKind kind = KindAt(data.subspan(pos));
    if (kind == FrameKind::kFrame) return pos;
    if (kind == FrameKind::kNone) break;
    pos += 8 + std::uint64_t{LoadU32(data.data() + pos + 4, Endian::kLittle)};
  }
  return Fail(ErrorCode::kNotThisFormat, "no zstd frame");
}

struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

class ZstdHandler final : public Handler {
 public:
  std::string_view Name() const override { return "zstd"; }
  std::string_view Description() const override { return "Zstandard frame"; }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {std::string_view("\x28\xb5\x2f\xfd", 4), 0},
        // Skippable frames (magic 0x184D2A5?) only count when a real frame follows.
        {std::string_view("\x50\x2a\x4d\x18", 4), 0},
        {std::string_view("\x51\x2a\x4d\x18", 4), 0},
        {std::string_view("\x52\x2a\x4d\x18", 4), 0},
        {std::string_view("\x53\x2a\x4d\x18", 4), 0},
        {std::string_view("\x54\x2a\x4d\x18", 4), 0},
        {std::string_view("\x55\x2a\x4d\x18", 4), 0},
        {std::string_view("\x56\x2a\x4d\x18", 4), 0},
        {std::string_view("\x57\x2a\x4d\x18", 4), 0},
        {std::string_view("\x58\x2a\x4d\x18", 4), 0},
        {std::string_view("\x59\x2a\x4d\x18", 4), 0},
        {std::string_view("\x5a\x2a\x4d\x18", 4), 0},
        {std::string_view("\x5b\x2a\x4d\x18", 4), 0},
        {std::string_view("\x5c\x2a\x4d\x18", 4), 0},
        {std::string_view("\x5d\x2a\x4d\x18", 4), 0},
        {std::string_view("\x5e\x2a\x4d\x18", 4), 0},
        {std::string_view("\x5f\x2a\x4d\x18", 4), 0},
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto first = SkipSkippables(data);
    if (!first) return Forward(first);
    return 0;  // the end is known only after decoding
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    CLEARBOX_TRY(SkipSkippables(data));
    std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
    if (!dctx) return Fail(ErrorCode::kInternal, "ZSTD_createDCtx failed");
    if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kWindowLogMax))) {
      return Fail(ErrorCode::kInternal, "zstd windowLogMax refused");
    }
    LazyOutput out(ctx, DecompressedName(ctx.container_name(),
                                         {{".zst", ""}, {".zstd", ""}, {".tzst", ".tar"}}));
    std::vector<std::uint8_t> buffer(kStreamBufferBytes);
    std::uint64_t consumed = 0;  // end of the last complete frame
    while (consumed < data.size()) {
      const ByteView rest = data.subspan(consumed);
      const FrameKind kind = KindAt(rest);
      if (kind == FrameKind::kNone) break;
      if (kind == FrameKind::kSkippable) {
        // Only part of the chunk when a frame follows the run.
        auto next = SkipSkippables(rest);
        if (!next) break;
        consumed += *next;
        ctx.NoteConsumed(consumed);
        continue;
      }
      auto used = DecodeFrame(dctx.get(), rest, out, buffer, ctx);
      if (!used) {
        (void)out.Close();
        return Forward(used);
      }
      consumed += *used;
      ctx.NoteConsumed(consumed);
    }
    CLEARBOX_TRY(out.Close());
    return consumed;
  }

 private:
  // Decodes one frame into `out`; returns the bytes it occupies.
  static Result<std::uint64_t> DecodeFrame(ZSTD_DCtx* dctx, ByteView frame, LazyOutput& out,
                                           std::vector<std::uint8_t>& buffer, ExtractContext& ctx) {
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    ZSTD_inBuffer in{frame.data(), 0, 0};
    std::size_t rc = 1;
    bool output_full = false;  // the decoder may hold more output than it could give
    while (true) {
      if (in.pos == in.size && !output_full) {
        if (in.size == frame.size()) break;
        in.size = static_cast<std::size_t>(
            std::min<std::uint64_t>(frame.size(), std::uint64_t{in.size} + kInputStep));
        CLEARBOX_TRY(ctx.budget().CheckDeadline());
      }
      ZSTD_outBuffer o{buffer.data(), buffer.size(), 0};
      const std::size_t in_before = in.pos;
      rc = ZSTD_decompressStream(dctx, &o, &in);
      if (ZSTD_isError(rc)) break;
      output_full = o.pos == o.size;
      if (o.pos) CLEARBOX_TRY(out.Write(ByteView(buffer.data(), o.pos)));
      if (rc == 0) return std::uint64_t{in.pos};
      if (o.pos == 0 && in.pos == in_before && in.pos < in.size) {
        return Fail(ErrorCode::kInternal, "zstd made no progress");
      }
    }
    const std::string after = " after " + std::to_string(out.written()) + " output bytes";
    if (!ZSTD_isError(rc)) return Fail(ErrorCode::kTruncated, "zstd frame ends early" + after);
    switch (ZSTD_getErrorCode(rc)) {
      case ZSTD_error_frameParameter_windowTooLarge:
      case ZSTD_error_memory_allocation:
        return Fail(ErrorCode::kUnsupported, "zstd frame needs more memory than allowed" + after);
      case ZSTD_error_dictionary_wrong:
        return Fail(ErrorCode::kUnsupported, "zstd frame needs a dictionary" + after);
      default:
        return Fail(ErrorCode::kMalformed,
                    std::string("zstd data corrupt: ") + ZSTD_getErrorName(rc) + after);
    }
  }
};

}  // namespace

const Handler& GetZstdHandler() {
  static const ZstdHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
