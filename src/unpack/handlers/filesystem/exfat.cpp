// exFAT (Microsoft's exFAT file system specification): our own bounds-checked reader.
// Boot sector: jump EB 76 90, "EXFAT   " at 3, bytes 11-63 zero, volume length, FAT and
// cluster heap offsets, cluster count, root directory cluster, sector and cluster shifts,
// 55AA at 510; the boot region checksum (sector 11) is checked (mismatch reported).
//
// Directories are sets of 32-byte entries: a File entry (0x85: attributes, secondary count,
// set checksum) followed by a Stream Extension (0xc0: NoFatChain flag, name length, first
// cluster, valid data length, data length) and File Name entries (0xc1, 15 UTF-16 units
// each). A set whose checksum does not match is reported and skipped. Data is read from a
// FAT chain (32-bit entries, bounded, loop-checked) or, with NoFatChain, from contiguous
// clusters; bytes past the valid data length are zeros. Names with '/', NUL, "." or ".." are
// reported and skipped; a directory reached twice is not walked again.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "unpack/handlers/filesystem/utf16.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kMaxDepth = 64;
constexpr std::uint64_t kMaxDirectoryBytes = 256u << 20;  // spec maximum

struct Volume {
  std::uint64_t sector = 0;
  std::uint64_t cluster_bytes = 0;
  std::uint64_t fat_offset = 0;  // bytes
  std::uint64_t fat_bytes = 0;
  std::uint64_t heap_offset = 0;  // bytes, cluster 2
  std::uint32_t cluster_count = 0;
  std::uint32_t root_cluster = 0;
  std::uint64_t total_bytes = 0;
};

Result<Volume> ParseBootSector(ByteView d) {
  if (d.size() < 512 || d[0] != 0xeb || d[1] != 0x76 || d[2] != 0x90 ||
      !HasBytesAt(d, 3, "EXFAT   ") || d[510] != 0x55 || d[511] != 0xaa) {
    return Fail(ErrorCode::kNotThisFormat, "no exFAT boot sector");
  }
  for (std::size_t i = 11; i < 64; ++i) {
    if (d[i] != 0) return Fail(ErrorCode::kNotThisFormat, "exFAT MustBeZero field not zero");
  }
  const std::uint64_t volume_length = LoadU64(d.data() + 72, Endian::kLittle);
  const std::uint64_t fat_offset = LoadU32(d.data() + 80, Endian::kLittle);
  const std::uint64_t fat_length = LoadU32(d.data() + 84, Endian::kLittle);
  const std::uint64_t heap_offset = LoadU32(d.data() + 88, Endian::kLittle);
  Volume v;
  v.cluster_count = LoadU32(d.data() + 92, Endian::kLittle);
  v.root_cluster = LoadU32(d.data() + 96, Endian::kLittle);
  const unsigned sector_shift = d[108];
  const unsigned cluster_shift = d[109];
  const unsigned fats = d[110];
  if (sector_shift < 9 || sector_shift > 12 || cluster_shift > 25 - sector_shift ||
      (fats != 1 && fats != 2) || fat_offset < 24 || fat_length == 0 ||
      heap_offset < fat_offset + fat_length * fats || volume_length > (1ull << 52) ||
      heap_offset >= volume_length || v.cluster_count == 0 ||
      v.cluster_count > (volume_length - heap_offset) >> cluster_shift ||
      fat_length << sector_shift < (std::uint64_t{v.cluster_count} + 2) * 4 || v.root_cluster < 2 ||
      v.root_cluster >= std::uint64_t{v.cluster_count} + 2) {
    return Fail(ErrorCode::kNotThisFormat, "exFAT boot sector fields not sane");
  }
  v.sector = 1ull << sector_shift;
  v.cluster_bytes = v.sector << cluster_shift;
  v.fat_offset = fat_offset << sector_shift;
  v.fat_bytes = fat_length << sector_shift;
  v.heap_offset = heap_offset << sector_shift;
  v.total_bytes = volume_length << sector_shift;
  if (v.heap_offset > d.size()) {
    return Fail(ErrorCode::kTruncated, "exFAT volume cut before its cluster heap");
  }
  return v;
}

// The boot region checksum: sectors 0-10 (skipping VolumeFlags and PercentInUse) against
// the repeated value in sector 11.
bool BootChecksumOk(ByteView d, const Volume& v) {
  if (d.size() < 12 * v.sector) return false;
  std::uint32_t sum = 0;
  for (std::uint64_t i = 0; i < 11 * v.sector; ++i) {
    if (i == 106 || i == 107 || i == 112) continue;
    sum = ((sum & 1) ? 0x80000000u : 0) + (sum >> 1) + d[i];
  }
  for (std::uint64_t i = 11 * v.sector; i < 12 * v.sector; i += 4) {
    if (LoadU32(d.data() + i, Endian::kLittle) != sum) return false;
  }
  return true;
}

class ExfatExtraction {
 public:
  ExfatExtraction(ByteView fs, const Volume& v, ExtractContext& ctx) : fs_(fs), v_(v), ctx_(ctx) {}

  Result<void> Run() { return WalkDirectory(v_.root_cluster, false, kMaxDirectoryBytes, "", 0); }

 private:
  // Reads up to `length` bytes of the chain at `first` and hands them to `sink` piece by
  // piece; problems are reported at `where`. Returns the bytes handed over.
  template <typename Sink>
  Result<std::uint64_t> ReadChain(std::uint32_t first, bool contiguous, std::uint64_t length,
                                  const std::string& where, Sink sink) {
    std::unordered_set<std::uint32_t> seen;
    std::uint32_t cluster = first;
    std::uint64_t done = 0;
    while (done < length) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      if (cluster < 2 || cluster >= std::uint64_t{v_.cluster_count} + 2) {
        ctx_.ReportProblem(ErrorCode::kMalformed, where,
                           "cluster " + std::to_string(cluster) + " outside the volume");
        break;
      }
      if (!contiguous && !seen.insert(cluster).second) {
        ctx_.ReportProblem(ErrorCode::kMalformed, where,
                           "cluster chain loops at cluster " + std::to_string(cluster));
        break;
      }
      const std::uint64_t at = v_.heap_offset + std::uint64_t{cluster - 2} * v_.cluster_bytes;
      const std::uint64_t want = std::min<std::uint64_t>(length - done, v_.cluster_bytes);
      if (at >= fs_.size() || fs_.size() - at < want) {
        ctx_.ReportProblem(ErrorCode::kTruncated, where,
                           "cluster " + std::to_string(cluster) + " past the end of the data");
        break;
      }
      CLEARBOX_TRY(sink(fs_.subspan(at, want)));
      done += want;
      if (done >= length) break;
      if (contiguous) {
        ++cluster;
        continue;
      }
      const std::uint64_t entry = std::uint64_t{cluster} * 4;
      if (entry + 4 > v_.fat_bytes || v_.fat_offset + entry + 4 > fs_.size()) {
        ctx_.ReportProblem(ErrorCode::kTruncated, where, "FAT entry past the data");
        break;
      }
      const std::uint32_t next = LoadU32(fs_.data() + v_.fat_offset + entry, Endian::kLittle);
      if (next == 0xffffffffu) {
        // The root directory has no length: its chain's end is its end.
        if (length != kMaxDirectoryBytes) {
          ctx_.ReportProblem(
              ErrorCode::kTruncated, where,
              "cluster chain ends " + std::to_string(length - done) + " bytes short");
        }
        break;
      }
      cluster = next;
    }
    return done;
  }

  Result<void> WalkDirectory(std::uint32_t first, bool contiguous, std::uint64_t length,
                             const std::string& path, std::size_t depth) {
    if (!dirs_seen_.insert(first).second) {
      ctx_.ReportProblem(ErrorCode::kMalformed, path,
                         "directory at cluster " + std::to_string(first) + " reached twice");
      return {};
    }
    std::vector<std::uint8_t> bytes;
    auto read = ReadChain(first, contiguous, std::min(length, kMaxDirectoryBytes), path,
                          [&](ByteView piece) -> Result<void> {
                            bytes.insert(bytes.end(), piece.begin(), piece.end());
                            return {};
                          });
    if (!read) return Forward(read);
    struct Subdir {
      std::string path;
      std::uint32_t cluster;
      bool contiguous;
      std::uint64_t length;
    };
    std::vector<Subdir> subdirs;
    const ByteView dir(bytes.data(), bytes.size());
    for (std::uint64_t pos = 0; pos + 32 <= dir.size(); pos += 32) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::uint8_t type = dir[pos];
      if (type == 0x00) break;
      if (type != 0x85) continue;  // bitmap, up-case table, label, deleted or stray entries
      const std::uint64_t count = dir[pos + 1];
      if (count < 2 || pos + 32 * (count + 1) > dir.size()) {
        ctx_.ReportProblem(ErrorCode::kMalformed, path, "exFAT file entry set cut or too short");
        continue;
      }
      const ByteView set = dir.subspan(pos, 32 * (count + 1));
      pos += 32 * count;
      std::string name;
      auto entry = ParseSet(set, name);
      const std::string member = path.empty() ? name : path + "/" + name;
      if (!entry) {
        ctx_.ReportProblem(entry.error(), member);
        continue;
      }
      if (entry->directory) {
        auto made = ctx_.out().CreateDirectory(member, 0755);
        if (!ctx_.ContinueAfter(made, member)) return made;
        if (made && entry->first != 0 && entry->length != 0) {
          subdirs.push_back({member, entry->first, entry->contiguous, entry->length});
        }
        continue;
      }
      if (entry->length / v_.cluster_bytes > v_.cluster_count) {
        ctx_.ReportProblem(ErrorCode::kMalformed, member,
                           "exFAT data length beyond the volume; skipped");
        continue;
      }
      CLEARBOX_TRY(WriteFile(member, *entry));
    }
    for (const Subdir& s : subdirs) {
      if (depth + 1 > kMaxDepth) {
        ctx_.ReportProblem(ErrorCode::kMalformed, s.path, "exFAT directories nested too deep");
        continue;
      }
      CLEARBOX_TRY(WalkDirectory(s.cluster, s.contiguous, s.length, s.path, depth + 1));
    }
    return {};
  }

  struct FileEntry {
    bool directory = false;
    bool contiguous = false;
    std::uint32_t first = 0;
    std::uint64_t valid = 0;
    std::uint64_t length = 0;
  };

  // One entry set (File, Stream Extension, File Names); the name goes to `name` even when
  // the set is refused, for the problem's path.
  static Result<FileEntry> ParseSet(ByteView set, std::string& name) {
    std::uint16_t sum = 0;
    for (std::size_t i = 0; i < set.size(); ++i) {
      if (i == 2 || i == 3) continue;
      sum = static_cast<std::uint16_t>(((sum & 1) ? 0x8000 : 0) + (sum >> 1) + set[i]);
    }
    const ByteView stream = set.subspan(32, 32);
    if (stream[0] != 0xc0) return Fail(ErrorCode::kMalformed, "exFAT set without stream entry");
    const std::size_t name_length = stream[3];
    std::vector<std::uint16_t> units;
    for (std::size_t e = 64; e + 32 <= set.size() && units.size() < name_length; e += 32) {
      if (set[e] != 0xc1) break;
      for (std::size_t k = 0; k < 15 && units.size() < name_length; ++k) {
        units.push_back(LoadU16(set.data() + e + 2 + 2 * k, Endian::kLittle));
      }
    }
    if (std::find(units.begin(), units.end(), 0) != units.end()) {
      name = "(name with NUL)";
      return Fail(ErrorCode::kMalformed, "exFAT name with NUL; skipped");
    }
    name = Utf16ToUtf8(units);
    if (sum != LoadU16(set.data() + 2, Endian::kLittle)) {
      return Fail(ErrorCode::kMalformed, "exFAT entry set checksum mismatch; skipped");
    }
    if (units.size() != name_length || name.empty() || name == "." || name == ".." ||
        name.find('/') != std::string::npos) {
      return Fail(ErrorCode::kMalformed, "exFAT entry with a bad name; skipped");
    }
    FileEntry f;
    f.directory = (LoadU16(set.data() + 4, Endian::kLittle) & 0x10) != 0;
    f.contiguous = (stream[1] & 0x02) != 0;
    f.first = LoadU32(stream.data() + 20, Endian::kLittle);
    f.valid = LoadU64(stream.data() + 8, Endian::kLittle);
    f.length = LoadU64(stream.data() + 24, Endian::kLittle);
    f.valid = std::min(f.valid, f.length);
    return f;
  }

  Result<void> WriteFile(const std::string& member, const FileEntry& f) {
    auto writer = ctx_.out().CreateFile(member, 0644);
    if (!writer) {
      if (!ctx_.ContinueAfter(Result<void>(Forward(writer)), member)) return Forward(writer);
      return {};
    }
    if (f.length > 0) {
      auto read = ReadChain(f.first, f.contiguous, f.valid, member,
                            [&](ByteView piece) { return writer->Write(piece); });
      if (!read && !ctx_.ContinueAfter(Result<void>(Forward(read)), member)) {
        return Forward(read);
      }
      if (read && *read == f.valid && f.length > f.valid) {
        auto zeros = writer->WriteZeros(f.length - f.valid);
        if (!ctx_.ContinueAfter(zeros, member)) return zeros;
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

class ExfatHandler final : public Handler {
 public:
  std::string_view Name() const override { return "exfat"; }
  std::string_view Description() const override {
    return "exFAT filesystem (FAT chains and contiguous NoFatChain files)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"EXFAT   ", 3}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto volume = ParseBootSector(data);
    if (!volume) return Forward(volume);
    return std::min<std::uint64_t>(volume->total_bytes, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto volume = ParseBootSector(data);
    if (!volume) return Forward(volume);
    if (volume->total_bytes > data.size()) {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "exFAT volume of " + std::to_string(volume->total_bytes) +
                            " bytes cut at " + std::to_string(data.size()));
    }
    if (!BootChecksumOk(data, *volume)) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "exFAT boot region checksum mismatch");
    }
    const ByteView fs = data.subspan(0, std::min<std::uint64_t>(volume->total_bytes, data.size()));
    ExfatExtraction extraction(fs, *volume, ctx);
    CLEARBOX_TRY(extraction.Run());
    return fs.size();
  }
};

}  // namespace

const Handler& GetExfatHandler() {
  static const ExfatHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
