// compress (.Z): the LZW format of Unix compress / ncompress. Header 1F 9D and a flags byte
// (bits 0-4 the largest code width, 9..16; bit 7 block mode, where code 256 clears the
// table). Codes are packed LSB first and start at 9 bits; when the width changes or the
// table is cleared, the rest of the current group of `width` bytes (counted from where the
// width began) is padding, as ncompress writes it.
//
// The format has no end marker and no length: the chunk ends where the data ends or where a
// code is impossible (a code beyond the next table entry), whichever comes first. A stream
// followed by other data may therefore take a few bytes of that data as its last codes.
#include <algorithm>
#include <array>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderBytes = 3;
constexpr unsigned kFirstWidth = 9;
constexpr unsigned kMaxWidth = 16;
constexpr unsigned kClearCode = 256;
// Codes decoded by Probe before it accepts a candidate (or fewer, when the data ends first).
constexpr unsigned kProbeCodes = 64;
// A candidate whose codes turn impossible sooner than this is taken for random bytes (each
// random code is possible with a chance of about one half).
constexpr unsigned kMinValidCodes = 16;

// The flags byte's code width when `data` starts with a usable .Z header, else 0.
unsigned HeaderMaxWidth(ByteView data) {
  if (data.size() < kHeaderBytes || data[0] != 0x1f || data[1] != 0x9d) return 0;
  const std::uint8_t flags = data[2];
  if (flags & 0x60) return 0;  // reserved bits
  const unsigned width = flags & 0x1f;
  return width >= kFirstWidth && width <= kMaxWidth ? width : 0;
}

// Outcome of decoding: where the last valid code ended (in bytes, rounded up) and why the
// decoder stopped.
struct DecodeEnd {
  std::uint64_t bytes = 0;
  std::uint64_t codes = 0;
  bool invalid_code = false;  // stopped at an impossible code rather than the data's end
};

// LZW decoder state, ncompress's rules; `sink` receives each decoded string.
class LzwDecoder {
 public:
  explicit LzwDecoder(ByteView data)
      : data_(data),
        max_width_(data[2] & 0x1f),
        block_mode_((data[2] & 0x80) != 0),
        max_entries_(1u << max_width_) {
    for (unsigned c = 0; c < 256; ++c) suffix_[c] = static_cast<std::uint8_t>(c);
    Reset();
    bit_pos_ = section_start_ = kHeaderBytes * 8;
  }

  // Decodes at most `max_codes` codes (0: no limit), passing each string to `sink`
  // (Result<void>(ByteView)); stops early when `sink` fails and returns its error.
  template <typename Sink>
  Result<DecodeEnd> Run(std::uint64_t max_codes, Sink&& sink) {
    DecodeEnd end;
    end.bytes = kHeaderBytes;
    const std::uint64_t total_bits = static_cast<std::uint64_t>(data_.size()) * 8;
    while (max_codes == 0 || end.codes < max_codes) {
      if (bit_pos_ + width_ > total_bits) break;
      const unsigned code = ReadCode();
      if (block_mode_ && code == kClearCode) {
        ++end.codes;
        end.bytes = (bit_pos_ + 7) / 8;
        AlignToGroup();
        Reset();
        continue;
      }
      if (code > next_entry_ || (code == next_entry_ && previous_ < 0) ||
          (previous_ < 0 && code >= 256)) {
        end.invalid_code = true;
        break;
      }
      // Build the string backwards on the stack.
      std::size_t top = stack_.size();
      unsigned walk = code;
      if (code == next_entry_) {  // the KwKwK case: previous string + its first byte
        stack_[--top] = first_byte_;
        walk = static_cast<unsigned>(previous_);
      }
      while (walk >= 256) {
        stack_[--top] = suffix_[walk];
        walk = prefix_[walk];
      }
      first_byte_ = static_cast<std::uint8_t>(walk);
      stack_[--top] = first_byte_;
      if (next_entry_ < max_entries_ && previous_ >= 0) {
        prefix_[next_entry_] = static_cast<std::uint16_t>(previous_);
        suffix_[next_entry_] = first_byte_;
        ++next_entry_;
      }
      previous_ = static_cast<int>(code);
      ++end.codes;
      end.bytes = (bit_pos_ + 7) / 8;
      CLEARBOX_TRY(sink(ByteView(stack_.data() + top, stack_.size() - top)));
      if (next_entry_ > width_limit_ && width_ < kMaxWidth) {
        AlignToGroup();
        ++width_;
        width_limit_ = width_ == max_width_ ? max_entries_ : (1u << width_) - 1;
      }
    }
    return end;
  }

 private:
  void Reset() {
    width_ = kFirstWidth;
    width_limit_ = (1u << kFirstWidth) - 1;
    next_entry_ = block_mode_ ? kClearCode + 1 : kClearCode;
    previous_ = -1;
  }

  // Skips to the next group of `width_` bytes counted from the section's start.
  void AlignToGroup() {
    const std::uint64_t group = static_cast<std::uint64_t>(width_) * 8;
    const std::uint64_t used = bit_pos_ - section_start_;
    bit_pos_ = section_start_ + (used + group - 1) / group * group;
    section_start_ = bit_pos_;
  }

  unsigned ReadCode() {
    std::uint32_t bits = 0;
    const std::uint64_t byte = bit_pos_ / 8;
    for (unsigned i = 0; i < 3 && byte + i < data_.size(); ++i) {
      bits |= static_cast<std::uint32_t>(data_[byte + i]) << (8 * i);
    }
    const unsigned code = (bits >> (bit_pos_ % 8)) & ((1u << width_) - 1);
    bit_pos_ += width_;
    return code;
  }

  ByteView data_;
  unsigned max_width_;
  bool block_mode_;
  unsigned max_entries_;
  unsigned width_ = kFirstWidth;
  unsigned width_limit_ = 0;
  unsigned next_entry_ = 0;
  int previous_ = -1;
  std::uint8_t first_byte_ = 0;
  std::uint64_t bit_pos_ = 0;
  std::uint64_t section_start_ = 0;
  // Not zeroed: an entry is read only after it was written (codes below next_entry_).
  std::array<std::uint16_t, 1u << kMaxWidth> prefix_;
  std::array<std::uint8_t, 1u << kMaxWidth> suffix_;
  // A string is at most one byte longer than the number of table entries.
  std::array<std::uint8_t, (1u << kMaxWidth) + 1> stack_;
};

class CompressHandler final : public Handler {
 public:
  std::string_view Name() const override { return "compress"; }
  std::string_view Description() const override {
    return "Unix compress (.Z) LZW stream, 9-16 bit codes, block mode; ends at the data's end or "
           "the first impossible code (the format has no end marker)";
  }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    // Block mode with 9..16 bit codes: what compress and ncompress write.
    static constexpr Signature kSignatures[] = {
        {std::string_view("\x1f\x9d\x89", 3), 0}, {std::string_view("\x1f\x9d\x8a", 3), 0},
        {std::string_view("\x1f\x9d\x8b", 3), 0}, {std::string_view("\x1f\x9d\x8c", 3), 0},
        {std::string_view("\x1f\x9d\x8d", 3), 0}, {std::string_view("\x1f\x9d\x8e", 3), 0},
        {std::string_view("\x1f\x9d\x8f", 3), 0}, {std::string_view("\x1f\x9d\x90", 3), 0},
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (HeaderMaxWidth(data) == 0) return Fail(ErrorCode::kNotThisFormat, "no .Z header");
    // Random bytes give an impossible code within a few codes; a real stream does not.
    auto decoder = std::make_unique<LzwDecoder>(data);
    auto end = decoder->Run(kProbeCodes, [](ByteView) -> Result<void> { return {}; });
    if (!end) return Forward(end);
    if (end->codes == 0 || (end->invalid_code && end->codes < kMinValidCodes)) {
      return Fail(ErrorCode::kNotThisFormat, "no valid LZW codes after the .Z header");
    }
    return 0;  // the end is known only after decoding
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    if (HeaderMaxWidth(data) == 0) return Fail(ErrorCode::kNotThisFormat, "no .Z header");
    LazyOutput out(ctx, DecompressedName(ctx.container_name(), {{".Z", ""}, {".taz", ".tar"}}));
    std::vector<std::uint8_t> buffer;
    buffer.reserve(kStreamBufferBytes);
    std::uint64_t strings = 0;
    auto flush = [&]() -> Result<void> {
      if (buffer.empty()) return {};
      CLEARBOX_TRY(out.Write(ByteView(buffer.data(), buffer.size())));
      buffer.clear();
      return ctx.budget().CheckDeadline();
    };
    auto decoder = std::make_unique<LzwDecoder>(data);
    auto end = decoder->Run(0, [&](ByteView bytes) -> Result<void> {
      buffer.insert(buffer.end(), bytes.begin(), bytes.end());
      ++strings;
      if (buffer.size() >= kStreamBufferBytes) return flush();
      return {};
    });
    if (end) {
      auto flushed = flush();
      if (!flushed) end = Forward(flushed);
    }
    if (!end) {
      (void)out.Close();
      return Forward(end);
    }
    CLEARBOX_TRY(out.Close());
    if (strings == 0) return Fail(ErrorCode::kNotThisFormat, "no valid LZW codes");
    ctx.NoteConsumed(end->bytes);
    return end->bytes;
  }
};

}  // namespace

const Handler& GetCompressHandler() {
  static const CompressHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
