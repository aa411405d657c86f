// UBI (unsorted block images): physical erase blocks with EC and VID headers; each volume
// of the volume table is rebuilt from its logical erase blocks into one file.
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderSize = 64;
constexpr std::uint32_t kLayoutVolumeId = 0x7FFFEFFF;
constexpr std::size_t kVtblRecordSize = 172;
constexpr std::size_t kMaxVolumes = 128;
constexpr std::size_t kMinPeb = 4096;
constexpr std::size_t kMaxPeb = 16u << 20;
constexpr std::uint8_t kVolStatic = 2;

// UBI's CRC: the Linux crc32 seeded with 0xFFFFFFFF and no final inversion.
std::uint32_t UbiCrc(ByteView bytes) {
  return ~static_cast<std::uint32_t>(crc32(0, bytes.data(), static_cast<uInt>(bytes.size())));
}

// The fields of an erase-counter header that matter here.
struct EcHeader {
  std::uint32_t vid_hdr_offset = 0;
  std::uint32_t data_offset = 0;
  std::uint32_t image_seq = 0;
};

bool CheckEcHeader(ByteView data, std::size_t pos, EcHeader* out) {
  if (pos > data.size() || data.size() - pos < kHeaderSize) return false;
  const std::uint8_t* p = data.data() + pos;
  if (std::memcmp(p, "UBI#", 4) != 0 || p[4] != 1) return false;
  if (LoadU32(p + 60, Endian::kBig) != UbiCrc(ByteView(p, 60))) return false;
  out->vid_hdr_offset = LoadU32(p + 16, Endian::kBig);
  out->data_offset = LoadU32(p + 20, Endian::kBig);
  out->image_seq = LoadU32(p + 24, Endian::kBig);
  return out->vid_hdr_offset >= kHeaderSize &&
         out->data_offset >= out->vid_hdr_offset + kHeaderSize;
}

bool IsErased(ByteView data, std::size_t pos) {
  if (pos > data.size() || data.size() - pos < kHeaderSize) return false;
  return std::all_of(data.begin() + static_cast<std::ptrdiff_t>(pos),
                     data.begin() + static_cast<std::ptrdiff_t>(pos + kHeaderSize),
                     [](std::uint8_t b) { return b == 0xFF; });
}

// The geometry of the image: PEB size, header offsets and the number of PEBs it spans.
struct Geometry {
  EcHeader first;
  std::size_t peb_size = 0;
  std::size_t peb_count = 0;
  bool truncated = false;
};

bool SameImage(const EcHeader& a, const EcHeader& b) {
  return a.vid_hdr_offset == b.vid_hdr_offset && a.data_offset == b.data_offset &&
         a.image_seq == b.image_seq;
}

Result<Geometry> ReadGeometry(ByteView data) {
  Geometry g;
  if (!CheckEcHeader(data, 0, &g.first)) return Fail(ErrorCode::kNotThisFormat, "no UBI EC header");
  // The PEB size: the smallest power of two past the data offset where the next EC header
  // of the same image sits.
  for (std::size_t size = kMinPeb; size <= kMaxPeb; size *= 2) {
    if (size <= g.first.data_offset) continue;
    EcHeader next;
    if (CheckEcHeader(data, size, &next) && SameImage(next, g.first)) {
      g.peb_size = size;
      break;
    }
  }
  if (g.peb_size == 0) {
    return Fail(ErrorCode::kTruncated, "UBI image with a single erase block or unknown PEB size");
  }
  // Count PEBs: valid EC headers of this image, erased blocks in between.
  std::size_t last_valid = 0;
  for (std::size_t i = 1;; ++i) {
    if (i > data.size() / g.peb_size + 1) break;
    const std::size_t pos = i * g.peb_size;
    EcHeader h;
    if (CheckEcHeader(data, pos, &h) && SameImage(h, g.first)) {
      last_valid = i;
      continue;
    }
    if (IsErased(data, pos)) continue;
    break;
  }
  g.peb_count = last_valid + 1;
  // Whole erased PEBs right after the last used one still belong to the UBI device.
  while ((g.peb_count + 1) * g.peb_size <= data.size()) {
    const ByteView peb = data.subspan(g.peb_count * g.peb_size, g.peb_size);
    if (!std::all_of(peb.begin(), peb.end(), [](std::uint8_t b) { return b == 0xFF; })) break;
    ++g.peb_count;
  }
  if (g.peb_count * g.peb_size > data.size()) {
    g.truncated = true;
  }
  return g;
}

// One logical erase block found in a PEB.
struct Leb {
  std::uint64_t sqnum = 0;
  std::size_t peb = 0;
  std::uint32_t data_size = 0;
  std::uint8_t vol_type = 0;
};

// A volume of the volume table.
struct VolumeInfo {
  std::string name;
  std::uint8_t vol_type = 0;
  std::uint32_t data_pad = 0;
};

// Keeps a volume name usable as a file name.
std::string SanitizeName(std::string_view name, std::uint32_t vol_id) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    const bool keep = std::isalnum(u) || c == '-' || c == '_' || (c == '.' && !out.empty());
    out.push_back(keep ? c : '_');
  }
  if (out.empty()) {
    out = "volume_" + std::to_string(vol_id);
  }
  return out;
}

class UbiHandler final : public Handler {
 public:
  std::string_view Name() const override { return "ubi"; }
  std::string_view Description() const override {
    return "UBI flash image: volumes rebuilt from erase blocks (PEB to LEB mapping)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"UBI#", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto g = ReadGeometry(data);
    if (!g) return Forward(g);
    if (g->truncated) return data.size();
    return g->peb_count * g->peb_size;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto g = ReadGeometry(data);
    if (!g) return Forward(g);
    if (g->truncated) {
      ctx.ReportProblem(ErrorCode::kTruncated, "", "UBI image ends inside an erase block");
    }
    const std::size_t leb_size = g->peb_size - g->first.data_offset;
    std::map<std::uint32_t, std::map<std::uint32_t, Leb>> volumes;  // vol_id -> lnum -> LEB
    std::size_t bad_headers = 0;
    for (std::size_t i = 0; i < g->peb_count; ++i) {
      if ((i & 0xFF) == 0) CLEARBOX_TRY(ctx.budget().CheckDeadline());
      const std::size_t base = i * g->peb_size;
      EcHeader ec;
      if (!CheckEcHeader(data, base, &ec)) continue;  // erased
      const std::size_t vid = base + ec.vid_hdr_offset;
      if (vid > data.size() || data.size() - vid < kHeaderSize) continue;
      const std::uint8_t* p = data.data() + vid;
      if (IsErased(data, vid)) continue;  // free PEB
      if (std::memcmp(p, "UBI!", 4) != 0 ||
          LoadU32(p + 60, Endian::kBig) != UbiCrc(ByteView(p, 60))) {
        ++bad_headers;
        continue;
      }
      const std::uint32_t vol_id = LoadU32(p + 8, Endian::kBig);
      const std::uint32_t lnum = LoadU32(p + 12, Endian::kBig);
      if (vol_id > kLayoutVolumeId) continue;  // other internal volumes (fastmap)
      if (lnum >= g->peb_count || (vol_id >= kMaxVolumes && vol_id != kLayoutVolumeId)) {
        ++bad_headers;
        continue;
      }
      Leb leb{LoadU64(p + 40, Endian::kBig), i, LoadU32(p + 20, Endian::kBig), p[5]};
      auto& slot = volumes[vol_id];
      auto it = slot.find(lnum);
      if (it == slot.end() || leb.sqnum > it->second.sqnum) slot[lnum] = leb;
    }
    if (bad_headers) {
      ctx.ReportProblem(ErrorCode::kMalformed, "",
                        std::to_string(bad_headers) + " UBI VID headers are damaged; skipped");
    }
    auto leb_data = [&](const Leb& leb) -> ByteView {
      const std::size_t start = leb.peb * g->peb_size + g->first.data_offset;
      if (start >= data.size()) return {};
      return data.subspan(start, std::min(leb_size, data.size() - start));
    };
    // The volume table: first valid copy of the layout volume.
    std::map<std::uint32_t, VolumeInfo> table;
    if (auto layout = volumes.find(kLayoutVolumeId); layout != volumes.end()) {
      for (const auto& [lnum, leb] : layout->second) {
        const ByteView v = leb_data(leb);
        std::map<std::uint32_t, VolumeInfo> parsed;
        bool ok = true;
        for (std::size_t r = 0; r < kMaxVolumes && (r + 1) * kVtblRecordSize <= v.size(); ++r) {
          const ByteView rec = v.subspan(r * kVtblRecordSize, kVtblRecordSize);
          if (LoadU32(rec.data() + 168, Endian::kBig) != UbiCrc(rec.subspan(0, 168))) {
            ok = false;
            break;
          }
          if (LoadU32(rec.data(), Endian::kBig) == 0) continue;  // empty slot
          const std::uint16_t name_len = LoadU16(rec.data() + 14, Endian::kBig);
          VolumeInfo info;
          info.name = std::string(AsText(rec.subspan(16, std::min<std::size_t>(name_len, 127))));
          info.vol_type = rec[12];
          info.data_pad = LoadU32(rec.data() + 8, Endian::kBig);
          parsed[static_cast<std::uint32_t>(r)] = info;
        }
        if (ok) {
          table = std::move(parsed);
          break;
        }
      }
      if (table.empty()) {
        ctx.ReportProblem(ErrorCode::kMalformed, "", "UBI volume table unreadable");
      }
    }
    std::map<std::string, int> used_names;
    for (const auto& [vol_id, lebs] : volumes) {
      if (vol_id == kLayoutVolumeId || lebs.empty()) continue;
      const auto t = table.find(vol_id);
      const VolumeInfo info =
          t == table.end() ? VolumeInfo{"", lebs.begin()->second.vol_type, 0} : t->second;
      std::string name = SanitizeName(info.name, vol_id);
      const ByteView first = leb_data(lebs.begin()->second);
      const bool is_ubifs = lebs.begin()->first == 0 && HasBytesAt(first, 0, "\x31\x18\x10\x06");
      name += is_ubifs ? ".ubifs" : ".bin";
      if (used_names[name]++) name = std::to_string(vol_id) + "_" + name;
      auto writer = ctx.out().CreateFile(name, 0644);
      if (!writer) {
        if (!ctx.ContinueAfter(Result<void>(Forward(writer)), name)) return Forward(writer);
        continue;
      }
      const std::size_t usable = info.data_pad < leb_size ? leb_size - info.data_pad : leb_size;
      std::uint32_t next = 0;
      Result<void> status;
      for (const auto& [lnum, leb] : lebs) {
        CLEARBOX_TRY(ctx.budget().CheckDeadline());
        if (lnum > next) {
          // Unmapped LEBs read as erased flash.
          const std::vector<std::uint8_t> erased(usable, 0xFF);
          for (std::uint32_t k = next; k < lnum && status; ++k) status = writer->Write(erased);
        }
        if (!status) break;
        ByteView bytes = leb_data(leb);
        bytes = bytes.subspan(0, std::min(bytes.size(), usable));
        if (leb.vol_type == kVolStatic)
          bytes = bytes.subspan(0, std::min<std::size_t>(bytes.size(), leb.data_size));
        status = writer->Write(bytes);
        if (!status) break;
        next = lnum + 1;
      }
      if (!status) {
        (void)writer->Close();
        return Forward(status);
      }
      CLEARBOX_TRY(writer->Close());
    }
    return data.size();
  }
};

}  // namespace

const Handler& GetUbiHandler() {
  static const UbiHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
