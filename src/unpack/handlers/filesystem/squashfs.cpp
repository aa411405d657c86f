// SquashFS 4 (little-endian "hsqs"): read with libsquashfs over the in-memory chunk; files
// are decompressed by several threads, each with its own data reader and compressor.
#include <lzo/lzo1x.h>
#include <sqfs/block.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kSuperSize = 96;
constexpr std::uint32_t kNoFragment = 0xFFFFFFFFu;
constexpr std::uint32_t kBlockSizeMask = (1u << 24) - 1;
constexpr std::size_t kMaxDirDepth = 256;
constexpr unsigned kMaxThreads = 4;
// A fragment table entry is 16 bytes; the table is stored in 8 KiB metadata blocks whose
// locations (one u64 each) follow at fragment_table_start.
constexpr std::uint64_t kFragmentEntrySize = 16;
// The most fragment entries we load (a 64 MiB table); real images have far fewer.
constexpr std::uint64_t kMaxFragmentEntries = std::uint64_t{1} << 22;

std::string SqfsErrorText(int code) {
  switch (code) {
    case SQFS_ERROR_ALLOC: return "out of memory";
    case SQFS_ERROR_IO: return "read error";
    case SQFS_ERROR_COMPRESSOR: return "decompression failed";
    case SQFS_ERROR_CORRUPTED: return "corrupted data";
    case SQFS_ERROR_UNSUPPORTED: return "unsupported feature";
    case SQFS_ERROR_OVERFLOW: return "numeric overflow";
    case SQFS_ERROR_OUT_OF_BOUNDS: return "reference out of bounds";
    case SQFS_ERROR_SUPER_BLOCK_SIZE: return "bad block size";
    case SQFS_ERROR_NOT_DIR: return "not a directory";
    case SQFS_ERROR_NO_ENTRY: return "no such entry";
    case SQFS_ERROR_LINK_LOOP: return "directory loop";
    default: return "libsquashfs error " + std::to_string(code);
  }
}

// A read-only sqfs_file_t over bytes in memory (the mapped chunk); nothing is copied.
struct MemoryFile {
  sqfs_file_t base;
  ByteView data;

  static MemoryFile* Make(ByteView data) {
    auto* f = new MemoryFile{};
    f->base.base.destroy = [](sqfs_object_t* obj) { delete reinterpret_cast<MemoryFile*>(obj); };
    f->base.base.copy = [](const sqfs_object_t* obj) -> sqfs_object_t* {
      return reinterpret_cast<sqfs_object_t*>(Make(reinterpret_cast<const MemoryFile*>(obj)->data));
    };
    f->base.read_at = [](sqfs_file_t* file, sqfs_u64 offset, void* buffer, size_t size) -> int {
      const ByteView d = reinterpret_cast<MemoryFile*>(file)->data;
      if (offset > d.size() || d.size() - offset < size) return SQFS_ERROR_OUT_OF_BOUNDS;
      if (size) std::memcpy(buffer, d.data() + offset, size);
      return 0;
    };
    f->base.write_at = [](sqfs_file_t*, sqfs_u64, const void*, size_t) -> int {
      return SQFS_ERROR_IO;
    };
    f->base.get_size = [](const sqfs_file_t* file) -> sqfs_u64 {
      return reinterpret_cast<const MemoryFile*>(file)->data.size();
    };
    f->base.truncate = [](sqfs_file_t*, sqfs_u64) -> int { return SQFS_ERROR_IO; };
    f->data = data;
    return f;
  }
};

// LZO decompressor (Debian's libsquashfs is built without LZO), over liblzo2.
struct LzoDecompressor {
  sqfs_compressor_t base;
  sqfs_u32 block_size;

  static LzoDecompressor* Make(sqfs_u32 block_size) {
    static std::once_flag once;
    std::call_once(once, [] { (void)lzo_init(); });
    auto* c = new LzoDecompressor{};
    c->block_size = block_size;
    c->base.base.destroy = [](sqfs_object_t* obj) {
      delete reinterpret_cast<LzoDecompressor*>(obj);
    };
    c->base.base.copy = [](const sqfs_object_t* obj) -> sqfs_object_t* {
      return reinterpret_cast<sqfs_object_t*>(
          Make(reinterpret_cast<const LzoDecompressor*>(obj)->block_size));
    };
    c->base.get_configuration = [](const sqfs_compressor_t* cmp, sqfs_compressor_config_t* cfg) {
      std::memset(cfg, 0, sizeof(*cfg));
      cfg->id = SQFS_COMP_LZO;
      cfg->flags = SQFS_COMP_FLAG_UNCOMPRESS;
      cfg->block_size = reinterpret_cast<const LzoDecompressor*>(cmp)->block_size;
    };
    c->base.write_options = [](sqfs_compressor_t*, sqfs_file_t*) -> int { return 0; };
    // Options (algorithm, level) do not matter for lzo1x decompression.
    c->base.read_options = [](sqfs_compressor_t*, sqfs_file_t*) -> int { return 0; };
    c->base.do_block = [](sqfs_compressor_t*, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                          sqfs_u32 outsize) -> sqfs_s32 {
      lzo_uint out_len = outsize;
      const int rc = lzo1x_decompress_safe(in, size, out, &out_len, nullptr);
      if (rc != LZO_E_OK || out_len > outsize) return SQFS_ERROR_COMPRESSOR;
      return static_cast<sqfs_s32>(out_len);
    };
    return c;
  }
};

// Owns any libsquashfs object and destroys it with sqfs_destroy.
struct SqfsDeleter {
  void operator()(void* obj) const { sqfs_destroy(obj); }
};
template <class T>
using SqfsPtr = std::unique_ptr<T, SqfsDeleter>;
// Owns memory that libsquashfs allocated (inodes, entries, blocks).
struct SqfsFree {
  void operator()(void* p) const { sqfs_free(p); }
};
using InodePtr = std::unique_ptr<sqfs_inode_generic_t, SqfsFree>;

bool IsPowerOfTwo(std::uint32_t v) {
  return v && (v & (v - 1)) == 0;
}

// Checks the superblock; returns the chunk length (bytes_used, padded to 4 KiB when the
// padding is present).
Result<std::uint64_t> ProbeSuper(ByteView data) {
  if (!HasBytesAt(data, 0, "hsqs")) return Fail(ErrorCode::kNotThisFormat, "no squashfs magic");
  if (data.size() < kSuperSize) return Fail(ErrorCode::kNotThisFormat, "short squashfs superblock");
  const auto* p = data.data();
  const std::uint32_t block_size = LoadU32(p + 12, Endian::kLittle);
  const std::uint16_t compression = LoadU16(p + 20, Endian::kLittle);
  const std::uint16_t block_log = LoadU16(p + 22, Endian::kLittle);
  const std::uint16_t major = LoadU16(p + 28, Endian::kLittle);
  const std::uint16_t minor = LoadU16(p + 30, Endian::kLittle);
  const std::uint64_t bytes_used = LoadU64(p + 40, Endian::kLittle);
  const std::uint64_t inode_table = LoadU64(p + 64, Endian::kLittle);
  const std::uint64_t dir_table = LoadU64(p + 72, Endian::kLittle);
  if (major != 4 || minor != 0) {
    return Fail(ErrorCode::kNotThisFormat, "squashfs version not 4.0");
  }
  if (!IsPowerOfTwo(block_size) || block_size < SQFS_MIN_BLOCK_SIZE ||
      block_size > SQFS_MAX_BLOCK_SIZE || block_log >= 32 || (1u << block_log) != block_size) {
    return Fail(ErrorCode::kNotThisFormat, "squashfs block size not sane");
  }
  if (compression < SQFS_COMP_MIN || compression > SQFS_COMP_MAX) {
    return Fail(ErrorCode::kNotThisFormat, "unknown squashfs compressor");
  }
  if (bytes_used < kSuperSize || inode_table < kSuperSize || inode_table > dir_table ||
      dir_table > bytes_used) {
    return Fail(ErrorCode::kNotThisFormat, "squashfs table offsets not sane");
  }
  if (bytes_used > data.size()) {
    return Fail(ErrorCode::kTruncated, "truncated SquashFS: superblock says " +
                                           std::to_string(bytes_used) + " bytes, only " +
                                           std::to_string(data.size()) + " available");
  }
  const std::uint64_t padded = (bytes_used + 4095) / 4096 * 4096;
  if (padded <= data.size()) {
    bool zeros = true;
    for (std::uint64_t i = bytes_used; i < padded && zeros; ++i) zeros = data[i] == 0;
    if (zeros) return padded;
  }
  return bytes_used;
}

// Whether the superblock's fragment count can be real: every entry names a block of at least
// one byte inside the image, the metadata-block index of the table lies between the table
// start and the image end, and the count is within kMaxFragmentEntries. libsquashfs
// allocates count * 16 bytes before reading the table, so an unchecked count is an OOM.
bool FragmentCountFits(const sqfs_super_t& super) {
  const std::uint64_t count = super.fragment_entry_count;
  if (count == 0) return true;
  if (count > kMaxFragmentEntries || count > super.bytes_used) return false;
  const std::uint64_t blocks =
      (count * kFragmentEntrySize + SQFS_META_BLOCK_SIZE - 1) / SQFS_META_BLOCK_SIZE;
  const std::uint64_t start = super.fragment_table_start;
  return start <= super.bytes_used && (super.bytes_used - start) / sizeof(sqfs_u64) >= blocks;
}

// Creates a decompressor for the image's compressor (our own for LZO).
Result<sqfs_compressor_t*> MakeCompressor(const sqfs_super_t& super) {
  if (super.compression_id == SQFS_COMP_LZO) {
    return &LzoDecompressor::Make(super.block_size)->base;
  }
  sqfs_compressor_config_t cfg;
  int rc = sqfs_compressor_config_init(&cfg, static_cast<SQFS_COMPRESSOR>(super.compression_id),
                                       super.block_size, SQFS_COMP_FLAG_UNCOMPRESS);
  sqfs_compressor_t* cmp = nullptr;
  if (rc == 0) rc = sqfs_compressor_create(&cfg, &cmp);
  if (rc != 0 || cmp == nullptr) {
    const char* name =
        sqfs_compressor_name_from_id(static_cast<SQFS_COMPRESSOR>(super.compression_id));
    return Fail(ErrorCode::kUnsupported,
                std::string("squashfs compressor ") + (name ? name : "?") + " not available");
  }
  return cmp;
}

// One thing found while walking the directory tree.
struct Member {
  std::string path;
  InodePtr inode;
};

// The files of one fragment block (or one fragment-less file), extracted by one thread.
struct Batch {
  std::vector<std::size_t> files;  // indexes into the file list
  std::uint64_t bytes = 0;
};

std::uint32_t FileFragment(const sqfs_inode_generic_t* inode) {
  sqfs_u32 index = kNoFragment, offset = 0;
  if (sqfs_inode_get_frag_location(inode, &index, &offset) != 0) return kNoFragment;
  return index;
}

std::uint64_t FileSize(const sqfs_inode_generic_t* inode) {
  sqfs_u64 size = 0;
  (void)sqfs_inode_get_file_size(inode, &size);
  return size;
}

class SquashfsExtraction {
 public:
  SquashfsExtraction(ByteView data, ExtractContext& ctx) : data_(data), ctx_(ctx) {}

  Result<void> Run() {
    file_.reset(&MemoryFile::Make(data_)->base);
    int rc = sqfs_super_read(&super_, file_.get());
    if (rc != 0) return Fail(ErrorCode::kMalformed, "squashfs superblock: " + SqfsErrorText(rc));
    auto cmp = MakeCompressor(super_);
    if (!cmp) return Forward(cmp);
    cmp_.reset(*cmp);
    if (super_.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
      rc = cmp_->read_options(cmp_.get(), file_.get());
      if (rc != 0) {
        ctx_.ReportProblem(ErrorCode::kMalformed, "",
                           "squashfs compressor options unreadable: " + SqfsErrorText(rc));
      }
    }
    fragments_fit_ = FragmentCountFits(super_);
    if (!fragments_fit_) {
      ctx_.ReportProblem(ErrorCode::kMalformed, "",
                         "squashfs fragment table of " +
                             std::to_string(super_.fragment_entry_count) +
                             " entries does not fit the image; fragments not read");
    }
    CLEARBOX_TRY(Walk());
    CLEARBOX_TRY(CreateDirectories());
    CLEARBOX_TRY(ExtractFiles());
    CLEARBOX_TRY(CreateLinksAndSpecials());
    return walk_status_;
  }

 private:
  // Reads the whole tree with one dir reader into lists (directories, files, links, ...).
  Result<void> Walk() {
    SqfsPtr<sqfs_dir_reader_t> reader(sqfs_dir_reader_create(&super_, cmp_.get(), file_.get(), 0));
    if (!reader) return Fail(ErrorCode::kInternal, "cannot create squashfs dir reader");
    sqfs_inode_generic_t* root_raw = nullptr;
    int rc = sqfs_dir_reader_get_root_inode(reader.get(), &root_raw);
    if (rc != 0) return Fail(ErrorCode::kMalformed, "squashfs root inode: " + SqfsErrorText(rc));
    InodePtr root(root_raw);
    if (root->base.type != SQFS_INODE_DIR && root->base.type != SQFS_INODE_EXT_DIR) {
      return Fail(ErrorCode::kMalformed, "squashfs root inode is not a directory");
    }
    const std::uint64_t max_entries = ctx_.budget().run().limits().max_files;
    std::uint64_t seen = 0;
    std::unordered_set<std::uint32_t> visited_dirs{root->base.inode_number};
    // Depth-first over directories: (path, inode, depth).
    struct Pending {
      std::string path;
      InodePtr inode;
      std::size_t depth;
    };
    std::vector<Pending> stack;
    stack.push_back({"", std::move(root), 0});
    while (!stack.empty()) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      Pending dir = std::move(stack.back());
      stack.pop_back();
      rc = sqfs_dir_reader_open_dir(reader.get(), dir.inode.get(), 0);
      if (rc != 0) {
        ctx_.ReportProblem(ErrorCode::kMalformed, dir.path,
                           "squashfs directory unreadable: " + SqfsErrorText(rc));
        continue;
      }
      for (;;) {
        sqfs_dir_entry_t* ent_raw = nullptr;
        rc = sqfs_dir_reader_read(reader.get(), &ent_raw);
        if (rc > 0) break;
        if (rc < 0) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path,
                             "squashfs directory listing corrupt: " + SqfsErrorText(rc));
          break;
        }
        std::unique_ptr<sqfs_dir_entry_t, SqfsFree> ent(ent_raw);
        std::string name(reinterpret_cast<const char*>(ent->name),
                         static_cast<std::size_t>(ent->size) + 1);
        const std::string path = dir.path.empty() ? name : dir.path + "/" + name;
        if (name == "." || name == ".." || name.find('/') != std::string::npos ||
            name.find('\0') != std::string::npos) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "squashfs entry with a bad name");
          continue;
        }
        if (++seen > max_entries) {
          walk_status_ = Fail(
              ErrorCode::kLimitExceeded,
              "squashfs has more than " + std::to_string(max_entries) + " entries (--max-files)");
          return {};
        }
        sqfs_inode_generic_t* inode_raw = nullptr;
        rc = sqfs_dir_reader_get_inode(reader.get(), &inode_raw);
        if (rc != 0) {
          ctx_.ReportProblem(ErrorCode::kMalformed, path, "squashfs inode: " + SqfsErrorText(rc));
          continue;
        }
        InodePtr inode(inode_raw);
        switch (inode->base.type) {
          case SQFS_INODE_DIR:
          case SQFS_INODE_EXT_DIR:
            if (!visited_dirs.insert(inode->base.inode_number).second) {
              ctx_.ReportProblem(ErrorCode::kMalformed, path,
                                 "squashfs directory seen twice (loop); skipped");
              break;
            }
            if (dir.depth + 1 > kMaxDirDepth) {
              ctx_.ReportProblem(ErrorCode::kMalformed, path,
                                 "squashfs directories nested too deep");
              break;
            }
            dirs_.push_back({path, inode->base.mode & 07777u});
            stack.push_back({path, std::move(inode), dir.depth + 1});
            break;
          case SQFS_INODE_FILE:
          case SQFS_INODE_EXT_FILE: {
            auto [it, fresh] = first_path_.try_emplace(inode->base.inode_number, path);
            if (!fresh) {
              hardlinks_.push_back({path, it->second});
            } else {
              files_.push_back({path, std::move(inode)});
            }
            break;
          }
          default: others_.push_back({path, std::move(inode)}); break;
        }
      }
    }
    return {};
  }

  Result<void> CreateDirectories() {
    for (const auto& [path, mode] : dirs_) {
      auto r = ctx_.out().CreateDirectory(path, mode);
      if (!ctx_.ContinueAfter(r, path)) return r;
    }
    return {};
  }

  // Extracts one file with a thread's own data reader.
  Result<void> ExtractFile(sqfs_data_reader_t* reader, const Member& m) {
    const sqfs_inode_generic_t* inode = m.inode.get();
    const std::uint64_t size = FileSize(inode);
    const std::uint32_t frag = FileFragment(inode);
    const std::uint64_t bs = super_.block_size;
    const std::uint64_t want_blocks = frag == kNoFragment ? (size + bs - 1) / bs : size / bs;
    const std::size_t blocks = sqfs_inode_get_file_block_count(inode);
    auto writer = ctx_.out().CreateFile(m.path, inode->base.mode & 07777u);
    if (!writer) return Forward(writer);
    Result<void> status;
    if (blocks != want_blocks) {
      status = Fail(ErrorCode::kMalformed, "squashfs file block list does not match its size");
    }
    std::uint64_t left = size;
    for (std::size_t i = 0; status && i < blocks && left > 0; ++i) {
      const std::uint64_t unpacked = std::min(left, bs);
      if ((inode->extra[i] & kBlockSizeMask) == 0) {
        status = writer->WriteZeros(unpacked);
      } else {
        size_t got = 0;
        sqfs_u8* out = nullptr;
        const int rc = sqfs_data_reader_get_block(reader, inode, i, &got, &out);
        std::unique_ptr<sqfs_u8, SqfsFree> owned(out);
        if (rc != 0) {
          status = Fail(ErrorCode::kMalformed,
                        "squashfs data block " + std::to_string(i) + ": " + SqfsErrorText(rc));
        } else if (got != unpacked) {
          status = Fail(ErrorCode::kMalformed, "squashfs data block has the wrong size");
        } else {
          status = writer->Write(ByteView(out, got));
        }
      }
      left -= unpacked;
    }
    if (status && frag != kNoFragment && left > 0) {
      size_t got = 0;
      sqfs_u8* out = nullptr;
      const int rc = sqfs_data_reader_get_fragment(reader, inode, &got, &out);
      std::unique_ptr<sqfs_u8, SqfsFree> owned(out);
      if (rc != 0) {
        status = Fail(ErrorCode::kMalformed, "squashfs fragment: " + SqfsErrorText(rc));
      } else if (got != left) {
        status = Fail(ErrorCode::kMalformed, "squashfs fragment has the wrong size");
      } else {
        status = writer->Write(ByteView(out, got));
      }
    }
    auto closed = writer->Close();
    if (!status) return status;
    return closed;
  }

  // One worker: its own file, compressor and data reader; takes batches until none is left.
  void Worker(const std::vector<Batch>& batches, std::atomic<std::size_t>& next) {
    SqfsPtr<sqfs_file_t> file(&MemoryFile::Make(data_)->base);
    auto cmp = MakeCompressor(super_);
    if (!cmp) {
      SetFatal(cmp.error());
      return;
    }
    SqfsPtr<sqfs_compressor_t> compressor(*cmp);
    SqfsPtr<sqfs_data_reader_t> reader(
        sqfs_data_reader_create(file.get(), super_.block_size, compressor.get(), 0));
    if (!reader) {
      SetFatal(Error{ErrorCode::kInternal, "cannot create squashfs data reader"});
      return;
    }
    // Without a loaded table every fragment lookup fails as out of bounds (reported per file).
    const int rc = fragments_fit_ ? sqfs_data_reader_load_fragment_table(reader.get(), &super_) : 0;
    if (rc != 0) {
      std::call_once(fragment_report_, [&] {
        ctx_.ReportProblem(ErrorCode::kMalformed, "",
                           "squashfs fragment table unreadable: " + SqfsErrorText(rc));
      });
    }
    for (;;) {
      if (stop_.load(std::memory_order_relaxed)) return;
      const std::size_t b = next.fetch_add(1, std::memory_order_relaxed);
      if (b >= batches.size()) return;
      for (const std::size_t index : batches[b].files) {
        if (stop_.load(std::memory_order_relaxed)) return;
        const Member& m = files_[index];
        auto result = ExtractFile(reader.get(), m);
        if (!ctx_.ContinueAfter(result, m.path)) {
          SetFatal(result.error());
          return;
        }
        auto deadline = ctx_.budget().CheckDeadline();
        if (!deadline) {
          SetFatal(deadline.error());
          return;
        }
      }
    }
  }

  void SetFatal(const Error& e) {
    std::lock_guard lock(fatal_mutex_);
    if (!stop_.exchange(true)) fatal_ = e;
  }

  Result<void> ExtractFiles() {
    // Group files by fragment block so that each fragment is decompressed by one thread only;
    // biggest batches first for balance.
    std::vector<std::size_t> order(files_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
      const auto fa = FileFragment(files_[a].inode.get());
      const auto fb = FileFragment(files_[b].inode.get());
      return fa != fb ? fa < fb : a < b;
    });
    std::vector<Batch> batches;
    std::uint32_t current = kNoFragment;
    for (const std::size_t i : order) {
      const std::uint32_t frag = FileFragment(files_[i].inode.get());
      if (batches.empty() || frag == kNoFragment || frag != current) batches.emplace_back();
      current = frag;
      batches.back().files.push_back(i);
      batches.back().bytes += FileSize(files_[i].inode.get());
    }
    std::stable_sort(batches.begin(), batches.end(),
                     [](const Batch& a, const Batch& b) { return a.bytes > b.bytes; });
    std::atomic<std::size_t> next{0};
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const unsigned threads =
        static_cast<unsigned>(std::min<std::size_t>({hw, kMaxThreads, batches.size()}));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) {
      pool.emplace_back([this, &batches, &next] { Worker(batches, next); });
    }
    Worker(batches, next);
    for (auto& t : pool) t.join();
    if (stop_.load()) return Unexpected(fatal_);
    return {};
  }

  Result<void> CreateLinksAndSpecials() {
    for (const auto& [path, target] : hardlinks_) {
      auto r = ctx_.out().CreateHardlink(path, target);
      if (!ctx_.ContinueAfter(r, path)) return r;
    }
    for (const Member& m : others_) {
      const sqfs_inode_generic_t* inode = m.inode.get();
      const std::uint32_t mode = inode->base.mode & 07777u;
      Result<void> r;
      switch (inode->base.type) {
        case SQFS_INODE_SLINK:
        case SQFS_INODE_EXT_SLINK: {
          const std::uint32_t size = inode->base.type == SQFS_INODE_SLINK
                                         ? inode->data.slink.target_size
                                         : inode->data.slink_ext.target_size;
          if (size > inode->payload_bytes_used) {
            r = Fail(ErrorCode::kMalformed, "squashfs symlink target size out of bounds");
          } else {
            r = ctx_.out().CreateSymlink(
                m.path, std::string_view(reinterpret_cast<const char*>(inode->extra), size));
          }
          break;
        }
        case SQFS_INODE_BDEV:
        case SQFS_INODE_CDEV:
        case SQFS_INODE_EXT_BDEV:
        case SQFS_INODE_EXT_CDEV: {
          const bool ext = inode->base.type >= SQFS_INODE_EXT_DIR;
          const std::uint32_t dev = ext ? inode->data.dev_ext.devno : inode->data.dev.devno;
          const std::uint32_t major = (dev & 0xfff00u) >> 8;
          const std::uint32_t minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
          const bool block =
              inode->base.type == SQFS_INODE_BDEV || inode->base.type == SQFS_INODE_EXT_BDEV;
          r = ctx_.out().RecordSpecial(
              m.path, block ? EntryType::kBlockDevice : EntryType::kCharDevice, mode, major, minor);
          break;
        }
        case SQFS_INODE_FIFO:
        case SQFS_INODE_EXT_FIFO:
          r = ctx_.out().RecordSpecial(m.path, EntryType::kFifo, mode, 0, 0);
          break;
        case SQFS_INODE_SOCKET:
        case SQFS_INODE_EXT_SOCKET:
          r = ctx_.out().RecordSpecial(m.path, EntryType::kSocket, mode, 0, 0);
          break;
        default:
          r = Fail(ErrorCode::kMalformed,
                   "squashfs inode of unknown type " + std::to_string(inode->base.type));
          break;
      }
      if (!ctx_.ContinueAfter(r, m.path)) return r;
    }
    return {};
  }

  ByteView data_;
  ExtractContext& ctx_;
  SqfsPtr<sqfs_file_t> file_;
  SqfsPtr<sqfs_compressor_t> cmp_;
  sqfs_super_t super_{};
  std::vector<std::pair<std::string, std::uint32_t>> dirs_;
  std::vector<Member> files_;
  std::vector<Member> others_;
  std::vector<std::pair<std::string, std::string>> hardlinks_;
  std::unordered_map<std::uint32_t, std::string> first_path_;
  Result<void> walk_status_;
  std::atomic<bool> stop_{false};
  std::mutex fatal_mutex_;
  Error fatal_;
  std::once_flag fragment_report_;
  bool fragments_fit_ = true;  // FragmentCountFits: else the fragment table is not loaded
};

class SquashfsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "squashfs"; }
  std::string_view Description() const override {
    return "SquashFS 4.0 (gzip, xz, lzo, lz4, zstd; libsquashfs)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"hsqs", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override { return ProbeSuper(data); }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto length = ProbeSuper(data);
    if (!length) return Forward(length);
    SquashfsExtraction extraction(data.subspan(0, *length), ctx);
    CLEARBOX_TRY(extraction.Run());
    return *length;
  }
};

}  // namespace

const Handler& GetSquashfsHandler() {
  static const SquashfsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
