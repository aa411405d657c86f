// GUID partition table (UEFI spec ch. 5): a protective MBR in sector 0, the header
// ("EFI PART", revision 1.0) in LBA 1 and the partition entry array it points to; 512- and
// 4096-byte sectors (the header's position tells). Little-endian throughout.
//
// The header CRC-32 (over header_size bytes, CRC field zeroed) and the entry array's CRC-32
// are checked: a mismatch is a kMalformed problem and the partitions are carved anyway when
// the fields are sane. Each used entry (non-zero type GUID) is carved as
// partition-<n>[.<name>].img, n its index + 1, the UTF-16LE name reduced to [A-Za-z0-9._+@,-]
// ('_' for the rest). The backup header at the alternate LBA ends the chunk when it is inside
// the data; it is checked for its signature only.
#include <vector>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint64_t kMaxEntryArray = 1u << 20;  // 8192 entries of 128 bytes
constexpr std::uint64_t kMaxLba = 1ull << 40;       // sanity bound for LBAs

struct GptHeader {
  std::uint64_t sector = 512;
  std::uint32_t header_size = 0;
  std::uint32_t header_crc = 0;
  std::uint64_t alternate_lba = 0;
  std::uint64_t first_usable = 0;
  std::uint64_t last_usable = 0;
  std::uint64_t entries_lba = 0;
  std::uint32_t entry_count = 0;
  std::uint32_t entry_size = 0;
  std::uint32_t entries_crc = 0;
};

struct GptEntry {
  unsigned number = 0;
  std::uint64_t first = 0;  // LBAs, inclusive
  std::uint64_t last = 0;
  std::string name;
};

struct GptLayout {
  GptHeader header;
  std::vector<GptEntry> entries;
  std::vector<unsigned> bad_entries;  // numbers of entries with an impossible LBA range
  std::uint64_t end = 0;              // bytes: past the last partition or the backup header
};

std::uint32_t Le32(ByteView d, std::uint64_t at) {
  return LoadU32(d.data() + at, Endian::kLittle);
}
std::uint64_t Le64(ByteView d, std::uint64_t at) {
  return LoadU64(d.data() + at, Endian::kLittle);
}

Result<GptHeader> ParseHeader(ByteView data) {
  GptHeader h;
  if (HasBytesAt(data, 512, "EFI PART")) {
    h.sector = 512;
  } else if (HasBytesAt(data, 4096, "EFI PART")) {
    h.sector = 4096;
  } else {
    return Fail(ErrorCode::kNotThisFormat, "no GPT header");
  }
  const std::uint64_t at = h.sector;
  if (data.size() < at + 92) return Fail(ErrorCode::kNotThisFormat, "GPT header cut");
  h.header_size = Le32(data, at + 12);
  h.header_crc = Le32(data, at + 16);
  const std::uint64_t my_lba = Le64(data, at + 24);
  h.alternate_lba = Le64(data, at + 32);
  h.first_usable = Le64(data, at + 40);
  h.last_usable = Le64(data, at + 48);
  h.entries_lba = Le64(data, at + 72);
  h.entry_count = Le32(data, at + 80);
  h.entry_size = Le32(data, at + 84);
  h.entries_crc = Le32(data, at + 88);
  if (Le32(data, at + 8) != 0x00010000u || h.header_size < 92 || h.header_size > h.sector ||
      my_lba != 1 || h.entries_lba < 2 || h.entries_lba > kMaxLba || h.entry_size < 128 ||
      h.entry_size % 8 != 0 || h.entry_count == 0 ||
      std::uint64_t{h.entry_count} * h.entry_size > kMaxEntryArray || h.last_usable > kMaxLba ||
      h.alternate_lba > kMaxLba) {
    return Fail(ErrorCode::kNotThisFormat, "GPT header fields not sane");
  }
  if (data.size() < at + h.header_size) return Fail(ErrorCode::kNotThisFormat, "GPT header cut");
  return h;
}

// The UTF-16LE name as a file-name part: [A-Za-z0-9._+@,-] kept, anything else '_', no
// leading dots or underscores, at most 36 characters.
std::string EntryName(ByteView raw) {
  std::string out;
  for (std::size_t i = 0; i + 1 < raw.size(); i += 2) {
    const std::uint16_t c = LoadU16(raw.data() + i, Endian::kLittle);
    if (c == 0) break;
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '+' || c == '@' || c == ',' || c == '-';
    if (!plain && (out.empty() || out.back() == '_')) continue;
    if (out.empty() && c == '.') continue;
    out.push_back(plain ? static_cast<char>(c) : '_');
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '.')) out.pop_back();
  return out;
}

Result<GptLayout> ParseGpt(ByteView data) {
  auto header = ParseHeader(data);
  if (!header) return Forward(header);
  GptLayout layout;
  layout.header = *header;
  const GptHeader& h = layout.header;
  const std::uint64_t array_at = h.entries_lba * h.sector;
  const std::uint64_t array_size = std::uint64_t{h.entry_count} * h.entry_size;
  if (array_at > data.size() || data.size() - array_at < array_size) {
    return Fail(ErrorCode::kTruncated, "GPT partition entries past the data");
  }
  layout.end = array_at + array_size;  // at least the header and the entries
  for (std::uint32_t i = 0; i < h.entry_count; ++i) {
    const std::uint64_t e = array_at + std::uint64_t{i} * h.entry_size;
    if (Le64(data, e) == 0 && Le64(data, e + 8) == 0) continue;  // unused: zero type GUID
    GptEntry entry;
    entry.number = i + 1;
    entry.first = Le64(data, e + 32);
    entry.last = Le64(data, e + 40);
    entry.name = EntryName(data.subspan(e + 56, 72));
    if (entry.first > entry.last || entry.last > kMaxLba || entry.first == 0) {
      layout.bad_entries.push_back(entry.number);  // reported by Extract, not carved
      continue;
    }
    layout.end = std::max(layout.end, (entry.last + 1) * h.sector);
    layout.entries.push_back(std::move(entry));
  }
  if (layout.entries.empty() && layout.bad_entries.empty()) {
    return Fail(ErrorCode::kNotThisFormat, "GPT without partitions");
  }
  if (h.alternate_lba > 1) {
    layout.end = std::max(layout.end, (h.alternate_lba + 1) * h.sector);
  }
  return layout;
}

class GptHandler final : public Handler {
 public:
  std::string_view Name() const override { return "gpt"; }
  std::string_view Description() const override {
    return "GUID partition table (GPT, 512- and 4096-byte sectors, CRCs checked): each partition "
           "carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"EFI PART", 512}, {"EFI PART", 4096}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseGpt(data);
    if (!layout) return Forward(layout);
    return std::min<std::uint64_t>(layout->end, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout = ParseGpt(data);
    if (!layout) return Forward(layout);
    const GptHeader& h = layout->header;
    CheckCrcs(data, h, ctx);
    if (layout->end > data.size()) {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "disk of " + std::to_string(layout->end) + " bytes cut at " +
                            std::to_string(data.size()));
    } else if (h.alternate_lba > 1 && !HasBytesAt(data, h.alternate_lba * h.sector, "EFI PART")) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "backup GPT header missing");
    }
    for (const unsigned n : layout->bad_entries) {
      ctx.ReportProblem(ErrorCode::kMalformed, "partition-" + std::to_string(n),
                        "GPT entry with an impossible LBA range; not carved");
    }
    const auto& entries = layout->entries;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const GptEntry& e = entries[i];
      const std::string name =
          "partition-" + std::to_string(e.number) + (e.name.empty() ? "" : "." + e.name) + ".img";
      if (e.first < h.first_usable || e.last > h.last_usable) {
        ctx.ReportProblem(ErrorCode::kMalformed, name, "partition outside the usable LBAs");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (e.first <= entries[j].last && entries[j].first <= e.last) {
          ctx.ReportProblem(ErrorCode::kMalformed, name,
                            "partition overlaps partition " + std::to_string(entries[j].number));
        }
      }
      CLEARBOX_TRY(
          CarvePartition(data, e.first * h.sector, (e.last - e.first + 1) * h.sector, name, ctx));
    }
    return std::min<std::uint64_t>(layout->end, data.size());
  }

 private:
  static void CheckCrcs(ByteView data, const GptHeader& h, ExtractContext& ctx) {
    std::vector<std::uint8_t> header(data.begin() + h.sector,
                                     data.begin() + h.sector + h.header_size);
    std::fill(header.begin() + 16, header.begin() + 20, 0);
    if (Crc32(ByteView(header.data(), header.size())) != h.header_crc) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "GPT header CRC-32 mismatch");
    }
    const ByteView array =
        data.subspan(h.entries_lba * h.sector, std::uint64_t{h.entry_count} * h.entry_size);
    if (Crc32(array) != h.entries_crc) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "GPT partition entry array CRC-32 mismatch");
    }
  }
};

}  // namespace

const Handler& GetGptHandler() {
  static const GptHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
