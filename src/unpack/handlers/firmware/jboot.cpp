// JBOOT firmware (D-Link routers with the JBOOT bootloader; layouts from OpenWrt's
// firmware-utils mkdlinkfw and binwalk v3 src/structures/jboot.rs). Three nested headers,
// all little-endian:
//   AUH  (factory image, 80 bytes): 12-byte ROM id, data checksum, ..., lpvs 1, mbz 0, time,
//        erase start/length, data offset/length, four zero words, "BH" (0x4842), header
//        version, ..., header checksum (~ of the 16-bit sum of the first 78 bytes); the data
//        (a STAG image) follows and is written as `image.bin`.
//   STAG (16 bytes): cmark (0xFF factory, else = id), id 0x04, magic 0x2B24, time, length,
//        data checksum, header checksum (~ of the 16-bit sum of the first 14 bytes); the
//        `length` bytes after it (SCH2 header + kernel) are written as `image.bin`; the root
//        file system follows the chunk and is found by the engine's scan.
//   SCH2 (40 bytes): magic 0x2124, compression (0 none, 1 jz, 2 gzip, 3 lzma), version 2,
//        load address, kernel length and CRC-32, entry address, rootfs address, length, CRC-32,
//        header CRC-32 (computed with the field zeroed), header length 40; the kernel
//        follows and is written as `kernel.bin`.
// A header whose own checksum fails (STAG, SCH2) or whose fixed fields are wrong (AUH) is not
// this format. A data checksum that fails is reported (kMalformed); the data is carved anyway.
#include <cstdio>
#include <string>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kAuhSize = 80;
constexpr std::size_t kAuhIdOffset = 64;  // "BH", then the header version
constexpr std::size_t kStagSize = 16;
constexpr std::size_t kSch2Size = 40;
constexpr std::uint8_t kStagId = 0x04;
constexpr std::uint8_t kStagFactoryMark = 0xFF;

enum class JbootKind { kAuh, kStag, kSch2 };

struct JbootHeader {
  JbootKind kind = JbootKind::kSch2;
  std::uint64_t header_size = 0;
  std::uint64_t data_size = 0;
  bool data_checksum_ok = true;
  bool header_checksum_ok = true;  // AUH only: its fixed fields are what identify it
  bool truncated = false;
};

// The 16-bit one's-complement style sum mkdlinkfw's jboot_checksum computes over `data`.
std::uint16_t JbootChecksum(ByteView data) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += data[i] | (std::uint32_t{data[i + 1]} << 8);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  }
  if (i < data.size()) {
    sum += data[i];
    sum -= 0xFF;
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::uint32_t U32(ByteView data, std::size_t at) {
  return LoadU32(data.data() + at, Endian::kLittle);
}

std::uint16_t U16(ByteView data, std::size_t at) {
  return LoadU16(data.data() + at, Endian::kLittle);
}

const char* CompressionName(std::uint8_t type) {
  switch (type) {
    case 0: return "none";
    case 1: return "jz";
    case 2: return "gzip";
    case 3: return "lzma";
    default: return nullptr;
  }
}

std::string Hex32(std::uint32_t v) {
  char text[12];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

// Fills the data extent of `h` from the declared size and what `data` holds.
void SetData(JbootHeader& h, ByteView data, std::uint64_t declared) {
  h.data_size = declared;
  if (h.header_size + declared > data.size()) {
    h.truncated = true;
    h.data_size = data.size() - h.header_size;
  }
}

Result<JbootHeader> ParseSch2(ByteView data, ExtractContext* ctx) {
  if (data.size() < kSch2Size || U16(data, 0) != 0x2124 || data[3] != 2 ||
      CompressionName(data[2]) == nullptr || U16(data, 36) != kSch2Size) {
    return Fail(ErrorCode::kNotThisFormat, "no JBOOT SCH2 header");
  }
  std::uint8_t header[kSch2Size];
  std::copy(data.begin(), data.begin() + kSch2Size, header);
  std::fill(header + 32, header + 36, 0);
  if (Crc32(ByteView(header, kSch2Size)) != U32(data, 32)) {
    return Fail(ErrorCode::kNotThisFormat, "JBOOT SCH2 header CRC mismatch");
  }
  JbootHeader h;
  h.kind = JbootKind::kSch2;
  h.header_size = kSch2Size;
  SetData(h, data, U32(data, 8));
  if (!h.truncated) {
    h.data_checksum_ok = Crc32(data.subspan(kSch2Size, h.data_size)) == U32(data, 12);
  }
  if (ctx != nullptr) {
    ctx->SetMetadata("header", "SCH2");
    ctx->SetMetadata("compression", CompressionName(data[2]));
    ctx->SetMetadata("load_address", Hex32(U32(data, 4)));
    ctx->SetMetadata("entry_point", Hex32(U32(data, 16)));
    ctx->SetMetadata("kernel_size", std::to_string(U32(data, 8)));
    ctx->SetMetadata("rootfs_flash_address", Hex32(U32(data, 20)));
    ctx->SetMetadata("rootfs_size", std::to_string(U32(data, 24)));
  }
  return h;
}

Result<JbootHeader> ParseStag(ByteView data, ExtractContext* ctx) {
  if (data.size() < kStagSize || data[1] != kStagId || U16(data, 2) != 0x2B24 ||
      (data[0] != kStagFactoryMark && data[0] != kStagId)) {
    return Fail(ErrorCode::kNotThisFormat, "no JBOOT STAG header");
  }
  if (static_cast<std::uint16_t>(~JbootChecksum(data.subspan(0, kStagSize - 2))) != U16(data, 14)) {
    return Fail(ErrorCode::kNotThisFormat, "JBOOT STAG header checksum mismatch");
  }
  JbootHeader h;
  h.kind = JbootKind::kStag;
  h.header_size = kStagSize;
  SetData(h, data, U32(data, 8));
  if (!h.truncated) {
    h.data_checksum_ok = JbootChecksum(data.subspan(kStagSize, h.data_size)) == U16(data, 12);
  }
  if (ctx != nullptr) {
    ctx->SetMetadata("header", "STAG");
    ctx->SetMetadata("image_type", data[0] == kStagFactoryMark ? "factory" : "sysupgrade");
    ctx->SetMetadata("image_size", std::to_string(U32(data, 8)));
  }
  return h;
}

Result<JbootHeader> ParseAuh(ByteView data, ExtractContext* ctx) {
  if (data.size() < kAuhSize || U16(data, kAuhIdOffset) != 0x4842 ||
      U16(data, kAuhIdOffset + 2) > 4 || U16(data, kAuhIdOffset + 4) != 0 || data[26] != 1 ||
      data[27] != 0 || U32(data, 20) != 0 || U16(data, 24) != 0) {
    return Fail(ErrorCode::kNotThisFormat, "no JBOOT AUH header");
  }
  for (std::size_t at = 48; at < kAuhIdOffset; ++at) {
    if (data[at] != 0) return Fail(ErrorCode::kNotThisFormat, "JBOOT AUH reserved words");
  }
  const std::uint32_t declared = U32(data, 44);
  if (declared == 0) return Fail(ErrorCode::kNotThisFormat, "JBOOT AUH without data");
  JbootHeader h;
  h.kind = JbootKind::kAuh;
  h.header_size = kAuhSize;
  SetData(h, data, declared);
  if (!h.truncated) {
    h.data_checksum_ok = JbootChecksum(data.subspan(kAuhSize, h.data_size)) == U16(data, 14);
  }
  h.header_checksum_ok =
      static_cast<std::uint16_t>(~JbootChecksum(data.subspan(0, kAuhSize - 2))) == U16(data, 78);
  if (ctx != nullptr) {
    ctx->SetMetadata("header", "AUH");
    ctx->SetMetadata("rom_id", HeaderText(data.subspan(0, 12)));
    ctx->SetMetadata("header_version", std::to_string(U16(data, kAuhIdOffset + 2)));
    char family[8];
    std::snprintf(family, sizeof family, "0x%04x", U16(data, 76));
    ctx->SetMetadata("family", family);
    ctx->SetMetadata("erase_offset", Hex32(U32(data, 32)));
    ctx->SetMetadata("erase_size", Hex32(U32(data, 36)));
    ctx->SetMetadata("data_offset", Hex32(U32(data, 40)));
    ctx->SetMetadata("data_size", std::to_string(declared));
  }
  return h;
}

// The header at the start of `data`, whichever of the three it is.
Result<JbootHeader> ParseJboot(ByteView data, ExtractContext* ctx) {
  if (auto sch2 = ParseSch2(data, ctx)) return sch2;
  if (auto stag = ParseStag(data, ctx)) return stag;
  return ParseAuh(data, ctx);
}

class JbootHandler final : public Handler {
 public:
  std::string_view Name() const override { return "jboot"; }
  std::string_view Description() const override {
    return "JBOOT (D-Link) AUH, STAG and SCH2 headers: checksums verified, image and kernel "
           "carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    using namespace std::string_view_literals;
    static constexpr Signature kSignatures[] = {
        {"\x24\x21\x00\x02"sv, 0},
        {"\x24\x21\x01\x02"sv, 0},
        {"\x24\x21\x02\x02"sv, 0},
        {"\x24\x21\x03\x02"sv, 0},
        {"\x04\x04\x24\x2b"sv, 0},
        {"\xff\x04\x24\x2b"sv, 0},
        {"BH\x00\x00\x00\x00"sv, kAuhIdOffset},
        {"BH\x01\x00\x00\x00"sv, kAuhIdOffset},
        {"BH\x02\x00\x00\x00"sv, kAuhIdOffset},
        {"BH\x03\x00\x00\x00"sv, kAuhIdOffset},
        {"BH\x04\x00\x00\x00"sv, kAuhIdOffset},
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseJboot(data, nullptr);
    if (!header) return Forward(header);
    return header->header_size + header->data_size;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseJboot(data, &ctx);
    if (!header) return Forward(header);
    const char* name = header->kind == JbootKind::kSch2 ? "kernel.bin" : "image.bin";
    if (!header->header_checksum_ok) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "JBOOT AUH header checksum mismatch");
    }
    if (header->truncated) {
      ctx.ReportProblem(ErrorCode::kTruncated, name,
                        "JBOOT data runs past the end of the image; carved as far as it goes");
    } else if (!header->data_checksum_ok) {
      ctx.ReportProblem(ErrorCode::kMalformed, name, "JBOOT data checksum mismatch; carved anyway");
    }
    auto written =
        ctx.out().WriteFile(name, data.subspan(header->header_size, header->data_size), 0644);
    if (!ctx.ContinueAfter(written, name)) return Forward(written);
    return header->header_size + header->data_size;
  }
};

}  // namespace

const Handler& GetJbootHandler() {
  static const JbootHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
