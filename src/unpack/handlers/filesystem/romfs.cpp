// romfs ("-rom1fs-", big-endian): our own bounds-checked parser. 16-byte aligned file
// headers (next/spec/size/checksum + name) chained per directory.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic = "-rom1fs-";
constexpr std::uint64_t kHeaderSize = 16;
constexpr std::uint64_t kPadTo = 1024;  // genromfs pads images to 1 KiB
constexpr std::size_t kMaxDepth = 256;
constexpr std::size_t kMaxName = 4096;

enum RomType : std::uint32_t {
  kHardLink = 0,
  kDirectory = 1,
  kRegular = 2,
  kSymlink = 3,
  kBlockDev = 4,
  kCharDev = 5,
  kSocket = 6,
  kFifo = 7,
};

std::uint64_t Align16(std::uint64_t v) {
  return (v + 15) & ~std::uint64_t{15};
}

// Reads a NUL-terminated, 16-byte padded name at `pos` (within `limit`); returns the name
// and sets `after` to the first byte past its padding.
Result<std::string> ReadName(ByteView fs, std::uint64_t pos, std::uint64_t& after) {
  const std::uint64_t limit = std::min<std::uint64_t>(fs.size(), pos + kMaxName);
  for (std::uint64_t i = pos; i < limit; ++i) {
    if (fs[i] == 0) {
      after = Align16(i + 1);
      return std::string(reinterpret_cast<const char*>(fs.data() + pos), i - pos);
    }
  }
  return Fail(ErrorCode::kMalformed, "romfs name not terminated");
}

// The checksum rule: the big-endian u32 words of the first min(512, size) bytes sum to 0.
bool ChecksumOk(ByteView fs) {
  const std::size_t n = std::min<std::size_t>(512, fs.size()) & ~std::size_t{3};
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < n; i += 4) sum += LoadU32(fs.data() + i, Endian::kBig);
  return sum == 0;
}

// Returns the full size (as declared) and the chunk length (padded when the pad is there).
Result<std::pair<std::uint64_t, std::uint64_t>> ProbeRomfs(ByteView data) {
  if (!HasBytesAt(data, 0, kMagic) || data.size() < 32) {
    return Fail(ErrorCode::kNotThisFormat, "no romfs magic");
  }
  const std::uint64_t full = LoadU32(data.data() + 8, Endian::kBig);
  if (full < 32) return Fail(ErrorCode::kNotThisFormat, "romfs size not sane");
  bool named = false;
  for (std::size_t i = 16; i < std::min<std::size_t>(data.size(), 16 + 256); ++i) {
    if (data[i] == 0) {
      named = true;
      break;
    }
  }
  if (!named) return Fail(ErrorCode::kNotThisFormat, "romfs volume name not terminated");
  // The checksum of the first 512 bytes (fewer for tiny images) tells a real superblock
  // from the magic string inside some program.
  if (data.size() >= std::min<std::uint64_t>(512, full) &&
      !ChecksumOk(data.subspan(0, std::min<std::uint64_t>(512, full)))) {
    return Fail(ErrorCode::kNotThisFormat, "romfs superblock checksum mismatch");
  }
  if (full > data.size()) {
    return Fail(ErrorCode::kTruncated, "truncated romfs: " + std::to_string(full) +
                                           " bytes declared, " + std::to_string(data.size()) +
                                           " available");
  }
  const std::uint64_t padded = (full + kPadTo - 1) / kPadTo * kPadTo;
  if (padded <= data.size()) {
    bool zeros = true;
    for (std::uint64_t i = full; i < padded && zeros; ++i) zeros = data[i] == 0;
    if (zeros) return std::pair{full, padded};
  }
  return std::pair{full, full};
}

class RomfsExtraction {
 public:
  RomfsExtraction(ByteView fs, ExtractContext& ctx) : fs_(fs), ctx_(ctx) {}

  Result<void> Run() {
    if (!ChecksumOk(fs_)) {
      ctx_.ReportProblem(ErrorCode::kMalformed, "", "romfs superblock checksum mismatch");
    }
    std::uint64_t first = 0;
    auto volume = ReadName(fs_, 16, first);
    if (!volume) return Forward(volume);
    struct Pending {
      std::string path;
      std::uint64_t first;
      std::size_t depth;
    };
    std::vector<Pending> stack{{"", first, 0}};
    std::vector<std::pair<std::string, std::uint64_t>> hardlinks;
    std::vector<std::pair<std::string, std::string>> symlinks;
    const std::uint64_t max_entries = ctx_.budget().run().limits().max_files;
    std::uint64_t seen = 0;
    while (!stack.empty()) {
      Pending dir = std::move(stack.back());
      stack.pop_back();
      std::uint64_t pos = dir.first;
      while (pos != 0) {
        CLEARBOX_TRY(ctx_.budget().CheckDeadline());
        if (!visited_.insert(pos).second) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "romfs header chain loops");
          break;
        }
        if (pos % 16 != 0 || pos > fs_.size() || fs_.size() - pos < kHeaderSize) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "romfs header out of bounds");
          break;
        }
        const std::uint32_t next = LoadU32(fs_.data() + pos, Endian::kBig);
        const std::uint32_t spec = LoadU32(fs_.data() + pos + 4, Endian::kBig);
        const std::uint64_t size = LoadU32(fs_.data() + pos + 8, Endian::kBig);
        const std::uint64_t here = pos;
        pos = next & ~0xfu;
        std::uint64_t data_at = 0;
        auto name = ReadName(fs_, here + kHeaderSize, data_at);
        if (!name) {
          ctx_.ReportProblem(name.error(), dir.path);
          break;
        }
        if (*name == "." || *name == "..") continue;
        if (++seen > max_entries) {
          return Fail(
              ErrorCode::kLimitExceeded,
              "romfs has more than " + std::to_string(max_entries) + " entries (--max-files)");
        }
        if (name->empty() || name->find('/') != std::string::npos) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "romfs entry with a bad name");
          continue;
        }
        const std::string path = dir.path.empty() ? *name : dir.path + "/" + *name;
        const std::uint32_t mode = (next & 8u) ? 0755u : 0644u;
        Result<void> r;
        const bool data_ok = data_at <= fs_.size() && fs_.size() - data_at >= size;
        switch (next & 7u) {
          case kHardLink: hardlinks.emplace_back(path, spec & ~0xfu); break;
          case kDirectory:
            r = ctx_.out().CreateDirectory(path, 0755u);
            if (r) {
              if (dir.depth + 1 > kMaxDepth) {
                r = Fail(ErrorCode::kMalformed, "romfs directories nested too deep");
              } else {
                stack.push_back({path, spec & ~0xfu, dir.depth + 1});
              }
            }
            break;
          case kRegular:
            if (!data_ok) {
              r = Fail(ErrorCode::kMalformed, "romfs file data out of bounds");
            } else {
              r = ctx_.out().WriteFile(path, fs_.subspan(data_at, size), mode);
              if (r) file_paths_[here] = path;
            }
            break;
          case kSymlink:
            if (!data_ok || size > kMaxName) {
              r = Fail(ErrorCode::kMalformed, "romfs symlink target out of bounds");
            } else {
              symlinks.emplace_back(path, std::string(AsText(fs_.subspan(data_at, size))));
            }
            break;
          case kBlockDev:
          case kCharDev:
            r = ctx_.out().RecordSpecial(
                path, (next & 7u) == kBlockDev ? EntryType::kBlockDevice : EntryType::kCharDevice,
                mode, spec >> 16, spec & 0xffffu);
            break;
          case kSocket: r = ctx_.out().RecordSpecial(path, EntryType::kSocket, mode, 0, 0); break;
          default: r = ctx_.out().RecordSpecial(path, EntryType::kFifo, mode, 0, 0); break;
        }
        if (!ctx_.ContinueAfter(r, path)) return r;
      }
    }
    for (const auto& [path, target] : hardlinks) {
      const auto it = file_paths_.find(target);
      Result<void> r = it == file_paths_.end()
                           ? Fail(ErrorCode::kMalformed, "romfs hard link to no regular file")
                           : ctx_.out().CreateHardlink(path, it->second);
      if (!ctx_.ContinueAfter(r, path)) return r;
    }
    for (const auto& [path, target] : symlinks) {
      auto r = ctx_.out().CreateSymlink(path, target);
      if (!ctx_.ContinueAfter(r, path)) return r;
    }
    return {};
  }

 private:
  ByteView fs_;
  ExtractContext& ctx_;
  std::unordered_set<std::uint64_t> visited_;
  std::unordered_map<std::uint64_t, std::string> file_paths_;
};

class RomfsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "romfs"; }
  std::string_view Description() const override {
    return "Linux ROMFS (-rom1fs-), read-only filesystem of small boot images";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto sizes = ProbeRomfs(data);
    if (!sizes) return Forward(sizes);
    return sizes->second;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto sizes = ProbeRomfs(data);
    if (!sizes) return Forward(sizes);
    RomfsExtraction extraction(data.subspan(0, sizes->first), ctx);
    CLEARBOX_TRY(extraction.Run());
    return sizes->second;
  }
};

}  // namespace

const Handler& GetRomfsHandler() {
  static const RomfsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
