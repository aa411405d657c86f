// LZ4: the frame format (magic 0x184D2204, liblz4's LZ4F API), consecutive frames into one
// file, and the legacy format of `lz4 -l` (magic 0x184C2102, 8 MiB blocks; Linux kernels).
#include <lz4.h>
#include <lz4frame.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kFrameMagic = 0x184D2204;
constexpr std::uint32_t kLegacyMagic = 0x184C2102;
constexpr std::uint32_t kSkippableMagic = 0x184D2A50;  // low 4 bits are free
constexpr std::size_t kInputStep = 1 << 20;
constexpr int kLegacyBlockBytes = 8 << 20;
constexpr int kMaxSkippableRun = 64;

struct DctxDeleter {
  void operator()(LZ4F_dctx* d) const { LZ4F_freeDecompressionContext(d); }
};
using Dctx = std::unique_ptr<LZ4F_dctx, DctxDeleter>;

Dctx MakeDctx() {
  LZ4F_dctx* d = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) return nullptr;
  return Dctx(d);
}

std::uint32_t MagicAt(ByteView data) {
  return data.size() >= 4 ? LoadU32(data.data(), Endian::kLittle) : 0;
}

// True when `data` starts a frame whose header (with its checksum) and first block size are
// valid.
bool IsFrameStart(ByteView data) {
  if (MagicAt(data) != kFrameMagic || data.size() < LZ4F_HEADER_SIZE_MIN) return false;
  const std::uint8_t flg = data[4], bd = data[5];
  if ((flg >> 6) != 1 || (flg & 0x02) != 0 || (bd & 0x8f) != 0 || ((bd >> 4) & 7) < 4) {
    return false;
  }
  Dctx dctx = MakeDctx();
  if (!dctx) return false;
  LZ4F_frameInfo_t info{};
  std::size_t header = std::min<std::size_t>(data.size(), LZ4F_HEADER_SIZE_MAX);
  if (LZ4F_isError(LZ4F_getFrameInfo(dctx.get(), &info, data.data(), &header))) return false;
  if (data.size() < header + 4) return false;
  const std::uint32_t block = LoadU32(data.data() + header, Endian::kLittle) & 0x7fffffffU;
  const std::uint32_t max_block = 1U << (8 + 2 * ((bd >> 4) & 7));  // 64 KiB .. 4 MiB
  return block <= max_block;
}

// Size of the legacy block whose size field is at `data`, or 0 when it cannot be one.
std::uint32_t LegacyBlockSize(ByteView data) {
  if (data.size() < 4) return 0;
  const std::uint32_t size = LoadU32(data.data(), Endian::kLittle);
  if (size == 0 || size > static_cast<std::uint32_t>(LZ4_compressBound(kLegacyBlockBytes))) {
    return 0;
  }
  return size;
}

// The legacy header, and the start of its first block decoding.
bool IsLegacyStart(ByteView data) {
  if (MagicAt(data) != kLegacyMagic) return false;
  const std::uint32_t size = LegacyBlockSize(data.subspan(4));
  if (size == 0) return false;
  const std::size_t avail = std::min<std::size_t>(size, data.size() - 8);
  static thread_local std::vector<char> trial(64 * 1024);
  const int got = LZ4_decompress_safe_partial(
      reinterpret_cast<const char*>(data.data() + 8), trial.data(), static_cast<int>(avail),
      static_cast<int>(trial.size()), static_cast<int>(trial.size()));
  // A block cut by the end of the data may fail here; extraction reports it as truncated.
  return got > 0 || avail < size;
}

class Lz4Handler final : public Handler {
 public:
  std::string_view Name() const override { return "lz4"; }
  std::string_view Description() const override { return "LZ4 frame and legacy format"; }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {std::string_view("\x04\x22\x4d\x18", 4), 0},
        {std::string_view("\x02\x21\x4c\x18", 4), 0},
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (IsFrameStart(data) || IsLegacyStart(data)) return 0;  // the end needs decoding
    return Fail(ErrorCode::kNotThisFormat, "no lz4 frame or legacy header");
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    const bool legacy = MagicAt(data) == kLegacyMagic;
    if (legacy ? !IsLegacyStart(data) : !IsFrameStart(data)) {
      return Fail(ErrorCode::kNotThisFormat, "no lz4 frame or legacy header");
    }
    LazyOutput out(ctx, DecompressedName(ctx.container_name(), {{".lz4", ""}, {".tlz4", ".tar"}}));
    auto consumed = legacy ? ExtractLegacy(data, out, ctx) : ExtractFrames(data, out, ctx);
    if (!consumed) {
      (void)out.Close();
      return consumed;
    }
    CLEARBOX_TRY(out.Close());
    return consumed;
  }

 private:
  // Consecutive frames, with skippable frames between them; ends after the last frame.
  static Result<std::uint64_t> ExtractFrames(ByteView data, LazyOutput& out, ExtractContext& ctx) {
    Dctx dctx = MakeDctx();
    if (!dctx) return Fail(ErrorCode::kInternal, "LZ4F_createDecompressionContext failed");
    std::vector<std::uint8_t> buffer(kStreamBufferBytes);
    std::uint64_t consumed = 0;
    while (consumed < data.size()) {
      ByteView rest = data.subspan(consumed);
      std::uint64_t skipped = 0;
      for (int i = 0; i < kMaxSkippableRun && (MagicAt(rest) & 0xFFFFFFF0U) == kSkippableMagic;
           ++i) {
        if (rest.size() < 8) break;
        const std::uint64_t size = 8 + std::uint64_t{LoadU32(rest.data() + 4, Endian::kLittle)};
        if (size > rest.size()) break;
        skipped += size;
        rest = rest.subspan(size);
      }
      if (!IsFrameStart(rest)) break;
      auto used = DecodeFrame(dctx.get(), rest, out, buffer, ctx);
      if (!used) return used;
      consumed += skipped + *used;
      ctx.NoteConsumed(consumed);
    }
    return consumed;
  }

  // Decodes one frame into `out`; returns the bytes it occupies.
  static Result<std::uint64_t> DecodeFrame(LZ4F_dctx* dctx, ByteView frame, LazyOutput& out,
                                           std::vector<std::uint8_t>& buffer, ExtractContext& ctx) {
    LZ4F_resetDecompressionContext(dctx);
    std::uint64_t pos = 0;
    std::size_t rc = 1;
    bool output_full = false;  // the context may hold more output than it could give
    while (true) {
      if (pos == frame.size() && !output_full) break;
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      std::size_t in_size =
          static_cast<std::size_t>(std::min<std::uint64_t>(frame.size() - pos, kInputStep));
      std::size_t out_size = buffer.size();
      rc = LZ4F_decompress(dctx, buffer.data(), &out_size, frame.data() + pos, &in_size, nullptr);
      if (LZ4F_isError(rc)) {
        return Fail(ErrorCode::kMalformed, std::string("lz4 data corrupt: ") +
                                               LZ4F_getErrorName(rc) + " after " +
                                               std::to_string(out.written()) + " output bytes");
      }
      pos += in_size;
      output_full = out_size == buffer.size();
      if (out_size) CLEARBOX_TRY(out.Write(ByteView(buffer.data(), out_size)));
      if (rc == 0) return pos;
      if (in_size == 0 && out_size == 0 && pos < frame.size()) {
        return Fail(ErrorCode::kInternal, "lz4 made no progress");
      }
    }
    return Fail(ErrorCode::kTruncated,
                "lz4 frame ends early after " + std::to_string(out.written()) + " output bytes");
  }

  // Legacy streams: blocks of (size, data); every block but the last decodes to 8 MiB, so a
  // shorter block ends the stream. Another legacy magic starts a further stream.
  static Result<std::uint64_t> ExtractLegacy(ByteView data, LazyOutput& out, ExtractContext& ctx) {
    // Not zero-filled: the decoder writes what it returns, and a small stream should not pay
    // for touching 8 MiB.
    const auto block = std::make_unique_for_overwrite<char[]>(kLegacyBlockBytes);
    std::uint64_t pos = 4;
    std::uint64_t consumed = 4;
    bool first = true;
    while (pos < data.size()) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      if (MagicAt(data.subspan(pos)) == kLegacyMagic) {
        if (!IsLegacyStart(data.subspan(pos))) break;
        pos += 4;
        first = true;
        continue;
      }
      const std::uint32_t size = LegacyBlockSize(data.subspan(pos));
      if (size == 0) break;
      if (size > data.size() - pos - 4) {
        return Fail(ErrorCode::kTruncated, "lz4 legacy block ends early after " +
                                               std::to_string(out.written()) + " output bytes");
      }
      const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(data.data() + pos + 4),
                                          block.get(), static_cast<int>(size), kLegacyBlockBytes);
      if (got < 0) {
        if (!first) break;  // trailing data that looked like a block size
        return Fail(ErrorCode::kMalformed, "lz4 legacy block corrupt after " +
                                               std::to_string(out.written()) + " output bytes");
      }
      CLEARBOX_TRY(out.Write(ByteView(reinterpret_cast<const std::uint8_t*>(block.get()),
                                      static_cast<std::size_t>(got))));
      pos += 4 + std::uint64_t{size};
      consumed = pos;
      first = false;
      if (got < kLegacyBlockBytes) {
        // A short block ends this stream; another stream may follow.
        if (MagicAt(data.subspan(pos)) != kLegacyMagic) break;
      }
    }
    return consumed;
  }
};

}  // namespace

const Handler& GetLz4Handler() {
  static const Lz4Handler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
