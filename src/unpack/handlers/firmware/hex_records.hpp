// Text record formats of EPROM programmers (Intel HEX, Motorola S-record): the record walk
// they share, the address map of their data records and its output as one binary file per
// contiguous address range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/byte_reader.hpp"
#include "unpack/handler.hpp"

namespace clearbox::unpack {

// Most address ranges (separate runs of data records) written per image; more is refused.
inline constexpr std::size_t kMaxHexSegments = 1 << 16;
// Most characters of a header record (S0) kept for info.txt.
inline constexpr std::size_t kMaxHexHeaderChars = 256;

// One record, as its format's parser sees it.
struct TextRecord {
  enum class Kind : std::uint8_t { kData, kBase, kStart, kEnd, kHeader, kCount };
  Kind kind = Kind::kData;
  std::uint64_t value = 0;     // kData: address field; kBase: new base; kStart: start address
  std::size_t data_pos = 0;    // offset in the text of the first data hex digit
  std::size_t data_bytes = 0;  // decoded data bytes
  std::size_t end = 0;         // offset just after the record's last character
};

// Parses the record starting at `pos` (its lead character), checksum included; nullopt
// when there is no valid record there.
using TextRecordParser = std::optional<TextRecord> (*)(ByteView text, std::size_t pos);

// A run of data records at consecutive addresses: `length` bytes from `address`, held by
// the records in text[text_begin, text_end) (other record kinds may sit between them).
struct HexSegment {
  std::uint64_t address = 0;
  std::uint64_t length = 0;
  std::size_t text_begin = 0;
  std::size_t text_end = 0;
};

// What a walk over consecutive valid records found.
struct HexImage {
  std::size_t length = 0;  // text bytes the records occupy, with the last line ending
  std::uint64_t records = 0;
  std::uint64_t data_records = 0;
  bool ended = false;              // an end-of-file / termination record closed it
  bool too_many_segments = false;  // the walk stopped at kMaxHexSegments
  std::optional<std::uint64_t> start_address;
  std::string header;  // S0 text, made printable
  std::vector<HexSegment> segments;
};

// Value of one hex digit, or -1.
int HexDigitValue(std::uint8_t c);
// Decodes the byte of the two hex digits at text[pos]; the caller checked they are digits.
std::uint8_t HexByteAt(ByteView text, std::size_t pos);
// True when text[pos, pos + count) are all hex digits (and inside the text).
bool AllHexDigits(ByteView text, std::size_t pos, std::size_t count);

// Walks the records from text[0] on, as long as they parse, up to and with an end record.
// kNotThisFormat unless the first record is valid and there are two records or an end record
// and at least one data record.
Result<HexImage> WalkHexRecords(ByteView text, TextRecordParser parse);

// Writes every address range as "0x<start>.bin" (ranges that overlap another are reported
// and written under their own name) and info.txt (format, records, start address, header).
Result<void> WriteHexImage(ByteView text, const HexImage& image, TextRecordParser parse,
                           std::string_view format_name, ExtractContext& ctx);

}  // namespace clearbox::unpack
