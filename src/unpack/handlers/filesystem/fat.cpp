// FAT12/16/32 (Microsoft's FAT specification, fatgen103): our own bounds-checked reader.
// Boot sector: jump (EB xx 90 or E9), BPB (bytes per sector 512-4096, sectors per cluster a
// power of two, reserved sectors, FAT count, root entries, total sectors, FAT size), 55AA at
// 510; "FAT12   "/"FAT16   " at 54 or "FAT32   " at 82 are the signatures. The FAT width is
// decided as Linux does: FAT32 when the 16-bit FAT size is 0, else by the cluster count.
//
// Directories are walked from the root (a fixed region on FAT12/16, a cluster chain on
// FAT32); VFAT long names (UTF-16LE pieces in 0x0f entries, checked against the short name's
// checksum) are used when complete, the 8.3 name (with the NT lower-case flags) otherwise.
// Deleted entries, volume labels, "." and ".." are skipped. Cluster chains are bounded by the
// cluster count and a chain that comes back to a cluster already seen is cut (reported); a
// directory reached twice is not walked again. Names with '/' or NUL, "." and ".." are
// reported and skipped.
#include <string>
#include <unordered_set>
#include <vector>

#include "unpack/handlers/filesystem/utf16.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kMaxDepth = 64;

enum class FatWidth { k12, k16, k32 };

struct Volume {
  FatWidth width = FatWidth::k12;
  std::uint64_t bytes_per_sector = 0;
  std::uint64_t cluster_bytes = 0;
  std::uint64_t fat_offset = 0;  // first FAT, bytes
  std::uint64_t fat_bytes = 0;
  std::uint64_t root_offset = 0;  // FAT12/16 fixed root directory
  std::uint64_t root_bytes = 0;
  std::uint32_t root_cluster = 0;  // FAT32
  std::uint64_t data_offset = 0;   // cluster 2
  std::uint64_t cluster_count = 0;
  std::uint64_t total_bytes = 0;
};

bool PowerOfTwo(std::uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

Result<Volume> ParseBootSector(ByteView d) {
  if (d.size() < 512) return Fail(ErrorCode::kNotThisFormat, "FAT boot sector cut");
  const bool jump = (d[0] == 0xeb && d[2] == 0x90) || d[0] == 0xe9;
  if (!jump || d[510] != 0x55 || d[511] != 0xaa) {
    return Fail(ErrorCode::kNotThisFormat, "no FAT boot sector");
  }
  Volume v;
  v.bytes_per_sector = LoadU16(d.data() + 11, Endian::kLittle);
  const std::uint64_t spc = d[13];
  const std::uint64_t reserved = LoadU16(d.data() + 14, Endian::kLittle);
  const std::uint64_t fats = d[16];
  const std::uint64_t root_entries = LoadU16(d.data() + 17, Endian::kLittle);
  const std::uint64_t total16 = LoadU16(d.data() + 19, Endian::kLittle);
  const std::uint64_t fat16_size = LoadU16(d.data() + 22, Endian::kLittle);
  const std::uint64_t total32 = LoadU32(d.data() + 32, Endian::kLittle);
  if (v.bytes_per_sector < 512 || v.bytes_per_sector > 4096 || !PowerOfTwo(v.bytes_per_sector) ||
      !PowerOfTwo(spc) || reserved == 0 || fats == 0 || fats > 4) {
    return Fail(ErrorCode::kNotThisFormat, "FAT BPB not sane");
  }
  const std::uint64_t total_sectors = total16 ? total16 : total32;
  std::uint64_t fat_size = fat16_size;
  if (fat16_size == 0) {
    fat_size = LoadU32(d.data() + 36, Endian::kLittle);
    v.root_cluster = LoadU32(d.data() + 44, Endian::kLittle);
    if (root_entries != 0 || !HasBytesAt(d, 82, "FAT32   ")) {
      return Fail(ErrorCode::kNotThisFormat, "FAT32 BPB not sane");
    }
  } else if (root_entries == 0 ||
             (!HasBytesAt(d, 54, "FAT12   ") && !HasBytesAt(d, 54, "FAT16   "))) {
    return Fail(ErrorCode::kNotThisFormat, "FAT12/16 BPB not sane");
  }
  const std::uint64_t root_sectors =
      (root_entries * 32 + v.bytes_per_sector - 1) / v.bytes_per_sector;
  const std::uint64_t meta_sectors = reserved + fats * fat_size + root_sectors;
  if (fat_size == 0 || total_sectors <= meta_sectors) {
    return Fail(ErrorCode::kNotThisFormat, "FAT sizes not sane");
  }
  v.cluster_bytes = spc * v.bytes_per_sector;
  v.cluster_count = (total_sectors - meta_sectors) / spc;
  if (v.cluster_count == 0) return Fail(ErrorCode::kNotThisFormat, "FAT without clusters");
  if (fat16_size == 0) {
    v.width = FatWidth::k32;
  } else {
    v.width = v.cluster_count < 4085 ? FatWidth::k12 : FatWidth::k16;
  }
  v.fat_offset = reserved * v.bytes_per_sector;
  v.fat_bytes = fat_size * v.bytes_per_sector;
  v.root_offset = v.fat_offset + fats * v.fat_bytes;
  v.root_bytes = root_entries * 32;
  v.data_offset = meta_sectors * v.bytes_per_sector;
  v.total_bytes = total_sectors * v.bytes_per_sector;
  // The FAT must have an entry for every cluster.
  const std::uint64_t needed_bits = (v.cluster_count + 2) * (v.width == FatWidth::k12   ? 12
                                                             : v.width == FatWidth::k16 ? 16
                                                                                        : 32);
  if (needed_bits > v.fat_bytes * 8) return Fail(ErrorCode::kNotThisFormat, "FAT too small");
  if (v.width == FatWidth::k32 && (v.root_cluster < 2 || v.root_cluster >= v.cluster_count + 2)) {
    return Fail(ErrorCode::kMalformed, "FAT32 root cluster out of range");
  }
  if (v.data_offset > d.size()) {
    return Fail(ErrorCode::kTruncated, "FAT volume cut before its data area");
  }
  return v;
}

std::uint8_t ShortNameChecksum(const std::uint8_t* name) {
  std::uint8_t sum = 0;
  for (int i = 0; i < 11; ++i)
    sum = static_cast<std::uint8_t>(((sum & 1) << 7) + (sum >> 1) + name[i]);
  return sum;
}

// Code page 850 (mtools' default for short names) bytes 0x80-0xff as Unicode.
constexpr std::uint16_t kCp850[128] = {
    0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea, 0x00eb, 0x00e8, 0x00ef,
    0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
    0x00ff, 0x00d6, 0x00dc, 0x00f8, 0x00a3, 0x00d8, 0x00d7, 0x0192, 0x00e1, 0x00ed, 0x00f3, 0x00fa,
    0x00f1, 0x00d1, 0x00aa, 0x00ba, 0x00bf, 0x00ae, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00c1, 0x00c2, 0x00c0, 0x00a9, 0x2563, 0x2551, 0x2557,
    0x255d, 0x00a2, 0x00a5, 0x2510, 0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x00e3, 0x00c3,
    0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x00a4, 0x00f0, 0x00d0, 0x00ca, 0x00cb,
    0x00c8, 0x0131, 0x00cd, 0x00ce, 0x00cf, 0x2518, 0x250c, 0x2588, 0x2584, 0x00a6, 0x00cc, 0x2580,
    0x00d3, 0x00df, 0x00d4, 0x00d2, 0x00f5, 0x00d5, 0x00b5, 0x00fe, 0x00de, 0x00da, 0x00db, 0x00d9,
    0x00fd, 0x00dd, 0x00af, 0x00b4, 0x00ad, 0x00b1, 0x2017, 0x00be, 0x00b6, 0x00a7, 0x00f7, 0x00b8,
    0x00b0, 0x00a8, 0x00b7, 0x00b9, 0x00b3, 0x00b2, 0x25a0, 0x00a0,
};

// Lower-cases an ASCII or Latin-1 capital (the NT lower-case flags apply to these).
std::uint32_t ToLower(std::uint32_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 0x20;
  return c;
}

// The 8.3 name: base and extension trimmed, lower-cased by the NT flags (0x08 base, 0x10
// extension), OEM bytes read as code page 850, control bytes as '_'.
std::string ShortName(const std::uint8_t* e) {
  auto part = [&](std::size_t from, std::size_t len, bool lower) {
    std::size_t n = len;
    while (n > 0 && e[from + n - 1] == ' ') --n;
    std::string s;
    for (std::size_t i = from; i < from + n; ++i) {
      std::uint32_t c = e[i];
      if (i == 0 && c == 0x05) c = 0xe5;
      if (c < 0x20 || c == 0x7f) c = '_';
      if (c >= 0x80) c = kCp850[c - 0x80];
      AppendUtf8(s, lower ? ToLower(c) : c);
    }
    return s;
  };
  std::string name = part(0, 8, (e[12] & 0x08) != 0);
  const std::string ext = part(8, 3, (e[12] & 0x10) != 0);
  if (!ext.empty()) name += "." + ext;
  return name;
}

class FatExtraction {
 public:
  FatExtraction(ByteView fs, const Volume& v, ExtractContext& ctx) : fs_(fs), v_(v), ctx_(ctx) {}

  Result<void> Run() {
    if (v_.width == FatWidth::k32) return WalkChain(v_.root_cluster, "", 0);
    if (v_.root_offset + v_.root_bytes > fs_.size()) {
      ctx_.ReportProblem(ErrorCode::kTruncated, "", "FAT root directory past the data");
      return {};
    }
    std::vector<Pending> subdirs;
    CLEARBOX_TRY(ReadEntries(fs_.subspan(v_.root_offset, v_.root_bytes), "", subdirs));
    return Descend(subdirs, 0);
  }

 private:
  struct Pending {
    std::string path;
    std::uint32_t cluster;
  };

  // The FAT entry of `cluster`.
  std::uint32_t Next(std::uint32_t cluster) const {
    const ByteView fat = fs_.subspan(
        v_.fat_offset, std::min<std::uint64_t>(v_.fat_bytes, fs_.size() - v_.fat_offset));
    switch (v_.width) {
      case FatWidth::k12: {
        const std::uint64_t at = cluster + cluster / 2;
        if (at + 1 >= fat.size()) return 0;
        const std::uint16_t pair = LoadU16(fat.data() + at, Endian::kLittle);
        return (cluster & 1) ? pair >> 4 : pair & 0xfff;
      }
      case FatWidth::k16: {
        const std::uint64_t at = std::uint64_t{cluster} * 2;
        return at + 1 < fat.size() ? LoadU16(fat.data() + at, Endian::kLittle) : 0;
      }
      default: {
        const std::uint64_t at = std::uint64_t{cluster} * 4;
        return at + 3 < fat.size() ? LoadU32(fat.data() + at, Endian::kLittle) & 0x0fffffffu : 0;
      }
    }
  }

  bool IsEnd(std::uint32_t value) const {
    switch (v_.width) {
      case FatWidth::k12: return value >= 0xff8;
      case FatWidth::k16: return value >= 0xfff8;
      default: return value >= 0x0ffffff8;
    }
  }

  bool InRange(std::uint32_t cluster) const {
    return cluster >= 2 && cluster < v_.cluster_count + 2;
  }

  // Bytes of `cluster` that exist in the data (empty when it is past the end).
  ByteView ClusterBytes(std::uint32_t cluster) const {
    const std::uint64_t at = v_.data_offset + std::uint64_t{cluster - 2} * v_.cluster_bytes;
    if (at >= fs_.size()) return {};
    return fs_.subspan(at, std::min<std::uint64_t>(v_.cluster_bytes, fs_.size() - at));
  }

  // Follows the chain from `first` and calls `visit(bytes)` for each cluster until `visit`
  // returns false or the chain ends; problems (bad link, loop, cut data) are reported at
  // `where`. Returns false when the chain broke before its end.
  template <typename Visit>
  Result<bool> FollowChain(std::uint32_t first, const std::string& where, Visit visit) {
    std::unordered_set<std::uint32_t> seen;
    std::uint32_t cluster = first;
    while (true) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      if (!InRange(cluster)) {
        ctx_.ReportProblem(ErrorCode::kMalformed, where,
                           "cluster chain leaves the volume at " + std::to_string(cluster));
        return false;
      }
      if (!seen.insert(cluster).second) {
        ctx_.ReportProblem(ErrorCode::kMalformed, where,
                           "cluster chain loops at cluster " + std::to_string(cluster));
        return false;
      }
      const ByteView bytes = ClusterBytes(cluster);
      if (bytes.size() < v_.cluster_bytes) {
        ctx_.ReportProblem(ErrorCode::kTruncated, where,
                           "cluster " + std::to_string(cluster) + " past the end of the data");
        if (!bytes.empty()) CLEARBOX_TRY(visit(bytes));
        return false;
      }
      auto more = visit(bytes);
      if (!more) return Forward(more);
      if (!*more) return true;
      const std::uint32_t next = Next(cluster);
      if (IsEnd(next)) return true;
      cluster = next;
    }
  }

  Result<void> WalkChain(std::uint32_t first, const std::string& path, std::size_t depth) {
    if (!dirs_seen_.insert(first).second) {
      ctx_.ReportProblem(ErrorCode::kMalformed, path,
                         "directory at cluster " + std::to_string(first) + " reached twice");
      return {};
    }
    std::string bytes;
    auto done = FollowChain(first, path, [&](ByteView cluster) -> Result<bool> {
      if (bytes.size() + cluster.size() > (64u << 20)) {
        return Fail(ErrorCode::kMalformed, "FAT directory larger than 64 MiB");
      }
      bytes.append(reinterpret_cast<const char*>(cluster.data()), cluster.size());
      return true;
    });
    if (!done && !ctx_.ContinueAfter(Result<void>(Forward(done)), path)) return Forward(done);
    std::vector<Pending> subdirs;
    CLEARBOX_TRY(
        ReadEntries(ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                    path, subdirs));
    return Descend(subdirs, depth);
  }

  Result<void> Descend(const std::vector<Pending>& subdirs, std::size_t depth) {
    for (const Pending& dir : subdirs) {
      if (depth + 1 > kMaxDepth) {
        ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "FAT directories nested too deep");
        continue;
      }
      CLEARBOX_TRY(WalkChain(dir.cluster, dir.path, depth + 1));
    }
    return {};
  }

  // Reads the 32-byte entries of one directory; files are written, subdirectories created
  // and queued in `subdirs`.
  Result<void> ReadEntries(ByteView dir, const std::string& path, std::vector<Pending>& subdirs) {
    std::vector<std::uint16_t> lfn;  // long name units, in order
    int lfn_expected = 0;            // next sequence number wanted (counting down), 0 = none
    std::uint8_t lfn_sum = 0;
    for (std::uint64_t pos = 0; pos + 32 <= dir.size(); pos += 32) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::uint8_t* e = dir.data() + pos;
      if (e[0] == 0x00) break;  // end of directory
      if (e[0] == 0xe5) {       // deleted
        lfn_expected = 0;
        continue;
      }
      const std::uint8_t attr = e[11];
      if ((attr & 0x3f) == 0x0f) {
        const int seq = e[0] & 0x1f;
        if (e[0] & 0x40) {
          lfn.assign(static_cast<std::size_t>(seq) * 13, 0xffff);
          lfn_expected = seq;
          lfn_sum = e[13];
        }
        if (seq == 0 || seq != lfn_expected || e[13] != lfn_sum) {
          lfn_expected = 0;
          continue;
        }
        static constexpr int kOffsets[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
        for (int k = 0; k < 13; ++k) {
          lfn[static_cast<std::size_t>(seq - 1) * 13 + k] =
              LoadU16(e + kOffsets[k], Endian::kLittle);
        }
        --lfn_expected;
        if (lfn_expected == 0) lfn_expected = -1;  // complete, waiting for the short entry
        continue;
      }
      const bool have_lfn = lfn_expected == -1 && ShortNameChecksum(e) == lfn_sum;
      lfn_expected = 0;
      if (attr & 0x08) continue;  // volume label
      std::string name = have_lfn ? Utf16ToUtf8(lfn) : ShortName(e);
      const std::string member = path.empty() ? name : path + "/" + name;
      if (!have_lfn && (name == "." || name == "..")) continue;
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          name.find('\0') != std::string::npos) {
        ctx_.ReportProblem(ErrorCode::kMalformed, member, "FAT entry with a bad name; skipped");
        continue;
      }
      std::uint32_t cluster = LoadU16(e + 26, Endian::kLittle);
      if (v_.width == FatWidth::k32)
        cluster |= std::uint32_t{LoadU16(e + 20, Endian::kLittle)} << 16;
      const std::uint64_t size = LoadU32(e + 28, Endian::kLittle);
      if (attr & 0x10) {
        auto made = ctx_.out().CreateDirectory(member, 0755);
        if (!ctx_.ContinueAfter(made, member)) return made;
        if (made && cluster != 0) subdirs.push_back({member, cluster});
        continue;
      }
      CLEARBOX_TRY(WriteFile(member, cluster, size));
    }
    return {};
  }

  Result<void> WriteFile(const std::string& member, std::uint32_t first, std::uint64_t size) {
    auto writer = ctx_.out().CreateFile(member, 0644);
    if (!writer) {
      if (!ctx_.ContinueAfter(Result<void>(Forward(writer)), member)) return Forward(writer);
      return {};
    }
    std::uint64_t left = size;
    if (left > 0) {
      auto done = FollowChain(first, member, [&](ByteView cluster) -> Result<bool> {
        const std::uint64_t take = std::min<std::uint64_t>(left, cluster.size());
        CLEARBOX_TRY(writer->Write(cluster.subspan(0, take)));
        left -= take;
        return left > 0;
      });
      if (!done && !ctx_.ContinueAfter(Result<void>(Forward(done)), member)) {
        return Forward(done);
      }
      if (done && left > 0) {
        ctx_.ReportProblem(ErrorCode::kTruncated, member,
                           "cluster chain ends " + std::to_string(left) + " bytes short");
      }
    }
    auto closed = writer->Close();
    if (!ctx_.ContinueAfter(closed, member)) return closed;
    return {};
  }

  ByteView fs_;
  const Volume& v_;
  ExtractContext& ctx_;
  std::unordered_set<std::uint32_t> dirs_seen_;
};

class FatHandler final : public Handler {
 public:
  std::string_view Name() const override { return "fat"; }
  std::string_view Description() const override {
    return "FAT12/16/32 filesystem (VFAT long names)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {"FAT12   ", 54}, {"FAT16   ", 54}, {"FAT32   ", 82}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto volume = ParseBootSector(data);
    if (!volume) return Forward(volume);
    // A volume cut short is extracted as far as it goes (Extract reports it).
    return std::min<std::uint64_t>(volume->total_bytes, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto volume = ParseBootSector(data);
    if (!volume) return Forward(volume);
    if (volume->total_bytes > data.size()) {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "FAT volume of " + std::to_string(volume->total_bytes) + " bytes cut at " +
                            std::to_string(data.size()));
    }
    const ByteView fs = data.subspan(0, std::min<std::uint64_t>(volume->total_bytes, data.size()));
    FatExtraction extraction(fs, *volume, ctx);
    CLEARBOX_TRY(extraction.Run());
    return fs.size();
  }
};

}  // namespace

const Handler& GetFatHandler() {
  static const FatHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
