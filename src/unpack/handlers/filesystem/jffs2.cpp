// JFFS2 (journalling flash file system v2), both endiannesses: nodes are collected from the
// log, dirents and data nodes resolved by version, and the tree rebuilt from the root inode.
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <zlib.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "unpack/handlers/filesystem/jffs2_rubin.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint16_t kMagic = 0x1985;
constexpr std::uint16_t kNodeAccurate = 0x2000;
constexpr std::uint16_t kTypeDirent = 0xE001;
constexpr std::uint16_t kTypeInode = 0xE002;
constexpr std::uint16_t kTypeCleanmarker = 0x2003;
constexpr std::uint16_t kTypePadding = 0x2004;
constexpr std::uint16_t kTypeSummary = 0x2006;
constexpr std::uint16_t kTypeXattr = 0xE008;
constexpr std::uint16_t kTypeXref = 0xE009;
constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kDirentSize = 40;
constexpr std::size_t kInodeSize = 68;
// A data node never holds more than a (large) page; anything bigger is hostile.
constexpr std::uint32_t kMaxNodeData = 1u << 20;
constexpr std::uint32_t kRootIno = 1;
constexpr int kMaxDepth = 256;

constexpr std::uint8_t kComprNone = 0, kComprZero = 1, kComprRtime = 2, kComprRubinMips = 3,
                       kComprCopy = 4, kComprDynRubin = 5, kComprZlib = 6, kComprLzo = 7,
                       kComprLzma = 8;

// JFFS2's CRC: the Linux crc32 with seed 0 and no final inversion.
std::uint32_t Jffs2Crc(ByteView bytes) {
  return ~static_cast<std::uint32_t>(
      crc32(0xFFFFFFFFul, bytes.data(), static_cast<uInt>(bytes.size())));
}

std::size_t Align4(std::size_t n) {
  return (n + 3) & ~static_cast<std::size_t>(3);
}

bool IsKnownType(std::uint16_t type) {
  switch (type | kNodeAccurate) {
    case kTypeDirent:
    case kTypeInode:
    case kTypeCleanmarker:
    case kTypePadding:
    case kTypeSummary:
    case kTypeXattr:
    case kTypeXref: return true;
    default: return false;
  }
}

// A node header at `pos` whose magic, type and header CRC check out (the node may run past
// the data end: `truncated`).
struct NodeHeader {
  std::uint16_t type = 0;
  std::uint32_t totlen = 0;
  bool truncated = false;
};

bool CheckNodeHeader(ByteView data, std::size_t pos, Endian e, NodeHeader* out) {
  if (pos > data.size() || data.size() - pos < kHeaderSize) return false;
  const std::uint8_t* p = data.data() + pos;
  if (LoadU16(p, e) != kMagic) return false;
  const std::uint16_t type = LoadU16(p + 2, e);
  const std::uint32_t totlen = LoadU32(p + 4, e);
  if (!IsKnownType(type) || totlen < kHeaderSize) return false;
  if (LoadU32(p + 8, e) != Jffs2Crc(ByteView(p, 8))) return false;
  out->type = type;
  out->totlen = totlen;
  out->truncated = totlen > data.size() - pos;
  return true;
}

// The extent of the node log: the end of the last valid node (or the data end when the
// last node is cut off), extended over trailing 0xFF padding up to an erase-block boundary.
struct LogExtent {
  std::uint64_t length = 0;
  std::size_t nodes = 0;
};

LogExtent ScanExtent(ByteView data, Endian e) {
  std::size_t pos = 0, node_end = 0;
  std::size_t nodes = 0;
  std::size_t first_marker = SIZE_MAX, marker_step = 0;
  NodeHeader h;
  while (pos + 4 <= data.size()) {
    if (CheckNodeHeader(data, pos, e, &h)) {
      if (h.truncated) return {data.size(), nodes + 1};
      if ((h.type | kNodeAccurate) == kTypeCleanmarker) {
        if (first_marker == SIZE_MAX)
          first_marker = pos;
        else if (marker_step == 0 && pos > first_marker)
          marker_step = pos - first_marker;
      }
      ++nodes;
      pos += Align4(h.totlen);
      node_end = std::min(pos, data.size());
      continue;
    }
    const std::uint32_t word = LoadU32(data.data() + pos, Endian::kLittle);
    if (word == 0xFFFFFFFFu || word == 0) {
      pos += 4;
      continue;
    }
    break;
  }
  // Trailing padding: 0xFF words after the last node.
  std::size_t pad_end = node_end;
  while (pad_end + 4 <= data.size() &&
         LoadU32(data.data() + pad_end, Endian::kLittle) == 0xFFFFFFFFu) {
    pad_end += 4;
  }
  std::size_t block = 4096;
  if (marker_step >= 4096 && (marker_step & (marker_step - 1)) == 0) block = marker_step;
  const std::size_t rounded = (node_end + block - 1) / block * block;
  const std::size_t end = rounded <= pad_end ? rounded : node_end;
  return {end, nodes};
}

Result<Endian> DetectEndian(ByteView data) {
  NodeHeader h;
  if (CheckNodeHeader(data, 0, Endian::kLittle, &h)) return Endian::kLittle;
  if (CheckNodeHeader(data, 0, Endian::kBig, &h)) return Endian::kBig;
  return Fail(ErrorCode::kNotThisFormat, "no valid jffs2 node header");
}

// One data node of an inode.
struct DataNode {
  std::uint32_t version = 0;
  std::uint32_t offset = 0;
  std::uint32_t dsize = 0;
  std::uint8_t compr = 0;
  ByteView payload;  // compressed bytes
};

// Everything known about one inode: the newest metadata and all its data nodes.
struct InodeInfo {
  std::uint32_t meta_version = 0;
  std::uint32_t mode = 0;
  std::uint32_t isize = 0;
  bool has_meta = false;
  std::vector<DataNode> nodes;
};

// A directory entry's latest state.
struct DirentInfo {
  std::uint32_t version = 0;
  std::uint32_t ino = 0;
  std::uint8_t type = 0;
};

Result<void> RtimeDecompress(ByteView in, std::vector<std::uint8_t>& out) {
  std::uint16_t positions[256] = {};
  std::size_t pos = 0, outpos = 0;
  while (outpos < out.size()) {
    if (pos + 2 > in.size()) return Fail(ErrorCode::kMalformed, "rtime data ends early");
    const std::uint8_t value = in[pos++];
    out[outpos++] = value;
    std::size_t repeat = in[pos++];
    std::size_t back = positions[value];
    positions[value] = static_cast<std::uint16_t>(outpos);
    if (repeat > out.size() - outpos) return Fail(ErrorCode::kMalformed, "rtime overrun");
    while (repeat--) {
      if (back >= outpos) return Fail(ErrorCode::kMalformed, "rtime bad back reference");
      out[outpos++] = out[back++];
    }
  }
  return {};
}

Result<void> ZlibDecompress(ByteView in, std::vector<std::uint8_t>& out) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Fail(ErrorCode::kInternal, "inflateInit failed");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const std::size_t produced = out.size() - zs.avail_out;
  inflateEnd(&zs);
  if ((rc != Z_STREAM_END && rc != Z_OK && rc != Z_BUF_ERROR) || produced != out.size()) {
    return Fail(ErrorCode::kMalformed, "zlib data node does not inflate");
  }
  return {};
}

Result<void> LzoDecompress(ByteView in, std::vector<std::uint8_t>& out) {
  lzo_uint out_len = out.size();
  const int rc = lzo1x_decompress_safe(in.data(), in.size(), out.data(), &out_len, nullptr);
  if ((rc != LZO_E_OK && rc != LZO_E_INPUT_NOT_CONSUMED) || out_len != out.size()) {
    return Fail(ErrorCode::kMalformed, "lzo data node does not decompress");
  }
  return {};
}

// OpenWrt's jffs2 LZMA: raw LZMA1 with lc=0, lp=0, pb=0 and no header or end marker.
Result<void> LzmaDecompress(ByteView in, std::vector<std::uint8_t>& out) {
  lzma_options_lzma opts{};
  if (lzma_lzma_preset(&opts, 6)) return Fail(ErrorCode::kInternal, "lzma preset failed");
  opts.lc = 0;
  opts.lp = 0;
  opts.pb = 0;
  opts.dict_size = std::max<std::uint32_t>(LZMA_DICT_SIZE_MIN, 1u << 16);
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, &opts}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_stream strm = LZMA_STREAM_INIT;
  if (lzma_raw_decoder(&strm, filters) != LZMA_OK) {
    return Fail(ErrorCode::kInternal, "lzma_raw_decoder failed");
  }
  strm.next_in = in.data();
  strm.avail_in = in.size();
  strm.next_out = out.data();
  strm.avail_out = out.size();
  lzma_ret rc = LZMA_OK;
  while (strm.avail_out > 0 && rc == LZMA_OK) {
    rc = lzma_code(&strm, LZMA_FINISH);
  }
  const bool full = strm.avail_out == 0;
  lzma_end(&strm);
  if (!full) return Fail(ErrorCode::kMalformed, "lzma data node does not decompress");
  return {};
}

// Decompresses one data node into exactly dsize bytes.
Result<void> DecodeNode(const DataNode& node, std::vector<std::uint8_t>& out) {
  out.assign(node.dsize, 0);
  switch (node.compr) {
    case kComprZero: return {};
    case kComprNone:
    case kComprCopy:
      if (node.payload.size() < node.dsize) {
        return Fail(ErrorCode::kMalformed, "uncompressed data node shorter than dsize");
      }
      std::copy_n(node.payload.begin(), node.dsize, out.begin());
      return {};
    case kComprRtime: return RtimeDecompress(node.payload, out);
    case kComprRubinMips: return jffs2::Type3Decompress(node.payload, out);
    case kComprDynRubin: return jffs2::DynRubinDecompress(node.payload, out);
    case kComprZlib: return ZlibDecompress(node.payload, out);
    case kComprLzo: return LzoDecompress(node.payload, out);
    case kComprLzma: return LzmaDecompress(node.payload, out);
    default:
      return Fail(ErrorCode::kUnsupported,
                  "jffs2 compression type " + std::to_string(node.compr) + " not supported");
  }
}

// The parsed node log: inodes and dirents, plus counts of skipped nodes.
struct Jffs2Image {
  std::unordered_map<std::uint32_t, InodeInfo> inodes;
  std::map<std::pair<std::uint32_t, std::string>, DirentInfo> dirents;
  std::size_t bad_crc = 0;
  bool truncated = false;
};

void AddDirent(ByteView node, Endian e, Jffs2Image& img) {
  if (node.size() < kDirentSize) {
    ++img.bad_crc;
    return;
  }
  const std::uint8_t* p = node.data();
  if (LoadU32(p + 32, e) != Jffs2Crc(node.subspan(0, 32))) {
    ++img.bad_crc;
    return;
  }
  const std::uint8_t nsize = p[28];
  if (kDirentSize + nsize > node.size()) {
    ++img.bad_crc;
    return;
  }
  const ByteView name_bytes = node.subspan(kDirentSize, nsize);
  if (LoadU32(p + 36, e) != Jffs2Crc(name_bytes)) {
    ++img.bad_crc;
    return;
  }
  const std::uint32_t pino = LoadU32(p + 12, e);
  const std::uint32_t version = LoadU32(p + 16, e);
  const std::uint32_t ino = LoadU32(p + 20, e);
  std::string name(AsText(name_bytes));
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    ++img.bad_crc;
    return;
  }
  auto& slot = img.dirents[{pino, std::move(name)}];
  if (version >= slot.version) slot = DirentInfo{version, ino, p[29]};
}

void AddInode(ByteView node, Endian e, Jffs2Image& img) {
  if (node.size() < kInodeSize) {
    ++img.bad_crc;
    return;
  }
  const std::uint8_t* p = node.data();
  if (LoadU32(p + 64, e) != Jffs2Crc(node.subspan(0, 60))) {
    ++img.bad_crc;
    return;
  }
  const std::uint32_t ino = LoadU32(p + 12, e);
  const std::uint32_t version = LoadU32(p + 16, e);
  const std::uint32_t mode = LoadU32(p + 20, e);
  const std::uint32_t isize = LoadU32(p + 28, e);
  const std::uint32_t offset = LoadU32(p + 44, e);
  const std::uint32_t csize = LoadU32(p + 48, e);
  const std::uint32_t dsize = LoadU32(p + 52, e);
  const std::uint8_t compr = p[56];
  if (csize > node.size() - kInodeSize || dsize > kMaxNodeData) {
    ++img.bad_crc;
    return;
  }
  const ByteView payload = node.subspan(kInodeSize, csize);
  if (csize > 0 && LoadU32(p + 60, e) != Jffs2Crc(payload)) {
    ++img.bad_crc;
    return;
  }
  InodeInfo& info = img.inodes[ino];
  if (!info.has_meta || version >= info.meta_version) {
    info.has_meta = true;
    info.meta_version = version;
    info.mode = mode;
    info.isize = isize;
  }
  if (dsize > 0) info.nodes.push_back(DataNode{version, offset, dsize, compr, payload});
}

Result<Jffs2Image> ParseLog(ByteView data, Endian e, ExtractContext& ctx) {
  Jffs2Image img;
  std::size_t pos = 0;
  NodeHeader h;
  std::size_t steps = 0;
  while (pos + 4 <= data.size()) {
    if ((++steps & 0xFFF) == 0) CLEARBOX_TRY(ctx.budget().CheckDeadline());
    if (!CheckNodeHeader(data, pos, e, &h)) {
      pos += 4;  // padding or damage: resynchronise on the next word
      continue;
    }
    if (h.truncated) {
      img.truncated = true;
      break;
    }
    const ByteView node = data.subspan(pos, h.totlen);
    if (h.type == kTypeDirent)
      AddDirent(node, e, img);
    else if (h.type == kTypeInode)
      AddInode(node, e, img);
    pos += Align4(h.totlen);
  }
  return img;
}

// Writes the file contents of `info`: data nodes applied in version order, holes as zeros,
// cut to the newest i_size.
Result<void> WriteRegular(const InodeInfo& info, const std::string& path, ExtractContext& ctx) {
  struct Frag {
    std::uint32_t end;
    std::size_t node;
  };
  std::vector<std::size_t> order(info.nodes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return info.nodes[a].version < info.nodes[b].version;
  });
  std::map<std::uint32_t, Frag> frags;  // start -> fragment
  for (std::size_t idx : order) {
    const DataNode& n = info.nodes[idx];
    const std::uint64_t start = n.offset;
    const std::uint64_t end = std::min<std::uint64_t>(start + n.dsize, info.isize);
    if (start >= end) continue;
    const auto s32 = static_cast<std::uint32_t>(start), e32 = static_cast<std::uint32_t>(end);
    // Cut overlapping fragments.
    auto it = frags.lower_bound(s32);
    if (it != frags.begin()) {
      auto prev = std::prev(it);
      if (prev->second.end > s32) {
        const Frag tail = prev->second;
        prev->second.end = s32;
        if (tail.end > e32) frags[e32] = Frag{tail.end, tail.node};
      }
    }
    it = frags.lower_bound(s32);
    while (it != frags.end() && it->first < e32) {
      const Frag f = it->second;
      it = frags.erase(it);
      if (f.end > e32) {
        frags[e32] = f;
        break;
      }
    }
    frags[s32] = Frag{e32, idx};
  }
  auto writer = ctx.out().CreateFile(path, info.mode & 07777);
  if (!writer) return Forward(writer);
  std::uint64_t pos = 0;
  std::vector<std::uint8_t> buf;
  std::size_t decoded = SIZE_MAX;
  Result<void> member_problem;
  for (const auto& [start, f] : frags) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    if (start > pos) CLEARBOX_TRY(writer->WriteZeros(start - pos));
    const DataNode& n = info.nodes[f.node];
    if (decoded != f.node) {
      auto rc = DecodeNode(n, buf);
      if (!rc) {
        if (member_problem) member_problem = rc;
        buf.assign(n.dsize, 0);
      }
      decoded = f.node;
    }
    const std::size_t from = start - n.offset;
    CLEARBOX_TRY(writer->Write(ByteView(buf.data() + from, f.end - start)));
    pos = f.end;
  }
  if (info.isize > pos) CLEARBOX_TRY(writer->WriteZeros(info.isize - pos));
  CLEARBOX_TRY(writer->Close());
  return member_problem;
}

// Concatenates the newest data of a small inode (symlink target, device number).
std::vector<std::uint8_t> SmallContents(const InodeInfo& info) {
  std::vector<std::uint8_t> out;
  std::uint32_t best = 0;
  const DataNode* newest = nullptr;
  for (const auto& n : info.nodes) {
    if (n.offset == 0 && (newest == nullptr || n.version >= best)) {
      newest = &n;
      best = n.version;
    }
  }
  if (newest == nullptr || !DecodeNode(*newest, out)) return {};
  if (out.size() > info.isize) out.resize(info.isize);
  return out;
}

// Rebuilds the tree from the root inode: directories, files, links and special files.
class TreeWriter {
 public:
  TreeWriter(const Jffs2Image& img, Endian e, ExtractContext& ctx) : img_(img), e_(e), ctx_(ctx) {
    for (const auto& [key, d] : img.dirents) {
      if (d.ino != 0) children_[key.first].push_back({key.second, d});
    }
  }

  Result<void> Run() { return WalkDir(kRootIno, "", 0); }

 private:
  struct Child {
    std::string name;
    DirentInfo dirent;
  };

  Result<void> WalkDir(std::uint32_t dir_ino, const std::string& prefix, int depth) {
    if (depth > kMaxDepth) {
      ctx_.ReportProblem(ErrorCode::kMalformed, prefix, "directory nesting too deep");
      return {};
    }
    if (!visited_dirs_.insert(dir_ino).second) {
      ctx_.ReportProblem(ErrorCode::kMalformed, prefix, "directory cycle");
      return {};
    }
    auto it = children_.find(dir_ino);
    if (it == children_.end()) return {};
    for (const Child& c : it->second) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::string path = prefix.empty() ? c.name : prefix + "/" + c.name;
      CLEARBOX_TRY(WriteEntry(c, path, depth));
    }
    return {};
  }

  Result<void> WriteEntry(const Child& c, const std::string& path, int depth) {
    const auto found = img_.inodes.find(c.dirent.ino);
    const InodeInfo* info = found == img_.inodes.end() ? nullptr : &found->second;
    std::uint32_t fmt = info ? (info->mode & 0170000) : 0;
    if (fmt == 0) fmt = static_cast<std::uint32_t>(c.dirent.type) << 12;
    const std::uint32_t perm = info ? (info->mode & 07777) : 0644;
    if (fmt == 0040000) {
      if (!ctx_.ContinueAfter(ctx_.out().CreateDirectory(path, perm ? perm : 0755), path)) {
        return Fail(ErrorCode::kLimitExceeded, "jffs2 directory creation stopped");
      }
      return WalkDir(c.dirent.ino, path, depth + 1);
    }
    if (info == nullptr) {
      ctx_.ReportProblem(ErrorCode::kMalformed, path, "dirent points to a missing inode");
      return {};
    }
    if (fmt == 0100000) {
      auto first = written_.find(c.dirent.ino);
      if (first != written_.end()) {
        auto rc = ctx_.out().CreateHardlink(path, first->second);
        if (!ctx_.ContinueAfter(rc, path)) return rc;
        return {};
      }
      auto rc = WriteRegular(*info, path, ctx_);
      if (!ctx_.ContinueAfter(rc, path)) return rc;
      written_[c.dirent.ino] = path;
      return {};
    }
    if (fmt == 0120000) {
      const auto target = SmallContents(*info);
      auto rc = ctx_.out().CreateSymlink(path, AsText(ByteView(target)));
      if (!ctx_.ContinueAfter(rc, path)) return rc;
      return {};
    }
    EntryType type;
    switch (fmt) {
      case 0020000: type = EntryType::kCharDevice; break;
      case 0060000: type = EntryType::kBlockDevice; break;
      case 0010000: type = EntryType::kFifo; break;
      case 0140000: type = EntryType::kSocket; break;
      default:
        ctx_.ReportProblem(ErrorCode::kMalformed, path, "inode has an unknown file type");
        return {};
    }
    std::uint32_t major = 0, minor = 0;
    const auto dev = SmallContents(*info);
    if (dev.size() == 2) {
      const std::uint16_t v = LoadU16(dev.data(), e_);
      major = v >> 8;
      minor = v & 0xFF;
    } else if (dev.size() >= 4) {
      const std::uint32_t v = LoadU32(dev.data(), e_);
      major = (v & 0xFFF00) >> 8;
      minor = (v & 0xFF) | ((v >> 12) & 0xFFF00);
    }
    auto rc = ctx_.out().RecordSpecial(path, type, perm, major, minor);
    if (!ctx_.ContinueAfter(rc, path)) return rc;
    return {};
  }

  const Jffs2Image& img_;
  Endian e_;
  ExtractContext& ctx_;
  std::unordered_map<std::uint32_t, std::vector<Child>> children_;
  std::set<std::uint32_t> visited_dirs_;
  std::unordered_map<std::uint32_t, std::string> written_;
};

class Jffs2Handler final : public Handler {
 public:
  std::string_view Name() const override { return "jffs2"; }
  std::string_view Description() const override {
    return "JFFS2 flash filesystem (both byte orders; zlib, lzo, lzma, rtime, rubin nodes)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x85\x19", 2), 0},
                                                {std::string_view("\x19\x85", 2), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto e = DetectEndian(data);
    if (!e) return Forward(e);
    const LogExtent extent = ScanExtent(data, *e);
    if (extent.nodes < 2 && extent.length < data.size()) {
      // One lonely node header is far more likely noise than a file system.
      return Fail(ErrorCode::kNotThisFormat, "a single jffs2 node");
    }
    return extent.length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto e = DetectEndian(data);
    if (!e) return Forward(e);
    auto img = ParseLog(data, *e, ctx);
    if (!img) return Forward(img);
    if (img->bad_crc) {
      ctx.ReportProblem(
          ErrorCode::kMalformed, "",
          std::to_string(img->bad_crc) + " jffs2 nodes with bad CRC or fields skipped");
    }
    if (img->truncated) {
      ctx.ReportProblem(ErrorCode::kTruncated, "", "last jffs2 node runs past the end of data");
    }
    TreeWriter writer(*img, *e, ctx);
    CLEARBOX_TRY(writer.Run());
    return data.size();
  }
};

}  // namespace

const Handler& GetJffs2Handler() {
  static const Jffs2Handler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
