// LUKS encrypted volume header, recognised without extraction (the key is not known):
//   LUKS1 (cryptsetup's LUKS1 on-disk format specification): big-endian "LUKS\xba\xbe",
//     version 1, cipher name[32], cipher mode[32], hash spec[32], payload offset (512-byte
//     sectors), key bytes, master key digest, salt and iterations, UUID[40] at 168, then
//     8 key slots of 48 bytes (active = 0x00AC71F3).
//   LUKS2 (LUKS2 on-disk format specification): the same magic, version 2, header size u64
//     (binary header + JSON area), label[48] at 24, UUID[40] at 168; the JSON area at 4096
//     names the segments ("encryption", "offset") and keyslots.
// Version, cipher, hash, UUID, label, payload offset and key slots go to the chunk's
// metadata; nothing is written (the chunk has no directory). The encrypted payload runs to
// the end of the container, so the chunk does too.
#include <nlohmann/json.hpp>

#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kLuks1HeaderBytes = 592;
constexpr std::size_t kLuks2BinaryHeaderBytes = 4096;
constexpr std::uint64_t kLuks2MaxHeaderBytes = 4u << 20;  // the specification's largest
constexpr std::uint32_t kKeySlotActive = 0x00AC71F3;
constexpr std::size_t kLuks1KeySlots = 8;
constexpr std::size_t kMaxReportedSegments = 4;
constexpr std::string_view kMagic("LUKS\xba\xbe", 6);

struct LuksHeader {
  std::uint16_t version = 0;
  std::uint64_t header_size = 0;  // LUKS2: binary header + JSON area
};

Result<LuksHeader> ParseLuksHeader(ByteView data) {
  if (data.size() < kLuks1HeaderBytes || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no LUKS header");
  }
  LuksHeader h;
  h.version = LoadU16(data.data() + 6, Endian::kBig);
  if (h.version == 1) {
    if (!IsPrintableField(data.subspan(8, 32)) || !IsPrintableField(data.subspan(40, 32))) {
      return Fail(ErrorCode::kNotThisFormat, "LUKS1 cipher name");
    }
    return h;
  }
  if (h.version == 2) {
    h.header_size = LoadU64(data.data() + 8, Endian::kBig);
    if (h.header_size <= kLuks2BinaryHeaderBytes || h.header_size > kLuks2MaxHeaderBytes) {
      return Fail(ErrorCode::kNotThisFormat, "LUKS2 header size");
    }
    return h;
  }
  return Fail(ErrorCode::kNotThisFormat, "LUKS version");
}

// A JSON value as text: strings as they are, numbers and others in JSON form.
std::string JsonText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

void RecordLuks1(ByteView data, ExtractContext& ctx) {
  ctx.SetMetadata("cipher",
                  HeaderText(data.subspan(8, 32)) + "-" + HeaderText(data.subspan(40, 32)));
  ctx.SetMetadata("hash", HeaderText(data.subspan(72, 32)));
  ctx.SetMetadata("payload_offset",
                  std::to_string(std::uint64_t{LoadU32(data.data() + 104, Endian::kBig)} * 512));
  ctx.SetMetadata("key_bytes", std::to_string(LoadU32(data.data() + 108, Endian::kBig)));
  ctx.SetMetadata("uuid", HeaderText(data.subspan(168, 40)));
  std::size_t active = 0;
  for (std::size_t i = 0; i < kLuks1KeySlots; ++i) {
    if (LoadU32(data.data() + 208 + 48 * i, Endian::kBig) == kKeySlotActive) ++active;
  }
  ctx.SetMetadata("active_keyslots", std::to_string(active));
}

void RecordLuks2(ByteView data, const LuksHeader& h, ExtractContext& ctx) {
  ctx.SetMetadata("uuid", HeaderText(data.subspan(168, 40)));
  const std::string label = HeaderText(data.subspan(24, 48));
  if (!label.empty()) ctx.SetMetadata("label", label);
  ctx.SetMetadata("header_size", std::to_string(h.header_size));
  if (data.size() < h.header_size) {
    ctx.ReportProblem(ErrorCode::kTruncated, "", "LUKS2 JSON area cut by the end of the data");
    return;
  }
  const ByteView area =
      data.subspan(kLuks2BinaryHeaderBytes, h.header_size - kLuks2BinaryHeaderBytes);
  std::string_view text = AsText(area);
  text = text.substr(0, text.find('\0'));  // the JSON text is padded with NULs
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    ctx.ReportProblem(ErrorCode::kMalformed, "", "LUKS2 JSON area does not parse");
    return;
  }
  if (json.contains("segments") && json["segments"].is_object()) {
    std::size_t n = 0;
    for (const auto& [key, segment] : json["segments"].items()) {
      if (!segment.is_object() || n++ >= kMaxReportedSegments) continue;
      const std::string prefix = n == 1 ? "" : "segment." + key + ".";
      if (segment.contains("encryption")) {
        ctx.SetMetadata(prefix + "cipher", JsonText(segment["encryption"]));
      }
      if (segment.contains("offset")) {
        ctx.SetMetadata(prefix + "payload_offset", JsonText(segment["offset"]));
      }
    }
  }
  if (json.contains("keyslots") && json["keyslots"].is_object()) {
    ctx.SetMetadata("active_keyslots", std::to_string(json["keyslots"].size()));
  }
}

class LuksHandler final : public Handler {
 public:
  std::string_view Name() const override { return "luks"; }
  std::string_view Description() const override {
    return "LUKS1/LUKS2 encrypted volume: recognised, not decrypted (version, cipher, UUID "
           "recorded)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseLuksHeader(data);
    if (!header) return Forward(header);
    return data.size();  // the ciphertext runs to the end of the container
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseLuksHeader(data);
    if (!header) return Forward(header);
    ctx.SetMetadata("version", std::to_string(header->version));
    if (header->version == 1) {
      RecordLuks1(data, ctx);
    } else {
      RecordLuks2(data, *header, ctx);
    }
    return data.size();
  }
};

}  // namespace

const Handler& GetLuksHandler() {
  static const LuksHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
