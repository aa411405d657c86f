// LHA/LZH: member headers of level 0, 1, 2 (and 3) are walked from the first one to the
// archive's end, a header-size byte of 0 (or the end of the data, or a byte that starts no
// member header). Level 0/1 header checksums are checked. Extraction goes through libarchive
// (-lh0-, -lh5-, -lh6-, -lh7-, -lzs-, -lz4-, -lz5-, -lhd- directories).
#include <array>

#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kBaseHeader = 22;         // through the level byte and one more
constexpr std::uint64_t kMaxMembers = 1 << 20;  // walk bound (each member is >= 22 bytes)

constexpr std::array<std::string_view, 12> kMethods = {"-lh0-", "-lh1-", "-lh4-", "-lh5-",
                                                       "-lh6-", "-lh7-", "-lhd-", "-lzs-",
                                                       "-lz4-", "-lz5-", "-lh2-", "-lh3-"};

bool IsMethod(ByteView data, std::size_t at) {
  for (std::string_view m : kMethods) {
    if (HasBytesAt(data, at, m)) return true;
  }
  return false;
}

// The size of the member whose header starts at `pos`: kNotThisFormat if no header starts
// there, kTruncated if the header or the member data runs past the end.
Result<std::uint64_t> MemberSize(ByteView data, std::size_t pos) {
  const ByteView rest = data.subspan(pos);
  if (rest.size() < kBaseHeader || !IsMethod(rest, 2)) {
    return Fail(ErrorCode::kNotThisFormat, "no LHA member header");
  }
  const std::uint8_t level = rest[20];
  const std::uint64_t packed = LoadU32(rest.data() + 7, Endian::kLittle);
  std::uint64_t header = 0;
  switch (level) {
    case 0:
    case 1: {
      header = 2 + std::uint64_t{rest[0]};
      const std::uint64_t name_length = rest[21];
      // level 0: name + CRC16; level 1: name + CRC16 + OS id + next extension size.
      const std::uint64_t fixed = kBaseHeader + name_length + (level == 0 ? 2 : 5);
      if (header < fixed) return Fail(ErrorCode::kNotThisFormat, "LHA header too short");
      // a cut header cannot be checked: method strings occur in binaries that read LHA
      if (header > rest.size()) return Fail(ErrorCode::kNotThisFormat, "LHA header cut off");
      std::uint8_t sum = 0;
      for (std::uint64_t i = 2; i < header; ++i) sum = static_cast<std::uint8_t>(sum + rest[i]);
      if (sum != rest[1]) return Fail(ErrorCode::kNotThisFormat, "LHA header checksum mismatch");
      // level 1: `packed` counts the extension headers too
      break;
    }
    case 2:
      // level 2/3 headers carry their CRC in an extension; the reserved byte 0x20 is checked
      if (rest[19] != 0x20) return Fail(ErrorCode::kNotThisFormat, "bad LHA level 2 header");
      header = LoadU16(rest.data(), Endian::kLittle);
      if (header < 26) return Fail(ErrorCode::kNotThisFormat, "LHA level 2 header too short");
      break;
    case 3:
      if (LoadU16(rest.data(), Endian::kLittle) != 4 || rest.size() < 28 || rest[19] != 0x20) {
        return Fail(ErrorCode::kNotThisFormat, "bad LHA level 3 header");
      }
      header = LoadU32(rest.data() + 24, Endian::kLittle);
      if (header < 32) return Fail(ErrorCode::kNotThisFormat, "LHA level 3 header too short");
      break;
    default: return Fail(ErrorCode::kNotThisFormat, "unknown LHA header level");
  }
  if (header > rest.size() || packed > rest.size() - header) {
    return Fail(ErrorCode::kTruncated, "LHA member needs " + std::to_string(header + packed) +
                                           " bytes, " + std::to_string(rest.size()) + " left");
  }
  return header + packed;
}

struct LhaExtent {
  std::uint64_t length = 0;
  bool truncated = false;   // a member runs past the end of the data
  bool terminated = false;  // ended by the 0 byte
};

Result<LhaExtent> LhaLength(ByteView data) {
  auto first = MemberSize(data, 0);
  if (!first) {
    if (first.error().code == ErrorCode::kTruncated) return LhaExtent{data.size(), true, false};
    return Forward(first);
  }
  std::uint64_t pos = *first;
  for (std::uint64_t members = 1; members < kMaxMembers; ++members) {
    if (pos >= data.size()) return LhaExtent{pos, false, false};
    if (data[pos] == 0) return LhaExtent{pos + 1, false, true};
    auto next = MemberSize(data, pos);
    if (!next) {
      if (next.error().code == ErrorCode::kTruncated) return LhaExtent{data.size(), true, false};
      return LhaExtent{pos, false, false};  // something else follows the last member
    }
    pos += *next;
  }
  return Fail(ErrorCode::kMalformed,
              "LHA archive of more than " + std::to_string(kMaxMembers) + " members");
}

class LhaHandler final : public Handler {
 public:
  std::string_view Name() const override { return "lha"; }
  std::string_view Description() const override {
    return "LHA/LZH archive (header levels 0-3; lh0, lh5-7, lzs, lz4, lz5; libarchive)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {kMethods[0], 2}, {kMethods[1], 2}, {kMethods[2], 2},  {kMethods[3], 2},
        {kMethods[4], 2}, {kMethods[5], 2}, {kMethods[6], 2},  {kMethods[7], 2},
        {kMethods[8], 2}, {kMethods[9], 2}, {kMethods[10], 2}, {kMethods[11], 2}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = LhaLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = LhaLength(data);
    if (!extent) return Forward(extent);
    auto result =
        ExtractWithLibarchive(data.subspan(0, extent->length), LibarchiveFormat::kLha, ctx);
    if (extent->truncated) return AsTruncated(result, "LHA member runs past the end of the data");
    if (result && !extent->terminated) {
      ctx.ReportProblem(ErrorCode::kTruncated, "", "LHA archive without its end marker");
    }
    return result;
  }
};

}  // namespace

const Handler& GetLhaHandler() {
  static const LhaHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
