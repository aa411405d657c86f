// tar (ustar, GNU incl. long names and old sparse headers, pax): the chunk end is found by
// walking checksummed 512-byte headers; extraction goes through libarchive.
#include <algorithm>

#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint64_t kBlock = 512;
constexpr std::uint64_t kRecord = 10240;  // default blocking factor 20: end-of-archive padding

bool IsZeroBlock(const std::uint8_t* p) {
  return std::all_of(p, p + kBlock, [](std::uint8_t b) { return b == 0; });
}

// Parses an octal field (spaces/NULs around it allowed) or a GNU base-256 field.
bool ParseNumber(const std::uint8_t* field, std::size_t len, std::uint64_t* out) {
  if (field[0] & 0x80) {  // base-256, big-endian, positive only
    if (field[0] & 0x40) return false;
    std::uint64_t v = field[0] & 0x3f;
    for (std::size_t i = 1; i < len; ++i) {
      if (v >> 55) return false;  // would overflow
      v = (v << 8) | field[i];
    }
    *out = v;
    return true;
  }
  std::size_t i = 0;
  while (i < len && field[i] == ' ') ++i;
  std::uint64_t v = 0;
  bool digits = false;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v >> 60) return false;
    v = v * 8 + (field[i] - '0');
    digits = true;
  }
  for (; i < len; ++i) {
    if (field[i] != ' ' && field[i] != 0) return false;
  }
  *out = v;
  return digits;
}

// True when the header's stored checksum matches (unsigned or historic signed sum).
bool ChecksumOk(const std::uint8_t* h) {
  std::uint64_t stored = 0;
  if (!ParseNumber(h + 148, 8, &stored)) return false;
  std::uint64_t unsigned_sum = 0;
  std::int64_t signed_sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    const std::uint8_t b = (i >= 148 && i < 156) ? ' ' : h[i];
    unsigned_sum += b;
    signed_sum += static_cast<std::int8_t>(b);
  }
  return stored == unsigned_sum || static_cast<std::int64_t>(stored) == signed_sum;
}

// Bytes of data that follow a header of this type flag.
bool TypeHasData(std::uint8_t type) {
  return !(type == '2' || type == '3' || type == '4' || type == '5' || type == '6');
}

// Where a tar walk ended: the chunk length and whether the archive was complete.
struct TarExtent {
  std::uint64_t length = 0;
  bool ended = false;      // the end-of-archive zero block was found
  bool truncated = false;  // a header or member runs past the end of the data
};

// Walks the archive's headers from its start.
Result<TarExtent> TarLength(ByteView data) {
  std::uint64_t pos = 0;
  std::uint64_t last_complete = 0;
  std::uint64_t members = 0;
  const TarExtent truncated{data.size(), false, true};
  while (true) {
    if (data.size() - pos < kBlock) {
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, "no complete tar header");
      // The end-of-archive blocks are missing.
      return pos == data.size() ? TarExtent{pos, false, false} : truncated;
    }
    const std::uint8_t* h = data.data() + pos;
    if (IsZeroBlock(h)) {
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, "tar starts with a zero block");
      pos += kBlock;
      // Swallow the second end block and the zero padding up to the record size.
      while (data.size() - pos >= kBlock && IsZeroBlock(data.data() + pos)) {
        pos += kBlock;
        if (pos % kRecord == 0) break;
      }
      return TarExtent{pos, true, false};
    }
    if (!ChecksumOk(h)) {
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, "tar header checksum mismatch");
      return TarExtent{last_complete, false, false};  // junk after an archive without end
    }
    std::uint64_t size = 0;
    if (!ParseNumber(h + 124, 12, &size)) {
      if (members == 0) return Fail(ErrorCode::kNotThisFormat, "bad tar size field");
      return TarExtent{last_complete, false, false};
    }
    const std::uint8_t type = h[156];
    pos += kBlock;
    // Old GNU sparse headers chain 512-byte extension blocks.
    if (type == 'S' && h[482] != 0) {
      bool more = true;
      while (more) {
        if (data.size() - pos < kBlock) return truncated;
        more = data[pos + 504] != 0;
        pos += kBlock;
      }
    }
    ++members;
    if (TypeHasData(type) && size > 0) {
      const std::uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
      if (size > data.size() || padded > data.size() - pos) {
        return truncated;  // extraction keeps what is there and reports it
      }
      pos += padded;
    }
    last_complete = pos;
  }
}

class TarHandler final : public Handler {
 public:
  std::string_view Name() const override { return "tar"; }
  std::string_view Description() const override { return "tar archive (ustar, GNU, pax)"; }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"ustar", 257}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!HasBytesAt(data, 257, "ustar")) return Fail(ErrorCode::kNotThisFormat, "no ustar magic");
    auto extent = TarLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = TarLength(data);
    if (!extent) return Forward(extent);
    auto result =
        ExtractWithLibarchive(data.subspan(0, extent->length), LibarchiveFormat::kTar, ctx);
    if (extent->truncated) return AsTruncated(result, "tar member runs past the end of the data");
    if (result && !extent->ended) {
      ctx.ReportProblem(ErrorCode::kTruncated, "", "tar has no end-of-archive blocks");
    }
    return result;
  }
};

}  // namespace

const Handler& GetTarHandler() {
  static const TarHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
