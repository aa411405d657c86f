// Netgear CHK firmware header (OpenWrt's mkchkimg, binwalk v3's chk structure): big-endian
// magic "*#$^", header length, 8 reserved bytes (region, version), kernel checksum, rootfs
// checksum, kernel length, rootfs length, image checksum, header checksum, then the board id
// string up to the header length. The kernel follows the header, the rootfs follows the
// kernel.
//
// `kernel` and `rootfs` are carved; the board id and the checksum results go to the chunk's
// metadata. Checksums are Netgear's 32-bit Fletcher-style sum (two running 32-bit sums of the
// bytes, each folded to 16 bits); a mismatch is a kMalformed problem and the parts are still
// written. A candidate needs a header length between the fixed part and kMaxHeaderBytes and
// a printable board id.
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kFixedBytes = 40;
constexpr std::size_t kMaxHeaderBytes = 256;

struct ChkHeader {
  std::uint32_t header_length = 0;
  std::uint32_t kernel_sum = 0, rootfs_sum = 0, image_sum = 0;
  std::uint32_t kernel_length = 0, rootfs_length = 0;
  std::string board_id;
  std::uint64_t total = 0;
};

Result<ChkHeader> ParseChkHeader(ByteView data) {
  if (data.size() < kFixedBytes || !HasBytesAt(data, 0, "*#$^")) {
    return Fail(ErrorCode::kNotThisFormat, "no CHK header");
  }
  ChkHeader h;
  h.header_length = LoadU32(data.data() + 4, Endian::kBig);
  if (h.header_length <= kFixedBytes || h.header_length > kMaxHeaderBytes ||
      h.header_length > data.size()) {
    return Fail(ErrorCode::kNotThisFormat, "CHK header length");
  }
  const ByteView board = data.subspan(kFixedBytes, h.header_length - kFixedBytes);
  if (!IsPrintableField(board)) return Fail(ErrorCode::kNotThisFormat, "CHK board id");
  h.board_id = HeaderText(board);
  h.kernel_sum = LoadU32(data.data() + 16, Endian::kBig);
  h.rootfs_sum = LoadU32(data.data() + 20, Endian::kBig);
  h.kernel_length = LoadU32(data.data() + 24, Endian::kBig);
  h.rootfs_length = LoadU32(data.data() + 28, Endian::kBig);
  h.image_sum = LoadU32(data.data() + 32, Endian::kBig);
  if (h.kernel_length == 0) return Fail(ErrorCode::kNotThisFormat, "CHK without kernel");
  h.total = std::uint64_t{h.header_length} + h.kernel_length + h.rootfs_length;
  return h;
}

// Netgear's checksum of `data` (mkchkimg's netgear_checksum_add/fini).
std::uint32_t NetgearChecksum(ByteView data) {
  std::uint32_t c0 = 0, c1 = 0;
  for (std::uint8_t b : data) {
    c0 += b;
    c1 += c0;
  }
  const auto fold = [](std::uint32_t v) {
    const std::uint32_t b = (v & 0xffff) + ((v >> 16) & 0xffff);
    return ((b >> 16) + b) & 0xffff;
  };
  return (fold(c1) << 16) | fold(c0);
}

class NetgearChkHandler final : public Handler {
 public:
  std::string_view Name() const override { return "netgear-chk"; }
  std::string_view Description() const override {
    return "Netgear CHK firmware header: kernel and rootfs carved, board id and checksums "
           "recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"*#$^", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseChkHeader(data);
    if (!header) return Forward(header);
    return std::min<std::uint64_t>(header->total, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseChkHeader(data);
    if (!header) return Forward(header);
    const ChkHeader& h = *header;
    ctx.SetMetadata("board_id", h.board_id);
    const std::uint64_t rootfs_start = std::uint64_t{h.header_length} + h.kernel_length;
    const bool truncated = data.size() < h.total;
    if (!truncated) {
      const ByteView kernel = data.subspan(h.header_length, h.kernel_length);
      const ByteView rootfs = data.subspan(rootfs_start, h.rootfs_length);
      const ByteView image = data.subspan(h.header_length, h.total - h.header_length);
      const bool kernel_ok = NetgearChecksum(kernel) == h.kernel_sum;
      const bool rootfs_ok = h.rootfs_length == 0 || NetgearChecksum(rootfs) == h.rootfs_sum;
      const bool image_ok = NetgearChecksum(image) == h.image_sum;
      ctx.SetMetadata("checksums", kernel_ok && rootfs_ok && image_ok ? "ok" : "mismatch");
      if (!kernel_ok || !rootfs_ok || !image_ok) {
        ctx.ReportProblem(ErrorCode::kMalformed, "",
                          std::string("CHK checksum mismatch (") + (kernel_ok ? "" : "kernel ") +
                              (rootfs_ok ? "" : "rootfs ") + (image_ok ? "" : "image ") +
                              "); parts extracted anyway");
      }
    }
    CLEARBOX_TRY(CarvePartition(data, h.header_length, h.kernel_length, "kernel", ctx));
    if (h.rootfs_length) {
      CLEARBOX_TRY(CarvePartition(data, rootfs_start, h.rootfs_length, "rootfs", ctx));
    }
    if (truncated) {
      return Fail(ErrorCode::kTruncated, "CHK image of " + std::to_string(h.total) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return h.total;
  }
};

}  // namespace

const Handler& GetNetgearChkHandler() {
  static const NetgearChkHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
