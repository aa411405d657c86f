// Windows CE ROM image in the B000FF (".bin") format, recognised without extraction. Layout
// from Microsoft's Windows CE documentation ("BIN Image File Format"): the 7-byte signature
// "B000FF\n", the image's start address and length (u32 little-endian), then records of
// {address u32, length u32, checksum u32 (the sum of the data bytes), data}; a record with
// address 0 ends the image and its length field holds the entry point.
// The chunk runs to the end record; the start address, length, entry point, record count and
// checksum mismatches are recorded as metadata.
#include <algorithm>
#include <cstdio>
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kSignature = "B000FF\n";
constexpr std::size_t kHeaderSize = 15;  // signature, start, length
constexpr std::size_t kRecordHeaderSize = 12;
constexpr std::uint32_t kMaxRecords = 1u << 20;
constexpr std::uint32_t kMinRecords = 1;  // besides the end record

std::string Hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// What the record walk found.
struct WinCeImage {
  std::uint32_t start = 0;
  std::uint32_t length = 0;
  std::uint32_t records = 0;
  std::uint32_t entry_point = 0;
  std::uint32_t bad_checksums = 0;
  std::uint64_t end = 0;
  bool ended = false;  // the end record was reached inside the data
};

// Walks the records; `checksums` also sums each record's data. Records outside the declared
// address range make it not a B000FF image.
Result<WinCeImage> WalkRecords(ByteView data, bool checksums) {
  if (data.size() < kHeaderSize || !HasBytesAt(data, 0, kSignature)) {
    return Fail(ErrorCode::kNotThisFormat, "no B000FF signature");
  }
  WinCeImage image;
  image.start = LoadU32(data.data() + 7, Endian::kLittle);
  image.length = LoadU32(data.data() + 11, Endian::kLittle);
  if (image.length == 0 || image.start > 0xffffffffu - image.length) {
    return Fail(ErrorCode::kNotThisFormat, "B000FF image range not sane");
  }
  std::uint64_t pos = kHeaderSize;
  while (image.records <= kMaxRecords) {
    if (data.size() - pos < kRecordHeaderSize) break;
    const auto* r = data.data() + pos;
    const std::uint32_t address = LoadU32(r, Endian::kLittle);
    const std::uint32_t length = LoadU32(r + 4, Endian::kLittle);
    const std::uint32_t checksum = LoadU32(r + 8, Endian::kLittle);
    if (address == 0) {
      image.entry_point = length;
      image.end = pos + kRecordHeaderSize;
      image.ended = true;
      break;
    }
    if (address < image.start || length > image.length ||
        address - image.start > image.length - length) {
      return Fail(ErrorCode::kNotThisFormat, "B000FF record outside the image range");
    }
    pos += kRecordHeaderSize;
    if (data.size() - pos < length) {
      pos = data.size();
      break;
    }
    if (checksums) {
      std::uint32_t sum = 0;
      for (std::uint32_t i = 0; i < length; ++i) sum += data[pos + i];
      if (sum != checksum) ++image.bad_checksums;
    }
    pos += length;
    ++image.records;
  }
  if (image.records < kMinRecords) return Fail(ErrorCode::kNotThisFormat, "B000FF no records");
  if (!image.ended) image.end = pos;
  return image;
}

class WinCeHandler final : public Handler {
 public:
  std::string_view Name() const override { return "wince"; }
  std::string_view Description() const override {
    return "Windows CE B000FF ROM image: recognised (start address, length, entry point, "
           "records and checksums recorded)";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kSignature, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto image = WalkRecords(data, false);
    if (!image) return Forward(image);
    return image->end;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto image = WalkRecords(data, true);
    if (!image) return Forward(image);
    ctx.SetMetadata("os", "Windows CE");
    ctx.SetMetadata("image_start", Hex32(image->start));
    ctx.SetMetadata("image_length", std::to_string(image->length));
    ctx.SetMetadata("records", std::to_string(image->records));
    ctx.SetMetadata("bad_checksums", std::to_string(image->bad_checksums));
    if (image->ended) {
      ctx.SetMetadata("entry_point", Hex32(image->entry_point));
    } else {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "B000FF image cut before its end record (" +
                            std::to_string(image->records) + " records read)");
    }
    return image->end;
  }
};

}  // namespace

const Handler& GetWinCeHandler() {
  static const WinCeHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
