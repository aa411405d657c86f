// Intel HEX: text records ":LLAAAATT<data>CC" (LL data bytes, AAAA 16-bit address, TT
// type, CC two's-complement checksum of all bytes). Types: 00 data, 01 end of file,
// 02 extended segment address (base = value << 4), 03 start segment address, 04 extended
// linear address (base = value << 16), 05 start linear address. The chunk is the run of
// consecutive valid records from the candidate (blank lines allowed between them) up to
// and with the end-of-file record; the data is written as one binary per contiguous address
// range ("0x<start>.bin"), see hex_records.hpp.
//
// Signatures: a colon alone would fire on every clock time in a log, so only the records a
// file usually starts with are candidates: 16- and 32-byte data records (":10", ":20", what
// objcopy and srec_cat write) and the address records ":02000004" / ":02000002".
#include "unpack/handlers/firmware/hex_records.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kRecordFixedChars = 11;  // ':' LL AAAA TT CC

std::optional<TextRecord> ParseIntelHexRecord(ByteView text, std::size_t pos) {
  if (pos >= text.size() || text[pos] != ':') return std::nullopt;
  if (!AllHexDigits(text, pos + 1, kRecordFixedChars - 1)) return std::nullopt;
  const std::size_t count = HexByteAt(text, pos + 1);
  const std::size_t chars = kRecordFixedChars + 2 * count;
  if (!AllHexDigits(text, pos + 1, chars - 1)) return std::nullopt;
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i < count + 5; ++i) sum += HexByteAt(text, pos + 1 + 2 * i);
  if (sum != 0) return std::nullopt;
  const std::size_t end = pos + chars;
  // A record is a whole line: what follows is a line ending, a blank or the end of the data.
  if (end < text.size() && text[end] != '\r' && text[end] != '\n' && text[end] != ' ' &&
      text[end] != '\t') {
    return std::nullopt;
  }
  const std::uint64_t address =
      (std::uint64_t{HexByteAt(text, pos + 3)} << 8) | HexByteAt(text, pos + 5);
  const std::uint8_t type = HexByteAt(text, pos + 7);
  TextRecord record;
  record.data_pos = pos + 9;
  record.data_bytes = count;
  record.end = end;
  auto data_value = [&]() {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < count; ++i) v = (v << 8) | HexByteAt(text, record.data_pos + 2 * i);
    return v;
  };
  switch (type) {
    case 0x00:
      record.kind = TextRecord::Kind::kData;
      record.value = address;
      return record;
    case 0x01:
      if (count != 0) return std::nullopt;
      record.kind = TextRecord::Kind::kEnd;
      return record;
    case 0x02:
      if (count != 2) return std::nullopt;
      record.kind = TextRecord::Kind::kBase;
      record.value = data_value() << 4;
      return record;
    case 0x04:
      if (count != 2) return std::nullopt;
      record.kind = TextRecord::Kind::kBase;
      record.value = data_value() << 16;
      return record;
    case 0x03:
    case 0x05:
      if (count != 4) return std::nullopt;
      record.kind = TextRecord::Kind::kStart;
      record.value = data_value();
      if (type == 0x03) record.value = ((record.value >> 16) << 4) + (record.value & 0xffff);
      return record;
    default: return std::nullopt;
  }
}

class IntelHexHandler final : public Handler {
 public:
  std::string_view Name() const override { return "ihex"; }
  std::string_view Description() const override {
    return "Intel HEX (I8HEX, I16HEX, I32HEX; checksums checked): one binary per contiguous "
           "address range";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {":10", 0}, {":20", 0}, {":02000004", 0}, {":02000002", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto image = WalkHexRecords(data, ParseIntelHexRecord);
    if (!image) return Forward(image);
    return image->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto image = WalkHexRecords(data, ParseIntelHexRecord);
    if (!image) return Forward(image);
    CLEARBOX_TRY(WriteHexImage(data, *image, ParseIntelHexRecord, "Intel HEX", ctx));
    if (!image->ended) {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "Intel HEX records end without an end-of-file record");
    }
    return image->length;
  }
};

}  // namespace

const Handler& GetIntelHexHandler() {
  static const IntelHexHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
