// Dahua firmware: a ZIP archive whose first local-file-header magic "PK\x03\x04" is replaced
// by "DH\x03\x04" (layout as binwalk v3 describes it, src/signatures/dahua_zip.rs and
// src/extractors/dahua_zip.rs: the zip's extent is found as for any zip, and only the first
// two bytes are restored to "PK"). The chunk is copied, its magic restored, and the copy is
// extracted through the zip handler (libarchive).
#include <string>

#include "unpack/handlers/archive/zip_layout.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic("DH\x03\x04", 4);

class DahuaHandler final : public Handler {
 public:
  std::string_view Name() const override { return "dahua"; }
  std::string_view Description() const override {
    return "Dahua firmware: ZIP with \"DH\" magic, restored to \"PK\" and extracted as zip";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto extent = ZipLength(data, kMagic);
    if (!extent) return Forward(extent);
    return extent->length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto extent = ZipLength(data, kMagic);
    if (!extent) return Forward(extent);
    // The patched copy is held in memory: charge it like output.
    CLEARBOX_TRY(ctx.budget().ChargeOutput(extent->length));
    std::string copy(reinterpret_cast<const char*>(data.data()), extent->length);
    copy[0] = 'P';
    copy[1] = 'K';
    const ByteView patched(reinterpret_cast<const std::uint8_t*>(copy.data()), copy.size());
    ctx.SetMetadata("zip_size", std::to_string(extent->length));
    return GetZipHandler().Extract(patched, ctx);
  }
};

}  // namespace

const Handler& GetDahuaHandler() {
  static const DahuaHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
