// CramFS (both byte orders): our own bounds-checked parser. 12-byte inodes, directories as
// packed entry lists, file data as a block pointer table followed by zlib blocks of 4 KiB.
// Big-endian images (mkfs.cramfs -N big, Linux on a big-endian host) store every 32-bit
// field byte-swapped and their inode bit-fields in big-endian bit order: mode:16 uid:16 /
// size:24 gid:8 / namelen:6 offset:26 counted from the most significant bit.
#include <zlib.h>

#include <bit>
#include <string>
#include <unordered_set>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kMagic = 0x28cd3d45;
constexpr std::string_view kSignature = "Compressed ROMFS";
constexpr std::size_t kSuperSize = 76;
constexpr std::size_t kPadOffset = 512;  // an image may start with a 512-byte boot pad
constexpr std::size_t kInodeSize = 12;
constexpr std::uint64_t kPageSize = 4096;
constexpr std::uint32_t kKnownFlags = 0x1 | 0x2 | 0x100 | 0x200 | 0x400 | 0x800;
constexpr std::uint32_t kFlagExtBlockPointers = 0x800;
constexpr std::size_t kMaxDepth = 256;

// A decoded 12-byte inode.
struct CramInode {
  std::uint32_t mode = 0;
  std::uint32_t size = 0;
  std::uint32_t namelen = 0;  // bytes
  std::uint64_t offset = 0;   // bytes from the image start
};

// Decodes the 12-byte inode at `p` in the image's byte (and bit-field) order.
CramInode DecodeInode(const std::uint8_t* p, Endian order) {
  const std::uint32_t w0 = LoadU32(p, order);
  const std::uint32_t w1 = LoadU32(p + 4, order);
  const std::uint32_t w2 = LoadU32(p + 8, order);
  CramInode i;
  if (order == Endian::kLittle) {
    i.mode = w0 & 0xffffu;
    i.size = w1 & 0xffffffu;
    i.namelen = (w2 & 0x3fu) * 4;
    i.offset = std::uint64_t{w2 >> 6} * 4;
  } else {
    i.mode = w0 >> 16;
    i.size = w1 >> 8;
    i.namelen = (w2 >> 26) * 4;
    i.offset = std::uint64_t{w2 & 0x3ffffffu} * 4;
  }
  return i;
}

// Where the superblock lies (0 or 512) and the image length.
struct CramLayout {
  std::size_t super = 0;
  std::uint64_t size = 0;
  std::uint32_t flags = 0;
  Endian order = Endian::kLittle;
};

Result<CramLayout> ProbeLayout(ByteView data) {
  CramLayout layout;
  // The magic read little-endian tells the byte order: kMagic or kMagic byte-swapped.
  auto magic_at = [&data, &layout](std::size_t off) {
    if (off + 4 > data.size()) return false;
    const std::uint32_t word = LoadU32(data.data() + off, Endian::kLittle);
    if (word == kMagic) {
      layout.order = Endian::kLittle;
    } else if (word == std::byteswap(kMagic)) {
      layout.order = Endian::kBig;
    } else {
      return false;
    }
    return true;
  };
  if (magic_at(0)) {
    layout.super = 0;
  } else if (magic_at(kPadOffset)) {
    for (std::size_t i = 0; i < kPadOffset; ++i) {
      if (data[i] != 0) return Fail(ErrorCode::kNotThisFormat, "cramfs pad not zero");
    }
    layout.super = kPadOffset;
  } else {
    return Fail(ErrorCode::kNotThisFormat, "no cramfs magic");
  }
  if (data.size() < layout.super + kSuperSize || !HasBytesAt(data, layout.super + 16, kSignature)) {
    return Fail(ErrorCode::kNotThisFormat, "no cramfs signature");
  }
  const auto* sb = data.data() + layout.super;
  layout.size = LoadU32(sb + 4, layout.order);
  layout.flags = LoadU32(sb + 8, layout.order);
  if ((layout.flags & ~kKnownFlags) != 0) {
    return Fail(ErrorCode::kNotThisFormat, "unknown cramfs flags");
  }
  if (layout.size < layout.super + kSuperSize) {
    return Fail(ErrorCode::kNotThisFormat, "cramfs size not sane");
  }
  const CramInode root = DecodeInode(sb + 64, layout.order);
  if ((root.mode & 0xF000u) != 0x4000u) {
    return Fail(ErrorCode::kNotThisFormat, "cramfs root is not a directory");
  }
  if (root.size != 0 && root.offset < layout.super + kSuperSize) {
    return Fail(ErrorCode::kNotThisFormat, "cramfs root offset not sane");
  }
  if (layout.size > data.size()) {
    return Fail(ErrorCode::kTruncated, "truncated cramfs: " + std::to_string(layout.size) +
                                           " bytes declared, " + std::to_string(data.size()) +
                                           " available");
  }
  return layout;
}

class CramExtraction {
 public:
  CramExtraction(ByteView image, const CramLayout& layout, ExtractContext& ctx)
      : image_(image), layout_(layout), ctx_(ctx) {}
  ~CramExtraction() {
    if (zinit_) inflateEnd(&zs_);
  }
  CramExtraction(const CramExtraction&) = delete;
  CramExtraction& operator=(const CramExtraction&) = delete;

  Result<void> Run() {
    if (inflateInit(&zs_) != Z_OK) return Fail(ErrorCode::kInternal, "zlib inflateInit failed");
    zinit_ = true;
    const CramInode root = DecodeInode(image_.data() + layout_.super + 64, layout_.order);
    struct Pending {
      std::string path;
      CramInode inode;
      std::size_t depth;
    };
    std::vector<Pending> stack{{"", root, 0}};
    std::unordered_set<std::uint64_t> visited{root.offset};
    std::vector<std::pair<std::string, std::string>> symlinks;
    const std::uint64_t max_entries = ctx_.budget().run().limits().max_files;
    std::uint64_t seen = 0;
    while (!stack.empty()) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      Pending dir = std::move(stack.back());
      stack.pop_back();
      if (!dir.path.empty()) {
        auto r = ctx_.out().CreateDirectory(dir.path, dir.inode.mode & 07777u);
        if (!ctx_.ContinueAfter(r, dir.path)) return r;
      }
      if (dir.inode.size == 0) continue;  // empty directories have offset 0
      std::uint64_t pos = dir.inode.offset;
      const std::uint64_t end = pos + dir.inode.size;
      if (end > image_.size() || pos < layout_.super + kSuperSize) {
        ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "cramfs directory out of bounds");
        continue;
      }
      while (pos < end) {
        if (end - pos < kInodeSize) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "cramfs directory entry cut short");
          break;
        }
        const CramInode inode = DecodeInode(image_.data() + pos, layout_.order);
        pos += kInodeSize;
        if (inode.namelen == 0 || end - pos < inode.namelen) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "cramfs entry name out of bounds");
          break;
        }
        std::string name(reinterpret_cast<const char*>(image_.data() + pos), inode.namelen);
        pos += inode.namelen;
        while (!name.empty() && name.back() == '\0') name.pop_back();
        if (++seen > max_entries) {
          return Fail(
              ErrorCode::kLimitExceeded,
              "cramfs has more than " + std::to_string(max_entries) + " entries (--max-files)");
        }
        if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
            name.find('\0') != std::string::npos) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "cramfs entry with a bad name");
          continue;
        }
        const std::string path = dir.path.empty() ? name : dir.path + "/" + name;
        const std::uint32_t type = inode.mode & 0xF000u;
        const std::uint32_t mode = inode.mode & 07777u;
        Result<void> r;
        switch (type) {
          case 0x4000u:
            if (inode.size != 0 && !visited.insert(inode.offset).second) {
              r = Fail(ErrorCode::kMalformed, "cramfs directory seen twice (loop); skipped");
            } else if (dir.depth + 1 > kMaxDepth) {
              r = Fail(ErrorCode::kMalformed, "cramfs directories nested too deep");
            } else {
              stack.push_back({path, inode, dir.depth + 1});
            }
            break;
          case 0x8000u: {
            auto writer = ctx_.out().CreateFile(path, mode);
            if (!writer) {
              r = Forward(writer);
              break;
            }
            r = ReadData(
                inode, [&writer](ByteView b) { return writer->Write(b); },
                [&writer](std::uint64_t n) { return writer->WriteZeros(n); });
            auto closed = writer->Close();
            if (r) r = closed;
            break;
          }
          case 0xA000u: {
            std::string target;
            if (inode.size > kPageSize) {
              r = Fail(ErrorCode::kMalformed, "cramfs symlink target too long");
              break;
            }
            r = ReadData(
                inode,
                [&target](ByteView b) -> Result<void> {
                  target.append(reinterpret_cast<const char*>(b.data()), b.size());
                  return {};
                },
                [&target](std::uint64_t n) -> Result<void> {
                  target.append(n, '\0');
                  return {};
                });
            if (r) symlinks.emplace_back(path, std::move(target));
            break;
          }
          case 0x2000u:
          case 0x6000u:
            r = ctx_.out().RecordSpecial(
                path, type == 0x6000u ? EntryType::kBlockDevice : EntryType::kCharDevice, mode,
                (inode.size >> 8) & 0xffu, inode.size & 0xffu);
            break;
          case 0x1000u: r = ctx_.out().RecordSpecial(path, EntryType::kFifo, mode, 0, 0); break;
          case 0xC000u: r = ctx_.out().RecordSpecial(path, EntryType::kSocket, mode, 0, 0); break;
          default: r = Fail(ErrorCode::kMalformed, "cramfs inode of unknown type"); break;
        }
        if (!ctx_.ContinueAfter(r, path)) return r;
      }
    }
    for (const auto& [path, target] : symlinks) {
      auto r = ctx_.out().CreateSymlink(path, target);
      if (!ctx_.ContinueAfter(r, path)) return r;
    }
    return {};
  }

 private:
  // Decompresses a file's blocks, passing each to `write` (holes to `zeros`).
  template <class Write, class Zeros>
  Result<void> ReadData(const CramInode& inode, Write write, Zeros zeros) {
    if (inode.size == 0) return {};
    if (layout_.flags & kFlagExtBlockPointers) {
      return Fail(ErrorCode::kUnsupported, "cramfs extended block pointers not supported");
    }
    const std::uint64_t blocks = (inode.size + kPageSize - 1) / kPageSize;
    const std::uint64_t table = inode.offset;
    if (table < layout_.super + kSuperSize || table > image_.size() ||
        (image_.size() - table) / 4 < blocks) {
      return Fail(ErrorCode::kMalformed, "cramfs block table out of bounds");
    }
    std::uint64_t start = table + blocks * 4;
    std::uint64_t left = inode.size;
    for (std::uint64_t i = 0; i < blocks; ++i) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::uint64_t end = LoadU32(image_.data() + table + i * 4, layout_.order);
      const std::uint64_t want = std::min(left, kPageSize);
      if (end < start || end > image_.size() || end - start > 2 * kPageSize) {
        return Fail(ErrorCode::kMalformed, "cramfs block pointer out of bounds");
      }
      if (end == start) {
        CLEARBOX_TRY(zeros(want));
      } else {
        CLEARBOX_TRY(Inflate(image_.subspan(start, end - start), want));
        CLEARBOX_TRY(write(ByteView(page_, want)));
      }
      left -= want;
      start = end;
    }
    return {};
  }

  // Inflates one zlib block into page_; it must give exactly `want` bytes.
  Result<void> Inflate(ByteView in, std::uint64_t want) {
    if (inflateReset(&zs_) != Z_OK) return Fail(ErrorCode::kInternal, "zlib inflateReset failed");
    zs_.next_in = const_cast<Bytef*>(in.data());
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = page_;
    zs_.avail_out = sizeof page_;
    const int rc = inflate(&zs_, Z_FINISH);
    if (rc != Z_STREAM_END || sizeof page_ - zs_.avail_out != want) {
      return Fail(ErrorCode::kMalformed, "cramfs data block does not decompress");
    }
    return {};
  }

  ByteView image_;
  CramLayout layout_;
  ExtractContext& ctx_;
  z_stream zs_{};
  bool zinit_ = false;
  std::uint8_t page_[kPageSize] = {};
};

class CramfsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "cramfs"; }
  std::string_view Description() const override {
    return "cramfs compressed ROM filesystem (little- and big-endian)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x45\x3d\xcd\x28", 4), 0},
                                                {std::string_view("\x45\x3d\xcd\x28", 4), 512},
                                                {std::string_view("\x28\xcd\x3d\x45", 4), 0},
                                                {std::string_view("\x28\xcd\x3d\x45", 4), 512}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ProbeLayout(data);
    if (!layout) return Forward(layout);
    return layout->size;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout = ProbeLayout(data);
    if (!layout) return Forward(layout);
    CramExtraction extraction(data.subspan(0, layout->size), *layout, ctx);
    CLEARBOX_TRY(extraction.Run());
    return layout->size;
  }
};

}  // namespace

const Handler& GetCramfsHandler() {
  static const CramfsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
