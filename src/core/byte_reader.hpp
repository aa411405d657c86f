// ByteView and ByteReader: bounds-checked reading of untrusted bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox {

using ByteView = std::span<const std::uint8_t>;

enum class Endian : std::uint8_t { kLittle, kBig };

// Loads an unsigned integer of N bytes at p; the caller guarantees N readable bytes.
inline std::uint16_t LoadU16(const std::uint8_t* p, Endian e) {
  return e == Endian::kLittle ? static_cast<std::uint16_t>(p[0] | (p[1] << 8))
                              : static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t LoadU32(const std::uint8_t* p, Endian e) {
  if (e == Endian::kLittle) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
  }
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t LoadU64(const std::uint8_t* p, Endian e) {
  const std::uint64_t a = LoadU32(p, e);
  const std::uint64_t b = LoadU32(p + 4, e);
  return e == Endian::kLittle ? (a | (b << 32)) : ((a << 32) | b);
}

// Views bytes as text without copying (for magic comparisons and names).
inline std::string_view AsText(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// True when `bytes` starts with `prefix` at `offset`.
inline bool HasBytesAt(ByteView bytes, std::size_t offset, std::string_view prefix) {
  return offset <= bytes.size() && bytes.size() - offset >= prefix.size() &&
         std::memcmp(bytes.data() + offset, prefix.data(), prefix.size()) == 0;
}

// Sequential reader over a ByteView; every read checks bounds and returns kTruncated past
// the end. Never reads outside the view.
class ByteReader {
 public:
  explicit ByteReader(ByteView data, Endian endian = Endian::kLittle)
      : data_(data), endian_(endian) {}

  void SetEndian(Endian endian) { endian_ = endian; }
  Endian endian() const { return endian_; }
  std::size_t Position() const { return pos_; }
  std::size_t Remaining() const { return data_.size() - pos_; }
  std::size_t Size() const { return data_.size(); }

  // Moves to an absolute position; fails past the end.
  Result<void> Seek(std::size_t pos) {
    if (pos > data_.size()) return Fail(ErrorCode::kTruncated, "seek past end of data");
    pos_ = pos;
    return {};
  }
  Result<void> Skip(std::size_t n) {
    if (n > Remaining()) return Fail(ErrorCode::kTruncated, "skip past end of data");
    pos_ += n;
    return {};
  }
  Result<ByteView> Bytes(std::size_t n) {
    if (n > Remaining()) return Fail(ErrorCode::kTruncated, "read past end of data");
    ByteView out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Result<std::uint8_t> U8() {
    if (Remaining() < 1) return Fail(ErrorCode::kTruncated, "read past end of data");
    return data_[pos_++];
  }
  Result<std::uint16_t> U16() {
    if (Remaining() < 2) return Fail(ErrorCode::kTruncated, "read past end of data");
    auto v = LoadU16(data_.data() + pos_, endian_);
    pos_ += 2;
    return v;
  }
  Result<std::uint32_t> U32() {
    if (Remaining() < 4) return Fail(ErrorCode::kTruncated, "read past end of data");
    auto v = LoadU32(data_.data() + pos_, endian_);
    pos_ += 4;
    return v;
  }
  Result<std::uint64_t> U64() {
    if (Remaining() < 8) return Fail(ErrorCode::kTruncated, "read past end of data");
    auto v = LoadU64(data_.data() + pos_, endian_);
    pos_ += 8;
    return v;
  }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
  Endian endian_;
};

// Reads an integer at an absolute offset of a view, bounds-checked.
inline Result<std::uint32_t> ReadU32At(ByteView data, std::size_t offset, Endian e) {
  if (offset > data.size() || data.size() - offset < 4) {
    return Fail(ErrorCode::kTruncated, "read past end of data");
  }
  return LoadU32(data.data() + offset, e);
}
inline Result<std::uint16_t> ReadU16At(ByteView data, std::size_t offset, Endian e) {
  if (offset > data.size() || data.size() - offset < 2) {
    return Fail(ErrorCode::kTruncated, "read past end of data");
  }
  return LoadU16(data.data() + offset, e);
}
inline Result<std::uint64_t> ReadU64At(ByteView data, std::size_t offset, Endian e) {
  if (offset > data.size() || data.size() - offset < 8) {
    return Fail(ErrorCode::kTruncated, "read past end of data");
  }
  return LoadU64(data.data() + offset, e);
}

}  // namespace clearbox
