// Matter OTA software image (Matter Core Specification 1.x, "OTA Software Update File
// Format"): little-endian file identifier 0x1BEEF11E, u64 total size, u32 header size, a
// header in Matter TLV (an anonymous structure: VendorID, ProductID, SoftwareVersion,
// SoftwareVersionString, PayloadSize, optional applicable versions and release notes URL,
// ImageDigestType, ImageDigest), then the payload. The payload is written as `payload.bin`
// and the header's fields as `header.txt`; the image digest (SHA-256/384/512 by their IANA
// named-information ids 1, 7, 8) is checked and a mismatch is a problem. A candidate is
// rejected unless header, payload and total size add up.
#include <openssl/evp.h>

#include <map>
#include <string>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kPrefixSize = 16;  // identifier, total size, header size
constexpr std::uint32_t kMaxHeaderSize = 64 * 1024;
constexpr std::size_t kMaxTlvElements = 64;

// One element of the header structure, by context tag: an unsigned integer or a string.
struct TlvField {
  std::uint64_t number = 0;
  std::string bytes;
  bool is_number = false;
};

// The header's fields by context tag (0 VendorID ... 9 ImageDigest).
using TlvFields = std::map<std::uint8_t, TlvField>;

// Reads the little-endian integer of `width` (1, 2, 4 or 8) bytes.
Result<std::uint64_t> ReadWidth(ByteReader& in, std::size_t width) {
  auto bytes = in.Bytes(width);
  if (!bytes) return Forward(bytes);
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) value |= std::uint64_t{(*bytes)[i]} << (8 * i);
  return value;
}

// Parses the header TLV: an anonymous structure of context-tagged scalars and strings, ended
// by end-of-container. Anything else (nested containers, other tag forms) is not this format.
Result<TlvFields> ParseHeaderTlv(ByteView header) {
  ByteReader in(header, Endian::kLittle);
  auto open_read = in.U8();
  if (!open_read) return Forward(open_read);
  const std::uint8_t open = *open_read;
  if (open != 0x15) return Fail(ErrorCode::kNotThisFormat, "Matter OTA header is no structure");
  TlvFields fields;
  for (std::size_t count = 0; count < kMaxTlvElements; ++count) {
    auto control_read = in.U8();
    if (!control_read) return Forward(control_read);
    const std::uint8_t control = *control_read;
    if (control == 0x18) return fields;  // end of container
    const std::uint8_t type = control & 0x1f;
    if ((control >> 5) != 1) return Fail(ErrorCode::kNotThisFormat, "Matter TLV tag form");
    auto tag_read = in.U8();
    if (!tag_read) return Forward(tag_read);
    const std::uint8_t tag = *tag_read;
    TlvField field;
    const std::size_t width = std::size_t{1} << (type & 0x3);
    if (type <= 0x07) {  // signed (0x00-0x03) or unsigned (0x04-0x07) integers
      auto field_number_read = ReadWidth(in, width);
      if (!field_number_read) return Forward(field_number_read);
      field.number = *field_number_read;
      field.is_number = true;
    } else if (type >= 0x0c && type <= 0x13) {  // UTF-8 (0x0c-0x0f) or octet strings
      auto length_read = ReadWidth(in, width);
      if (!length_read) return Forward(length_read);
      const std::uint64_t length = *length_read;
      if (length > in.Remaining()) return Fail(ErrorCode::kNotThisFormat, "Matter TLV length");
      auto text_read = in.Bytes(static_cast<std::size_t>(length));
      if (!text_read) return Forward(text_read);
      const ByteView text = *text_read;
      field.bytes.assign(text.begin(), text.end());
    } else if (type == 0x08 || type == 0x09) {  // booleans
      field.number = type == 0x09;
      field.is_number = true;
    } else {
      return Fail(ErrorCode::kNotThisFormat, "Matter TLV element type in OTA header");
    }
    fields[tag] = std::move(field);
  }
  return Fail(ErrorCode::kNotThisFormat, "Matter OTA header has too many elements");
}

// The parsed prefix and header of one image.
struct MatterOtaHeader {
  std::uint64_t total_size = 0;
  std::uint64_t payload_offset = 0;
  std::uint64_t payload_size = 0;
  TlvFields fields;
};

Result<MatterOtaHeader> ParseMatterOta(ByteView data) {
  if (data.size() < kPrefixSize || !HasBytesAt(data, 0, "\x1e\xf1\xee\x1b")) {
    return Fail(ErrorCode::kNotThisFormat, "no Matter OTA identifier");
  }
  MatterOtaHeader h;
  h.total_size = LoadU64(data.data() + 4, Endian::kLittle);
  const std::uint32_t header_size = LoadU32(data.data() + 12, Endian::kLittle);
  if (header_size < 2 || header_size > kMaxHeaderSize || data.size() - kPrefixSize < header_size) {
    return Fail(ErrorCode::kNotThisFormat, "Matter OTA header size");
  }
  auto h_fields_read = ParseHeaderTlv(data.subspan(kPrefixSize, header_size));
  if (!h_fields_read) {  // a chance identifier: the header is no well-formed TLV structure
    return Fail(ErrorCode::kNotThisFormat, "Matter OTA header: " + h_fields_read.error().message);
  }
  h.fields = *h_fields_read;
  const auto payload = h.fields.find(4);
  if (payload == h.fields.end() || !payload->second.is_number) {
    return Fail(ErrorCode::kNotThisFormat, "Matter OTA header without PayloadSize");
  }
  h.payload_offset = kPrefixSize + header_size;
  h.payload_size = payload->second.number;
  if (h.payload_size > h.total_size || h.total_size - h.payload_size != h.payload_offset) {
    return Fail(ErrorCode::kNotThisFormat, "Matter OTA sizes do not add up");
  }
  return h;
}

// The OpenSSL digest of an IANA named-information hash id, or null when not known.
const EVP_MD* DigestOfType(std::uint64_t type) {
  switch (type) {
    case 1: return EVP_sha256();
    case 7: return EVP_sha384();
    case 8: return EVP_sha512();
    default: return nullptr;
  }
}

// Checks the payload against ImageDigest; a problem when it differs or cannot be checked.
void CheckDigest(const MatterOtaHeader& h, ByteView payload, ExtractContext& ctx) {
  const auto type = h.fields.find(8);
  const auto digest = h.fields.find(9);
  if (type == h.fields.end() || digest == h.fields.end()) return;
  const EVP_MD* md = DigestOfType(type->second.number);
  if (md == nullptr) {
    ctx.ReportProblem(
        ErrorCode::kUnsupported, "payload.bin",
        "Matter OTA image digest type " + std::to_string(type->second.number) + " not checked");
    return;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_size = 0;
  if (EVP_Digest(payload.data(), payload.size(), out, &out_size, md, nullptr) != 1 ||
      digest->second.bytes != std::string(reinterpret_cast<const char*>(out), out_size)) {
    ctx.ReportProblem(ErrorCode::kMalformed, "payload.bin",
                      "Matter OTA payload does not match the header's image digest");
  }
}

// header.txt: the identification fields, one "name: value" line each (strings made printable).
std::string DescribeHeader(const MatterOtaHeader& h) {
  static const std::map<std::uint8_t, std::string> kNames = {{0, "vendor_id"},
                                                             {1, "product_id"},
                                                             {2, "software_version"},
                                                             {3, "software_version_string"},
                                                             {4, "payload_size"},
                                                             {5, "min_applicable_software_version"},
                                                             {6, "max_applicable_software_version"},
                                                             {7, "release_notes_url"},
                                                             {8, "image_digest_type"}};
  std::string text;
  for (const auto& [tag, field] : h.fields) {
    const auto name = kNames.find(tag);
    if (name == kNames.end()) continue;
    text += name->second + ": ";
    if (field.is_number) {
      text += std::to_string(field.number);
    } else {
      for (const char c : field.bytes) text += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    text += '\n';
  }
  return text;
}

class MatterOtaHandler final : public Handler {
 public:
  std::string_view Name() const override { return "matter-ota"; }
  std::string_view Description() const override {
    return "Matter OTA software image: TLV header read, payload carved, image digest checked";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"\x1e\xf1\xee\x1b", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header_read = ParseMatterOta(data);
    if (!header_read) return Forward(header_read);
    const auto header = *header_read;
    return std::min<std::uint64_t>(header.total_size, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header_read = ParseMatterOta(data);
    if (!header_read) return Forward(header_read);
    const auto header = *header_read;
    const std::string description = DescribeHeader(header);
    auto described = ctx.out().WriteFile(
        "header.txt",
        ByteView(reinterpret_cast<const std::uint8_t*>(description.data()), description.size()),
        0644);
    if (!ctx.ContinueAfter(described, "header.txt")) return Forward(described);
    const std::uint64_t end = std::min<std::uint64_t>(header.total_size, data.size());
    const ByteView payload = data.subspan(header.payload_offset, end - header.payload_offset);
    auto written = ctx.out().WriteFile("payload.bin", payload, 0644);
    if (!ctx.ContinueAfter(written, "payload.bin")) return Forward(written);
    if (data.size() < header.total_size) {
      return Fail(ErrorCode::kTruncated, "Matter OTA image of " +
                                             std::to_string(header.total_size) + " bytes cut at " +
                                             std::to_string(data.size()));
    }
    CheckDigest(header, payload, ctx);
    return header.total_size;
  }
};

}  // namespace

const Handler& GetMatterOtaHandler() {
  static const MatterOtaHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
