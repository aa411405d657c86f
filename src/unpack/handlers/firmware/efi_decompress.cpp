// EFI 1.1 / Tiano decompression, written from the UEFI specification's description and
// EDK II's Decompress.c (BSD-2-Clause-Patent); every table index and copy is checked.
#include "unpack/handlers/firmware/efi_decompress.hpp"

#include <algorithm>
#include <array>

namespace clearbox::unpack {
namespace {

constexpr int kBitBufBits = 32;
constexpr int kMaxMatch = 256;
constexpr int kThreshold = 3;
constexpr int kNc = 0xFF + kMaxMatch + 2 - kThreshold;  // 510 literal/length symbols
constexpr int kCBit = 9;
constexpr int kMaxNp = 31;   // position-set symbols (2^5 - 1)
constexpr int kNt = 16 + 3;  // code-length symbols
constexpr int kTBit = 5;
constexpr int kNpt = std::max(kNt, kMaxNp);
constexpr int kCTableBits = 12;
constexpr int kPtTableBits = 8;
constexpr int kTreeNodes = 2 * kNc - 1;

class Decoder {
 public:
  Decoder(ByteView src, std::uint32_t comp_size, int pbit, std::vector<std::uint8_t>& out)
      : src_(src), comp_size_(comp_size), pbit_(pbit), out_(out) {}

  Result<void> Run(std::size_t orig_size, const ChunkBudget* budget) {
    FillBuf(kBitBufBits);
    consumed_bits_ = 0;
    std::size_t steps = 0;
    while (out_.size() < orig_size) {
      if (budget != nullptr && (++steps & 0xFFFF) == 0) CLEARBOX_TRY(budget->CheckDeadline());
      if (consumed_bits_ > std::uint64_t{comp_size_} * 8) {
        return Fail(ErrorCode::kMalformed, "EFI-compressed stream ends early");
      }
      int c = 0;
      if (!DecodeC(&c)) return Fail(ErrorCode::kMalformed, "bad Huffman table");
      if (c < 256) {
        out_.push_back(static_cast<std::uint8_t>(c));
        continue;
      }
      const std::size_t length = static_cast<std::size_t>(c - (256 - kThreshold));
      std::uint32_t distance = 0;
      if (!DecodeP(&distance)) return Fail(ErrorCode::kMalformed, "bad Huffman table");
      if (std::uint64_t{distance} + 1 > out_.size()) {
        return Fail(ErrorCode::kMalformed, "match before the start of the output");
      }
      std::size_t from = out_.size() - distance - 1;
      const std::size_t n = std::min(length, orig_size - out_.size());
      for (std::size_t i = 0; i < n; ++i) out_.push_back(out_[from++]);
    }
    if (consumed_bits_ > std::uint64_t{comp_size_} * 8) {
      return Fail(ErrorCode::kMalformed, "EFI-compressed stream ends early");
    }
    return {};
  }

 private:
  // Shifts `n` bits out of the 32-bit buffer, refilling from the input (zeros past its end).
  void FillBuf(int n) {
    consumed_bits_ += static_cast<std::uint64_t>(n);
    bit_buf_ = n >= 32 ? 0 : bit_buf_ << n;
    while (n > bit_count_) {
      n -= bit_count_;
      bit_buf_ |= n >= 32 ? 0 : sub_bit_buf_ << n;
      if (in_pos_ < comp_size_ && in_pos_ < src_.size()) {
        sub_bit_buf_ = src_[in_pos_++];
      } else {
        sub_bit_buf_ = 0;
      }
      bit_count_ = 8;
    }
    bit_count_ -= n;
    bit_buf_ |= sub_bit_buf_ >> bit_count_;
  }

  std::uint32_t GetBits(int n) {
    const std::uint32_t v = n == 0 ? 0 : bit_buf_ >> (kBitBufBits - n);
    FillBuf(n);
    return v;
  }

  // Builds a decoding table for `count` symbols of lengths `len` (canonical Huffman):
  // codes up to `table_bits` long index `table` directly, longer ones go through the tree.
  bool MakeTable(int count, const std::uint8_t* len, int table_bits, std::uint16_t* table) {
    std::array<std::uint32_t, 17> counts{};
    for (int i = 0; i < count; ++i) {
      if (len[i] > 16) return false;
      ++counts[len[i]];
    }
    std::array<std::uint32_t, 18> start{};
    for (int i = 1; i <= 16; ++i) start[i + 1] = start[i] + (counts[i] << (16 - i));
    if (start[17] != (1u << 16)) return false;  // not a complete prefix code
    const int ju_bits = 16 - table_bits;
    std::array<std::uint32_t, 17> weight{};
    for (int i = 1; i <= table_bits; ++i) {
      start[i] >>= ju_bits;
      weight[i] = 1u << (table_bits - i);
    }
    for (int i = table_bits + 1; i <= 16; ++i) weight[i] = 1u << (16 - i);
    const std::uint32_t table_size = 1u << table_bits;
    std::fill(table, table + table_size, 0);  // no stale entries from an earlier block
    int avail = count;
    const std::uint32_t mask = 1u << (15 - table_bits);
    for (int ch = 0; ch < count; ++ch) {
      const int l = len[ch];
      if (l == 0) continue;
      const std::uint32_t next = start[l] + weight[l];
      if (l <= table_bits) {
        if (next > table_size) return false;
        for (std::uint32_t i = start[l]; i < next; ++i) table[i] = static_cast<std::uint16_t>(ch);
      } else {
        std::uint32_t code = start[l];
        if ((code >> ju_bits) >= table_size) return false;
        std::uint16_t* slot = &table[code >> ju_bits];
        for (int i = l - table_bits; i > 0; --i) {
          if (*slot == 0) {
            if (avail >= kTreeNodes) return false;
            left_[avail] = right_[avail] = 0;
            *slot = static_cast<std::uint16_t>(avail++);
          }
          if (*slot < count || *slot >= kTreeNodes) return false;  // a leaf in the way
          slot = (code & mask) ? &right_[*slot] : &left_[*slot];
          code <<= 1;
        }
        *slot = static_cast<std::uint16_t>(ch);
      }
      start[l] = next;
    }
    return true;
  }

  // Follows the tree below a table entry `v` >= `leaves`, reading bits after `table_bits`.
  bool Walk(std::uint32_t* v, int leaves, int table_bits) const {
    std::uint32_t mask = 1u << (kBitBufBits - 1 - table_bits);
    for (int steps = 0; *v >= static_cast<std::uint32_t>(leaves); ++steps) {
      if (steps >= 16 || *v >= kTreeNodes) return false;
      *v = (bit_buf_ & mask) ? right_[*v] : left_[*v];
      mask >>= 1;
    }
    return true;
  }

  bool ReadPtLen(int nn, int nbit, int special) {
    const std::uint32_t number = GetBits(nbit);
    if (number == 0) {
      const std::uint32_t c = GetBits(nbit);
      if (c >= static_cast<std::uint32_t>(nn)) return false;
      pt_table_.fill(static_cast<std::uint16_t>(c));
      std::fill(pt_len_.begin(), pt_len_.end(), 0);
      return true;
    }
    if (number > static_cast<std::uint32_t>(nn)) return false;
    std::uint32_t i = 0;
    while (i < number) {
      std::uint32_t c = bit_buf_ >> (kBitBufBits - 3);
      if (c == 7) {
        std::uint32_t mask = 1u << (kBitBufBits - 1 - 3);
        while ((mask & bit_buf_) != 0) {
          mask >>= 1;
          ++c;
        }
      }
      if (c > 16) return false;
      FillBuf(c < 7 ? 3 : static_cast<int>(c) - 3);
      pt_len_[i++] = static_cast<std::uint8_t>(c);
      if (i == static_cast<std::uint32_t>(special)) {
        std::uint32_t zeros = GetBits(2);
        while (zeros-- > 0 && i < kNpt) pt_len_[i++] = 0;
      }
    }
    while (i < kNpt) pt_len_[i++] = 0;
    return MakeTable(nn, pt_len_.data(), kPtTableBits, pt_table_.data());
  }

  bool ReadCLen() {
    const std::uint32_t number = GetBits(kCBit);
    if (number == 0) {
      const std::uint32_t c = GetBits(kCBit);
      if (c >= kNc) return false;
      std::fill(c_len_.begin(), c_len_.end(), 0);
      c_table_.fill(static_cast<std::uint16_t>(c));
      return true;
    }
    if (number > kNc) return false;
    std::uint32_t i = 0;
    while (i < number) {
      std::uint32_t c = pt_table_[bit_buf_ >> (kBitBufBits - 8)];
      if (!Walk(&c, kNt, 8)) return false;
      FillBuf(pt_len_[c]);
      if (c <= 2) {
        std::uint32_t zeros = c == 0 ? 1 : c == 1 ? GetBits(4) + 3 : GetBits(kCBit) + 20;
        while (zeros-- > 0 && i < kNc) c_len_[i++] = 0;
      } else {
        c_len_[i++] = static_cast<std::uint8_t>(c - 2);
      }
    }
    while (i < kNc) c_len_[i++] = 0;
    return MakeTable(kNc, c_len_.data(), kCTableBits, c_table_.data());
  }

  bool DecodeC(int* out) {
    if (block_size_ == 0) {
      block_size_ = GetBits(16);
      if (!ReadPtLen(kNt, kTBit, 3) || !ReadCLen() || !ReadPtLen(kMaxNp, pbit_, -1)) {
        return false;
      }
    }
    --block_size_;
    std::uint32_t c = c_table_[bit_buf_ >> (kBitBufBits - kCTableBits)];
    if (!Walk(&c, kNc, kCTableBits)) return false;
    FillBuf(c_len_[c]);
    *out = static_cast<int>(c);
    return true;
  }

  bool DecodeP(std::uint32_t* out) {
    std::uint32_t v = pt_table_[bit_buf_ >> (kBitBufBits - 8)];
    if (!Walk(&v, kMaxNp, 8)) return false;
    FillBuf(pt_len_[v]);
    *out = v > 1 ? (1u << (v - 1)) + GetBits(static_cast<int>(v) - 1) : v;
    return true;
  }

  ByteView src_;
  std::uint32_t comp_size_;
  int pbit_;
  std::vector<std::uint8_t>& out_;
  std::uint32_t bit_buf_ = 0, sub_bit_buf_ = 0;
  int bit_count_ = 0;
  std::size_t in_pos_ = 0;
  std::uint64_t consumed_bits_ = 0;
  std::uint32_t block_size_ = 0;
  std::array<std::uint16_t, kTreeNodes> left_{}, right_{};
  std::array<std::uint8_t, kNc> c_len_{};
  std::array<std::uint8_t, kNpt> pt_len_{};
  std::array<std::uint16_t, 4096> c_table_{};
  std::array<std::uint16_t, 256> pt_table_{};
};

}  // namespace

Result<std::vector<std::uint8_t>> EfiDecompress(ByteView in, EfiCompression variant,
                                                std::size_t max_output, const ChunkBudget* budget) {
  if (in.size() < 8) return Fail(ErrorCode::kMalformed, "EFI-compressed header cut off");
  const std::uint32_t comp_size = LoadU32(in.data(), Endian::kLittle);
  const std::uint32_t orig_size = LoadU32(in.data() + 4, Endian::kLittle);
  if (comp_size > in.size() - 8) {
    return Fail(ErrorCode::kTruncated, "EFI-compressed data shorter than its header says");
  }
  if (orig_size > max_output) {
    return Fail(ErrorCode::kLimitExceeded,
                "EFI-compressed data would decode to " + std::to_string(orig_size) + " bytes");
  }
  std::vector<std::uint8_t> out;
  out.reserve(std::min<std::size_t>(orig_size, 1u << 20));  // grows as output is made
  Decoder decoder(in.subspan(8, comp_size), comp_size, variant == EfiCompression::kEfi11 ? 4 : 5,
                  out);
  CLEARBOX_TRY(decoder.Run(orig_size, budget));
  return out;
}

}  // namespace clearbox::unpack
