// UBIFS: the superblock gives the LEB size, the newest master node the root of the index
// B-tree; the tree is walked to collect inode, dent and data nodes, then the journal written
// since the last commit is replayed over them (log LEBs -> reference nodes -> bud LEBs, in
// sequence-number order, as Linux fs/ubifs/replay.c), and the file tree is rebuilt from the
// root inode.
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
constexpr std::uint8_t kInoNode = 0, kDataNode = 1, kDentNode = 2, kXentNode = 3, kTrunNode = 4,
                       kPadNode = 5, kSbNode = 6, kMstNode = 7, kRefNode = 8, kIdxNode = 9,
                       kCsNode = 10;
constexpr std::size_t kInoNodeSize = 160, kDataNodeSize = 48, kDentNodeSize = 56,
                      kSbNodeSize = 4096, kMstNodeSize = 512, kIdxNodeSize = 28, kTrunNodeSize = 56,
                      kPadNodeSize = 28, kRefNodeSize = 64, kCsNodeSize = 32;
// LEB 0 is the superblock, 1 and 2 the master nodes; the log starts at LEB 3.
constexpr std::uint32_t kLogFirstLeb = 3;
// Journal heads besides the data heads counted in the superblock (GC and base heads).
constexpr std::uint32_t kNonDataHeads = 2;
constexpr std::uint8_t kPaddingByte = 0xCE;
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
  std::uint32_t log_lebs = 0;
  std::uint32_t main_first = 0;  // first LEB of the main area (after log, LPT, orphans)
  std::uint32_t jhead_cnt = 0;   // all journal heads, including GC and base
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
  if (n.bytes.size() >= 72) {
    const std::uint64_t log_lebs = LoadU32(n.bytes.data() + 56, Endian::kLittle);
    const std::uint64_t main_first = kLogFirstLeb + log_lebs +
                                     LoadU32(n.bytes.data() + 60, Endian::kLittle) +
                                     LoadU32(n.bytes.data() + 64, Endian::kLittle);
    const std::uint64_t heads = LoadU32(n.bytes.data() + 68, Endian::kLittle) + kNonDataHeads;
    // Geometry the journal cannot use leaves log_lebs at 0: the index alone is read.
    if (log_lebs > 0 && main_first < sb.leb_cnt && heads < 256) {
      sb.log_lebs = static_cast<std::uint32_t>(log_lebs);
      sb.main_first = static_cast<std::uint32_t>(main_first);
      sb.jhead_cnt = static_cast<std::uint32_t>(heads);
    }
  }
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

// Everything collected from the index (and then the journal).
struct UbifsTree {
  std::unordered_map<std::uint64_t, InodeInfo> inodes;
  std::unordered_map<std::uint64_t, std::map<std::string, DentInfo>> dents;  // parent -> name
  std::unordered_map<std::uint64_t, std::map<std::uint32_t, DataBlock>> data;
  std::size_t bad_nodes = 0;
};

// Leaf nodes decoded; std::nullopt when a node's fields do not fit its length.
struct InoLeaf {
  std::uint64_t inum = 0;
  InodeInfo info;
};
struct DentLeaf {
  std::uint64_t parent = 0;
  DentInfo dent;  // dent.inum == 0 marks a deletion (journal only)
};
struct DataLeaf {
  std::uint64_t inum = 0;
  std::uint32_t block = 0;
  DataBlock block_data;
};

std::optional<InoLeaf> ParseIno(const Node& n) {
  const std::uint8_t* p = n.bytes.data();
  const std::size_t len = n.bytes.size();
  if (len < kInoNodeSize) return std::nullopt;
  const std::uint32_t data_len = LoadU32(p + 112, Endian::kLittle);
  if (data_len > len - kInoNodeSize) return std::nullopt;
  InoLeaf leaf;
  leaf.inum = LoadU32(p + 24, Endian::kLittle);
  leaf.info.size = LoadU64(p + 48, Endian::kLittle);
  leaf.info.nlink = LoadU32(p + 92, Endian::kLittle);
  leaf.info.mode = LoadU32(p + 104, Endian::kLittle);
  leaf.info.inline_data = n.bytes.subspan(kInoNodeSize, data_len);
  return leaf;
}

std::optional<DentLeaf> ParseDent(const Node& n) {
  const std::uint8_t* p = n.bytes.data();
  const std::size_t len = n.bytes.size();
  if (len < kDentNodeSize) return std::nullopt;
  const std::uint16_t nlen = LoadU16(p + 50, Endian::kLittle);
  if (nlen == 0 || nlen > len - kDentNodeSize) return std::nullopt;
  DentLeaf leaf;
  leaf.parent = LoadU32(p + 24, Endian::kLittle);
  leaf.dent.name = std::string(AsText(n.bytes.subspan(kDentNodeSize, nlen)));
  leaf.dent.inum = LoadU64(p + 40, Endian::kLittle);
  leaf.dent.type = p[49];
  const std::string& name = leaf.dent.name;
  if (name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  return leaf;
}

std::optional<DataLeaf> ParseData(const Node& n) {
  const std::uint8_t* p = n.bytes.data();
  if (n.bytes.size() < kDataNodeSize) return std::nullopt;
  DataLeaf leaf;
  leaf.inum = LoadU32(p + 24, Endian::kLittle);
  leaf.block = LoadU32(p + 28, Endian::kLittle) & 0x1FFFFFFF;
  leaf.block_data.size = LoadU32(p + 40, Endian::kLittle);
  leaf.block_data.compr = LoadU16(p + 44, Endian::kLittle);
  leaf.block_data.payload = n.bytes.subspan(kDataNodeSize);
  if (leaf.block_data.size > kBlockSize) return std::nullopt;
  return leaf;
}

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
    switch (n.type) {
      case kInoNode:
        if (auto leaf = ParseIno(n)) {
          tree_.inodes[leaf->inum] = leaf->info;
          return;
        }
        break;
      case kDentNode:
        if (auto leaf = ParseDent(n)) {
          std::string name = leaf->dent.name;
          tree_.dents[leaf->parent][std::move(name)] = std::move(leaf->dent);
          return;
        }
        break;
      case kDataNode:
        if (auto leaf = ParseData(n)) {
          tree_.data[leaf->inum][leaf->block] = leaf->block_data;
          return;
        }
        break;
      default: return;  // xattr entries and others are not needed
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
    for (const auto& [name, d] : it->second) {
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

// The nodes of one LEB from `offs`, in order, up to erased space; `damaged` when a node that
// is neither valid, padding nor erased space stops the scan (as Linux's ubifs_scan).
struct LebScan {
  std::vector<Node> nodes;
  std::uint64_t damaged_at = 0;
  bool damaged = false;
};

LebScan ScanLeb(ByteView data, const Superblock& sb, std::uint32_t lnum, std::uint32_t offs) {
  LebScan scan;
  const std::uint64_t base = std::uint64_t{lnum} * sb.leb_size;
  std::uint64_t pos = offs;
  while (pos + kCommonHeaderSize <= sb.leb_size && base + pos + 4 <= data.size()) {
    const std::uint8_t* p = data.data() + base + pos;
    if (LoadU32(p, Endian::kLittle) == 0xFFFFFFFFu) break;  // erased: the end of the writes
    if (*p == kPaddingByte) {                               // a gap too small for a padding node
      while (pos < sb.leb_size && base + pos < data.size() && data[base + pos] == kPaddingByte) {
        ++pos;
      }
      continue;
    }
    Node n;
    if (!CheckNode(data, base + pos, sb.leb_size - pos, &n)) {
      scan.damaged = true;
      scan.damaged_at = pos;
      break;
    }
    if (n.type == kPadNode) {
      if (n.bytes.size() < kPadNodeSize) {
        scan.damaged = true;
        scan.damaged_at = pos;
        break;
      }
      pos += n.bytes.size() + LoadU32(n.bytes.data() + 24, Endian::kLittle);
      continue;
    }
    scan.nodes.push_back(n);
    pos += (n.bytes.size() + 7) & ~std::uint64_t{7};
  }
  return scan;
}

// One bud: a main-area LEB written by journal head `jhead` from `offs` on, since the commit.
struct Bud {
  std::uint32_t lnum = 0;
  std::uint32_t offs = 0;
  std::uint32_t jhead = 0;
};

// Replays the journal over the committed tree: the log from the master node's log LEB
// gives the buds, whose nodes are applied in sequence-number order (newer wins; an inode
// with nlink 0 and a dent with inum 0 delete, a truncation node drops the cut blocks).
// Damage is reported as problems; the committed tree stays usable.
class JournalReplayer {
 public:
  JournalReplayer(ByteView data, const Superblock& sb, ExtractContext& ctx, UbifsTree& tree)
      : data_(data), sb_(sb), ctx_(ctx), tree_(tree) {}

  // Returns the number of journal nodes applied; only limits and time-outs are errors.
  Result<std::size_t> Run(const Node& master) {
    if (sb_.log_lebs == 0 || master.bytes.size() < 48) return std::size_t{0};
    const std::uint64_t cmt_no = LoadU64(master.bytes.data() + 32, Endian::kLittle);
    const std::uint32_t log_head = LoadU32(master.bytes.data() + 44, Endian::kLittle);
    if (log_head < kLogFirstLeb || log_head - kLogFirstLeb >= sb_.log_lebs) {
      Problem("UBIFS master node's log LEB lies outside the log");
      return std::size_t{0};
    }
    CLEARBOX_TRY(ReadLog(log_head, cmt_no));
    std::vector<Node> entries;
    for (const Bud& bud : buds_) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const LebScan scan = ScanLeb(data_, sb_, bud.lnum, bud.offs);
      for (const Node& n : scan.nodes) {
        if (n.type == kInoNode || n.type == kDataNode || n.type == kDentNode ||
            n.type == kXentNode || n.type == kTrunNode) {
          entries.push_back(n);
        } else {
          Problem("unexpected UBIFS node type " + std::to_string(n.type) + " in bud LEB " +
                  std::to_string(bud.lnum));
          break;
        }
      }
      if (scan.damaged) {
        Problem("UBIFS bud LEB " + std::to_string(bud.lnum) + " damaged at offset " +
                std::to_string(scan.damaged_at) + "; the journal after it is lost");
      }
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Node& a, const Node& b) { return a.sqnum < b.sqnum; });
    // The newest inode node of each inode: an nlink-0 node deletes only when nothing
    // relinks the inode later (O_TMPFILE), as Linux's inode_still_linked().
    std::unordered_map<std::uint64_t, bool> last_is_deletion;
    for (const Node& n : entries) {
      if (n.type != kInoNode) continue;
      if (auto leaf = ParseIno(n)) last_is_deletion[leaf->inum] = leaf->info.nlink == 0;
    }
    std::size_t applied = 0;
    for (const Node& n : entries) {
      if ((applied & 0xFFF) == 0) CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      if (Apply(n, last_is_deletion)) {
        ++applied;
      } else {
        ++bad_entries_;
      }
    }
    if (bad_entries_) {
      Problem(std::to_string(bad_entries_) + " UBIFS journal nodes with bad fields skipped");
    }
    return applied;
  }

 private:
  void Problem(std::string message) { ctx_.ReportProblem(ErrorCode::kMalformed, "", message); }

  // Walks the log LEBs from the head: the first must start with the commit-start node of
  // commit `cmt_no`; a LEB whose first node is older than that ends the log.
  Result<void> ReadLog(std::uint32_t head, std::uint64_t cmt_no) {
    std::uint64_t cs_sqnum = 0;
    std::uint32_t lnum = head;
    for (std::uint32_t i = 0; i < sb_.log_lebs; ++i) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const LebScan scan = ScanLeb(data_, sb_, lnum, 0);
      if (scan.nodes.empty()) {
        if (i == 0) Problem("UBIFS log head LEB " + std::to_string(lnum) + " is empty");
        return {};
      }
      const Node& first = scan.nodes.front();
      if (i == 0) {
        if (first.type != kCsNode || first.bytes.size() < kCsNodeSize ||
            LoadU64(first.bytes.data() + 24, Endian::kLittle) != cmt_no) {
          Problem("UBIFS log does not start with the commit-start node of the last commit");
          return {};
        }
        cs_sqnum = first.sqnum;
      }
      if (first.sqnum < cs_sqnum) return {};  // an older, already committed log LEB
      for (const Node& n : scan.nodes) {
        if (n.sqnum < cs_sqnum) {
          Problem("UBIFS log node older than its commit start");
          return {};
        }
        if (n.type == kCsNode) continue;
        if (n.type != kRefNode || n.bytes.size() < kRefNodeSize) {
          Problem("unexpected node type " + std::to_string(n.type) + " in the UBIFS log");
          return {};
        }
        AddBud(n);
      }
      if (scan.damaged) {
        Problem("UBIFS log LEB " + std::to_string(lnum) + " damaged at offset " +
                std::to_string(scan.damaged_at));
        return {};
      }
      lnum = lnum + 1 < kLogFirstLeb + sb_.log_lebs ? lnum + 1 : kLogFirstLeb;
    }
    return {};
  }

  void AddBud(const Node& ref) {
    Bud bud;
    bud.lnum = LoadU32(ref.bytes.data() + 24, Endian::kLittle);
    bud.offs = LoadU32(ref.bytes.data() + 28, Endian::kLittle);
    bud.jhead = LoadU32(ref.bytes.data() + 32, Endian::kLittle);
    if (bud.jhead >= sb_.jhead_cnt || bud.lnum >= sb_.leb_cnt || bud.lnum < sb_.main_first ||
        bud.offs > sb_.leb_size || bud.offs % sb_.min_io != 0) {
      Problem("UBIFS reference node points outside the main area");
      return;
    }
    for (const Bud& known : buds_) {
      if (known.lnum != bud.lnum) continue;
      if (known.jhead != bud.jhead || known.offs > bud.offs) {
        Problem("UBIFS bud LEB " + std::to_string(bud.lnum) + " referred twice");
      }
      return;  // the earlier reference already covers it
    }
    buds_.push_back(bud);
  }

  // Applies one journal node to the tree; false when its fields do not fit.
  bool Apply(const Node& n, const std::unordered_map<std::uint64_t, bool>& last_is_deletion) {
    switch (n.type) {
      case kInoNode: {
        auto leaf = ParseIno(n);
        if (!leaf) return false;
        if (leaf->info.nlink != 0) {
          tree_.inodes[leaf->inum] = leaf->info;
        } else if (auto last = last_is_deletion.find(leaf->inum);
                   last == last_is_deletion.end() || last->second) {
          tree_.inodes.erase(leaf->inum);
          tree_.data.erase(leaf->inum);
          tree_.dents.erase(leaf->inum);
        }
        return true;
      }
      case kDataNode: {
        auto leaf = ParseData(n);
        if (!leaf) return false;
        tree_.data[leaf->inum][leaf->block] = leaf->block_data;
        return true;
      }
      case kDentNode: {
        auto leaf = ParseDent(n);
        if (!leaf) return false;
        if (leaf->dent.inum == 0) {
          auto it = tree_.dents.find(leaf->parent);
          if (it != tree_.dents.end()) it->second.erase(leaf->dent.name);
        } else {
          std::string name = leaf->dent.name;
          tree_.dents[leaf->parent][std::move(name)] = std::move(leaf->dent);
        }
        return true;
      }
      case kXentNode: return true;  // extended attributes are not extracted
      case kTrunNode: {
        if (n.bytes.size() < kTrunNodeSize) return false;
        const std::uint64_t inum = LoadU32(n.bytes.data() + 24, Endian::kLittle);
        const std::uint64_t old_size = LoadU64(n.bytes.data() + 40, Endian::kLittle);
        const std::uint64_t new_size = LoadU64(n.bytes.data() + 48, Endian::kLittle);
        if (old_size <= new_size) return false;
        auto it = tree_.data.find(inum);
        if (it == tree_.data.end()) return true;
        // Blocks from the first one wholly past the new size to the old size's last block
        // go (the partial last block is rewritten by a data node of its own).
        const std::uint64_t first_gone = (new_size + kBlockSize - 1) / kBlockSize;
        const std::uint64_t end = (old_size + kBlockSize - 1) / kBlockSize;  // exclusive
        auto& blocks = it->second;
        if (first_gone < end && first_gone <= 0xFFFFFFFFu) {
          auto last = end > 0xFFFFFFFFu ? blocks.end()
                                        : blocks.lower_bound(static_cast<std::uint32_t>(end));
          blocks.erase(blocks.lower_bound(static_cast<std::uint32_t>(first_gone)), last);
        }
        return true;
      }
      default: return false;
    }
  }

  ByteView data_;
  const Superblock& sb_;
  ExtractContext& ctx_;
  UbifsTree& tree_;
  std::vector<Bud> buds_;
  std::size_t bad_entries_ = 0;
};

class UbifsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "ubifs"; }
  std::string_view Description() const override {
    return "UBIFS volume (LEB image): index tree walked, journal replayed, zlib/lzo/zstd "
           "nodes inflated";
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
    UbifsTree& tree = walker.tree();
    JournalReplayer journal(data, *sb, ctx, tree);
    auto replayed = journal.Run(*master);
    if (!replayed) return Forward(replayed);
    if (*replayed > 0) ctx.SetMetadata("journal_nodes_replayed", std::to_string(*replayed));
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
