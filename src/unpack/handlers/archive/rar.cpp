// RAR 4 ("Rar!\x1a\x07\x00") and RAR 5 ("Rar!\x1a\x07\x01\x00"): the block headers are walked
// (each header CRC checked) to the end-of-archive block, or to the end of the data or the
// first block that does not parse (RAR before 3.0 writes no end block). Archives with
// encrypted headers cannot be walked: the rest of the data is taken and libarchive reports
// the encryption. Extraction goes through libarchive (RAR 4 stored/LZSS/PPMd/filters; RAR 5
// as far as libarchive's reader goes; no multi-volume, no encryption).
#include <zlib.h>

#include "unpack/handlers/archive/libarchive_extract.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kRar4Magic("Rar!\x1a\x07\x00", 7);
constexpr std::string_view kRar5Magic("Rar!\x1a\x07\x01\x00", 8);
constexpr std::uint64_t kMaxBlocks = 1 << 20;
constexpr std::uint64_t kRar5MaxHeader = 2 << 20;  // the format's own limit on header size

std::uint32_t Crc32(ByteView bytes) {
  return static_cast<std::uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size())));
}

struct RarExtent {
  std::uint64_t length = 0;
  bool truncated = false;  // a block runs past the end of the data
  bool end_block = false;  // ended by the end-of-archive block
  bool rar5 = false;
};

// RAR 4 block at `pos`: its total size, kNotThisFormat if the header does not parse or its
// CRC differs, kTruncated if it runs past the data. Sets `end` for the end-of-archive block.
Result<std::uint64_t> Rar4Block(ByteView data, std::uint64_t pos, bool& end, bool& encrypted) {
  if (data.size() - pos < 7) return Fail(ErrorCode::kTruncated, "RAR block header cut off");
  const std::uint8_t* h = data.data() + pos;
  const std::uint16_t crc = LoadU16(h, Endian::kLittle);
  const std::uint8_t type = h[2];
  const std::uint16_t flags = LoadU16(h + 3, Endian::kLittle);
  const std::uint16_t size = LoadU16(h + 5, Endian::kLittle);
  if (type < 0x72 || type > 0x7b || size < 7) {
    return Fail(ErrorCode::kNotThisFormat, "no RAR block");
  }
  if (size > data.size() - pos) return Fail(ErrorCode::kTruncated, "RAR block header cut off");
  if (type != 0x72 &&
      static_cast<std::uint16_t>(Crc32(ByteView(h + 2, size - 2)) & 0xffff) != crc) {
    return Fail(ErrorCode::kNotThisFormat, "RAR block header CRC mismatch");
  }
  std::uint64_t add = 0;
  if (type == 0x74 || type == 0x7a) {  // file and service headers: packed size
    if (size < 32) return Fail(ErrorCode::kNotThisFormat, "RAR file header too short");
    add = LoadU32(h + 7, Endian::kLittle);
    if ((flags & 0x0100) != 0) {  // LHD_LARGE: high 32 bits of the packed size
      if (size < 36) return Fail(ErrorCode::kNotThisFormat, "RAR large file header too short");
      add |= std::uint64_t{LoadU32(h + 32, Endian::kLittle)} << 32;
    }
  } else if ((flags & 0x8000) != 0) {  // LONG_BLOCK: ADD_SIZE follows
    if (size < 11) return Fail(ErrorCode::kNotThisFormat, "RAR long block too short");
    add = LoadU32(h + 7, Endian::kLittle);
  }
  if (type == 0x73 && (flags & 0x0080) != 0) encrypted = true;  // MHD_PASSWORD
  end = type == 0x7b;
  const std::uint64_t room = data.size() - pos - size;
  if (add > room) return Fail(ErrorCode::kTruncated, "RAR block data cut off");
  return size + add;
}

// Reads a RAR 5 variable-length integer (7 bits a byte, at most 10 bytes).
bool ReadVint(ByteView data, std::uint64_t& pos, std::uint64_t limit, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 70 && pos < limit; shift += 7) {
    const std::uint8_t b = data[pos++];
    if (shift == 63 && (b & 0x7e) != 0) return false;  // more than 64 bits
    value |= std::uint64_t{static_cast<std::uint8_t>(b & 0x7f)} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

Result<std::uint64_t> Rar5Block(ByteView data, std::uint64_t pos, bool& end, bool& encrypted) {
  if (data.size() - pos < 7) return Fail(ErrorCode::kTruncated, "RAR5 block header cut off");
  const std::uint32_t crc = LoadU32(data.data() + pos, Endian::kLittle);
  std::uint64_t p = pos + 4;
  std::uint64_t header_size = 0;
  if (!ReadVint(data, p, std::min<std::uint64_t>(data.size(), pos + 7), header_size) ||
      header_size == 0 || header_size > kRar5MaxHeader) {
    return Fail(ErrorCode::kNotThisFormat, "bad RAR5 header size");
  }
  const std::uint64_t header_end = p + header_size;
  if (header_end > data.size()) return Fail(ErrorCode::kTruncated, "RAR5 header cut off");
  if (Crc32(data.subspan(pos + 4, header_end - pos - 4)) != crc) {
    return Fail(ErrorCode::kNotThisFormat, "RAR5 header CRC mismatch");
  }
  std::uint64_t type = 0;
  std::uint64_t flags = 0;
  std::uint64_t extra = 0;
  std::uint64_t data_size = 0;
  if (!ReadVint(data, p, header_end, type) || !ReadVint(data, p, header_end, flags) ||
      ((flags & 1) != 0 && !ReadVint(data, p, header_end, extra)) ||
      ((flags & 2) != 0 && !ReadVint(data, p, header_end, data_size))) {
    return Fail(ErrorCode::kNotThisFormat, "bad RAR5 block header");
  }
  if (type < 1 || type > 5) return Fail(ErrorCode::kNotThisFormat, "unknown RAR5 block type");
  if (type == 4) encrypted = true;  // archive encryption header: the rest is ciphertext
  end = type == 5;
  const std::uint64_t room = data.size() - header_end;
  if (data_size > room) return Fail(ErrorCode::kTruncated, "RAR5 block data cut off");
  return header_end - pos + data_size;
}

Result<RarExtent> RarLength(ByteView data) {
  RarExtent extent;
  std::uint64_t pos = 0;
  if (HasBytesAt(data, 0, kRar5Magic)) {
    extent.rar5 = true;
    pos = kRar5Magic.size();
  } else if (HasBytesAt(data, 0, kRar4Magic)) {
    pos = kRar4Magic.size();
  } else {
    return Fail(ErrorCode::kNotThisFormat, "no RAR signature");
  }
  for (std::uint64_t blocks = 0; blocks < kMaxBlocks; ++blocks) {
    if (pos >= data.size()) {
      if (blocks == 0) return Fail(ErrorCode::kNotThisFormat, "RAR signature only");
      extent.length = pos;
      return extent;
    }
    bool end = false;
    bool encrypted = false;
    auto block =
        extent.rar5 ? Rar5Block(data, pos, end, encrypted) : Rar4Block(data, pos, end, encrypted);
    if (!block) {
      if (blocks == 0) return Fail(ErrorCode::kNotThisFormat, "RAR signature without a header");
      if (block.error().code == ErrorCode::kTruncated) {
        extent.length = data.size();
        extent.truncated = true;
        return extent;
      }
      extent.length = pos;  // something else follows the last block
      return extent;
    }
    pos += *block;
    if (end) {
      extent.length = pos;
      extent.end_block = true;
      return extent;
    }
    if (encrypted) {
      extent.length = data.size();
      return extent;
    }
  }
  return Fail(ErrorCode::kMalformed,
              "RAR archive of more than " + std::to_string(kMaxBlocks) + " blocks");
}

class RarHandler final : public Handler {
 public:
  std::string_view Name() const override { return "rar"; }
  std::string_view Description() const override {
    return "RAR archive (RAR 4 and RAR 5, single volume, unencrypted; libarchive)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kRar4Magic, 0}, {kRar5Magic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = RarLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = RarLength(data);
    if (!extent) return Forward(extent);
    auto result =
        ExtractWithLibarchive(data.subspan(0, extent->length),
                              extent->rar5 ? LibarchiveFormat::kRar5 : LibarchiveFormat::kRar, ctx);
    if (extent->truncated) return AsTruncated(result, "RAR block runs past the end of the data");
    return result;
  }
};

}  // namespace

const Handler& GetRarHandler() {
  static const RarHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
