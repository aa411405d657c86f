// Android dynamic-partition "super" image (liblp; layout from AOSP's liblp metadata_format.h):
// 4096 reserved bytes, the geometry (magic 0x616c4467, SHA-256, metadata size and slot count)
// at 4096 with a backup copy at 8192, then the metadata slots (primary, then backup) from
// 12288. A slot is a header (magic 0x414c5030, version 10.0-10.2, SHA-256 of the header and of
// the tables) and four tables: partitions, extents, groups and block devices. Each logical
// partition is a list of extents (linear: sectors on a block device; zero) and is written as
// `<name>.img`, which the engine then unpacks (ext4, erofs, squashfs...).
//
// Both geometry copies and both checksums are verified; a mismatch is recorded in the chunk's
// metadata and the backup copy is used when the primary one does not check. A sparse super
// image (img2simg) is expanded by the android-sparse handler first and found in its output.
#include <algorithm>
#include <array>
#include <set>
#include <string>

#include "core/hashing.hpp"
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kGeometryMagic = 0x616c4467;
constexpr std::uint32_t kHeaderMagic = 0x414c5030;
constexpr std::uint64_t kReservedBytes = 4096;
constexpr std::uint64_t kGeometrySize = 4096;
constexpr std::uint32_t kGeometryStructSize = 52;
constexpr std::uint64_t kMetadataStart = kReservedBytes + 2 * kGeometrySize;
constexpr std::uint64_t kSector = 512;
constexpr std::uint16_t kMajorVersion = 10;
constexpr std::uint16_t kMaxMinorVersion = 2;
constexpr std::uint32_t kHeaderV0Size = 128;
constexpr std::uint32_t kHeaderV2Size = 256;
constexpr std::uint32_t kMaxMetadataSize = 1u << 20;  // liblp's own images use 64 KiB
constexpr std::uint32_t kMaxSlots = 16;               // liblp writes 1-3
constexpr std::uint32_t kMaxLogicalBlockSize = 1u << 20;
constexpr std::uint32_t kPartitionEntrySize = 52;
constexpr std::uint32_t kExtentEntrySize = 24;
constexpr std::uint32_t kGroupEntrySize = 48;
constexpr std::uint32_t kBlockDeviceEntrySize = 64;
constexpr std::size_t kNameSize = 36;
constexpr std::uint32_t kTargetLinear = 0;
constexpr std::uint32_t kTargetZero = 1;
constexpr std::size_t kMaxReportedExtentProblems = 8;
// Extents written in all (partitions may share extents, empty extents cost no budget).
constexpr std::uint64_t kMaxExtentsWritten = 1u << 20;

std::string FixedName(const std::uint8_t* p) {
  const auto* c = reinterpret_cast<const char*>(p);
  return std::string(c, std::find(c, c + kNameSize, '\0'));
}

bool Sha256Matches(ByteView bytes, std::size_t checksum_at) {
  static constexpr std::uint8_t kZeros[32] = {};
  Sha256 hash;
  hash.Update(bytes.subspan(0, checksum_at));
  hash.Update(ByteView(kZeros, sizeof kZeros));
  hash.Update(bytes.subspan(checksum_at + 32));
  const auto digest = hash.Finish();
  return std::equal(digest.begin(), digest.end(), bytes.data() + checksum_at);
}

// The geometry fields the layout uses.
struct Geometry {
  std::uint32_t metadata_max_size = 0;
  std::uint32_t slots = 0;
  std::uint32_t block_size = 0;
  bool checksum_ok = false;
};

Result<Geometry> ParseGeometryAt(ByteView data, std::uint64_t at) {
  if (data.size() < at + kGeometryStructSize ||
      LoadU32(data.data() + at, Endian::kLittle) != kGeometryMagic) {
    return Fail(ErrorCode::kNotThisFormat, "no super geometry");
  }
  const auto* p = data.data() + at;
  Geometry g;
  g.metadata_max_size = LoadU32(p + 40, Endian::kLittle);
  g.slots = LoadU32(p + 44, Endian::kLittle);
  g.block_size = LoadU32(p + 48, Endian::kLittle);
  if (LoadU32(p + 4, Endian::kLittle) != kGeometryStructSize || g.metadata_max_size == 0 ||
      g.metadata_max_size > kMaxMetadataSize || g.metadata_max_size % kSector != 0 ||
      g.slots == 0 || g.slots > kMaxSlots || g.block_size == 0 || g.block_size % kSector != 0 ||
      g.block_size > kMaxLogicalBlockSize) {
    return Fail(ErrorCode::kNotThisFormat, "super geometry fields out of range");
  }
  g.checksum_ok = Sha256Matches(data.subspan(at, kGeometryStructSize), 8);
  return g;
}

// One table's place inside the tables area.
struct TableDescriptor {
  std::uint32_t offset = 0;
  std::uint32_t count = 0;
  std::uint32_t entry_size = 0;
};

// A metadata slot whose header and tables lie inside the data.
struct Metadata {
  std::uint16_t minor = 0;
  ByteView tables;
  TableDescriptor partitions, extents, groups, devices;
  bool header_ok = false;
  bool tables_ok = false;
  const std::uint8_t* Entry(const TableDescriptor& t, std::uint32_t i) const {
    return tables.data() + t.offset + std::uint64_t{i} * t.entry_size;
  }
};

Result<Metadata> ParseMetadataAt(ByteView data, std::uint64_t at, std::uint32_t max_size) {
  if (at > data.size() || data.size() - at < kHeaderV0Size) {
    return Fail(ErrorCode::kTruncated, "super metadata past the end of the data");
  }
  const auto* p = data.data() + at;
  if (LoadU32(p, Endian::kLittle) != kHeaderMagic) {
    return Fail(ErrorCode::kMalformed, "super metadata header magic wrong");
  }
  Metadata m;
  const std::uint16_t major = LoadU16(p + 4, Endian::kLittle);
  m.minor = LoadU16(p + 6, Endian::kLittle);
  const std::uint32_t header_size = LoadU32(p + 8, Endian::kLittle);
  const std::uint32_t tables_size = LoadU32(p + 44, Endian::kLittle);
  if (major != kMajorVersion || m.minor > kMaxMinorVersion ||
      (header_size != kHeaderV0Size && header_size != kHeaderV2Size) ||
      tables_size > max_size - std::min(max_size, header_size)) {
    return Fail(ErrorCode::kMalformed, "super metadata header fields out of range");
  }
  if (data.size() - at < std::uint64_t{header_size} + tables_size) {
    return Fail(ErrorCode::kTruncated, "super metadata tables past the end of the data");
  }
  m.header_ok = Sha256Matches(data.subspan(at, header_size), 12);
  m.tables = data.subspan(at + header_size, tables_size);
  Sha256 hash;
  hash.Update(m.tables);
  const auto digest = hash.Finish();
  m.tables_ok = std::equal(digest.begin(), digest.end(), p + 48);
  const std::uint32_t minimum[] = {kPartitionEntrySize, kExtentEntrySize, kGroupEntrySize,
                                   kBlockDeviceEntrySize};
  TableDescriptor* tables[] = {&m.partitions, &m.extents, &m.groups, &m.devices};
  for (int i = 0; i < 4; ++i) {
    const auto* d = p + 80 + i * 12;
    TableDescriptor t{LoadU32(d, Endian::kLittle), LoadU32(d + 4, Endian::kLittle),
                      LoadU32(d + 8, Endian::kLittle)};
    if (t.entry_size < minimum[i] || t.offset > tables_size ||
        std::uint64_t{t.count} * t.entry_size > tables_size - t.offset) {
      return Fail(ErrorCode::kMalformed, "super metadata table out of bounds");
    }
    *tables[i] = t;
  }
  return m;
}

// Everything Probe and Extract need: the geometry and the metadata slot used.
struct SuperLayout {
  Geometry geometry;
  bool backup_geometry_used = false;
  bool backup_geometry_ok = false;
  Metadata metadata;
  bool backup_metadata_used = false;
  std::uint64_t end = 0;  // the super partition's size, or the end of the metadata
};

Result<SuperLayout> ParseLayout(ByteView data) {
  SuperLayout layout;
  // The primary copy is used unless it does not check and the backup copy does.
  auto primary = ParseGeometryAt(data, kReservedBytes);
  auto backup = ParseGeometryAt(data, kReservedBytes + kGeometrySize);
  layout.backup_geometry_ok = backup && backup->checksum_ok;
  if ((!primary || !primary->checksum_ok) && layout.backup_geometry_ok) {
    layout.geometry = *backup;
    layout.backup_geometry_used = true;
  } else if (primary) {
    layout.geometry = *primary;
  } else {
    return Forward(primary);
  }
  const Geometry& g = layout.geometry;
  const std::uint64_t slots_bytes = std::uint64_t{g.metadata_max_size} * g.slots;
  auto meta = ParseMetadataAt(data, kMetadataStart, g.metadata_max_size);
  if (!meta || !meta->header_ok || !meta->tables_ok) {
    auto copy = ParseMetadataAt(data, kMetadataStart + slots_bytes, g.metadata_max_size);
    if (copy && copy->header_ok && copy->tables_ok) {
      meta = std::move(copy);
      layout.backup_metadata_used = true;
    }
  }
  if (!meta) return Forward(meta);
  layout.metadata = *meta;
  layout.end = kMetadataStart + 2 * slots_bytes;
  const Metadata& m = layout.metadata;
  if (m.devices.count > 0) {
    const std::uint64_t size = LoadU64(m.Entry(m.devices, 0) + 16, Endian::kLittle);
    layout.end = std::max(layout.end, size);
  }
  return layout;
}

// Writes one logical partition's extents into `out`.
Result<void> WritePartition(ByteView data, const Metadata& m, std::uint32_t first,
                            std::uint32_t count, const std::string& name, ExtractContext& ctx,
                            FileWriter& out) {
  std::size_t problems = 0;
  auto problem = [&](ErrorCode code, std::string message) {
    if (++problems <= kMaxReportedExtentProblems) ctx.ReportProblem(code, name, std::move(message));
  };
  for (std::uint32_t i = first; i < first + count; ++i) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    const auto* e = m.Entry(m.extents, i);
    const std::uint64_t sectors = LoadU64(e, Endian::kLittle);
    const std::uint32_t type = LoadU32(e + 8, Endian::kLittle);
    const std::uint64_t target = LoadU64(e + 12, Endian::kLittle);
    const std::uint32_t source = LoadU32(e + 20, Endian::kLittle);
    if (sectors > (std::uint64_t{1} << 54)) {
      problem(ErrorCode::kMalformed, "super extent larger than any device");
      continue;
    }
    const std::uint64_t bytes = sectors * kSector;
    if (type == kTargetZero) {
      CLEARBOX_TRY(out.WriteZeros(bytes));
      continue;
    }
    if (type != kTargetLinear || source != 0) {
      problem(ErrorCode::kUnsupported, type != kTargetLinear
                                           ? "super extent of unknown type written as zeros"
                                           : "super extent on another block device (" +
                                                 std::to_string(source) + ") written as zeros");
      CLEARBOX_TRY(out.WriteZeros(bytes));
      continue;
    }
    const std::uint64_t at = target > data.size() / kSector ? data.size() : target * kSector;
    const std::uint64_t available = std::min(bytes, data.size() - at);
    if (available < bytes) {
      problem(ErrorCode::kTruncated, "super extent past the end of the data");
    }
    CLEARBOX_TRY(out.Write(data.subspan(at, available)));
    CLEARBOX_TRY(out.WriteZeros(bytes - available));
  }
  return {};
}

void RecordLayout(const SuperLayout& layout, ExtractContext& ctx) {
  const Geometry& g = layout.geometry;
  const Metadata& m = layout.metadata;
  ctx.SetMetadata("metadata_version", "10." + std::to_string(m.minor));
  ctx.SetMetadata("metadata_slots", std::to_string(g.slots));
  ctx.SetMetadata("metadata_max_size", std::to_string(g.metadata_max_size));
  ctx.SetMetadata("logical_block_size", std::to_string(g.block_size));
  ctx.SetMetadata("partitions", std::to_string(m.partitions.count));
  ctx.SetMetadata("geometry_checksum", layout.backup_geometry_used ? "primary mismatch, backup ok"
                                       : !g.checksum_ok            ? "mismatch"
                                       : layout.backup_geometry_ok ? "ok"
                                                                   : "primary ok, backup mismatch");
  ctx.SetMetadata("metadata_checksum", layout.backup_metadata_used ? "primary mismatch, backup ok"
                                       : m.header_ok && m.tables_ok
                                           ? "ok"
                                           : (m.header_ok ? "tables mismatch" : "header mismatch"));
  std::string groups;
  for (std::uint32_t i = 0; i < m.groups.count && i < 8; ++i) {
    groups += (groups.empty() ? "" : ",") + FixedName(m.Entry(m.groups, i));
  }
  ctx.SetMetadata("groups", groups);
  if (m.devices.count > 0) {
    ctx.SetMetadata("super_size",
                    std::to_string(LoadU64(m.Entry(m.devices, 0) + 16, Endian::kLittle)));
  }
}

class AndroidSuperHandler final : public Handler {
 public:
  std::string_view Name() const override { return "android-super"; }
  std::string_view Description() const override {
    return "Android super image (liblp dynamic partitions): logical partitions carved by name, "
           "geometry and metadata checksums verified";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("gDla\x34\0\0\0", 8), 4096}};
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
    RecordLayout(*layout, ctx);
    const Metadata& m = layout->metadata;
    std::set<std::string> used;
    std::uint64_t extents_written = 0;
    for (std::uint32_t i = 0; i < m.partitions.count; ++i) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      const auto* p = m.Entry(m.partitions, i);
      const std::uint32_t first = LoadU32(p + 40, Endian::kLittle);
      const std::uint32_t count = LoadU32(p + 44, Endian::kLittle);
      const std::string fallback = "partition-" + std::to_string(i);
      const std::string name =
          UniqueMemberName(SafeMemberName(FixedName(p), fallback) + ".img", used);
      if (first > m.extents.count || count > m.extents.count - first) {
        ctx.ReportProblem(ErrorCode::kMalformed, name, "super partition extents out of bounds");
        continue;
      }
      extents_written += count;
      if (extents_written > kMaxExtentsWritten) {
        return Fail(ErrorCode::kLimitExceeded, "super image partitions use more than " +
                                                   std::to_string(kMaxExtentsWritten) +
                                                   " extents in all");
      }
      auto out = ctx.out().CreateFile(name, 0644);
      if (!out) {
        Result<void> failed = Forward(out);
        if (!ctx.ContinueAfter(failed, name)) return Forward(failed);
        continue;
      }
      auto written = WritePartition(data, m, first, count, name, ctx, *out);
      auto closed = out->Close();
      if (!written) return Forward(written);
      if (!ctx.ContinueAfter(closed, name)) return Forward(closed);
    }
    if (layout->end > data.size()) {
      return Fail(ErrorCode::kTruncated, "super image of " + std::to_string(layout->end) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return layout->end;
  }
};

}  // namespace

const Handler& GetAndroidSuperHandler() {
  static const AndroidSuperHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
