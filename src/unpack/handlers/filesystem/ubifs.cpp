// UBIFS: the superblock gives the LEB size, the newest master node the root of the index
// B-tree; the tree is walked to collect inode, dent and data nodes and the file tree is
// rebuilt from the root inode. Uncommitted journal contents are not replayed.
#include <lzo/lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kMagic = 0x06101831;
constexpr std::size_t kCommonHeaderSize = 24;
constexpr std::uint8_t kInoNode = 0, kDataNode = 1, kDentNode = 2, kSbNode = 6, kMstNode = 7,
                       kIdxNode = 9;
constexpr std::size_t kInoNodeSize = 160, kDataNodeSize = 48, kDentNodeSize = 56,
                      kSbNodeSize = 4096, kMstNodeSize = 512, kIdxNodeSize = 28;
constexpr std::uint32_t kBlockSize = 4096;
constexpr std::uint64_t kRootIno = 1;
constexpr int kMaxIndexLevels = 64;
constexpr int kMaxDepth = 256;
constexpr std::uint16_t kComprNone = 0, kComprLzo = 1, kComprZlib = 2, kComprZstd = 3;

// UBIFS's CRC: the Linux crc32 seeded with 0xFFFFFFFF and no final inversion.
std::uint32_t UbifsCrc(ByteView bytes) {
  return ~static_cast<std::uint32_t>(crc32(0, bytes.data(), static_cast<uInt>(bytes.size())));
}

// A node whose common header and CRC check out: its bytes (length `len`) and type.
struct Node {
  ByteView bytes;
  std::uint8_t type = 0;
  std::uint64_t sqnum = 0;
};

// `max_len` bounds the bytes the CRC may cover: a node's length field is untrusted, and a
// CRC over whatever it claims would make every false candidate cost the rest of the file.
bool CheckNode(ByteView data, std::uint64_t pos, std::uint64_t max_len, Node* out) {
  if (pos > data.size() || data.size() - pos < kCommonHeaderSize) return false;
  const std::uint8_t* p = data.data() + pos;
  if (LoadU32(p, Endian::kLittle) != kMagic) return false;
  const std::uint32_t len = LoadU32(p + 16, Endian::kLittle);
  if (len < kCommonHeaderSize || len > max_len || len > data.size() - pos) return false;
  if (LoadU32(p + 4, Endian::kLittle) != UbifsCrc(ByteView(p + 8, len - 8))) return false;
  out->bytes = ByteView(p, len);
  out->type = p[20];
  out->sqnum = LoadU64(p + 8, Endian::kLittle);
  return true;
}

// The superblock fields used here.
struct Superblock {
  std::uint32_t min_io = 0;
  std::uint32_t leb_size = 0;
  std::uint32_t leb_cnt = 0;
};

Result<Superblock> ReadSuperblock(ByteView data) {
  Node n;
  if (!CheckNode(data, 0, kSbNodeSize, &n) || n.type != kSbNode || n.bytes.size() < 48) {
    if (data.size() >= 24 && LoadU32(data.data(), Endian::kLittle) == kMagic &&
        data[20] == kSbNode && LoadU32(data.data() + 16, Endian::kLittle) == kSbNodeSize &&
        data.size() < kSbNodeSize) {
      return Fail(ErrorCode::kTruncated, "UBIFS superblock cut off");
    }
    return Fail(ErrorCode::kNotThisFormat, "no UBIFS superblock node");
  }
  Superblock sb;
  sb.min_io = LoadU32(n.bytes.data() + 32, Endian::kLittle);
  sb.leb_size = LoadU32(n.bytes.data() + 36, Endian::kLittle);
  sb.leb_cnt = LoadU32(n.bytes.data() + 40, Endian::kLittle);
  if (sb.leb_size < 4096 || sb.leb_size > (64u << 20) || sb.leb_cnt < 3 || sb.min_io < 8 ||
      sb.min_io > sb.leb_size) {
    return Fail(ErrorCode::kMalformed, "UBIFS superblock geometry out of range");
  }
  return sb;
}

// An inode's metadata and inline data (symlink target, device number).
struct InodeInfo {
  std::uint64_t size = 0;
  std::uint32_t nlink = 0;
  std::uint32_t mode = 0;
  ByteView inline_data;
};

// A directory entry found in the index.
struct DentInfo {
  std::string name;
  std::uint64_t inum = 0;
  std::uint8_t type = 0;
};

// One data block: uncompressed size, compression and payload.
struct DataBlock {
  std::uint32_t size = 0;
  std::uint16_t compr = 0;
  ByteView payload;
};

// Everything collected from the index.
struct UbifsTree {
  std::unordered_map<std::uint64_t, InodeInfo> inodes;
  std::unordered_map<std::uint64_t, std::vector<DentInfo>> dents;  // parent -> entries
  std::unordered_map<std::uint64_t, std::map<std::uint32_t, DataBlock>> data;
  std::size_t bad_nodes = 0;
};

Result<void> Decompress(const DataBlock& b, std::vector<std::uint8_t>& out) {
  out.assign(b.size, 0);
  switch (b.compr) {
    case kComprNone:
      if (b.payload.size() < b.size) return Fail(ErrorCode::kMalformed, "short data node");
      std::copy_n(b.payload.begin(), b.size, out.begin());
      return {};
    case kComprLzo: {
      lzo_uint len = out.size();
      const int rc =
          lzo1x_decompress_safe(b.payload.data(), b.payload.size(), out.data(), &len, nullptr);
      if ((rc != LZO_E_OK && rc != LZO_E_INPUT_NOT_CONSUMED) || len != out.size()) {
        return Fail(ErrorCode::kMalformed, "lzo data node does not decompress");
      }
      return {};
    }
    case kComprZlib: {
      z_stream zs{};
      if (inflateInit2(&zs, -15) != Z_OK) return Fail(ErrorCode::kInternal, "inflateInit2");
      zs.next_in = const_cast<Bytef*>(b.payload.data());
      zs.avail_in = static_cast<uInt>(b.payload.size());
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&zs, Z_FINISH);
      const bool full = zs.avail_out == 0;
      inflateEnd(&zs);
      if (!full && rc != Z_STREAM_END) {
        return Fail(ErrorCode::kMalformed, "zlib data node does not inflate");
      }
      if (!full) return Fail(ErrorCode::kMalformed, "zlib data node too short");
      return {};
    }
    case kComprZstd: {
      const std::size_t n =
          ZSTD_decompress(out.data(), out.size(), b.payload.data(), b.payload.size());
      if (ZSTD_isError(n) || n != out.size()) {
        return Fail(ErrorCode::kMalformed, "zstd data node does not decompress");
      }
      return {};
    }
    default:
      return Fail(ErrorCode::kUnsupported,
                  "UBIFS compression type " + std::to_string(b.compr) + " not supported");
  }
}

// Walks the index B-tree and collects the leaf nodes it references.
class IndexWalker {
 public:
  IndexWalker(ByteView data, const Superblock& sb, ExtractContext& ctx)
      : data_(data), sb_(sb), ctx_(ctx) {}

  Result<void> Walk(std::uint32_t lnum, std::uint32_t offs, int level_guard) {
    CLEARBOX_TRY(ctx_.budget().CheckDeadline());
    if (level_guard > kMaxIndexLevels) {
      ++tree_.bad_nodes;
      return {};
    }
    Node n;
    if (!Locate(lnum, offs, &n)) return {};
    if (n.type != kIdxNode) {
      Leaf(n);
      return {};
    }
    if (n.bytes.size() < kIdxNodeSize) {
      ++tree_.bad_nodes;
      return {};
    }
    const std::uint16_t child_cnt = LoadU16(n.bytes.data() + 24, Endian::kLittle);
    const std::size_t branch = 12 + 8;  // lnum, offs, len, simple key
    if (kIdxNodeSize + std::size_t{child_cnt} * branch > n.bytes.size()) {
      ++tree_.bad_nodes;
      return {};
    }
    for (std::size_t i = 0; i < child_cnt; ++i) {
      const std::uint8_t* b = n.bytes.data() + kIdxNodeSize + i * branch;
      CLEARBOX_TRY(
          Walk(LoadU32(b, Endian::kLittle), LoadU32(b + 4, Endian::kLittle), level_guard + 1));
    }
    return {};
  }

  UbifsTree& tree() { return tree_; }

 private:
  // Reads the checked node at (lnum, offs) once; a second visit (a cycle) is refused.
  bool Locate(std::uint32_t lnum, std::uint32_t offs, Node* n) {
    if (lnum >= sb_.leb_cnt || offs >= sb_.leb_size || !visited_.insert({lnum, offs}).second) {
      ++tree_.bad_nodes;
      return false;
    }
    const std::uint64_t pos = std::uint64_t{lnum} * sb_.leb_size + offs;
    if (!CheckNode(data_, pos, sb_.leb_size - offs, n)) {
      ++tree_.bad_nodes;
      return false;
    }
    return true;
  }

  void Leaf(const Node& n) {
    const std::uint8_t* p = n.bytes.data();
    const std::size_t len = n.bytes.size();
    switch (n.type) {
      case kInoNode: {
        if (len < kInoNodeSize) break;
        const std::uint64_t inum = LoadU32(p + 24, Endian::kLittle);
        const std::uint32_t data_len = LoadU32(p + 112, Endian::kLittle);
        if (data_len > len - kInoNodeSize) break;
        InodeInfo info;
        info.size = LoadU64(p + 48, Endian::kLittle);
        info.nlink = LoadU32(p + 92, Endian::kLittle);
        info.mode = LoadU32(p + 104, Endian::kLittle);
        info.inline_data = n.bytes.subspan(kInoNodeSize, data_len);
        tree_.inodes[inum] = info;
        return;
      }
      case kDentNode: {
        if (len < kDentNodeSize) break;
        const std::uint64_t parent = LoadU32(p + 24, Endian::kLittle);
        const std::uint16_t nlen = LoadU16(p + 50, Endian::kLittle);
        if (nlen == 0 || nlen > len - kDentNodeSize) break;
        DentInfo d;
        d.name = std::string(AsText(n.bytes.subspan(kDentNodeSize, nlen)));
        d.inum = LoadU64(p + 40, Endian::kLittle);
        d.type = p[49];
        if (d.name == "." || d.name == ".." || d.name.find('/') != std::string::npos ||
            d.name.find('\0') != std::string::npos) {
          break;
        }
        tree_.dents[parent].push_back(std::move(d));
        return;
      }
      case kDataNode: {
        if (len < kDataNodeSize) break;
        const std::uint64_t inum = LoadU32(p + 24, Endian::kLittle);
        const std::uint32_t block = LoadU32(p + 28, Endian::kLittle) & 0x1FFFFFFF;
        DataBlock b;
        b.size = LoadU32(p + 40, Endian::kLittle);
        b.compr = LoadU16(p + 44, Endian::kLittle);
        b.payload = n.bytes.subspan(kDataNodeSize);
        if (b.size > kBlockSize) break;
        tree_.data[inum][block] = b;
        return;
      }
      default: return;  // xattr entries, truncation nodes and others are not needed
    }
    ++tree_.bad_nodes;
  }

  ByteView data_;
  Superblock sb_;
  ExtractContext& ctx_;
  UbifsTree tree_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> visited_;
};

// Rebuilds the file tree from the root inode through the dent nodes.
class TreeWriter {
 public:
  TreeWriter(const UbifsTree& tree, ExtractContext& ctx) : tree_(tree), ctx_(ctx) {}

  Result<void> WalkDir(std::uint64_t dir, const std::string& prefix, int depth) {
    if (depth > kMaxDepth || !visited_dirs_.insert(dir).second) {
      ctx_.ReportProblem(ErrorCode::kMalformed, prefix, "directory cycle or nesting too deep");
      return {};
    }
    auto it = tree_.dents.find(dir);
    if (it == tree_.dents.end()) return {};
    for (const DentInfo& d : it->second) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::string path = prefix.empty() ? d.name : prefix + "/" + d.name;
      CLEARBOX_TRY(WriteEntry(d, path, depth));
    }
    return {};
  }

 private:
  Result<void> WriteEntry(const DentInfo& d, const std::string& path, int depth) {
    auto found = tree_.inodes.find(d.inum);
    if (found == tree_.inodes.end()) {
      ctx_.ReportProblem(ErrorCode::kMalformed, path, "dent points to a missing inode");
      return {};
    }
    const InodeInfo& info = found->second;
    const std::uint32_t fmt = info.mode & 0170000;
    const std::uint32_t perm = info.mode & 07777;
    Result<void> rc;
    switch (fmt) {
      case 0040000:
        rc = ctx_.out().CreateDirectory(path, perm ? perm : 0755);
        if (!ctx_.ContinueAfter(rc, path)) return rc;
        return WalkDir(d.inum, path, depth + 1);
      case 0100000:
        if (auto first = written_.find(d.inum); first != written_.end()) {
          rc = ctx_.out().CreateHardlink(path, first->second);
        } else {
          rc = WriteRegular(d.inum, info, path);
          if (rc || rc.error().code != ErrorCode::kLimitExceeded) written_[d.inum] = path;
        }
        break;
      case 0120000: rc = ctx_.out().CreateSymlink(path, AsText(info.inline_data)); break;
      default: {
        EntryType type;
        if (fmt == 0020000)
          type = EntryType::kCharDevice;
        else if (fmt == 0060000)
          type = EntryType::kBlockDevice;
        else if (fmt == 0010000)
          type = EntryType::kFifo;
        else if (fmt == 0140000)
          type = EntryType::kSocket;
        else {
          ctx_.ReportProblem(ErrorCode::kMalformed, path, "inode has an unknown file type");
          return {};
        }
        std::uint32_t major = 0, minor = 0;
        if (info.inline_data.size() == 4) {
          const std::uint32_t v = LoadU32(info.inline_data.data(), Endian::kLittle);
          major = (v & 0xFFF00) >> 8;
          minor = (v & 0xFF) | ((v >> 12) & 0xFFF00);
        } else if (info.inline_data.size() == 8) {
          const std::uint64_t v = LoadU64(info.inline_data.data(), Endian::kLittle);
          major = static_cast<std::uint32_t>(((v >> 32) & 0xFFFFF000) | ((v >> 8) & 0xFFF));
          minor = static_cast<std::uint32_t>(((v >> 12) & 0xFFFFFF00) | (v & 0xFF));
        }
        rc = ctx_.out().RecordSpecial(path, type, perm, major, minor);
        break;
      }
    }
    if (!ctx_.ContinueAfter(rc, path)) return rc;
    return {};
  }

  Result<void> WriteRegular(std::uint64_t inum, const InodeInfo& info, const std::string& path) {
    auto writer = ctx_.out().CreateFile(path, info.mode & 07777);
    if (!writer) return Forward(writer);
    static const std::map<std::uint32_t, DataBlock> kNone;
    auto blocks_it = tree_.data.find(inum);
    const auto& blocks = blocks_it == tree_.data.end() ? kNone : blocks_it->second;
    std::uint64_t pos = 0;
    std::vector<std::uint8_t> buf;
    Result<void> member_problem;
    for (const auto& [block, b] : blocks) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::uint64_t start = std::uint64_t{block} * kBlockSize;
      if (start >= info.size) break;
      if (start > pos) CLEARBOX_TRY(writer->WriteZeros(start - pos));
      auto rc = Decompress(b, buf);
      if (!rc) {
        if (member_problem) member_problem = rc;
        buf.assign(b.size, 0);
      }
      const std::uint64_t n = std::min<std::uint64_t>(buf.size(), info.size - start);
      CLEARBOX_TRY(writer->Write(ByteView(buf.data(), static_cast<std::size_t>(n))));
      pos = start + n;
    }
    if (info.size > pos) CLEARBOX_TRY(writer->WriteZeros(info.size - pos));
    CLEARBOX_TRY(writer->Close());
    return member_problem;
  }

  const UbifsTree& tree_;
  ExtractContext& ctx_;
  std::set<std::uint64_t> visited_dirs_;
  std::unordered_map<std::uint64_t, std::string> written_;
};

// The newest valid master node in LEBs 1 and 2, if any.
std::optional<Node> FindMaster(ByteView data, const Superblock& sb) {
  std::optional<Node> best;
  for (std::uint32_t lnum = 1; lnum <= 2; ++lnum) {
    for (std::uint64_t offs = 0; offs + kMstNodeSize <= sb.leb_size; offs += sb.min_io) {
      const std::uint64_t pos = std::uint64_t{lnum} * sb.leb_size + offs;
      if (pos + 4 > data.size()) break;
      // Master nodes are written back to back at min_io alignment; erased space ends them.
      if (LoadU32(data.data() + pos, Endian::kLittle) == 0xFFFFFFFFu) break;
      Node n;
      if (!CheckNode(data, pos, kMstNodeSize, &n)) continue;
      if (n.type == kMstNode && n.bytes.size() >= 60 && (!best || n.sqnum > best->sqnum)) {
        best = n;
      }
    }
  }
  return best;
}

class UbifsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "ubifs"; }
  std::string_view Description() const override {
    return "UBIFS volume (LEB image): index tree walked, zlib/lzo/zstd nodes inflated";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x31\x18\x10\x06", 4), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto sb = ReadSuperblock(data);
    if (!sb) return Forward(sb);
    const std::uint64_t size = std::uint64_t{sb->leb_cnt} * sb->leb_size;
    return std::min<std::uint64_t>(size, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto sb = ReadSuperblock(data);
    if (!sb) return Forward(sb);
    if (std::uint64_t{sb->leb_cnt} * sb->leb_size > data.size()) {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "UBIFS image shorter than its " + std::to_string(sb->leb_cnt) + " LEBs");
    }
    const std::optional<Node> master = FindMaster(data, *sb);
    if (!master) return Fail(ErrorCode::kMalformed, "no valid UBIFS master node");
    const std::uint32_t root_lnum = LoadU32(master->bytes.data() + 48, Endian::kLittle);
    const std::uint32_t root_offs = LoadU32(master->bytes.data() + 52, Endian::kLittle);
    IndexWalker walker(data, *sb, ctx);
    CLEARBOX_TRY(walker.Walk(root_lnum, root_offs, 0));
    const UbifsTree& tree = walker.tree();
    if (tree.bad_nodes) {
      ctx.ReportProblem(ErrorCode::kMalformed, "",
                        std::to_string(tree.bad_nodes) +
                            " UBIFS index references are damaged or point outside the image");
    }
    if (tree.inodes.find(kRootIno) == tree.inodes.end()) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "UBIFS root inode not found in the index");
    }
    TreeWriter writer(tree, ctx);
    CLEARBOX_TRY(writer.WalkDir(kRootIno, "", 0));
    return data.size();
  }
};

}  // namespace

const Handler& GetUbifsHandler() {
  static const UbifsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
