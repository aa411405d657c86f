// D-Link DKBS firmware header (D-Link access points such as the DAP-2660, whose board id
// reads "wapac09_dkbs_dap2660"; layout as binwalk v3 describes it, src/structures/dkbs.rs):
// a 0xA0-byte header of NUL-terminated strings - board id at 0 ("_dkbs_" at offset 7),
// firmware version at 0x28, boot device at 0x70 - and the payload size at 0x68, big- or
// little-endian; the payload follows the header and is written as `firmware.bin`.
#include <algorithm>
#include <cstring>
#include <string>

#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic = "_dkbs_";
constexpr std::size_t kMagicOffset = 7;
constexpr std::size_t kHeaderSize = 0xA0;
constexpr std::size_t kStringSize = 0x20;
constexpr std::size_t kBoardOffset = 0x00;
constexpr std::size_t kVersionOffset = 0x28;
constexpr std::size_t kSizeOffset = 0x68;
constexpr std::size_t kBootDeviceOffset = 0x70;

struct DkbsHeader {
  std::string board_id;
  std::string version;
  std::string boot_device;
  std::uint64_t data_size = 0;
  bool little_endian = false;
};

// A printable string that ends with a NUL inside its slot (text that merely contains the
// magic has no NULs, so it is not taken for a header).
bool IsTerminatedText(ByteView slot) {
  return IsPrintableField(slot) && std::memchr(slot.data(), 0, slot.size()) != nullptr;
}

Result<DkbsHeader> ParseDkbs(ByteView data) {
  if (data.size() < kHeaderSize || !HasBytesAt(data, kMagicOffset, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no DKBS header");
  }
  const ByteView board = data.subspan(kBoardOffset, kStringSize);
  const ByteView version = data.subspan(kVersionOffset, kStringSize);
  const ByteView boot = data.subspan(kBootDeviceOffset, kStringSize);
  if (!IsTerminatedText(board) || !IsTerminatedText(version) || !IsTerminatedText(boot)) {
    return Fail(ErrorCode::kNotThisFormat, "DKBS header strings are not text");
  }
  DkbsHeader h;
  h.board_id = HeaderText(board);
  h.version = HeaderText(version);
  h.boot_device = HeaderText(boot);
  // The byte order is not recorded: a big-endian reading whose top byte is zero (binwalk's
  // rule) is taken unless only the little-endian one fits the data.
  const std::uint64_t available = data.size() - kHeaderSize;
  const std::uint32_t big = LoadU32(data.data() + kSizeOffset, Endian::kBig);
  const std::uint32_t little = LoadU32(data.data() + kSizeOffset, Endian::kLittle);
  const bool big_plausible = (big & 0xff000000u) == 0 && big != 0;
  if (big_plausible && (big <= available || little > available || little == 0)) {
    h.data_size = big;
  } else {
    h.data_size = little;
    h.little_endian = true;
  }
  if (h.data_size == 0) return Fail(ErrorCode::kNotThisFormat, "DKBS header declares no data");
  return h;
}

class DkbsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "dkbs"; }
  std::string_view Description() const override {
    return "D-Link DKBS firmware header: payload carved, board id, version and boot device "
           "recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, kMagicOffset}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseDkbs(data);
    if (!header) return Forward(header);
    return std::min<std::uint64_t>(kHeaderSize + header->data_size, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseDkbs(data);
    if (!header) return Forward(header);
    ctx.SetMetadata("board_id", header->board_id);
    ctx.SetMetadata("version", header->version);
    ctx.SetMetadata("boot_device", header->boot_device);
    ctx.SetMetadata("byte_order", header->little_endian ? "little" : "big");
    ctx.SetMetadata("data_size", std::to_string(header->data_size));
    const std::uint64_t present =
        std::min<std::uint64_t>(header->data_size, data.size() - kHeaderSize);
    auto written = ctx.out().WriteFile("firmware.bin", data.subspan(kHeaderSize, present), 0644);
    if (!written) return Forward(written);
    if (present < header->data_size) {
      return Fail(ErrorCode::kTruncated, "DKBS payload declares " +
                                             std::to_string(header->data_size) + " bytes, " +
                                             std::to_string(present) + " present");
    }
    return kHeaderSize + header->data_size;
  }
};

}  // namespace

const Handler& GetDkbsHandler() {
  static const DkbsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
