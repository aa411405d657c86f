// lzop: our own bounds-checked reader of the container (header with name and checksum, then
// blocks of sizes and checksums) with blocks decoded by liblzo2's lzo1x_decompress_safe.
#include <lzo/lzo1x.h>
#include <zlib.h>

#include <mutex>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kLzopMagic("\x89LZO\x00\x0d\x0a\x1a\x0a", 9);
// Header flags (lzop's conf.h).
constexpr std::uint32_t kFlagAdler32D = 0x1, kFlagAdler32C = 0x2, kFlagExtraField = 0x40,
                        kFlagCrc32D = 0x100, kFlagCrc32C = 0x200, kFlagFilter = 0x800,
                        kFlagHeaderCrc32 = 0x1000, kFlagsReserved = 0x000fc000;
constexpr std::uint16_t kNewHeaderVersion = 0x0940;  // fields added in lzop 0.94
constexpr std::uint16_t kMaxVersionNeeded = 0x1fff;
constexpr std::uint32_t kMaxBlockBytes = 64U << 20;  // lzop's MAX_BLOCK_SIZE
constexpr std::uint32_t kMaxExtraField = 1U << 20;

// The header fields extraction needs.
struct LzopHeader {
  std::uint32_t flags = 0;
  std::string name;
  std::size_t header_size = 0;  // from the magic to the first block
};

std::uint32_t Adler32(ByteView bytes) {
  return static_cast<std::uint32_t>(adler32_z(1, bytes.data(), bytes.size()));
}
std::uint32_t Crc32(ByteView bytes) {
  return static_cast<std::uint32_t>(crc32_z(0, bytes.data(), bytes.size()));
}

Result<LzopHeader> ParseHeader(ByteView data) {
  if (!HasBytesAt(data, 0, kLzopMagic)) return Fail(ErrorCode::kNotThisFormat, "no lzop magic");
  const auto bad = [](const char* what) { return Fail(ErrorCode::kNotThisFormat, what); };
  ByteReader r(data, Endian::kBig);
  (void)r.Skip(kLzopMagic.size());
  auto version = r.U16();
  auto lib_version = r.U16();
  if (!version || !lib_version || *version < 0x0900) return bad("lzop version");
  if (*version >= kNewHeaderVersion) {
    auto needed = r.U16();
    if (!needed || *needed < 0x0900 || *needed > kMaxVersionNeeded) {
      return bad("lzop version needed");
    }
  }
  auto method = r.U8();
  if (!method || *method < 1 || *method > 3) return bad("lzop method (not LZO1X)");
  if (*version >= kNewHeaderVersion && !r.U8()) return bad("short lzop header");  // level
  auto flags = r.U32();
  if (!flags || (*flags & kFlagsReserved) != 0) return bad("lzop flags");
  LzopHeader h;
  h.flags = *flags;
  if ((h.flags & kFlagFilter) && !r.U32()) return bad("short lzop header");
  if (!r.U32() || !r.U32()) return bad("short lzop header");                       // mode, mtime
  if (*version >= kNewHeaderVersion && !r.U32()) return bad("short lzop header");  // mtime high
  auto name_len = r.U8();
  if (!name_len) return bad("short lzop header");
  auto name = r.Bytes(*name_len);
  if (!name) return bad("short lzop header");
  h.name = std::string(AsText(*name));
  const ByteView covered = data.subspan(kLzopMagic.size(), r.Position() - kLzopMagic.size());
  auto checksum = r.U32();
  if (!checksum) return bad("short lzop header");
  const std::uint32_t want = (h.flags & kFlagHeaderCrc32) ? Crc32(covered) : Adler32(covered);
  if (*checksum != want) return bad("lzop header checksum");
  if (h.flags & kFlagFilter) {
    return Fail(ErrorCode::kUnsupported, "lzop filters are not supported");
  }
  if (h.flags & kFlagExtraField) {
    const std::size_t start = r.Position();
    auto len = r.U32();
    if (!len || *len > kMaxExtraField || !r.Skip(*len)) {
      return Fail(ErrorCode::kTruncated, "lzop extra field");
    }
    const ByteView extra = data.subspan(start, r.Position() - start);
    auto extra_sum = r.U32();
    const std::uint32_t extra_want = (h.flags & kFlagHeaderCrc32) ? Crc32(extra) : Adler32(extra);
    if (!extra_sum) return Fail(ErrorCode::kTruncated, "lzop extra field");
    if (*extra_sum != extra_want) return Fail(ErrorCode::kMalformed, "lzop extra field checksum");
  }
  h.header_size = r.Position();
  return h;
}

void InitLzo() {
  static std::once_flag once;
  std::call_once(once, [] { (void)lzo_init(); });
}

// The chunk length found by walking the block headers to the end marker, or 0 when the
// walk fails (extraction then tells what is wrong).
std::uint64_t WalkBlocks(ByteView data, const LzopHeader& h) {
  ByteReader r(data, Endian::kBig);
  if (!r.Skip(h.header_size)) return 0;
  const int d_sums = ((h.flags & kFlagAdler32D) ? 1 : 0) + ((h.flags & kFlagCrc32D) ? 1 : 0);
  const int c_sums = ((h.flags & kFlagAdler32C) ? 1 : 0) + ((h.flags & kFlagCrc32C) ? 1 : 0);
  while (true) {
    auto dst_len = r.U32();
    if (!dst_len) return 0;
    if (*dst_len == 0) return r.Position();
    auto src_len = r.U32();
    if (!src_len || *dst_len > kMaxBlockBytes || *src_len == 0 || *src_len > *dst_len) return 0;
    const std::size_t sums = 4 * (d_sums + (*src_len < *dst_len ? c_sums : 0));
    if (!r.Skip(sums) || !r.Skip(*src_len)) return 0;
  }
}

class LzopHandler final : public Handler {
 public:
  std::string_view Name() const override { return "lzop"; }
  std::string_view Description() const override { return "lzop file (LZO1X blocks)"; }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kLzopMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseHeader(data);
    if (!header) return Forward(header);
    return WalkBlocks(data, *header);
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseHeader(data);
    if (!header) return Forward(header);
    InitLzo();
    std::string name = SafeStoredName(header->name);
    if (name.empty()) {
      name = DecompressedName(ctx.container_name(), {{".lzo", ""}, {".tzo", ".tar"}});
    }
    LazyOutput out(ctx, name);
    auto consumed = ExtractBlocks(data, *header, out, ctx);
    if (!consumed) {
      (void)out.Close();
      return consumed;
    }
    CLEARBOX_TRY(out.Close());
    return consumed;
  }

 private:
  static Result<std::uint64_t> ExtractBlocks(ByteView data, const LzopHeader& h, LazyOutput& out,
                                             ExtractContext& ctx) {
    ByteReader r(data, Endian::kBig);
    (void)r.Skip(h.header_size);
    std::vector<std::uint8_t> block;
    const auto truncated = [&out]() {
      return Fail(ErrorCode::kTruncated,
                  "lzop data ends early after " + std::to_string(out.written()) + " output bytes");
    };
    const auto corrupt = [&out](const std::string& what) {
      return Fail(ErrorCode::kMalformed,
                  "lzop " + what + " after " + std::to_string(out.written()) + " output bytes");
    };
    while (true) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      auto dst_len = r.U32();
      if (!dst_len) return truncated();
      if (*dst_len == 0) return std::uint64_t{r.Position()};  // end of stream
      if (*dst_len == 0xffffffffU) return Fail(ErrorCode::kUnsupported, "split lzop file");
      if (*dst_len > kMaxBlockBytes) return corrupt("block size too large");
      auto src_len = r.U32();
      if (!src_len) return truncated();
      if (*src_len == 0 || *src_len > *dst_len) return corrupt("block sizes");
      std::uint32_t d_adler = 0, d_crc = 0, c_adler = 0, c_crc = 0;
      const bool stored = *src_len == *dst_len;
      const auto read_sum = [&r](std::uint32_t& sum) {
        auto v = r.U32();
        if (v) sum = *v;
        return v.has_value();
      };
      if ((h.flags & kFlagAdler32D) && !read_sum(d_adler)) return truncated();
      if ((h.flags & kFlagCrc32D) && !read_sum(d_crc)) return truncated();
      if (!stored && (h.flags & kFlagAdler32C) && !read_sum(c_adler)) return truncated();
      if (!stored && (h.flags & kFlagCrc32C) && !read_sum(c_crc)) return truncated();
      auto src = r.Bytes(*src_len);
      if (!src) return truncated();
      if (!stored && (h.flags & kFlagAdler32C) && Adler32(*src) != c_adler) {
        return corrupt("compressed block adler32 mismatch");
      }
      if (!stored && (h.flags & kFlagCrc32C) && Crc32(*src) != c_crc) {
        return corrupt("compressed block crc32 mismatch");
      }
      ByteView plain = *src;
      if (!stored) {
        block.resize(*dst_len);
        lzo_uint got = *dst_len;
        const int rc = lzo1x_decompress_safe(src->data(), src->size(), block.data(), &got, nullptr);
        if (rc != LZO_E_OK || got != *dst_len) return corrupt("block does not decompress");
        plain = ByteView(block.data(), got);
      }
      if ((h.flags & kFlagAdler32D) && Adler32(plain) != d_adler) {
        return corrupt("block adler32 mismatch");
      }
      if ((h.flags & kFlagCrc32D) && Crc32(plain) != d_crc) return corrupt("block crc32 mismatch");
      CLEARBOX_TRY(out.Write(plain));
    }
  }
};

}  // namespace

const Handler& GetLzopHandler() {
  static const LzopHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
