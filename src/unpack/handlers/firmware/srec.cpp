// Motorola S-record: text records "S<t><CC><address><data><KK>" (CC counts the address,
// data and checksum bytes; KK is the ones' complement of the sum of CC, address and data).
// S0 header (text, 16-bit address), S1/S2/S3 data with 16/24/32-bit addresses, S5/S6 record
// counts, S7/S8/S9 start address and termination (32/24/16-bit). The chunk is the run of
// consecutive valid records from the candidate up to and with the termination record; the
// data is written as one binary per contiguous address range, see hex_records.hpp.
//
// Signatures: "S0" + the first count digit (the header a file starts with) and the data
// records of 16 and 32 bytes that files without a header start with ("S113", "S123",
// "S214", "S224", "S315", "S325"), so that a stray "S1" in text is no candidate.
#include "unpack/handlers/firmware/hex_records.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

// Bytes of the address field of each record type (0 = reserved type S4).
constexpr std::size_t kAddressBytes[10] = {2, 2, 3, 4, 0, 2, 3, 4, 3, 2};

std::optional<TextRecord> ParseSrecRecord(ByteView text, std::size_t pos) {
  if (pos >= text.size() || text[pos] != 'S' || text.size() - pos < 4) return std::nullopt;
  const std::uint8_t type_char = text[pos + 1];
  if (type_char < '0' || type_char > '9' || type_char == '4') return std::nullopt;
  const std::size_t type = type_char - '0';
  if (!AllHexDigits(text, pos + 2, 2)) return std::nullopt;
  const std::size_t count = HexByteAt(text, pos + 2);
  const std::size_t address_bytes = kAddressBytes[type];
  if (count < address_bytes + 1) return std::nullopt;
  if (!AllHexDigits(text, pos + 4, 2 * count)) return std::nullopt;
  std::uint8_t sum = static_cast<std::uint8_t>(count);
  for (std::size_t i = 0; i < count; ++i) sum += HexByteAt(text, pos + 4 + 2 * i);
  if (sum != 0xff) return std::nullopt;
  const std::size_t end = pos + 4 + 2 * count;
  if (end < text.size() && text[end] != '\r' && text[end] != '\n' && text[end] != ' ' &&
      text[end] != '\t') {
    return std::nullopt;
  }
  std::uint64_t address = 0;
  for (std::size_t i = 0; i < address_bytes; ++i) {
    address = (address << 8) | HexByteAt(text, pos + 4 + 2 * i);
  }
  TextRecord record;
  record.value = address;
  record.data_pos = pos + 4 + 2 * address_bytes;
  record.data_bytes = count - address_bytes - 1;
  record.end = end;
  switch (type) {
    case 0: record.kind = TextRecord::Kind::kHeader; break;
    case 1:
    case 2:
    case 3: record.kind = TextRecord::Kind::kData; break;
    case 5:
    case 6: record.kind = TextRecord::Kind::kCount; break;
    default: record.kind = TextRecord::Kind::kEnd; break;  // 7, 8, 9
  }
  return record;
}

class SrecHandler final : public Handler {
 public:
  std::string_view Name() const override { return "srec"; }
  std::string_view Description() const override {
    return "Motorola S-record (S19, S28, S37; checksums checked): one binary per contiguous "
           "address range";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {"S00", 0},  {"S01", 0},  {"S02", 0},  {"S03", 0}, {"S04", 0},  {"S05", 0},
        {"S06", 0},  {"S07", 0},  {"S08", 0},  {"S09", 0}, {"S0A", 0},  {"S0B", 0},
        {"S0C", 0},  {"S0D", 0},  {"S0E", 0},  {"S0F", 0}, {"S113", 0}, {"S123", 0},
        {"S214", 0}, {"S224", 0}, {"S315", 0}, {"S325", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto image = WalkHexRecords(data, ParseSrecRecord);
    if (!image) return Forward(image);
    return image->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto image = WalkHexRecords(data, ParseSrecRecord);
    if (!image) return Forward(image);
    // No termination record is no problem: srec_cat leaves it out without a start address.
    CLEARBOX_TRY(WriteHexImage(data, *image, ParseSrecRecord, "Motorola S-record", ctx));
    return image->length;
  }
};

}  // namespace

const Handler& GetSrecHandler() {
  static const SrecHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
