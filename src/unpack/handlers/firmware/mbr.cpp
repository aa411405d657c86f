// DOS/MBR partition table: 0x55AA at byte 510 of sector 0 and four 16-byte entries at 446
// (status, CHS start, type, CHS end, LBA start, sector count; little-endian, 512-byte
// sectors). An extended partition (type 0x05, 0x0f or 0x85) holds a chain of EBRs, each with
// one logical partition (relative to that EBR) and a link to the next EBR (relative to the
// extended partition). Each partition is carved as partition-<n>.<type>.img (primaries 1-4 by
// slot, logicals from 5, as Linux numbers them) and the engine unpacks the carved files.
//
// Family "firmware": like TRX, a table of byte ranges carved into files, no tree of its own.
//
// 55AA at 510 is common by chance, so Probe is strict: every status byte 0x00 or 0x80, unused
// entries all zero, used ones with a start past sector 0 and a non-zero size, primaries not
// overlapping, at most one extended partition, at least one partition. FAT, exFAT and NTFS
// boot sectors (which end in 55AA too) are left to their handlers, and a protective MBR
// (type 0xee) in front of a GPT header is left to the gpt handler.
#include <optional>
#include <unordered_set>
#include <vector>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint64_t kSector = 512;
constexpr std::size_t kTableOffset = 446;
constexpr std::size_t kMaxLogical = 128;

struct MbrEntry {
  std::uint8_t status = 0;
  std::uint8_t type = 0;
  std::uint32_t lba = 0;
  std::uint32_t count = 0;
};

MbrEntry ReadEntry(ByteView sector, std::size_t index) {
  const std::uint8_t* e = sector.data() + kTableOffset + 16 * index;
  return {e[0], e[4], LoadU32(e + 8, Endian::kLittle), LoadU32(e + 12, Endian::kLittle)};
}

bool IsExtended(std::uint8_t type) {
  return type == 0x05 || type == 0x0f || type == 0x85;
}

bool IsBootSignature(ByteView data, std::uint64_t at) {
  return at + 512 <= data.size() && data[at + 510] == 0x55 && data[at + 511] == 0xaa;
}

// A FAT, exFAT or NTFS volume boot record: it ends in 55AA like an MBR.
bool LooksLikeVolumeBootRecord(ByteView d) {
  if (HasBytesAt(d, 3, "EXFAT   ") || HasBytesAt(d, 3, "NTFS    ")) return true;
  if (HasBytesAt(d, 54, "FAT1") || HasBytesAt(d, 82, "FAT32")) return true;
  const bool jump = (d[0] == 0xeb && d[2] == 0x90) || d[0] == 0xe9;
  if (!jump) return false;
  const std::uint16_t bps = LoadU16(d.data() + 11, Endian::kLittle);
  const std::uint8_t spc = d[13];
  return (bps == 512 || bps == 1024 || bps == 2048 || bps == 4096) && spc != 0 &&
         (spc & (spc - 1)) == 0 && LoadU16(d.data() + 14, Endian::kLittle) != 0 && d[16] >= 1 &&
         d[16] <= 4;
}

// A short name for the partition type, for the carved file's name.
std::string TypeName(std::uint8_t type) {
  switch (type) {
    case 0x01: return "fat12";
    case 0x04:
    case 0x06:
    case 0x0e: return "fat16";
    case 0x07: return "ntfs-exfat";
    case 0x0b:
    case 0x0c: return "fat32";
    case 0x82: return "linux-swap";
    case 0x83: return "linux";
    case 0x8e: return "linux-lvm";
    case 0xa5: return "freebsd";
    case 0xee: return "gpt-protective";
    case 0xef: return "efi-system";
    case 0xfd: return "linux-raid";
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      return std::string("type-") + kHex[type >> 4] + kHex[type & 15];
    }
  }
}

struct Partition {
  unsigned number = 0;
  std::uint8_t type = 0;
  std::uint64_t start = 0;  // bytes from the MBR
  std::uint64_t size = 0;
};

struct MbrLayout {
  std::vector<Partition> primaries;  // extended partition excluded
  std::optional<Partition> extended;
  std::uint64_t end = 0;  // end of the farthest partition, in bytes
};

Result<MbrLayout> ParseMbr(ByteView data) {
  if (!IsBootSignature(data, 0)) return Fail(ErrorCode::kNotThisFormat, "no MBR signature");
  std::vector<Partition> used;
  for (std::size_t i = 0; i < 4; ++i) {
    const MbrEntry e = ReadEntry(data, i);
    if (e.status != 0x00 && e.status != 0x80) {
      return Fail(ErrorCode::kNotThisFormat, "MBR entry status not 0x00/0x80");
    }
    const std::uint8_t* raw = data.data() + kTableOffset + 16 * i;
    if (e.type == 0) {
      for (std::size_t k = 0; k < 16; ++k) {
        if (raw[k] != 0) return Fail(ErrorCode::kNotThisFormat, "unused MBR entry not zero");
      }
      continue;
    }
    if (e.lba == 0 || e.count == 0) {
      return Fail(ErrorCode::kNotThisFormat, "MBR entry at sector 0 or empty");
    }
    used.push_back({static_cast<unsigned>(i + 1), e.type, e.lba * kSector, e.count * kSector});
  }
  if (used.empty()) return Fail(ErrorCode::kNotThisFormat, "MBR without partitions");
  if (LooksLikeVolumeBootRecord(data)) {
    return Fail(ErrorCode::kNotThisFormat, "volume boot record, not an MBR");
  }
  MbrLayout layout;
  bool any_inside = false;
  for (std::size_t i = 0; i < used.size(); ++i) {
    const Partition& p = used[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (p.start < used[j].start + used[j].size && used[j].start < p.start + p.size) {
        return Fail(ErrorCode::kNotThisFormat, "MBR partitions overlap");
      }
    }
    if (p.type == 0xee &&
        (HasBytesAt(data, 512, "EFI PART") || HasBytesAt(data, 4096, "EFI PART"))) {
      return Fail(ErrorCode::kNotThisFormat, "protective MBR in front of a GPT");
    }
    if (IsExtended(p.type)) {
      if (layout.extended) return Fail(ErrorCode::kNotThisFormat, "two extended partitions");
      layout.extended = p;
    } else {
      layout.primaries.push_back(p);
    }
    any_inside = any_inside || p.start < data.size();
    layout.end = std::max(layout.end, p.start + p.size);
  }
  if (!any_inside) {
    return Fail(ErrorCode::kTruncated, "MBR whose partitions all start past the data (" +
                                           std::to_string(data.size()) + " bytes)");
  }
  return layout;
}

class MbrHandler final : public Handler {
 public:
  std::string_view Name() const override { return "mbr"; }
  std::string_view Description() const override {
    return "DOS/MBR partition table (primary, extended and logical partitions): each partition "
           "carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"\x55\xaa", 510}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseMbr(data);
    if (!layout) return Forward(layout);
    // A disk cut short is carved as far as it goes (Extract reports each cut partition).
    return std::min<std::uint64_t>(layout->end, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout = ParseMbr(data);
    if (!layout) return Forward(layout);
    for (const Partition& p : layout->primaries) {
      CLEARBOX_TRY(Carve(data, p, ctx));
    }
    if (layout->extended) CLEARBOX_TRY(WalkExtended(data, *layout->extended, ctx));
    return std::min<std::uint64_t>(layout->end, data.size());
  }

 private:
  static Result<void> Carve(ByteView data, const Partition& p, ExtractContext& ctx) {
    const std::string name =
        "partition-" + std::to_string(p.number) + "." + TypeName(p.type) + ".img";
    return CarvePartition(data, p.start, p.size, name, ctx);
  }

  // Follows the EBR chain of the extended partition `ext`: bounded, and a link back to an
  // EBR already seen ends it (reported).
  static Result<void> WalkExtended(ByteView data, const Partition& ext, ExtractContext& ctx) {
    std::unordered_set<std::uint64_t> seen;
    std::uint64_t ebr = ext.start;
    unsigned number = 5;
    const std::string where = "partition-" + std::to_string(ext.number) + ".extended";
    while (true) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      if (!seen.insert(ebr).second) {
        ctx.ReportProblem(ErrorCode::kMalformed, where,
                          "EBR chain loops back to byte " + std::to_string(ebr) + "; stopped");
        break;
      }
      if (seen.size() > kMaxLogical) {
        ctx.ReportProblem(ErrorCode::kMalformed, where,
                          "more than " + std::to_string(kMaxLogical) + " logical partitions");
        break;
      }
      if (ebr + kSector > data.size()) {
        ctx.ReportProblem(ErrorCode::kTruncated, where,
                          "EBR at byte " + std::to_string(ebr) + " past the image");
        break;
      }
      if (!IsBootSignature(data, ebr)) {
        ctx.ReportProblem(ErrorCode::kMalformed, where,
                          "EBR at byte " + std::to_string(ebr) + " without 55AA; chain stopped");
        break;
      }
      const ByteView sector = data.subspan(ebr, kSector);
      const MbrEntry logical = ReadEntry(sector, 0);
      const MbrEntry link = ReadEntry(sector, 1);
      if (logical.type != 0 && logical.count != 0) {
        const Partition p{number++, logical.type, ebr + logical.lba * kSector,
                          logical.count * kSector};
        if (logical.lba == 0 || p.start + p.size > ext.start + ext.size) {
          ctx.ReportProblem(ErrorCode::kMalformed, "partition-" + std::to_string(p.number),
                            "logical partition outside its extended partition");
        }
        if (logical.lba != 0) CLEARBOX_TRY(Carve(data, p, ctx));
      }
      if (!IsExtended(link.type) || link.count == 0) break;
      ebr = ext.start + std::uint64_t{link.lba} * kSector;
    }
    return {};
  }
};

}  // namespace

const Handler& GetMbrHandler() {
  static const MbrHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
