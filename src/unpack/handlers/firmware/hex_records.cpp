#include "unpack/handlers/firmware/hex_records.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "unpack/handlers/firmware/firmware_util.hpp"

namespace clearbox::unpack {
namespace {

// Decoded bytes buffered before a write to the output file.
constexpr std::size_t kDecodeBufferBytes = 64 * 1024;
// Records decoded between two deadline checks.
constexpr std::uint64_t kRecordsPerDeadlineCheck = 4096;

bool IsLineSpace(std::uint8_t c) {
  return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

// Offset just past the line ending after a record at `end` (CR, LF or CRLF; trailing blanks).
std::size_t SkipLineEnd(ByteView text, std::size_t end) {
  while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
  if (end < text.size() && text[end] == '\r') ++end;
  if (end < text.size() && text[end] == '\n') ++end;
  return end;
}

std::string HexAddress(std::uint64_t address) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%08llx", static_cast<unsigned long long>(address));
  return buffer;
}

// Writes the data bytes of the data records in text[begin, end) to `out`.
Result<void> DecodeRecords(ByteView text, std::size_t begin, std::size_t end,
                           TextRecordParser parse, FileWriter& out, ExtractContext& ctx) {
  std::vector<std::uint8_t> buffer;
  buffer.reserve(kDecodeBufferBytes);
  std::size_t pos = begin;
  std::uint64_t records = 0;
  while (pos < end) {
    if (IsLineSpace(text[pos])) {
      ++pos;
      continue;
    }
    const auto record = parse(text, pos);
    if (!record) return Fail(ErrorCode::kInternal, "hex record changed between walks");
    if (record->kind == TextRecord::Kind::kData) {
      for (std::size_t i = 0; i < record->data_bytes; ++i) {
        buffer.push_back(HexByteAt(text, record->data_pos + 2 * i));
      }
      if (buffer.size() >= kDecodeBufferBytes - 256) {
        CLEARBOX_TRY(out.Write(buffer));
        buffer.clear();
      }
    }
    if (++records % kRecordsPerDeadlineCheck == 0) CLEARBOX_TRY(ctx.budget().CheckDeadline());
    pos = record->end;
  }
  if (!buffer.empty()) CLEARBOX_TRY(out.Write(buffer));
  return {};
}

}  // namespace

int HexDigitValue(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::uint8_t HexByteAt(ByteView text, std::size_t pos) {
  return static_cast<std::uint8_t>((HexDigitValue(text[pos]) << 4) | HexDigitValue(text[pos + 1]));
}

bool AllHexDigits(ByteView text, std::size_t pos, std::size_t count) {
  if (pos > text.size() || text.size() - pos < count) return false;
  for (std::size_t i = 0; i < count; ++i) {
    if (HexDigitValue(text[pos + i]) < 0) return false;
  }
  return true;
}

Result<HexImage> WalkHexRecords(ByteView text, TextRecordParser parse) {
  HexImage image;
  std::uint64_t base = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto record = parse(text, pos);
    if (!record) break;
    ++image.records;
    image.length = SkipLineEnd(text, record->end);
    switch (record->kind) {
      case TextRecord::Kind::kData: {
        if (record->data_bytes == 0) break;
        ++image.data_records;
        const std::uint64_t address = base + record->value;
        if (!image.segments.empty()) {
          HexSegment& last = image.segments.back();
          if (last.address + last.length == address) {
            last.length += record->data_bytes;
            last.text_end = record->end;
            break;
          }
        }
        if (image.segments.size() >= kMaxHexSegments) {
          image.too_many_segments = true;
          image.length = pos;
          --image.records;
          --image.data_records;
          if (image.data_records == 0) {
            return Fail(ErrorCode::kNotThisFormat, "no hex data records");
          }
          return image;
        }
        image.segments.push_back({address, record->data_bytes, pos, record->end});
        break;
      }
      case TextRecord::Kind::kBase: base = record->value; break;
      case TextRecord::Kind::kStart: image.start_address = record->value; break;
      case TextRecord::Kind::kHeader:
        if (image.header.empty()) {
          for (std::size_t i = 0; i < std::min(record->data_bytes, kMaxHexHeaderChars); ++i) {
            const std::uint8_t c = HexByteAt(text, record->data_pos + 2 * i);
            if (c == 0) break;
            image.header.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
          }
        }
        break;
      case TextRecord::Kind::kCount: break;
      case TextRecord::Kind::kEnd:
        image.ended = true;
        // S7/S8/S9 carry the start address; Intel's end record has 0 there.
        if (record->value != 0 && !image.start_address) image.start_address = record->value;
        break;
    }
    if (image.ended) break;
    pos = image.length;
    // Blank lines between records belong to the file; anything else ends it.
    std::size_t next = pos;
    while (next < text.size() && IsLineSpace(text[next])) ++next;
    pos = next;
  }
  if (image.records == 0) return Fail(ErrorCode::kNotThisFormat, "no valid first record");
  if (image.data_records == 0 || (image.records < 2 && !image.ended)) {
    return Fail(ErrorCode::kNotThisFormat, "a lone record without data or end record");
  }
  return image;
}

Result<void> WriteHexImage(ByteView text, const HexImage& image, TextRecordParser parse,
                           std::string_view format_name, ExtractContext& ctx) {
  std::vector<const HexSegment*> order;
  order.reserve(image.segments.size());
  for (const HexSegment& s : image.segments) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const HexSegment* a, const HexSegment* b) {
    return a->address < b->address;
  });
  std::set<std::string> used{"info.txt"};
  std::optional<FileWriter> out;
  std::string out_name;
  std::uint64_t range_end = 0;  // end of the range being written
  std::uint64_t max_end = 0;    // end of all data written so far
  std::uint64_t files = 0;
  auto close = [&]() -> Result<void> {
    if (!out) return {};
    auto closed = out->Close();
    out.reset();
    return closed;
  };
  for (const HexSegment* s : order) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    if (!out || s->address != range_end) {
      CLEARBOX_TRY(close());
      if (files > 0 && s->address < max_end) {
        ctx.ReportProblem(ErrorCode::kMalformed, "",
                          "data at " + HexAddress(s->address) + " overlaps data before " +
                              HexAddress(max_end) + "; written as a separate file");
      }
      out_name = UniqueMemberName(HexAddress(s->address) + ".bin", used);
      auto created = ctx.out().CreateFile(out_name, 0644);
      if (!created) return Forward(created);
      out.emplace(std::move(*created));
      ++files;
    }
    auto decoded = DecodeRecords(text, s->text_begin, s->text_end, parse, *out, ctx);
    if (!decoded) {
      (void)close();
      return decoded;
    }
    range_end = s->address + s->length;
    max_end = std::max(max_end, range_end);
  }
  CLEARBOX_TRY(close());
  std::string info = "format: " + std::string(format_name) + "\n";
  info += "records: " + std::to_string(image.records) + "\n";
  info += "data_records: " + std::to_string(image.data_records) + "\n";
  info += "address_ranges: " + std::to_string(files) + "\n";
  info += std::string("end_record: ") + (image.ended ? "yes" : "no") + "\n";
  if (image.start_address) info += "start_address: " + HexAddress(*image.start_address) + "\n";
  if (!image.header.empty()) info += "header: " + image.header + "\n";
  auto written = ctx.out().WriteFile(
      "info.txt", ByteView(reinterpret_cast<const std::uint8_t*>(info.data()), info.size()), 0644);
  if (!ctx.ContinueAfter(written, "info.txt")) return written;
  if (image.too_many_segments) {
    ctx.ReportProblem(ErrorCode::kLimitExceeded, "",
                      "more than " + std::to_string(kMaxHexSegments) +
                          " separate address ranges; records after them not extracted");
  }
  return {};
}

}  // namespace clearbox::unpack
