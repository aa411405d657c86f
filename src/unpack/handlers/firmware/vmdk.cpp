// VMware VMDK sparse extent (hosted sparse extent "KDMV", layout from VMware's "Virtual Disk
// Format 5.0" specification): a 512-byte little-endian header (version, flags, capacity and
// grain size in sectors, embedded descriptor, grain directory offsets), a grain directory of
// sector offsets of grain tables, grain tables of sector offsets of grains (0 unallocated,
// 1 zeroed). monolithicSparse grains are stored as they are; streamOptimized images set the
// compressed-grain and marker flags, store each grain as {lba u64, size u32, zlib data},
// and keep the real header (with the grain directory offset) in a footer near the end,
// found by walking the markers up to the end-of-stream marker.
//
// The virtual disk is rebuilt as one file `disk.img` of the header's capacity, unallocated
// grains as sparse holes (every byte charged to the budget); the engine then finds the
// partitions and filesystems inside. Only the embedded descriptor's first line is recorded:
// a descriptor naming other extent files (split or flat VMDKs) cannot be followed.
#include <zlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic = "KDMV";
constexpr std::size_t kHeaderSize = 512;
constexpr std::uint64_t kSector = 512;
constexpr std::uint32_t kFlagNewlineTest = 0x1;
constexpr std::uint32_t kFlagZeroGrain = 0x4;
constexpr std::uint32_t kFlagCompressed = 0x10000;
constexpr std::uint32_t kFlagMarkers = 0x20000;
constexpr std::uint64_t kGdAtEnd = ~std::uint64_t{0};
constexpr std::uint32_t kZeroGrainEntry = 1;
constexpr std::uint16_t kCompressDeflate = 1;
// The specification's grains are powers of two of at least 8 sectors; we accept up to 2 MiB.
constexpr std::uint64_t kMinGrainSectors = 1;
constexpr std::uint64_t kMaxGrainSectors = 4096;
constexpr std::uint32_t kMaxGtesPerGt = 1u << 16;
constexpr std::uint64_t kMaxCapacitySectors = std::uint64_t{1} << 41;  // 1 PiB
constexpr std::uint64_t kMaxGdEntries = 1u << 24;
constexpr std::uint32_t kMarkerEos = 0;
constexpr std::uint32_t kMarkerFooter = 3;
constexpr std::size_t kGrainMarkerHeader = 12;  // lba u64, size u32
constexpr std::size_t kMaxReportedGrainProblems = 8;
// Probe walks at most this many grain table entries to find the image's end (a 4 TiB disk
// of 64 KiB grains); beyond it, or when tables repeat, the chunk runs to the container's end.
constexpr std::uint64_t kMaxGrainEntriesWalked = 1ULL << 26;

// The header fields the rebuild uses.
struct VmdkHeader {
  std::uint32_t version = 0;
  std::uint32_t flags = 0;
  std::uint64_t capacity = 0;  // sectors
  std::uint64_t grain = 0;     // sectors
  std::uint64_t descriptor_offset = 0;
  std::uint64_t descriptor_size = 0;
  std::uint32_t gtes_per_gt = 0;
  std::uint64_t rgd_offset = 0;
  std::uint64_t gd_offset = 0;
  std::uint64_t overhead = 0;
  std::uint16_t compression = 0;

  std::uint64_t grain_bytes() const { return grain * kSector; }
  std::uint64_t gd_entries() const {
    const std::uint64_t per_gt = grain * gtes_per_gt;
    return (capacity + per_gt - 1) / per_gt;
  }
  bool compressed() const { return (flags & kFlagCompressed) != 0; }
};

Result<VmdkHeader> ParseHeader(ByteView data) {
  if (data.size() < kHeaderSize || !HasBytesAt(data, 0, kMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "no VMDK sparse header");
  }
  const auto* p = data.data();
  VmdkHeader h;
  h.version = LoadU32(p + 4, Endian::kLittle);
  h.flags = LoadU32(p + 8, Endian::kLittle);
  h.capacity = LoadU64(p + 12, Endian::kLittle);
  h.grain = LoadU64(p + 20, Endian::kLittle);
  h.descriptor_offset = LoadU64(p + 28, Endian::kLittle);
  h.descriptor_size = LoadU64(p + 36, Endian::kLittle);
  h.gtes_per_gt = LoadU32(p + 44, Endian::kLittle);
  h.rgd_offset = LoadU64(p + 48, Endian::kLittle);
  h.gd_offset = LoadU64(p + 56, Endian::kLittle);
  h.overhead = LoadU64(p + 64, Endian::kLittle);
  h.compression = LoadU16(p + 77, Endian::kLittle);
  if (h.version < 1 || h.version > 3) return Fail(ErrorCode::kNotThisFormat, "VMDK version");
  if ((h.flags & kFlagNewlineTest) != 0 && !HasBytesAt(data, 73, "\n \r\n")) {
    return Fail(ErrorCode::kNotThisFormat, "VMDK newline test bytes wrong");
  }
  if (h.grain < kMinGrainSectors || h.grain > kMaxGrainSectors || (h.grain & (h.grain - 1)) != 0 ||
      h.gtes_per_gt == 0 || h.gtes_per_gt > kMaxGtesPerGt ||
      (h.gtes_per_gt & (h.gtes_per_gt - 1)) != 0 || h.capacity > kMaxCapacitySectors ||
      h.gd_entries() > kMaxGdEntries || h.descriptor_size > data.size() / kSector + 1) {
    return Fail(ErrorCode::kNotThisFormat, "VMDK header fields out of range");
  }
  if (h.compressed() && h.compression != kCompressDeflate) {
    return Fail(ErrorCode::kUnsupported,
                "VMDK compression algorithm " + std::to_string(h.compression) + " unknown");
  }
  return h;
}

// Byte offset of `sectors`, or an error when it (plus `length`) leaves the data.
Result<std::uint64_t> SectorAt(std::uint64_t sectors, std::uint64_t length, ByteView data,
                               const char* what) {
  if (sectors > data.size() / kSector || data.size() - sectors * kSector < length) {
    return Fail(ErrorCode::kTruncated, std::string("VMDK ") + what + " past the end of the data");
  }
  return sectors * kSector;
}

// Where the stream of a streamOptimized image ends, and its footer header if it has one.
struct StreamEnd {
  std::uint64_t end = 0;
  std::uint64_t footer = 0;  // byte offset of the footer header, 0 when none was seen
};

// Walks the markers from the header's overhead to the end-of-stream marker.
Result<StreamEnd> WalkMarkers(ByteView data, const VmdkHeader& h) {
  if (h.overhead > data.size() / kSector) {
    return Fail(ErrorCode::kTruncated, "VMDK stream starts past the end of the data");
  }
  StreamEnd s;
  std::uint64_t pos = h.overhead * kSector;
  while (true) {
    if (data.size() - pos < kSector) {
      return Fail(ErrorCode::kTruncated, "VMDK stream has no end-of-stream marker");
    }
    const std::uint64_t value = LoadU64(data.data() + pos, Endian::kLittle);
    const std::uint32_t size = LoadU32(data.data() + pos + 8, Endian::kLittle);
    if (size != 0) {  // a compressed grain: header and data, padded to a sector
      pos += (kGrainMarkerHeader + size + kSector - 1) / kSector * kSector;
      if (pos > data.size()) return Fail(ErrorCode::kTruncated, "VMDK grain past the data");
      continue;
    }
    const std::uint32_t type = LoadU32(data.data() + pos + 12, Endian::kLittle);
    if (type == kMarkerEos) {
      s.end = pos + kSector;
      return s;
    }
    if (type == kMarkerFooter) s.footer = pos + kSector;
    if (value > (data.size() - pos) / kSector) {
      return Fail(ErrorCode::kTruncated, "VMDK metadata marker past the end of the data");
    }
    pos += kSector + value * kSector;
  }
}

// The header that holds the grain directory: the footer's for streamOptimized images.
struct VmdkLayout {
  VmdkHeader header;
  std::uint64_t end = 0;  // chunk end (may lie past the data when cut short)
};

// The furthest byte the grain directories, tables and grains of `h` reach.
std::uint64_t SparseExtent(ByteView data, const VmdkHeader& h) {
  std::uint64_t end = kHeaderSize;
  std::uint64_t walked = 0;
  auto reach = [&end](std::uint64_t offset, std::uint64_t length) {
    end = std::max(end, offset + length);
  };
  reach(h.descriptor_offset * kSector, h.descriptor_size * kSector);
  const std::uint64_t gd_bytes = h.gd_entries() * 4;
  const std::uint64_t gt_bytes = std::uint64_t{h.gtes_per_gt} * 4;
  for (const std::uint64_t gd_sector : {h.gd_offset, h.rgd_offset}) {
    if (gd_sector == 0) continue;
    reach(gd_sector * kSector, gd_bytes);
    auto gd = SectorAt(gd_sector, gd_bytes, data, "grain directory");
    if (!gd) continue;
    for (std::uint64_t i = 0; i < h.gd_entries(); ++i) {
      const std::uint32_t gt_sector = LoadU32(data.data() + *gd + i * 4, Endian::kLittle);
      if (gt_sector == 0) continue;
      reach(std::uint64_t{gt_sector} * kSector, gt_bytes);
      auto gt = SectorAt(gt_sector, gt_bytes, data, "grain table");
      if (!gt || h.compressed()) continue;  // compressed grains end where the stream says
      walked += h.gtes_per_gt;
      if (walked > kMaxGrainEntriesWalked) return std::max<std::uint64_t>(end, data.size());
      for (std::uint32_t j = 0; j < h.gtes_per_gt; ++j) {
        const std::uint32_t grain = LoadU32(data.data() + *gt + j * 4ULL, Endian::kLittle);
        if (grain > kZeroGrainEntry) reach(std::uint64_t{grain} * kSector, h.grain_bytes());
      }
    }
  }
  return end;
}

Result<VmdkLayout> ParseLayout(ByteView data) {
  auto header = ParseHeader(data);
  if (!header) return Forward(header);
  VmdkLayout layout{*header, 0};
  if ((header->flags & kFlagMarkers) != 0 || header->gd_offset == kGdAtEnd) {
    auto stream = WalkMarkers(data, *header);
    if (!stream) return Forward(stream);
    layout.end = stream->end;
    if (header->gd_offset == kGdAtEnd) {
      if (stream->footer == 0) {
        return Fail(ErrorCode::kMalformed, "VMDK stream has no footer with the grain directory");
      }
      auto footer = ParseHeader(data.subspan(stream->footer));
      if (!footer) return Fail(ErrorCode::kMalformed, "VMDK stream footer is not a header");
      if (footer->gd_offset == kGdAtEnd || footer->capacity != header->capacity ||
          footer->grain != header->grain) {
        return Fail(ErrorCode::kMalformed, "VMDK stream footer does not match its header");
      }
      layout.header = *footer;
    }
  } else {
    if (header->gd_offset == 0) return Fail(ErrorCode::kNotThisFormat, "VMDK without directory");
    layout.end = SparseExtent(data, *header);
  }
  return layout;
}

// Rebuilds the virtual disk into `disk`, grain by grain.
class GrainRebuilder {
 public:
  GrainRebuilder(const VmdkHeader& h, ByteView data, ExtractContext& ctx, FileWriter& disk)
      : h_(h), data_(data), ctx_(ctx), disk_(disk), grain_(h.grain_bytes()) {}
  ~GrainRebuilder() {
    if (zinit_) inflateEnd(&zs_);
  }
  GrainRebuilder(const GrainRebuilder&) = delete;
  GrainRebuilder& operator=(const GrainRebuilder&) = delete;

  Result<void> Run() {
    const std::uint64_t capacity = h_.capacity * kSector;
    const std::uint64_t span = h_.grain_bytes() * h_.gtes_per_gt;
    const std::uint64_t gt_bytes = std::uint64_t{h_.gtes_per_gt} * 4;
    auto gd = SectorAt(h_.gd_offset, h_.gd_entries() * 4, data_, "grain directory");
    if (!gd) return Forward(gd);
    for (std::uint64_t i = 0; i < h_.gd_entries() && written_ < capacity; ++i) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::uint32_t gt_sector = LoadU32(data_.data() + *gd + i * 4, Endian::kLittle);
      auto gt = SectorAt(gt_sector, gt_bytes, data_, "grain table");
      if (gt_sector == 0 || !gt) {
        if (gt_sector != 0) Problem(gt.error());
        CLEARBOX_TRY(Zeros(span));
        continue;
      }
      for (std::uint32_t j = 0; j < h_.gtes_per_gt && written_ < capacity; ++j) {
        CLEARBOX_TRY(WriteGrain(LoadU32(data_.data() + *gt + j * 4ULL, Endian::kLittle)));
      }
    }
    return {};
  }

 private:
  Result<void> WriteGrain(std::uint32_t entry) {
    const std::uint64_t grain = h_.grain_bytes();
    if (entry == 0 || (entry == kZeroGrainEntry && (h_.flags & kFlagZeroGrain) != 0)) {
      return Zeros(grain);
    }
    if (!h_.compressed()) {
      auto at = SectorAt(entry, grain, data_, "grain");
      if (!at) {
        Problem(at.error());
        return Zeros(grain);
      }
      return Bytes(data_.subspan(*at, grain));
    }
    auto at = SectorAt(entry, kGrainMarkerHeader, data_, "compressed grain");
    if (!at) {
      Problem(at.error());
      return Zeros(grain);
    }
    const std::uint32_t size = LoadU32(data_.data() + *at + 8, Endian::kLittle);
    const std::uint64_t start = *at + kGrainMarkerHeader;
    if (size > data_.size() - start) {
      Problem(Error{ErrorCode::kTruncated, "VMDK compressed grain past the end of the data"});
      return Zeros(grain);
    }
    auto inflated = Inflate(data_.subspan(start, size));
    if (!inflated) {
      Problem(inflated.error());
      return Zeros(grain);
    }
    return Bytes(ByteView(grain_.data(), grain_.size()));
  }

  // Inflates one zlib grain into grain_ (a short last grain is padded with zeros).
  Result<void> Inflate(ByteView in) {
    if (!zinit_) {
      if (inflateInit(&zs_) != Z_OK) return Fail(ErrorCode::kInternal, "inflateInit");
      zinit_ = true;
    } else if (inflateReset(&zs_) != Z_OK) {
      return Fail(ErrorCode::kInternal, "inflateReset");
    }
    std::fill(grain_.begin(), grain_.end(), 0);
    zs_.next_in = const_cast<Bytef*>(in.data());
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = grain_.data();
    zs_.avail_out = static_cast<uInt>(grain_.size());
    const int rc = inflate(&zs_, Z_FINISH);
    if (rc != Z_STREAM_END) {
      return Fail(ErrorCode::kMalformed, "VMDK compressed grain does not inflate");
    }
    return {};
  }

  // Writes at most what is left of the capacity.
  Result<void> Bytes(ByteView bytes) {
    const std::uint64_t n = std::min<std::uint64_t>(bytes.size(), h_.capacity * kSector - written_);
    written_ += n;
    return disk_.Write(bytes.subspan(0, n));
  }
  Result<void> Zeros(std::uint64_t count) {
    const std::uint64_t n = std::min(count, h_.capacity * kSector - written_);
    written_ += n;
    return disk_.WriteZeros(n);
  }
  // The first few damaged grains are reported one by one.
  void Problem(const Error& error) {
    if (++problems_ <= kMaxReportedGrainProblems) ctx_.ReportProblem(error, "disk.img");
  }

  const VmdkHeader& h_;
  ByteView data_;
  ExtractContext& ctx_;
  FileWriter& disk_;
  std::vector<std::uint8_t> grain_;
  z_stream zs_{};
  bool zinit_ = false;
  std::uint64_t written_ = 0;
  std::size_t problems_ = 0;
};

// The embedded descriptor's create type ("monolithicSparse", "streamOptimized"), or "".
std::string CreateType(ByteView data, const VmdkHeader& h) {
  auto at = SectorAt(h.descriptor_offset, h.descriptor_size * kSector, data, "descriptor");
  if (h.descriptor_offset == 0 || !at) return "";
  const std::string_view text(reinterpret_cast<const char*>(data.data() + *at),
                              h.descriptor_size * kSector);
  const auto key = text.find("createType=\"");
  if (key == std::string_view::npos) return "";
  const auto start = key + 12;
  const auto stop = text.find('"', start);
  if (stop == std::string_view::npos || stop - start > 64) return "";
  return std::string(text.substr(start, stop - start));
}

class VmdkHandler final : public Handler {
 public:
  std::string_view Name() const override { return "vmdk"; }
  std::string_view Description() const override {
    return "VMware VMDK sparse extent (monolithicSparse, streamOptimized), rebuilt as a raw disk";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseLayout(data);
    if (!layout) return Forward(layout);
    return std::min<std::uint64_t>(layout->end, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout = ParseLayout(data);
    if (!layout) return Forward(layout);
    const VmdkHeader& h = layout->header;
    ctx.SetMetadata("version", std::to_string(h.version));
    ctx.SetMetadata("capacity", std::to_string(h.capacity * kSector));
    ctx.SetMetadata("grain_size", std::to_string(h.grain_bytes()));
    if (auto type = CreateType(data, h); !type.empty()) ctx.SetMetadata("create_type", type);
    auto disk = ctx.out().CreateFile("disk.img", 0644);
    if (!disk) return Forward(disk);
    GrainRebuilder rebuilder(h, data, ctx, *disk);
    auto rebuilt = rebuilder.Run();
    auto closed = disk->Close();
    if (!rebuilt) return Forward(rebuilt);
    if (!closed) return Forward(closed);
    if (layout->end > data.size()) {
      return Fail(ErrorCode::kTruncated, "VMDK image of at least " + std::to_string(layout->end) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return layout->end;
  }
};

}  // namespace

const Handler& GetVmdkHandler() {
  static const VmdkHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
