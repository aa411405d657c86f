// D-Link SEAMA firmware container (OpenWrt's seama tool and seama.h): a 28-byte header -
// magic 0x5EA3A417, reserved u16, meta size u16, payload size u32, MD5 of the payload -
// then `meta size` bytes of NUL-separated "key=value" strings, then the payload. Headers are
// big-endian; binwalk also knows little-endian ones, which are accepted the same way.
//
// The payload is written as `payload`, the meta strings and the MD5 check ("ok" or
// "mismatch") go to the chunk's metadata; a mismatch is also a kMalformed problem. A header
// with payload size 0 is the outer wrapper of a "sealed" image: it is recorded with its meta
// strings and the SEAMA images that follow are found as chunks of their own.
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderBytes = 28;
constexpr std::uint32_t kMagic = 0x5EA3A417;
constexpr std::size_t kMaxMetaStrings = 16;

struct SeamaHeader {
  Endian endian = Endian::kBig;
  std::uint16_t meta_size = 0;
  std::uint32_t payload_size = 0;
  ByteView digest;
  ByteView meta;
  std::uint64_t total = 0;
};

Result<SeamaHeader> ParseSeamaHeader(ByteView data) {
  if (data.size() < kHeaderBytes) return Fail(ErrorCode::kNotThisFormat, "short SEAMA header");
  SeamaHeader h;
  if (LoadU32(data.data(), Endian::kBig) == kMagic) {
    h.endian = Endian::kBig;
  } else if (LoadU32(data.data(), Endian::kLittle) == kMagic) {
    h.endian = Endian::kLittle;
  } else {
    return Fail(ErrorCode::kNotThisFormat, "no SEAMA magic");
  }
  ByteReader r(data, h.endian);
  CLEARBOX_TRY(r.Skip(4));
  auto reserved = r.U16();
  auto meta_size = r.U16();
  auto payload_size = r.U32();
  if (!reserved || !meta_size || !payload_size) return Fail(ErrorCode::kNotThisFormat, "SEAMA");
  if (*reserved != 0) return Fail(ErrorCode::kNotThisFormat, "SEAMA reserved field not zero");
  h.meta_size = *meta_size;
  h.payload_size = *payload_size;
  h.digest = data.subspan(12, 16);
  if (data.size() < kHeaderBytes + h.meta_size) {
    return Fail(ErrorCode::kNotThisFormat, "SEAMA meta data past the end");
  }
  h.meta = data.subspan(kHeaderBytes, h.meta_size);
  // The meta block is text: printable strings separated and padded by NULs.
  for (std::uint8_t b : h.meta) {
    if (b != 0 && (b < 0x20 || b >= 0x7f)) {
      return Fail(ErrorCode::kNotThisFormat, "SEAMA meta data is not text");
    }
  }
  h.total = kHeaderBytes + std::uint64_t{h.meta_size} + h.payload_size;
  return h;
}

class SeamaHandler final : public Handler {
 public:
  std::string_view Name() const override { return "seama"; }
  std::string_view Description() const override {
    return "D-Link SEAMA container (big- and little-endian): payload carved, meta strings and "
           "MD5 check recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"\x5E\xA3\xA4\x17", 0}, {"\x17\xA4\xA3\x5E", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseSeamaHeader(data);
    if (!header) return Forward(header);
    return std::min<std::uint64_t>(header->total, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseSeamaHeader(data);
    if (!header) return Forward(header);
    const SeamaHeader& h = *header;
    ctx.SetMetadata("endian", h.endian == Endian::kBig ? "big" : "little");
    ctx.SetMetadata("payload_size", std::to_string(h.payload_size));
    std::size_t strings = 0;
    std::size_t pos = 0;
    while (pos < h.meta.size() && strings < kMaxMetaStrings) {
      std::size_t end = pos;
      while (end < h.meta.size() && h.meta[end] != 0) ++end;
      if (end > pos)
        ctx.SetMetadata("meta." + std::to_string(strings++),
                        HeaderText(h.meta.subspan(pos, end - pos)));
      pos = end + 1;
    }
    if (h.payload_size == 0) {
      ctx.SetMetadata("kind", "sealed wrapper (images follow)");
      return kHeaderBytes + std::uint64_t{h.meta_size};
    }
    const std::uint64_t start = kHeaderBytes + std::uint64_t{h.meta_size};
    const bool truncated = data.size() < h.total;
    if (!truncated) {
      const auto digest = Md5Digest(data.subspan(start, h.payload_size));
      const bool ok = std::equal(digest.begin(), digest.end(), h.digest.begin());
      ctx.SetMetadata("md5", ok ? "ok" : "mismatch");
      if (!ok) {
        ctx.ReportProblem(ErrorCode::kMalformed, "payload",
                          "SEAMA payload MD5 " + HexBytes(digest) + " differs from the header's " +
                              HexBytes(h.digest) + "; payload extracted anyway");
      }
    }
    CLEARBOX_TRY(CarvePartition(data, start, h.payload_size, "payload", ctx));
    if (truncated) {
      return Fail(ErrorCode::kTruncated, "SEAMA image of " + std::to_string(h.total) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return h.total;
  }
};

}  // namespace

const Handler& GetSeamaHandler() {
  static const SeamaHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
