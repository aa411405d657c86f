// U-Boot legacy image (uImage): a 64-byte big-endian header (magic 0x27051956, header and
// data CRC-32, data size, image name) followed by the payload. The payload is written to a
// file named after the header's image name; multi-file (and script) images are split into
// their sub-images with the size table at the start of the payload.
//
// Decisions: a header whose CRC-32 does not match is a false candidate (kNotThisFormat):
// four magic bytes are too weak alone and the header CRC is what proves the header. A bad
// data CRC is recorded as a kMalformed problem and the payload is extracted anyway. A
// payload cut short by the end of the container is extracted as far as it goes and the
// chunk is reported kTruncated.
#include <array>
#include <cstring>
#include <set>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kUImageMagic = 0x27051956;
constexpr std::size_t kHeaderSize = 64;
constexpr std::uint8_t kTypeMulti = 4;
constexpr std::uint8_t kTypeScript = 6;

// The fields of a legacy image header that extraction uses.
struct UImageHeader {
  std::uint32_t data_size = 0;
  std::uint32_t data_crc = 0;
  std::uint8_t type = 0;
  std::string name;
};

Result<UImageHeader> ParseUImageHeader(ByteView data) {
  if (data.size() < kHeaderSize) return Fail(ErrorCode::kNotThisFormat, "short uImage header");
  if (LoadU32(data.data(), Endian::kBig) != kUImageMagic) {
    return Fail(ErrorCode::kNotThisFormat, "no uImage magic");
  }
  std::array<std::uint8_t, kHeaderSize> header{};
  std::memcpy(header.data(), data.data(), kHeaderSize);
  const std::uint32_t stored_hcrc = LoadU32(header.data() + 4, Endian::kBig);
  std::memset(header.data() + 4, 0, 4);
  if (Crc32(ByteView(header.data(), header.size())) != stored_hcrc) {
    return Fail(ErrorCode::kNotThisFormat, "uImage header CRC mismatch");
  }
  UImageHeader h;
  h.data_size = LoadU32(data.data() + 12, Endian::kBig);
  h.data_crc = LoadU32(data.data() + 24, Endian::kBig);
  h.type = data[30];
  h.name = std::string(AsText(data.subspan(32, 32)));
  return h;
}

// Writes `bytes` to `name`; per-member failures become problems, limits are returned.
Result<void> WriteMember(ExtractContext& ctx, const std::string& name, ByteView bytes) {
  CLEARBOX_TRY(ctx.budget().CheckDeadline());
  auto written = ctx.out().WriteFile(name, bytes, 0644);
  if (!ctx.ContinueAfter(written, name)) return written;
  return {};
}

// Splits a multi-file payload: big-endian u32 sizes ended by 0, then the sub-images, each
// padded to 4 bytes. Sub-images are named "<base>-<index>".
Result<void> ExtractMulti(ByteView payload, const std::string& base, ExtractContext& ctx) {
  std::vector<std::uint32_t> sizes;
  std::size_t pos = 0;
  bool terminated = false;
  while (pos + 4 <= payload.size()) {
    const std::uint32_t size = LoadU32(payload.data() + pos, Endian::kBig);
    pos += 4;
    if (size == 0) {
      terminated = true;
      break;
    }
    sizes.push_back(size);  // at most payload.size() / 4 entries
  }
  if (!terminated) {
    ctx.ReportProblem(ErrorCode::kMalformed, "",
                      "uImage multi-file size table has no terminating zero");
    return {};
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::string name = base + "-" + std::to_string(i);
    const std::uint64_t size = sizes[i];
    if (pos > payload.size() || size > payload.size() - pos) {
      ctx.ReportProblem(ErrorCode::kTruncated, name,
                        "sub-image " + std::to_string(i) + " of " + std::to_string(size) +
                            " bytes runs past the payload; kept what is there");
      CLEARBOX_TRY(WriteMember(ctx, name, payload.subspan(std::min(pos, payload.size()))));
      return {};
    }
    CLEARBOX_TRY(WriteMember(ctx, name, payload.subspan(pos, size)));
    pos += (size + 3) & ~std::uint64_t{3};
  }
  return {};
}

class UImageHandler final : public Handler {
 public:
  std::string_view Name() const override { return "uimage"; }
  std::string_view Description() const override {
    return "U-Boot legacy image (uImage): CRCs checked, multi-file images split";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x27\x05\x19\x56", 4), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseUImageHeader(data);
    if (!header) return Forward(header);
    // A payload cut short is still extracted as far as it goes (Extract reports it).
    return std::min<std::uint64_t>(kHeaderSize + header->data_size, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseUImageHeader(data);
    if (!header) return Forward(header);
    const std::uint64_t want = header->data_size;
    const ByteView payload =
        data.subspan(kHeaderSize, std::min<std::uint64_t>(want, data.size() - kHeaderSize));
    const bool truncated = payload.size() < want;
    if (!truncated && Crc32(payload) != header->data_crc) {
      ctx.ReportProblem(ErrorCode::kMalformed, "",
                        "uImage data CRC mismatch; payload extracted anyway");
    }
    const std::string name = SafeMemberName(header->name, "payload");
    if (!truncated && (header->type == kTypeMulti || header->type == kTypeScript)) {
      CLEARBOX_TRY(ExtractMulti(payload, name, ctx));
    } else {
      CLEARBOX_TRY(WriteMember(ctx, name, payload));
    }
    if (truncated) {
      return Fail(ErrorCode::kTruncated, "uImage payload of " + std::to_string(want) +
                                             " bytes cut at " + std::to_string(payload.size()));
    }
    return kHeaderSize + want;
  }
};

}  // namespace

const Handler& GetUImageHandler() {
  static const UImageHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
