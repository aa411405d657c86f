// D-Link DLOB firmware container (layout as binwalk v3 describes it, src/structures/dlob.rs):
// two big-endian records that start with the magic 0x5ea3a417. The first is metadata only:
// {magic, metadata_size, data_size = 0} and metadata_size bytes (text such as the model
// name); the second is {magic, metadata_size, data_size, 16 unknown bytes}, its metadata and
// then data_size bytes of payload. The payload is written as `data.bin` (the engine unpacks
// it); the first record's text is recorded as metadata.
#include <algorithm>
#include <string>

#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic("\x5e\xa3\xa4\x17", 4);
constexpr std::size_t kFirstRecordSize = 12;
constexpr std::size_t kSecondRecordSize = 28;
constexpr std::uint32_t kMaxMetadataSize = 1u << 20;
constexpr std::size_t kRecordedTextChars = 128;

// Where the payload lies and what the first record says.
struct DlobLayout {
  std::uint64_t first_metadata = 0;  // offset of the first record's text
  std::uint32_t first_metadata_size = 0;
  std::uint64_t data_offset = 0;
  std::uint64_t data_size = 0;
};

Result<DlobLayout> ParseDlob(ByteView data) {
  if (data.size() < kFirstRecordSize || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no DLOB magic");
  }
  DlobLayout layout;
  layout.first_metadata = kFirstRecordSize;
  layout.first_metadata_size = LoadU32(data.data() + 4, Endian::kBig);
  if (LoadU32(data.data() + 8, Endian::kBig) != 0 ||
      layout.first_metadata_size > kMaxMetadataSize) {
    return Fail(ErrorCode::kNotThisFormat, "DLOB first record is not metadata only");
  }
  const std::uint64_t second = kFirstRecordSize + layout.first_metadata_size;
  if (data.size() < second + kSecondRecordSize || !HasBytesAt(data, second, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no second DLOB record");
  }
  const std::uint32_t second_metadata = LoadU32(data.data() + second + 4, Endian::kBig);
  layout.data_size = LoadU32(data.data() + second + 8, Endian::kBig);
  if (second_metadata > kMaxMetadataSize) {
    return Fail(ErrorCode::kNotThisFormat, "DLOB second record metadata too large");
  }
  layout.data_offset = second + kSecondRecordSize + second_metadata;
  if (layout.data_size == 0) return Fail(ErrorCode::kNotThisFormat, "DLOB without data");
  return layout;
}

class DlobHandler final : public Handler {
 public:
  std::string_view Name() const override { return "dlob"; }
  std::string_view Description() const override {
    return "D-Link DLOB container: metadata text recorded, payload carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseDlob(data);
    if (!layout) return Forward(layout);
    return std::min<std::uint64_t>(layout->data_offset + layout->data_size, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout = ParseDlob(data);
    if (!layout) return Forward(layout);
    const ByteView text =
        data.subspan(layout->first_metadata,
                     std::min<std::size_t>(layout->first_metadata_size, kRecordedTextChars));
    ctx.SetMetadata("metadata", HeaderText(text));
    ctx.SetMetadata("data_size", std::to_string(layout->data_size));
    const std::uint64_t end = layout->data_offset + layout->data_size;
    if (layout->data_offset >= data.size()) {
      return Fail(ErrorCode::kTruncated, "DLOB payload starts past the end of the data");
    }
    const std::uint64_t have = std::min<std::uint64_t>(end, data.size()) - layout->data_offset;
    auto written = ctx.out().WriteFile("data.bin", data.subspan(layout->data_offset, have), 0644);
    if (!ctx.ContinueAfter(written, "data.bin")) return Forward(written);
    if (end > data.size()) {
      return Fail(ErrorCode::kTruncated, "DLOB payload of " + std::to_string(layout->data_size) +
                                             " bytes cut at " + std::to_string(have));
    }
    return end;
  }
};

}  // namespace

const Handler& GetDlobHandler() {
  static const DlobHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
