// ARJ: main header (0x60 0xEA, basic header <= 2600 bytes, CRC-32), local file headers each
// followed by their packed data, end marker (0x60 0xEA 0x00 0x00). libarchive does not read
// ARJ, so members are decoded here: method 0 (stored), 1-3 (LZ77 + static Huffman blocks, as
// in the open-source arj/unarj decode.c) and 4 (LZ77 with Elias-gamma-like codes, decode_f).
// Output CRC-32s are checked; garbled (encrypted) members and volumes are reported.
#include <zlib.h>

#include <array>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic("\x60\xEA", 2);
constexpr std::size_t kMaxBasicHeader = 2600;
constexpr std::size_t kFirstHeaderMin = 30;
constexpr std::uint64_t kMaxMembers = 1 << 20;
constexpr std::uint8_t kFlagGarbled = 0x01;
constexpr std::uint8_t kTypeDirectory = 3;
constexpr std::uint8_t kMaxHostOs = 11;  // MS-DOS .. WIN32

std::uint32_t Crc32(ByteView bytes, std::uint32_t crc = 0) {
  return static_cast<std::uint32_t>(crc32(crc, bytes.data(), static_cast<uInt>(bytes.size())));
}

struct ArjHeader {
  std::uint64_t size = 0;  // header bytes including extended headers
  std::uint8_t flags = 0;
  std::uint8_t method = 0;
  std::uint8_t type = 0;
  std::uint64_t packed = 0;
  std::uint64_t original = 0;
  std::uint32_t crc = 0;
  std::uint16_t mode = 0;
  std::string name;
  bool end = false;
};

// The header at `pos`: kNotThisFormat if none (bad magic, size, CRC), kTruncated if cut.
Result<ArjHeader> ReadHeader(ByteView data, std::uint64_t pos) {
  if (data.size() - pos < 4 || !HasBytesAt(data, pos, kMagic)) {
    return Fail(data.size() - pos < 4 && HasBytesAt(data, pos, kMagic) ? ErrorCode::kTruncated
                                                                       : ErrorCode::kNotThisFormat,
                "no ARJ header");
  }
  ArjHeader h;
  const std::uint16_t basic = LoadU16(data.data() + pos + 2, Endian::kLittle);
  if (basic == 0) {
    h.size = 4;
    h.end = true;
    return h;
  }
  if (basic < kFirstHeaderMin || basic > kMaxBasicHeader) {
    return Fail(ErrorCode::kNotThisFormat, "ARJ basic header size out of range");
  }
  std::uint64_t p = pos + 4;
  // Two magic bytes occur by chance: before a cut header counts as truncated, the fixed
  // fields must look like ARJ (first header size, host OS, file type, method).
  if (data.size() - p < kFirstHeaderMin ||
      !(data[p] >= kFirstHeaderMin && data[p] < basic && data[p + 3] <= kMaxHostOs &&
        data[p + 5] <= 9 && data[p + 6] <= 4)) {
    return Fail(ErrorCode::kNotThisFormat, "no ARJ header fields");
  }
  if (data.size() - p < basic + 4u) return Fail(ErrorCode::kTruncated, "ARJ header cut off");
  const ByteView b = data.subspan(p, basic);
  if (Crc32(b) != LoadU32(data.data() + p + basic, Endian::kLittle)) {
    return Fail(ErrorCode::kNotThisFormat, "ARJ header CRC mismatch");
  }
  const std::uint8_t first = b[0];
  if (first < kFirstHeaderMin || first >= basic) {
    return Fail(ErrorCode::kNotThisFormat, "ARJ first header size out of range");
  }
  h.flags = b[4];
  h.method = b[5];
  h.type = b[6];
  h.packed = LoadU32(b.data() + 12, Endian::kLittle);
  h.original = LoadU32(b.data() + 16, Endian::kLittle);
  h.crc = LoadU32(b.data() + 20, Endian::kLittle);
  h.mode = LoadU16(b.data() + 26, Endian::kLittle);
  // DOS archives separate paths with '\\'; both separators mean a directory here.
  for (std::size_t i = first; i < b.size() && b[i] != 0; ++i) {
    h.name.push_back(b[i] == '\\' ? '/' : static_cast<char>(b[i]));
  }
  p += basic + 4u;
  // Extended headers: size, data, CRC-32; a size of 0 ends them.
  for (int n = 0;; ++n) {
    if (data.size() - p < 2) return Fail(ErrorCode::kTruncated, "ARJ header cut off");
    const std::uint16_t ext = LoadU16(data.data() + p, Endian::kLittle);
    p += 2;
    if (ext == 0) break;
    if (n > 64 || data.size() - p < ext + 4u) {
      return Fail(ErrorCode::kTruncated, "ARJ extended header cut off");
    }
    p += ext + 4u;
  }
  h.size = p - pos;
  return h;
}

struct ArjExtent {
  std::uint64_t length = 0;
  bool truncated = false;
  bool end_marker = false;
};

Result<ArjExtent> ArjLength(ByteView data) {
  auto main = ReadHeader(data, 0);
  if (!main) return Forward(main);
  if (main->end || main->type != 2) return Fail(ErrorCode::kNotThisFormat, "no ARJ main header");
  std::uint64_t pos = main->size;
  for (std::uint64_t members = 0; members < kMaxMembers; ++members) {
    if (pos >= data.size()) return ArjExtent{pos, true, false};
    auto h = ReadHeader(data, pos);
    if (!h) {
      if (h.error().code == ErrorCode::kTruncated) return ArjExtent{data.size(), true, false};
      return ArjExtent{pos, true, false};  // no end marker where one was due
    }
    pos += h->size;
    if (h->end) return ArjExtent{pos, false, true};
    if (h->packed > data.size() - pos) return ArjExtent{data.size(), true, false};
    pos += h->packed;
  }
  return Fail(ErrorCode::kMalformed, "ARJ archive of too many members");
}

// MSB-first bit reader over the packed data; reads past the end give zero bits and are noted.
class BitReader {
 public:
  explicit BitReader(ByteView data) : data_(data) {}
  std::uint32_t Peek(int n) {
    Fill(n);
    return static_cast<std::uint32_t>(buffer_ >> (count_ - n)) & ((1u << n) - 1);
  }
  void Skip(int n) {
    Fill(n);
    count_ -= n;
  }
  std::uint32_t Get(int n) {
    if (n == 0) return 0;
    const std::uint32_t v = Peek(n);
    Skip(n);
    return v;
  }
  bool overrun() const { return overrun_ > 2; }

 private:
  void Fill(int n) {
    while (count_ < n) {
      std::uint8_t byte = 0;
      if (pos_ < data_.size()) {
        byte = data_[pos_++];
      } else {
        ++overrun_;
      }
      buffer_ = (buffer_ << 8) | byte;
      count_ += 8;
    }
  }
  ByteView data_;
  std::size_t pos_ = 0;
  std::uint64_t buffer_ = 0;
  int count_ = 0;
  std::uint64_t overrun_ = 0;
};

// Canonical Huffman code from code lengths (codes in order of length, then symbol), as
// unarj's make_table assigns them; a single-symbol table decodes with no bits.
class Huffman {
 public:
  bool Build(const std::uint8_t* lengths, int n) {
    counts_.fill(0);
    symbols_.clear();
    constant_ = -1;
    for (int i = 0; i < n; ++i) {
      if (lengths[i] > 16) return false;
      ++counts_[lengths[i]];
    }
    counts_[0] = 0;
    int left = 1;
    for (int len = 1; len <= 16; ++len) {
      left <<= 1;
      left -= counts_[len];
      if (left < 0) return false;  // over-subscribed
    }
    for (int len = 1; len <= 16; ++len) {
      for (int i = 0; i < n; ++i) {
        if (lengths[i] == len) symbols_.push_back(static_cast<std::uint16_t>(i));
      }
    }
    return !symbols_.empty();
  }
  void SetConstant(int symbol) {
    constant_ = symbol;
    symbols_.clear();
  }
  // The next symbol, or -1 for a code the table does not have.
  int Decode(BitReader& bits) const {
    if (constant_ >= 0) return constant_;
    int code = 0;
    int first = 0;
    int index = 0;
    for (int len = 1; len <= 16; ++len) {
      code |= static_cast<int>(bits.Get(1));
      const int count = counts_[len];
      if (code - first < count) return symbols_[static_cast<std::size_t>(index + code - first)];
      index += count;
      first += count;
      first <<= 1;
      code <<= 1;
    }
    return -1;
  }

 private:
  std::array<int, 17> counts_{};
  std::vector<std::uint16_t> symbols_;
  int constant_ = -1;
};

constexpr int kNc = 510;  // 255 + MAXMATCH (256) + 2 - THRESHOLD (3)
constexpr int kNp = 17;   // MAXDICBIT + 1
constexpr int kNt = 19;   // CODE_BIT + 3
constexpr int kCBit = 9;
constexpr int kPBit = 5;
constexpr int kTBit = 5;
constexpr int kThreshold = 3;
constexpr std::size_t kWindow = 1 << 16;  // >= any distance the codes can express

// Writes decoded bytes through a 64 KiB history window, in blocks.
class Output {
 public:
  Output(FileWriter& writer, std::uint64_t total) : writer_(writer), total_(total) {
    window_.resize(kWindow);
  }
  bool done() const { return produced_ == total_; }
  Result<void> Literal(std::uint8_t c) { return Put(c); }
  // Copies `length` bytes from `distance` + 1 back; false if that reaches before the start.
  Result<bool> Match(std::uint64_t distance, std::uint64_t length) {
    if (distance >= produced_) return false;
    for (std::uint64_t i = 0; i < length && !done(); ++i) {
      CLEARBOX_TRY(Put(window_[(produced_ - distance - 1) & (kWindow - 1)]));
    }
    return true;
  }
  Result<void> Flush() {
    if (pending_ == 0) return {};
    const std::size_t start = static_cast<std::size_t>((produced_ - pending_) & (kWindow - 1));
    if (start + pending_ <= kWindow) {
      CLEARBOX_TRY(writer_.Write(ByteView(window_.data() + start, pending_)));
    } else {
      const std::size_t head = kWindow - start;
      CLEARBOX_TRY(writer_.Write(ByteView(window_.data() + start, head)));
      CLEARBOX_TRY(writer_.Write(ByteView(window_.data(), pending_ - head)));
    }
    crc_ = Crc32(ByteView(window_.data() + start, std::min(pending_, kWindow - start)), crc_);
    if (start + pending_ > kWindow) {
      crc_ = Crc32(ByteView(window_.data(), pending_ - (kWindow - start)), crc_);
    }
    pending_ = 0;
    return {};
  }
  std::uint32_t crc() const { return crc_; }

 private:
  Result<void> Put(std::uint8_t c) {
    if (done()) return {};
    window_[produced_ & (kWindow - 1)] = c;
    ++produced_;
    if (++pending_ == kWindow / 2) return Flush();
    return {};
  }
  FileWriter& writer_;
  std::vector<std::uint8_t> window_;
  std::uint64_t total_;
  std::uint64_t produced_ = 0;
  std::size_t pending_ = 0;
  std::uint32_t crc_ = 0;
};

Result<void> Corrupt(const std::string& why) {
  return Fail(ErrorCode::kMalformed, why);
}

// read_pt_len of unarj.
bool ReadPtLen(BitReader& bits, int nn, int nbit, int special, Huffman& table) {
  const int n = static_cast<int>(bits.Get(nbit));
  if (n == 0) {
    table.SetConstant(static_cast<int>(bits.Get(nbit)));
    return true;
  }
  if (n > nn) return false;
  std::array<std::uint8_t, kNt> lengths{};
  int i = 0;
  while (i < n) {
    int c = static_cast<int>(bits.Peek(3));
    if (c == 7) {
      std::uint32_t next = bits.Peek(16);
      std::uint32_t mask = 1u << 12;
      while ((mask & next) != 0) {
        mask >>= 1;
        ++c;
      }
      if (c > 16) return false;
    }
    bits.Skip(c < 7 ? 3 : c - 3);
    lengths[static_cast<std::size_t>(i++)] = static_cast<std::uint8_t>(c);
    if (i == special) {
      int zeros = static_cast<int>(bits.Get(2));
      while (zeros-- > 0 && i < nn) lengths[static_cast<std::size_t>(i++)] = 0;
    }
  }
  return table.Build(lengths.data(), nn);
}

// read_c_len of unarj.
bool ReadCLen(BitReader& bits, const Huffman& pt, Huffman& table) {
  const int n = static_cast<int>(bits.Get(kCBit));
  if (n == 0) {
    const int c = static_cast<int>(bits.Get(kCBit));
    if (c >= kNc) return false;
    table.SetConstant(c);
    return true;
  }
  if (n > kNc) return false;
  std::array<std::uint8_t, kNc> lengths{};
  int i = 0;
  while (i < n) {
    int c = pt.Decode(bits);
    if (c < 0 || c >= kNt) return false;
    if (c <= 2) {
      int zeros = c == 0   ? 1
                  : c == 1 ? static_cast<int>(bits.Get(4)) + 3
                           : static_cast<int>(bits.Get(kCBit)) + 20;
      while (zeros-- > 0) {
        if (i >= kNc) return false;
        lengths[static_cast<std::size_t>(i++)] = 0;
      }
    } else {
      lengths[static_cast<std::size_t>(i++)] = static_cast<std::uint8_t>(c - 2);
    }
  }
  return table.Build(lengths.data(), kNc);
}

// Methods 1-3: blocks of static Huffman codes for literals/lengths and match positions.
Result<void> DecodeLzh(BitReader& bits, Output& out, ExtractContext& ctx) {
  Huffman pt;
  Huffman c_table;
  Huffman p_table;
  std::uint32_t block = 0;
  std::uint64_t steps = 0;
  while (!out.done()) {
    if ((++steps & 0xffff) == 0) CLEARBOX_TRY(ctx.budget().CheckDeadline());
    if (bits.overrun()) return Fail(ErrorCode::kTruncated, "ARJ packed data ends early");
    if (block == 0) {
      block = bits.Get(16);
      if (block == 0) return Corrupt("ARJ block of 0 codes");
      if (!ReadPtLen(bits, kNt, kTBit, 3, pt) || !ReadCLen(bits, pt, c_table) ||
          !ReadPtLen(bits, kNp, kPBit, -1, p_table)) {
        return Corrupt("bad ARJ Huffman table");
      }
    }
    --block;
    const int c = c_table.Decode(bits);
    if (c < 0 || c >= kNc) return Corrupt("bad ARJ literal/length code");
    if (c <= 255) {
      CLEARBOX_TRY(out.Literal(static_cast<std::uint8_t>(c)));
      continue;
    }
    const std::uint64_t length = static_cast<std::uint64_t>(c) - (256 - kThreshold);
    int j = p_table.Decode(bits);
    if (j < 0 || j >= kNp) return Corrupt("bad ARJ position code");
    std::uint64_t distance = static_cast<std::uint64_t>(j);
    if (j > 1) distance = (std::uint64_t{1} << (j - 1)) + bits.Get(j - 1);
    auto copied = out.Match(distance, length);
    if (!copied) return Forward(copied);
    if (!*copied) return Corrupt("ARJ match reaches before the start of the file");
  }
  return {};
}

// Method 4 (decode_f of unarj).
std::uint64_t GammaLike(BitReader& bits, int start, int stop) {
  std::uint64_t plus = 0;
  std::uint64_t power = std::uint64_t{1} << start;
  int width = start;
  for (; width < stop; ++width) {
    if (bits.Get(1) == 0) break;
    plus += power;
    power <<= 1;
  }
  return (width != 0 ? bits.Get(width) : 0) + plus;
}

Result<void> DecodeFastest(BitReader& bits, Output& out, ExtractContext& ctx) {
  std::uint64_t steps = 0;
  while (!out.done()) {
    if ((++steps & 0xffff) == 0) CLEARBOX_TRY(ctx.budget().CheckDeadline());
    if (bits.overrun()) return Fail(ErrorCode::kTruncated, "ARJ packed data ends early");
    const std::uint64_t c = GammaLike(bits, 0, 7);
    if (c == 0) {
      CLEARBOX_TRY(out.Literal(static_cast<std::uint8_t>(bits.Get(8))));
      continue;
    }
    const std::uint64_t length = c - 1 + kThreshold;
    const std::uint64_t distance = GammaLike(bits, 9, 13);
    auto copied = out.Match(distance, length);
    if (!copied) return Forward(copied);
    if (!*copied) return Corrupt("ARJ match reaches before the start of the file");
  }
  return {};
}

// Extracts one member; member-level problems are returned for ContinueAfter.
Result<void> ExtractMember(const ArjHeader& h, ByteView packed, ExtractContext& ctx) {
  const std::uint32_t mode = (h.mode & 0777) != 0 ? (h.mode & 0777) : 0644;
  if (h.type == kTypeDirectory) return ctx.out().CreateDirectory(h.name, mode | 0700);
  if (h.type > 1) {
    return Fail(ErrorCode::kUnsupported, "ARJ entry type " + std::to_string(h.type) + " skipped");
  }
  if ((h.flags & kFlagGarbled) != 0) {
    return Fail(ErrorCode::kUnsupported, "ARJ member is garbled (password protected)");
  }
  if (h.method > 4) {
    return Fail(ErrorCode::kUnsupported, "ARJ method " + std::to_string(h.method));
  }
  if (h.method == 0 && h.packed != h.original) {
    return Fail(ErrorCode::kMalformed, "ARJ stored member with packed size != original size");
  }
  auto writer = ctx.out().CreateFile(h.name, mode);
  if (!writer) return Forward(writer);
  std::uint32_t crc = 0;
  Result<void> decoded;
  if (h.method == 0) {
    decoded = writer->Write(packed);
    crc = Crc32(packed);
  } else {
    BitReader bits(packed);
    Output out(*writer, h.original);
    decoded = h.method == 4 ? DecodeFastest(bits, out, ctx) : DecodeLzh(bits, out, ctx);
    auto flushed = out.Flush();
    if (decoded && !flushed) decoded = flushed;
    crc = out.crc();
  }
  auto closed = writer->Close();
  if (!decoded) return decoded;
  if (!closed) return closed;
  if (crc != h.crc) return Fail(ErrorCode::kMalformed, "ARJ member CRC-32 mismatch");
  return {};
}

class ArjHandler final : public Handler {
 public:
  std::string_view Name() const override { return "arj"; }
  std::string_view Description() const override {
    return "ARJ archive (methods 0 stored, 1-3 and 4 decoded; CRCs checked)";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = ArjLength(data);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = ArjLength(data);
    if (!extent) return Forward(extent);
    data = data.subspan(0, extent->length);
    auto main = ReadHeader(data, 0);
    if (!main) return Forward(main);
    std::uint64_t pos = main->size;
    while (pos < data.size()) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      auto h = ReadHeader(data, pos);
      if (!h || h->end) break;
      pos += h->size;
      const std::uint64_t packed = std::min<std::uint64_t>(h->packed, data.size() - pos);
      if (packed < h->packed) {
        ctx.ReportProblem(ErrorCode::kTruncated, h->name, "ARJ member data cut off");
        break;
      }
      auto member = ExtractMember(*h, data.subspan(pos, packed), ctx);
      if (!ctx.ContinueAfter(member, h->name)) return Forward(member);
      pos += packed;
    }
    if (extent->truncated) {
      return Fail(ErrorCode::kTruncated, "ARJ archive ends before its end marker");
    }
    return extent->length;
  }
};

}  // namespace

const Handler& GetArjHandler() {
  static const ArjHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
