// Microsoft Virtual Hard Disk (VHD, the "vpc" format of Virtual PC / Hyper-V; layout from
// Microsoft's "Virtual Hard Disk Image Format Specification" v1.0). Every VHD ends in a
// 512-byte big-endian footer ("conectix", features, version, data offset, current size,
// geometry, disk type, one's-complement checksum); dynamic and differencing disks also begin
// with a copy of it, followed by a 1024-byte dynamic header ("cxsparse", BAT offset, entry
// count, block size) and the block allocation table (BAT: big-endian sector offsets, all ones
// for an unallocated block). Each allocated block is a sector bitmap followed by its data.
//
// A dynamic disk is rebuilt as one file `disk.img` of the footer's current size, unallocated
// blocks as sparse holes (every byte charged to the budget); the engine then finds the
// partitions and filesystems inside. A fixed disk is the raw disk followed by the footer: its
// data lies before the signature, where the partition and filesystem handlers already find
// it, so the footer alone is reported as a recognised-only chunk with its fields.
#include <algorithm>
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kFooterCookie = "conectix";
constexpr std::string_view kDynamicCookie = "cxsparse";
constexpr std::size_t kFooterSize = 512;
constexpr std::size_t kDynamicHeaderSize = 1024;
constexpr std::uint64_t kSectorSize = 512;
constexpr std::uint32_t kDiskFixed = 2;
constexpr std::uint32_t kDiskDynamic = 3;
constexpr std::uint32_t kDiskDifferencing = 4;
constexpr std::uint32_t kUnallocated = 0xffffffffu;
constexpr std::uint64_t kNoDataOffset = ~std::uint64_t{0};
// The specification's block sizes are powers of two; QEMU writes 2 MiB, Hyper-V up to 256 MiB.
constexpr std::uint32_t kMinBlockSize = 512;
constexpr std::uint32_t kMaxBlockSize = 256u << 20;
// A VHD addresses at most 2040 GiB (the specification's limit); BAT entries to match.
constexpr std::uint64_t kMaxDiskSize = 2040ULL << 30;
constexpr std::uint32_t kMaxBatEntries = 1u << 24;
constexpr std::size_t kMaxReportedBlockProblems = 8;

// One's complement of the byte sum with the checksum field counted as zero.
std::uint32_t VhdChecksum(const std::uint8_t* p, std::size_t size, std::size_t checksum_at) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < size; ++i) {
    if (i >= checksum_at && i < checksum_at + 4) continue;
    sum += p[i];
  }
  return ~sum;
}

// The footer fields the rebuild and the metadata use.
struct VhdFooter {
  std::uint64_t data_offset = 0;
  std::uint64_t current_size = 0;
  std::uint32_t disk_type = 0;
  std::uint32_t geometry = 0;
  std::string creator;
  std::string host_os;
  bool checksum_ok = false;
};

Result<VhdFooter> ParseFooter(ByteView data) {
  if (data.size() < kFooterSize) return Fail(ErrorCode::kNotThisFormat, "no VHD footer");
  if (!HasBytesAt(data, 0, kFooterCookie)) return Fail(ErrorCode::kNotThisFormat, "no VHD cookie");
  const auto* p = data.data();
  const std::uint32_t features = LoadU32(p + 8, Endian::kBig);
  const std::uint32_t version = LoadU32(p + 12, Endian::kBig);
  VhdFooter f;
  f.data_offset = LoadU64(p + 16, Endian::kBig);
  f.creator.assign(reinterpret_cast<const char*>(p + 28), 4);
  f.host_os.assign(reinterpret_cast<const char*>(p + 36), 4);
  f.current_size = LoadU64(p + 48, Endian::kBig);
  f.geometry = LoadU32(p + 56, Endian::kBig);
  f.disk_type = LoadU32(p + 60, Endian::kBig);
  f.checksum_ok = LoadU32(p + 64, Endian::kBig) == VhdChecksum(p, kFooterSize, 64);
  if ((version >> 16) != 1 || (features & ~0x3u) != 0) {
    return Fail(ErrorCode::kNotThisFormat, "VHD footer version or features unknown");
  }
  if (f.disk_type != kDiskFixed && f.disk_type != kDiskDynamic &&
      f.disk_type != kDiskDifferencing) {
    return Fail(ErrorCode::kNotThisFormat, "VHD disk type unknown");
  }
  if (f.current_size > kMaxDiskSize) {
    return Fail(ErrorCode::kNotThisFormat, "VHD disk larger than the format allows");
  }
  if (f.disk_type == kDiskFixed ? f.data_offset != kNoDataOffset
                                : (f.data_offset < kFooterSize || f.data_offset % 512 != 0)) {
    return Fail(ErrorCode::kNotThisFormat, "VHD data offset does not match the disk type");
  }
  return f;
}

// The dynamic header fields.
struct VhdDynamic {
  std::uint64_t bat_offset = 0;
  std::uint32_t bat_entries = 0;
  std::uint32_t block_size = 0;
  std::uint64_t bitmap_bytes = 0;  // sector bitmap before each block, in whole sectors
  bool checksum_ok = false;
};

Result<VhdDynamic> ParseDynamic(ByteView data, const VhdFooter& footer) {
  if (footer.data_offset > data.size() || data.size() - footer.data_offset < kDynamicHeaderSize) {
    return Fail(ErrorCode::kTruncated, "VHD dynamic header past the end of the data");
  }
  const auto* p = data.data() + footer.data_offset;
  if (!HasBytesAt(data, footer.data_offset, kDynamicCookie)) {
    return Fail(ErrorCode::kNotThisFormat, "no VHD dynamic header");
  }
  VhdDynamic d;
  d.bat_offset = LoadU64(p + 16, Endian::kBig);
  d.bat_entries = LoadU32(p + 28, Endian::kBig);
  d.block_size = LoadU32(p + 32, Endian::kBig);
  d.checksum_ok = LoadU32(p + 36, Endian::kBig) == VhdChecksum(p, kDynamicHeaderSize, 36);
  if (d.block_size < kMinBlockSize || d.block_size > kMaxBlockSize ||
      (d.block_size & (d.block_size - 1)) != 0 || d.bat_entries > kMaxBatEntries ||
      d.bat_offset < kFooterSize || d.bat_offset % 512 != 0) {
    return Fail(ErrorCode::kNotThisFormat, "VHD dynamic header fields out of range");
  }
  if (std::uint64_t{d.bat_entries} * d.block_size < footer.current_size) {
    return Fail(ErrorCode::kNotThisFormat, "VHD block table smaller than the disk");
  }
  const std::uint64_t bitmap = (d.block_size / kSectorSize + 7) / 8;
  d.bitmap_bytes = (bitmap + kSectorSize - 1) / kSectorSize * kSectorSize;
  return d;
}

// The end of a dynamic image: past the BAT, the furthest allocated block and the footer copy
// that follows it (an image cut short reaches past the data).
std::uint64_t DynamicExtent(ByteView data, const VhdFooter& footer, const VhdDynamic& d) {
  const std::uint64_t bat_bytes = std::uint64_t{d.bat_entries} * 4;
  std::uint64_t end = std::max(footer.data_offset + kDynamicHeaderSize,
                               (d.bat_offset + bat_bytes + 511) / 512 * 512);
  if (d.bat_offset <= data.size() && data.size() - d.bat_offset >= bat_bytes) {
    for (std::uint32_t i = 0; i < d.bat_entries; ++i) {
      const std::uint32_t sector = LoadU32(data.data() + d.bat_offset + i * 4ULL, Endian::kBig);
      if (sector == kUnallocated) continue;
      end = std::max(end, std::uint64_t{sector} * kSectorSize + d.bitmap_bytes + d.block_size);
    }
  }
  return end + kFooterSize;
}

void RecordFooter(const VhdFooter& f, ExtractContext& ctx) {
  const char* type = f.disk_type == kDiskFixed     ? "fixed"
                     : f.disk_type == kDiskDynamic ? "dynamic"
                                                   : "differencing";
  ctx.SetMetadata("disk_type", type);
  ctx.SetMetadata("current_size", std::to_string(f.current_size));
  ctx.SetMetadata("geometry_chs", std::to_string(f.geometry >> 16) + "/" +
                                      std::to_string((f.geometry >> 8) & 0xff) + "/" +
                                      std::to_string(f.geometry & 0xff));
  ctx.SetMetadata("creator", f.creator);
  ctx.SetMetadata("creator_os", f.host_os);
  ctx.SetMetadata("footer_checksum", f.checksum_ok ? "ok" : "mismatch");
}

// Rebuilds a dynamic disk into `disk`, block by block.
Result<void> RebuildDynamic(ByteView data, const VhdFooter& footer, const VhdDynamic& d,
                            ExtractContext& ctx, FileWriter& disk) {
  std::uint64_t written = 0;
  std::size_t problems = 0;
  for (std::uint32_t i = 0; i < d.bat_entries && written < footer.current_size; ++i) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    const std::uint64_t want = std::min<std::uint64_t>(d.block_size, footer.current_size - written);
    const std::uint32_t sector = LoadU32(data.data() + d.bat_offset + i * 4ULL, Endian::kBig);
    const std::uint64_t at = std::uint64_t{sector} * kSectorSize + d.bitmap_bytes;
    written += want;
    if (sector == kUnallocated) {
      CLEARBOX_TRY(disk.WriteZeros(want));
      continue;
    }
    if (at > data.size() || data.size() - at < want) {
      if (++problems <= kMaxReportedBlockProblems) {
        ctx.ReportProblem(ErrorCode::kTruncated, "disk.img",
                          "VHD block " + std::to_string(i) + " past the end of the data");
      }
      CLEARBOX_TRY(disk.WriteZeros(want));
      continue;
    }
    CLEARBOX_TRY(disk.Write(data.subspan(at, want)));
  }
  if (written < footer.current_size) {
    CLEARBOX_TRY(disk.WriteZeros(footer.current_size - written));
  }
  return {};
}

class VhdHandler final : public Handler {
 public:
  std::string_view Name() const override { return "vhd"; }
  std::string_view Description() const override {
    return "Microsoft VHD disk image: dynamic/differencing rebuilt as a raw disk, fixed footer "
           "recognised";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kFooterCookie, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto footer = ParseFooter(data);
    if (!footer) return Forward(footer);
    if (footer->disk_type == kDiskFixed) return kFooterSize;
    auto dynamic = ParseDynamic(data, *footer);
    if (!dynamic) return Forward(dynamic);
    return std::min<std::uint64_t>(DynamicExtent(data, *footer, *dynamic), data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto footer = ParseFooter(data);
    if (!footer) return Forward(footer);
    RecordFooter(*footer, ctx);
    if (footer->disk_type == kDiskFixed) return kFooterSize;  // the disk precedes the footer
    auto dynamic = ParseDynamic(data, *footer);
    if (!dynamic) return Forward(dynamic);
    ctx.SetMetadata("block_size", std::to_string(dynamic->block_size));
    ctx.SetMetadata("dynamic_header_checksum", dynamic->checksum_ok ? "ok" : "mismatch");
    const std::uint64_t extent = DynamicExtent(data, *footer, *dynamic);
    const std::uint64_t bat_bytes = std::uint64_t{dynamic->bat_entries} * 4;
    if (dynamic->bat_offset > data.size() || data.size() - dynamic->bat_offset < bat_bytes) {
      return Fail(ErrorCode::kTruncated, "VHD block table past the end of the data (image of " +
                                             std::to_string(extent) + " bytes cut at " +
                                             std::to_string(data.size()) + ")");
    }
    if (footer->disk_type == kDiskDifferencing) {
      ctx.ReportProblem(ErrorCode::kUnsupported, "disk.img",
                        "VHD differencing disk: blocks held by its parent are written as zeros");
    }
    auto disk = ctx.out().CreateFile("disk.img", 0644);
    if (!disk) return Forward(disk);
    auto rebuilt = RebuildDynamic(data, *footer, *dynamic, ctx, *disk);
    auto closed = disk->Close();
    if (!rebuilt) return Forward(rebuilt);
    if (!closed) return Forward(closed);
    if (extent > data.size()) {
      return Fail(ErrorCode::kTruncated, "VHD image of " + std::to_string(extent) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    if (!HasBytesAt(data, extent - kFooterSize, kFooterCookie)) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "VHD footer copy missing at the image end");
    }
    return extent;
  }
};

}  // namespace

const Handler& GetVhdHandler() {
  static const VhdHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
