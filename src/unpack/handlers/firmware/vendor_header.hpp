// Helpers for the vendor firmware headers (TP-Link, SEAMA, Netgear CHK, UEFI, LUKS,
// VxWorks): text fields read from fixed-size header slots and MD5 digests.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/byte_reader.hpp"

namespace clearbox::unpack {

// The text of a fixed-size header field: up to the first NUL, non-printable bytes as '?'.
inline std::string HeaderText(ByteView field) {
  std::string out;
  for (std::uint8_t b : field) {
    if (b == 0) break;
    out.push_back(b >= 0x20 && b < 0x7f ? static_cast<char>(b) : '?');
  }
  return out;
}

// True when `field` holds a NUL-terminated (or full-width) run of printable ASCII, not empty.
inline bool IsPrintableField(ByteView field) {
  if (field.empty() || field[0] == 0) return false;
  for (std::uint8_t b : field) {
    if (b == 0) return true;
    if (b < 0x20 || b >= 0x7f) return false;
  }
  return true;
}

// MD5 of `data` (OpenSSL); the 16-byte digest.
inline std::array<std::uint8_t, 16> Md5Digest(ByteView data) {
  std::array<std::uint8_t, 16> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  return digest;
}

// Lower-case hex of a byte string.
inline std::string HexBytes(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// A GUID stored in the mixed-endian EFI layout (16 bytes) in the registry form
// "8C8CE578-8A3D-4F1C-9935-896185C32DD3" (upper case, as UEFITool prints it).
inline std::string GuidText(ByteView guid) {
  if (guid.size() < 16) return "";
  static constexpr char kDigits[] = "0123456789ABCDEF";
  static constexpr int kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kDigits[guid[kOrder[i]] >> 4]);
    out.push_back(kDigits[guid[kOrder[i]] & 15]);
  }
  return out;
}

}  // namespace clearbox::unpack
