// gzip (RFC 1952): one or more members, inflated with zlib into one output file.
#include <zlib.h>

#include <array>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint8_t kFlagText = 1, kFlagHcrc = 2, kFlagExtra = 4, kFlagName = 8,
                       kFlagComment = 16;

// The parsed fixed header plus the original file name, when present.
struct GzipHeader {
  std::uint8_t flags = 0;
  std::string name;
  std::size_t header_size = 0;
};

Result<GzipHeader> ParseGzipHeader(ByteView data) {
  ByteReader r(data);
  auto magic = r.Bytes(3);
  if (!magic || (*magic)[0] != 0x1f || (*magic)[1] != 0x8b || (*magic)[2] != 8) {
    return Fail(ErrorCode::kNotThisFormat, "no gzip magic");
  }
  GzipHeader h;
  auto flags = r.U8();
  if (!flags || (*flags & 0xe0) != 0) return Fail(ErrorCode::kNotThisFormat, "gzip flags");
  h.flags = *flags;
  if (!r.Skip(4)) return Fail(ErrorCode::kNotThisFormat, "short gzip header");  // mtime
  auto xfl = r.U8();
  auto os = r.U8();
  if (!xfl || !os || (*xfl != 0 && *xfl != 2 && *xfl != 4) || (*os > 13 && *os != 255)) {
    return Fail(ErrorCode::kNotThisFormat, "gzip xfl/os");
  }
  if (h.flags & kFlagExtra) {
    auto xlen = r.U16();
    if (!xlen || !r.Skip(*xlen)) return Fail(ErrorCode::kNotThisFormat, "gzip extra field");
  }
  auto read_cstring = [&r](std::string* out) -> bool {
    for (std::size_t i = 0; i < 4096; ++i) {
      auto c = r.U8();
      if (!c) return false;
      if (*c == 0) return true;
      if (out) out->push_back(static_cast<char>(*c));
    }
    return false;
  };
  if ((h.flags & kFlagName) && !read_cstring(&h.name)) {
    return Fail(ErrorCode::kNotThisFormat, "gzip name field");
  }
  if ((h.flags & kFlagComment) && !read_cstring(nullptr)) {
    return Fail(ErrorCode::kNotThisFormat, "gzip comment field");
  }
  if ((h.flags & kFlagHcrc) && !r.Skip(2)) return Fail(ErrorCode::kNotThisFormat, "gzip hcrc");
  (void)kFlagText;
  h.header_size = r.Position();
  return h;
}

class GzipHandler final : public Handler {
 public:
  std::string_view Name() const override { return "gzip"; }
  std::string_view Description() const override { return "gzip member (RFC 1952)"; }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x1f\x8b\x08", 3), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseGzipHeader(data);
    if (!header) return Forward(header);
    return 0;  // the end is known only after inflating
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseGzipHeader(data);
    if (!header) return Forward(header);
    std::string name = SafeStoredName(header->name);
    if (name.empty()) {
      name = DecompressedName(ctx.container_name(), {{".gz", ""}, {".tgz", ".tar"}, {".gzip", ""}});
    }
    LazyOutput out(ctx, name);
    std::uint64_t consumed = 0;
    std::vector<std::uint8_t> buffer(kStreamBufferBytes);
    // Members follow each other until the data stops looking like gzip.
    while (consumed < data.size()) {
      const ByteView member = data.subspan(consumed);
      if (consumed > 0 && !ParseGzipHeader(member)) break;
      z_stream zs{};
      if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return Fail(ErrorCode::kInternal, "zlib inflateInit2 failed");
      }
      zs.next_in = const_cast<Bytef*>(member.data());
      std::uint64_t fed = 0;
      int rc = Z_OK;
      Result<void> status;
      while (rc != Z_STREAM_END) {
        if (zs.avail_in == 0) {
          const std::uint64_t step = std::min<std::uint64_t>(member.size() - fed, 1u << 30);
          if (step == 0) break;
          zs.next_in = const_cast<Bytef*>(member.data() + fed);
          zs.avail_in = static_cast<uInt>(step);
          fed += step;
        }
        zs.next_out = buffer.data();
        zs.avail_out = static_cast<uInt>(buffer.size());
        rc = inflate(&zs, Z_NO_FLUSH);
        const std::size_t produced = buffer.size() - zs.avail_out;
        if (produced) {
          status = out.Write(ByteView(buffer.data(), produced));
          if (!status) break;
        }
        if (rc != Z_OK && rc != Z_STREAM_END) break;
      }
      const std::uint64_t member_used = zs.total_in;
      inflateEnd(&zs);
      if (!status) {
        (void)out.Close();
        return Forward(status);
      }
      if (rc != Z_STREAM_END) {
        (void)out.Close();
        if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
          return Fail(ErrorCode::kMalformed,
                      "gzip data corrupt after " + std::to_string(out.written()) + " output bytes");
        }
        return Fail(ErrorCode::kTruncated, "gzip stream ends early after " +
                                               std::to_string(out.written()) + " output bytes");
      }
      consumed += member_used;
      ctx.NoteConsumed(consumed);
    }
    CLEARBOX_TRY(out.Close());
    return consumed;
  }
};

}  // namespace

const Handler& GetGzipHandler() {
  static const GzipHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
