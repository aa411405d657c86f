// Broadcom TRX: a little-endian header ("HDR0", total length, CRC-32, flags/version, then
// 3 (v1) or 4 (v2) partition offsets from the header start) followed by the partitions.
// Each partition is written as part<slot>; its length runs to the next used offset or to
// the header's total length.
//
// The CRC covers the image from the flags/version field (offset 12) to the total length and
// is computed as OpenWrt's trx tool does: initial ~0 and no final inversion, i.e. the
// complement of zlib's crc32. A mismatch (zlib's plain value is accepted too, as some vendor
// tools store it) is a kMalformed problem and the partitions are extracted anyway. A false
// candidate is rejected by the header's shape: version 1 or 2, length at least the header,
// used offsets inside the length and increasing.
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kMaxPartitions = 4;

// The parsed header: total length, stored CRC and the partition offsets (0 = unused).
struct TrxHeader {
  std::uint32_t length = 0;
  std::uint32_t crc = 0;
  std::size_t header_size = 0;
  std::size_t partition_count = 0;
  std::uint32_t offsets[kMaxPartitions] = {};
};

Result<TrxHeader> ParseTrxHeader(ByteView data) {
  if (data.size() < 28 || !HasBytesAt(data, 0, "HDR0")) {
    return Fail(ErrorCode::kNotThisFormat, "no TRX header");
  }
  TrxHeader h;
  h.length = LoadU32(data.data() + 4, Endian::kLittle);
  h.crc = LoadU32(data.data() + 8, Endian::kLittle);
  const std::uint32_t version = LoadU32(data.data() + 12, Endian::kLittle) >> 16;
  if (version != 1 && version != 2) return Fail(ErrorCode::kNotThisFormat, "TRX version");
  h.partition_count = version == 1 ? 3 : 4;
  h.header_size = 16 + 4 * h.partition_count;
  if (data.size() < h.header_size || h.length < h.header_size) {
    return Fail(ErrorCode::kNotThisFormat, "TRX length below header size");
  }
  std::uint32_t previous = 0;
  bool any = false;
  for (std::size_t i = 0; i < h.partition_count; ++i) {
    const std::uint32_t off = LoadU32(data.data() + 16 + 4 * i, Endian::kLittle);
    h.offsets[i] = off;
    if (off == 0) continue;
    if (off < h.header_size || off >= h.length || off <= previous) {
      return Fail(ErrorCode::kNotThisFormat, "TRX partition offsets out of order or range");
    }
    previous = off;
    any = true;
  }
  if (!any) return Fail(ErrorCode::kNotThisFormat, "TRX without partitions");
  return h;
}

class TrxHandler final : public Handler {
 public:
  std::string_view Name() const override { return "trx"; }
  std::string_view Description() const override {
    return "Broadcom TRX firmware container: partitions carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"HDR0", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseTrxHeader(data);
    if (!header) return Forward(header);
    // An image cut short is extracted as far as it goes (Extract reports it).
    return std::min<std::uint64_t>(header->length, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseTrxHeader(data);
    if (!header) return Forward(header);
    const std::uint64_t length = header->length;
    const bool truncated = data.size() < length;
    const ByteView image = data.subspan(0, std::min<std::uint64_t>(length, data.size()));
    if (!truncated) {
      const std::uint32_t zlib_crc = Crc32(image.subspan(12));
      if (header->crc != static_cast<std::uint32_t>(~zlib_crc) && header->crc != zlib_crc) {
        ctx.ReportProblem(ErrorCode::kMalformed, "",
                          "TRX CRC-32 mismatch; partitions extracted anyway");
      }
    }
    for (std::size_t i = 0; i < header->partition_count; ++i) {
      const std::uint64_t start = header->offsets[i];
      if (start == 0) continue;
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      std::uint64_t end = length;
      for (std::size_t j = i + 1; j < header->partition_count; ++j) {
        if (header->offsets[j] != 0) {
          end = header->offsets[j];
          break;
        }
      }
      const std::string name = "part" + std::to_string(i);
      if (start >= image.size()) break;  // cut off entirely (reported below)
      end = std::min<std::uint64_t>(end, image.size());
      auto written = ctx.out().WriteFile(name, image.subspan(start, end - start), 0644);
      if (!ctx.ContinueAfter(written, name)) return Forward(written);
    }
    if (truncated) {
      return Fail(ErrorCode::kTruncated, "TRX image of " + std::to_string(length) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return length;
  }
};

}  // namespace

const Handler& GetTrxHandler() {
  static const TrxHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
