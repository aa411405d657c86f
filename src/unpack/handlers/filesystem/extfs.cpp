// ext2/ext3/ext4: read with libext2fs through a read-only io_manager over the in-memory
// chunk; the tree is walked from the root inode with a visited-inode set.
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kSuperOffset = 1024;
constexpr std::size_t kMagicOffset = kSuperOffset + 56;
constexpr std::uint32_t kIncompat64Bit = 0x80;
constexpr std::size_t kReadBuffer = 256 * 1024;
constexpr std::size_t kMaxDirDepth = 256;
constexpr std::uint64_t kMaxSymlinkTarget = 4096;

// The bytes an in-memory channel reads; the channel name carries its address.
struct MemoryImage {
  const std::uint8_t* data;
  std::size_t size;
};

errcode_t MemOpen(const char* name, int /*flags*/, io_channel* channel);

errcode_t MemClose(io_channel channel) {
  if (--channel->refcount > 0) return 0;
  delete[] channel->name;
  delete channel;
  return 0;
}

errcode_t MemSetBlksize(io_channel channel, int blksize) {
  if (blksize <= 0 || blksize > (1 << 16)) return EXT2_ET_INVALID_ARGUMENT;
  channel->block_size = blksize;
  return 0;
}

errcode_t MemReadBlk64(io_channel channel, unsigned long long block, int count, void* data) {
  const auto* image = static_cast<const MemoryImage*>(channel->private_data);
  const std::uint64_t bytes =
      count < 0
          ? static_cast<std::uint64_t>(-static_cast<std::int64_t>(count))
          : static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(channel->block_size);
  const std::uint64_t bs = static_cast<std::uint64_t>(channel->block_size);
  if (block > image->size / (bs ? bs : 1)) return EXT2_ET_SHORT_READ;
  const std::uint64_t offset = block * bs;
  if (offset > image->size || image->size - offset < bytes) {
    // Zero what lies past the end, then report the short read.
    const std::uint64_t have = offset < image->size ? image->size - offset : 0;
    if (have) std::memcpy(data, image->data + offset, have);
    std::memset(static_cast<std::uint8_t*>(data) + have, 0, bytes - have);
    return EXT2_ET_SHORT_READ;
  }
  std::memcpy(data, image->data + offset, bytes);
  return 0;
}

errcode_t MemReadBlk(io_channel channel, unsigned long block, int count, void* data) {
  return MemReadBlk64(channel, block, count, data);
}

errcode_t MemWriteBlk(io_channel, unsigned long, int, const void*) {
  return EXT2_ET_RO_FILSYS;
}
errcode_t MemWriteBlk64(io_channel, unsigned long long, int, const void*) {
  return EXT2_ET_RO_FILSYS;
}
errcode_t MemWriteByte(io_channel, unsigned long, int, const void*) {
  return EXT2_ET_RO_FILSYS;
}
errcode_t MemFlush(io_channel) {
  return 0;
}
errcode_t MemSetOption(io_channel, const char*, const char*) {
  return EXT2_ET_INVALID_ARGUMENT;
}
errcode_t MemUnimplemented(io_channel, unsigned long long, unsigned long long) {
  return EXT2_ET_UNIMPLEMENTED;
}

struct struct_io_manager MakeManager() {
  struct struct_io_manager m {};
  m.magic = EXT2_ET_MAGIC_IO_MANAGER;
  m.name = "clearbox memory I/O manager";
  m.open = MemOpen;
  m.close = MemClose;
  m.set_blksize = MemSetBlksize;
  m.read_blk = MemReadBlk;
  m.write_blk = MemWriteBlk;
  m.flush = MemFlush;
  m.write_byte = MemWriteByte;
  m.set_option = MemSetOption;
  m.read_blk64 = MemReadBlk64;
  m.write_blk64 = MemWriteBlk64;
  m.discard = MemUnimplemented;
  m.cache_readahead = MemUnimplemented;
  m.zeroout = MemUnimplemented;
  return m;
}

struct struct_io_manager kMemoryManager = MakeManager();

errcode_t MemOpen(const char* name, int /*flags*/, io_channel* channel) {
  void* ptr = nullptr;
  if (name == nullptr || std::sscanf(name, "mem:%p", &ptr) != 1 || ptr == nullptr) {
    return EXT2_ET_BAD_DEVICE_NAME;
  }
  auto* ch = new struct_io_channel{};
  ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  ch->manager = &kMemoryManager;
  const std::size_t len = std::strlen(name);
  ch->name = new char[len + 1];
  std::memcpy(ch->name, name, len + 1);
  ch->block_size = 1024;
  ch->refcount = 1;
  ch->private_data = ptr;
  *channel = ch;
  return 0;
}

// Reads the superblock fields the probe needs; returns the chunk length.
Result<std::uint64_t> ProbeSuper(ByteView data) {
  if (data.size() < kSuperOffset + 1024)
    return Fail(ErrorCode::kNotThisFormat, "short ext superblock");
  const auto* sb = data.data() + kSuperOffset;
  auto u32 = [sb](std::size_t off) { return LoadU32(sb + off, Endian::kLittle); };
  if (LoadU16(data.data() + kMagicOffset, Endian::kLittle) != 0xEF53) {
    return Fail(ErrorCode::kNotThisFormat, "no ext magic");
  }
  const std::uint32_t inodes = u32(0);
  std::uint64_t blocks = u32(4);
  const std::uint32_t first_data_block = u32(20);
  const std::uint32_t log_block = u32(24);
  const std::uint32_t blocks_per_group = u32(32);
  const std::uint32_t inodes_per_group = u32(40);
  const std::uint32_t rev_level = u32(76);
  const std::uint32_t incompat = u32(0x60);
  if (log_block > 6 || inodes == 0 || blocks_per_group == 0 || inodes_per_group == 0 ||
      rev_level > 1 || first_data_block > 1 || (log_block == 0) != (first_data_block == 1)) {
    return Fail(ErrorCode::kNotThisFormat, "ext superblock not sane");
  }
  if (incompat & kIncompat64Bit) blocks |= std::uint64_t{u32(0x150)} << 32;
  const std::uint64_t block_size = 1024ULL << log_block;
  if (blocks == 0 || blocks > (std::uint64_t{1} << 48) / block_size) {
    return Fail(ErrorCode::kNotThisFormat, "ext block count not sane");
  }
  const std::uint64_t length = blocks * block_size;
  if (length > data.size()) {
    return Fail(ErrorCode::kTruncated, "truncated ext filesystem: " + std::to_string(length) +
                                           " bytes declared, " + std::to_string(data.size()) +
                                           " available");
  }
  return length;
}

std::string ExtError(errcode_t code) {
  return "libext2fs error " + std::to_string(code);
}

// One directory entry gathered by the iterate callback.
struct DirEntry {
  std::string name;
  ext2_ino_t ino;
};

int CollectEntry(ext2_ino_t, int, struct ext2_dir_entry* dirent, int, int, char*, void* priv) {
  auto* out = static_cast<std::vector<DirEntry>*>(priv);
  const int len = ext2fs_dirent_name_len(dirent);
  std::string name(dirent->name, static_cast<std::size_t>(len));
  if (name == "." || name == ".." || dirent->inode == 0) return 0;
  out->push_back({std::move(name), dirent->inode});
  return out->size() > (1u << 24) ? DIRENT_ABORT : 0;
}

class ExtExtraction {
 public:
  ExtExtraction(ext2_filsys fs, ExtractContext& ctx) : fs_(fs), ctx_(ctx) {}

  Result<void> Run() {
    struct Pending {
      std::string path;
      ext2_ino_t ino;
      std::size_t depth;
    };
    std::vector<Pending> stack{{"", EXT2_ROOT_INO, 0}};
    visited_.insert(EXT2_ROOT_INO);
    const std::uint64_t max_entries = ctx_.budget().run().limits().max_files;
    std::uint64_t seen = 0;
    while (!stack.empty()) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      Pending dir = std::move(stack.back());
      stack.pop_back();
      std::vector<DirEntry> entries;
      const errcode_t rc = ext2fs_dir_iterate2(fs_, dir.ino, 0, nullptr, CollectEntry, &entries);
      if (rc != 0) {
        ctx_.ReportProblem(ErrorCode::kMalformed, dir.path,
                           "ext directory unreadable: " + ExtError(rc));
      }
      if (dir.path == "lost+found" && entries.empty()) continue;
      if (!dir.path.empty()) {
        struct ext2_inode inode {};
        const std::uint32_t mode =
            ext2fs_read_inode(fs_, dir.ino, &inode) == 0 ? inode.i_mode & 07777u : 0755u;
        auto r = ctx_.out().CreateDirectory(dir.path, mode);
        if (!ctx_.ContinueAfter(r, dir.path)) return r;
      }
      for (const DirEntry& e : entries) {
        const std::string path = dir.path.empty() ? e.name : dir.path + "/" + e.name;
        if (e.name.find('/') != std::string::npos || e.name.find('\0') != std::string::npos ||
            e.name.empty()) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "ext entry with a bad name");
          continue;
        }
        if (++seen > max_entries) {
          return Fail(ErrorCode::kLimitExceeded, "ext filesystem has more than " +
                                                     std::to_string(max_entries) +
                                                     " entries (--max-files)");
        }
        struct ext2_inode inode {};
        const errcode_t irc = ext2fs_read_inode(fs_, e.ino, &inode);
        if (irc != 0) {
          ctx_.ReportProblem(ErrorCode::kMalformed, path, "ext inode unreadable: " + ExtError(irc));
          continue;
        }
        const std::uint32_t type = inode.i_mode & 0xF000u;
        if (type == LINUX_S_IFDIR) {
          if (!visited_.insert(e.ino).second) {
            ctx_.ReportProblem(ErrorCode::kMalformed, path,
                               "ext directory seen twice (loop); skipped");
          } else if (dir.depth + 1 > kMaxDirDepth) {
            ctx_.ReportProblem(ErrorCode::kMalformed, path, "ext directories nested too deep");
          } else {
            stack.push_back({path, e.ino, dir.depth + 1});
          }
          continue;
        }
        auto r = ExtractMember(path, e.ino, inode);
        if (!ctx_.ContinueAfter(r, path)) return r;
      }
    }
    for (const auto& [path, target] : symlinks_) {
      auto r = ctx_.out().CreateSymlink(path, target);
      if (!ctx_.ContinueAfter(r, path)) return r;
    }
    return {};
  }

 private:
  Result<void> ExtractMember(const std::string& path, ext2_ino_t ino, const ext2_inode& inode) {
    const std::uint32_t mode = inode.i_mode & 07777u;
    switch (inode.i_mode & 0xF000u) {
      case LINUX_S_IFREG: {
        auto [it, fresh] = first_path_.try_emplace(ino, path);
        if (!fresh) return ctx_.out().CreateHardlink(path, it->second);
        return ExtractFile(path, ino, mode);
      }
      case LINUX_S_IFLNK: {
        auto target = ReadSymlink(ino, inode);
        if (!target) return Forward(target);
        // Created after all files, so no file is ever written through one of them.
        symlinks_.emplace_back(path, std::move(*target));
        return {};
      }
      case LINUX_S_IFCHR:
      case LINUX_S_IFBLK: {
        std::uint32_t major = 0, minor = 0;
        if (inode.i_block[0] != 0) {
          major = (inode.i_block[0] >> 8) & 0xffu;
          minor = inode.i_block[0] & 0xffu;
        } else {
          const std::uint32_t dev = inode.i_block[1];
          major = (dev & 0xfff00u) >> 8;
          minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
        }
        const bool block = (inode.i_mode & 0xF000u) == LINUX_S_IFBLK;
        return ctx_.out().RecordSpecial(
            path, block ? EntryType::kBlockDevice : EntryType::kCharDevice, mode, major, minor);
      }
      case LINUX_S_IFIFO: return ctx_.out().RecordSpecial(path, EntryType::kFifo, mode, 0, 0);
      case LINUX_S_IFSOCK: return ctx_.out().RecordSpecial(path, EntryType::kSocket, mode, 0, 0);
      default: return Fail(ErrorCode::kMalformed, "ext inode of unknown type");
    }
  }

  Result<void> ExtractFile(const std::string& path, ext2_ino_t ino, std::uint32_t mode) {
    ext2_file_t file = nullptr;
    errcode_t rc = ext2fs_file_open(fs_, ino, 0, &file);
    if (rc != 0) return Fail(ErrorCode::kMalformed, "ext file unreadable: " + ExtError(rc));
    __u64 size = 0;
    (void)ext2fs_file_get_lsize(file, &size);
    auto writer = ctx_.out().CreateFile(path, mode);
    if (!writer) {
      ext2fs_file_close(file);
      return Forward(writer);
    }
    buffer_.resize(kReadBuffer);
    Result<void> status;
    std::uint64_t left = size;
    while (left > 0) {
      unsigned int got = 0;
      const auto want = static_cast<unsigned int>(std::min<std::uint64_t>(left, buffer_.size()));
      rc = ext2fs_file_read(file, buffer_.data(), want, &got);
      if (rc != 0) {
        status = Fail(ErrorCode::kMalformed, "ext file data unreadable: " + ExtError(rc));
        break;
      }
      if (got == 0) {
        status = Fail(ErrorCode::kMalformed, "ext file ends before its size");
        break;
      }
      status = writer->Write(ByteView(buffer_.data(), got));
      if (!status) break;
      left -= std::min<std::uint64_t>(got, left);
    }
    ext2fs_file_close(file);
    auto closed = writer->Close();
    if (!status) return status;
    return closed;
  }

  Result<std::string> ReadSymlink(ext2_ino_t ino, const ext2_inode& inode) {
    const std::uint64_t size = EXT2_I_SIZE(&inode);
    if (size == 0 || size > kMaxSymlinkTarget) {
      return Fail(ErrorCode::kMalformed, "ext symlink target size not sane");
    }
    if (ext2fs_is_fast_symlink(const_cast<ext2_inode*>(&inode))) {
      if (size >= sizeof(inode.i_block))
        return Fail(ErrorCode::kMalformed, "ext fast symlink too long");
      return std::string(reinterpret_cast<const char*>(inode.i_block), size);
    }
    if (inode.i_flags & EXT4_INLINE_DATA_FL) {
      size_t inline_size = 0;
      if (ext2fs_inline_data_size(fs_, ino, &inline_size) != 0 || inline_size > kMaxSymlinkTarget) {
        return Fail(ErrorCode::kMalformed, "ext inline symlink unreadable");
      }
      std::string target(inline_size, '\0');
      if (ext2fs_inline_data_get(fs_, ino, const_cast<ext2_inode*>(&inode), target.data(),
                                 &inline_size) != 0) {
        return Fail(ErrorCode::kMalformed, "ext inline symlink unreadable");
      }
      target.resize(static_cast<std::size_t>(
          std::min<std::uint64_t>(std::min<std::uint64_t>(inline_size, size), target.size())));
      return target;
    }
    ext2_file_t file = nullptr;
    if (ext2fs_file_open(fs_, ino, 0, &file) != 0) {
      return Fail(ErrorCode::kMalformed, "ext symlink unreadable");
    }
    std::string target(size, '\0');
    unsigned int got = 0;
    const errcode_t rc =
        ext2fs_file_read(file, target.data(), static_cast<unsigned int>(size), &got);
    ext2fs_file_close(file);
    if (rc != 0 || got != size) return Fail(ErrorCode::kMalformed, "ext symlink unreadable");
    return target;
  }

  ext2_filsys fs_;
  ExtractContext& ctx_;
  std::unordered_set<ext2_ino_t> visited_;
  std::unordered_map<ext2_ino_t, std::string> first_path_;
  std::vector<std::pair<std::string, std::string>> symlinks_;
  std::vector<std::uint8_t> buffer_;
};

class ExtfsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "extfs"; }
  std::string_view Description() const override {
    return "ext2/ext3/ext4 filesystem image (libext2fs)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x53\xef", 2), kMagicOffset}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override { return ProbeSuper(data); }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto length = ProbeSuper(data);
    if (!length) return Forward(length);
    MemoryImage image{data.data(), static_cast<std::size_t>(*length)};
    char name[64];
    std::snprintf(name, sizeof name, "mem:%p", static_cast<void*>(&image));
    ext2_filsys fs = nullptr;
    const errcode_t rc = ext2fs_open2(
        name, nullptr, EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0, &kMemoryManager, &fs);
    if (rc != 0 || fs == nullptr) {
      return Fail(ErrorCode::kMalformed, "ext filesystem cannot be opened: " + ExtError(rc));
    }
    ExtExtraction extraction(fs, ctx);
    auto result = extraction.Run();
    ext2fs_close_free(&fs);
    if (!result) return Forward(result);
    return *length;
  }
};

}  // namespace

const Handler& GetExtfsHandler() {
  static const ExtfsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
