// YAFFS / YAFFS2 NAND flash filesystem images (page data + spare/OOB area per chunk): the
// page and spare sizes, tag layout and byte order are inferred from where consistent tags
// sit; chunks are resolved by sequence number and the tree rebuilt from the root object.
// Layouts: yaffs_obj_hdr and yaffs_packed_tags2 (Linux fs/yaffs2, yaffs_guts.h,
// yaffs_packedtags2.c), yaffs_tags / yaffs_spare for 512+16 YAFFS1 NAND.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kTypeFile = 1, kTypeSymlink = 2, kTypeDir = 3, kTypeHardlink = 4,
                        kTypeSpecial = 5;
constexpr std::uint32_t kRootId = 1, kLostFoundId = 2, kUnlinkedId = 3, kDeletedId = 4;
constexpr std::size_t kHeaderSize = 512;
constexpr std::size_t kNameOffset = 10, kNameSize = 256;
constexpr std::size_t kAliasOffset = 300, kAliasSize = 160;
// Sequence numbers of blocks in use; checkpoint data and bad blocks carry others.
constexpr std::uint32_t kLowestSeq = 0x1000, kHighestSeq = 0xEFFFFF00;
constexpr std::uint32_t kCheckpointSeq = 0x21, kBadBlockSeq = 0xFFFF0000;
constexpr std::uint32_t kMaxObjectId = 0x0FFFFFFF;
constexpr std::uint32_t kExtraHeaderInfo = 0x80000000, kAllExtraFlags = 0xF0000000;
constexpr std::size_t kPageSizes[] = {512, 1024, 2048, 4096, 8192, 16384};
constexpr std::size_t kSpareSizes[] = {16, 32, 64, 128, 224, 256, 448, 512, 640, 744, 1024, 1280};
constexpr std::size_t kTagOffsets[] = {0, 2};
constexpr std::size_t kProbeChunks = 24;
constexpr int kMaxDepth = 256;

enum class TagKind : std::uint8_t { kYaffs2, kYaffs1 };

// How chunks are laid out: `page` data bytes then `spare` OOB bytes holding the tags.
struct Layout {
  std::size_t page = 0;
  std::size_t spare = 0;
  std::size_t tag_offset = 0;
  TagKind kind = TagKind::kYaffs2;
  Endian endian = Endian::kLittle;
  std::size_t chunk() const { return page + spare; }
};

enum class ChunkState : std::uint8_t { kErased, kValid, kSkip, kInvalid };

// Decoded tags of one chunk; chunk_id 0 marks an object header.
struct Tags {
  std::uint32_t seq = 0;
  std::uint32_t obj_id = 0;
  std::uint32_t chunk_id = 0;
  std::uint32_t n_bytes = 0;
  bool extra = false;  // a yaffs2 header chunk whose tags repeat its parent and type
  std::uint32_t extra_parent = 0;
  std::uint32_t extra_type = 0;
};

// The fields of yaffs_obj_hdr that matter for extraction.
struct ObjectHeader {
  std::uint32_t type = 0;
  std::uint32_t parent = 0;
  std::string name;
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::uint32_t equiv = 0;
  std::string alias;
  std::uint32_t rdev = 0;
};

std::string CString(ByteView bytes) {
  const auto text = AsText(bytes);
  return std::string(text.substr(0, text.find('\0')));
}

bool ParseHeader(ByteView page, Endian e, ObjectHeader* out) {
  if (page.size() < kHeaderSize) return false;
  const std::uint8_t* p = page.data();
  out->type = LoadU32(p, e);
  out->parent = LoadU32(p + 4, e);
  // Object ids fit in 28 bits (yaffs2 tags keep the type in the top four).
  if (out->type < kTypeFile || out->type > kTypeSpecial || out->parent == 0 ||
      out->parent > kMaxObjectId) {
    return false;
  }
  out->name = CString(page.subspan(kNameOffset, kNameSize));
  out->mode = LoadU32(p + 268, e);
  const std::uint32_t size_high = LoadU32(p + 496, e);
  out->size = LoadU32(p + 292, e);
  // yaffs_oh_to_size: an all-ones high word means "not used" (older writers).
  if (size_high != 0xFFFFFFFFu) out->size |= std::uint64_t{size_high} << 32;
  out->equiv = LoadU32(p + 296, e);
  out->alias = CString(page.subspan(kAliasOffset, kAliasSize));
  out->rdev = LoadU32(p + 460, e);
  return true;
}

ChunkState DecodeYaffs2Tags(const std::uint8_t* sp, Endian e, std::size_t page, Tags* t) {
  t->seq = LoadU32(sp, e);
  t->obj_id = LoadU32(sp + 4, e);
  t->chunk_id = LoadU32(sp + 8, e);
  t->n_bytes = LoadU32(sp + 12, e);
  if (t->seq == 0xFFFFFFFFu) return ChunkState::kErased;
  if (t->seq == kCheckpointSeq || t->seq == kBadBlockSeq) return ChunkState::kSkip;
  if (t->seq < kLowestSeq || t->seq > kHighestSeq) return ChunkState::kInvalid;
  if (t->chunk_id & kExtraHeaderInfo) {
    // Kernel-written header: parent in the chunk id, object type in the id's top bits.
    t->extra = true;
    t->extra_parent = t->chunk_id & ~kAllExtraFlags;
    t->extra_type = t->obj_id >> 28;
    t->chunk_id = 0;
    t->obj_id &= ~kAllExtraFlags;
    t->n_bytes = 0;
  }
  if (t->obj_id == 0 || (t->chunk_id != 0 && t->n_bytes > page)) return ChunkState::kInvalid;
  return ChunkState::kValid;
}

// yaffs_calc_tags_ecc: XOR of the 1-based numbers of the set bits of the 8 tag bytes.
std::uint32_t Yaffs1TagEcc(const std::uint8_t* b) {
  std::uint32_t ecc = 0, bit = 0;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) {
      ++bit;
      if (b[i] & (1u << j)) ecc ^= bit;
    }
  }
  return ecc & 0xFFF;
}

// yaffs_tags is a bitfield (chunk id:20, serial:2, bytes:10, object id:18, ecc:12,
// bytes high:2) spread over struct yaffs_spare; a big-endian host packs it from the top.
ChunkState DecodeYaffs1Tags(const std::uint8_t* sp, Endian e, Tags* t) {
  std::uint8_t b[8] = {sp[0], sp[1], sp[2], sp[3], sp[6], sp[7], sp[11], sp[12]};
  if (std::all_of(b, b + 8, [](std::uint8_t v) { return v == 0xFF; })) {
    return ChunkState::kErased;
  }
  std::uint32_t ecc = 0;
  if (e == Endian::kLittle) {
    const std::uint64_t v = LoadU64(b, Endian::kLittle);
    t->chunk_id = static_cast<std::uint32_t>(v & 0xFFFFF);
    t->n_bytes = static_cast<std::uint32_t>((v >> 22) & 0x3FF);
    t->obj_id = static_cast<std::uint32_t>((v >> 32) & 0x3FFFF);
    ecc = static_cast<std::uint32_t>((v >> 50) & 0xFFF);
    b[6] &= 0x03;  // clear the ECC bits before recomputing it
    b[7] &= 0xC0;
  } else {
    const std::uint32_t w0 = LoadU32(b, Endian::kBig), w1 = LoadU32(b + 4, Endian::kBig);
    t->chunk_id = w0 >> 12;
    t->n_bytes = w0 & 0x3FF;
    t->obj_id = w1 >> 14;
    ecc = (w1 >> 2) & 0xFFF;
    b[6] &= 0xC0;
    b[7] &= 0x03;
  }
  t->seq = 0;
  if (Yaffs1TagEcc(b) != ecc || t->obj_id == 0) return ChunkState::kInvalid;
  // A deleted chunk has its page status byte cleared.
  if (__builtin_popcount(sp[4]) < 7) return ChunkState::kSkip;
  if (t->chunk_id != 0 && t->n_bytes > 512) return ChunkState::kInvalid;
  return ChunkState::kValid;
}

// Decodes chunk `index`; header chunks must also hold a plausible object header.
ChunkState DecodeChunk(ByteView data, const Layout& l, std::size_t index, Tags* t) {
  const std::size_t at = index * l.chunk();
  if (at > data.size() || data.size() - at < l.chunk()) return ChunkState::kInvalid;
  const std::uint8_t* sp = data.data() + at + l.page;
  const ChunkState state = l.kind == TagKind::kYaffs1
                               ? DecodeYaffs1Tags(sp, l.endian, t)
                               : DecodeYaffs2Tags(sp + l.tag_offset, l.endian, l.page, t);
  if (state != ChunkState::kValid || t->chunk_id != 0) return state;
  ObjectHeader h;
  if (!ParseHeader(data.subspan(at, l.page), l.endian, &h)) return ChunkState::kInvalid;
  if (t->extra && (t->extra_parent != h.parent || t->extra_type != h.type)) {
    return ChunkState::kInvalid;
  }
  return ChunkState::kValid;
}

// How many of the first chunks have valid tags (0 unless chunk 0 is an object header).
std::size_t ScoreLayout(ByteView data, const Layout& l) {
  Tags t;
  if (DecodeChunk(data, l, 0, &t) != ChunkState::kValid || t.chunk_id != 0) return 0;
  std::size_t valid = 1;
  for (std::size_t i = 1; i < kProbeChunks; ++i) {
    const ChunkState s = DecodeChunk(data, l, i, &t);
    if (s == ChunkState::kInvalid) break;
    if (s == ChunkState::kValid) ++valid;
  }
  return valid;
}

// Finds the page size, spare size, tag layout and byte order under which the most chunks
// from the start carry consistent tags.
Result<Layout> DetectLayout(ByteView data) {
  if (data.size() < kHeaderSize) return Fail(ErrorCode::kNotThisFormat, "too short for yaffs");
  ObjectHeader h;
  Endian e = Endian::kLittle;
  if (!ParseHeader(data.first(kHeaderSize), e, &h)) {
    e = Endian::kBig;
    if (!ParseHeader(data.first(kHeaderSize), e, &h)) {
      return Fail(ErrorCode::kNotThisFormat, "no yaffs object header");
    }
  }
  Layout best;
  std::size_t best_score = 0;
  auto consider = [&](const Layout& l) {
    const std::size_t score = ScoreLayout(data, l);
    if (score > best_score) {
      best_score = score;
      best = l;
    }
  };
  for (std::size_t page : kPageSizes) {
    for (std::size_t spare : kSpareSizes) {
      if (spare > page / 4) break;
      if (page == 512 && spare == 16) consider(Layout{page, spare, 0, TagKind::kYaffs1, e});
      for (std::size_t off : kTagOffsets) {
        if (off + 16 <= spare) consider(Layout{page, spare, off, TagKind::kYaffs2, e});
      }
    }
  }
  if (best_score < 2) return Fail(ErrorCode::kNotThisFormat, "no consistent yaffs tags");
  return best;
}

// The chunks that hold data, and where the image ends.
struct ChunkScan {
  std::vector<std::pair<std::size_t, Tags>> chunks;  // chunk index, tags
  std::uint64_t length = 0;
  bool cut_short = false;  // the data ends inside a chunk that is not erased
};

ChunkScan ScanChunks(ByteView data, const Layout& l) {
  ChunkScan scan;
  const std::size_t count = data.size() / l.chunk();
  std::size_t end = 0, i = 0;
  Tags t;
  for (; i < count; ++i) {
    const ChunkState s = DecodeChunk(data, l, i, &t);
    if (s == ChunkState::kInvalid) break;
    if (s == ChunkState::kErased) continue;
    if (s == ChunkState::kValid) scan.chunks.emplace_back(i, t);
    end = i + 1;
  }
  // Erased chunks after the last one used belong to the image up to an erase-block end.
  const std::size_t per_block = l.page >= 2048 ? 64 : 32;
  const std::size_t block_end = (end + per_block - 1) / per_block * per_block;
  if (block_end <= i) end = block_end;
  scan.length = std::uint64_t{end} * l.chunk();
  if (i == count && end == count && data.size() > scan.length) {
    const ByteView tail = data.subspan(scan.length);
    scan.cut_short =
        std::any_of(tail.begin(), tail.end(), [](std::uint8_t v) { return v != 0xFF; });
    if (scan.cut_short) scan.length = data.size();
  }
  return scan;
}

// The newest state of every object: its header and its data chunks by chunk id.
struct ObjectState {
  bool has_header = false;
  std::pair<std::uint32_t, std::size_t> header_key{};  // (sequence, chunk index)
  ObjectHeader header;
  std::map<std::uint32_t, std::pair<std::pair<std::uint32_t, std::size_t>, Tags>> data;
};

using ObjectMap = std::map<std::uint32_t, ObjectState>;

// Newest wins: a higher sequence number, then a later chunk within the block.
ObjectMap ResolveChunks(ByteView data, const Layout& l, const ChunkScan& scan) {
  ObjectMap objects;
  for (const auto& [index, t] : scan.chunks) {
    const std::pair<std::uint32_t, std::size_t> key{t.seq, index};
    ObjectState& obj = objects[t.obj_id];
    if (t.chunk_id == 0) {
      if (obj.has_header && key < obj.header_key) continue;
      ObjectHeader h;
      if (!ParseHeader(data.subspan(index * l.chunk(), l.page), l.endian, &h)) continue;
      obj.has_header = true;
      obj.header_key = key;
      obj.header = std::move(h);
      continue;
    }
    auto [slot, inserted] = obj.data.try_emplace(t.chunk_id, key, t);
    if (!inserted && slot->second.first < key) slot->second = {key, t};
  }
  return objects;
}

class TreeWriter {
 public:
  TreeWriter(ByteView data, const Layout& l, const ObjectMap& objects, ExtractContext& ctx)
      : data_(data), layout_(l), objects_(objects), ctx_(ctx) {
    for (const auto& [id, obj] : objects) {
      if (!obj.has_header || id == kRootId) continue;
      const std::uint32_t parent = obj.header.parent;
      if (parent == kUnlinkedId || parent == kDeletedId) continue;  // deleted objects
      children_[parent].push_back(id);
      ++live_;
    }
  }

  Result<void> Run() {
    CLEARBOX_TRY(WalkDir(kRootId, "", 0));
    const auto lost = objects_.find(kLostFoundId);
    if (children_.count(kLostFoundId) && (lost == objects_.end() || !lost->second.has_header)) {
      CLEARBOX_TRY(WalkDir(kLostFoundId, "lost+found", 1));
    }
    for (const auto& [path, equiv] : hardlinks_) {
      const auto target = written_.find(equiv);
      if (target == written_.end()) {
        ctx_.ReportProblem(ErrorCode::kMalformed, path, "hard link to a missing file object");
        continue;
      }
      auto rc = ctx_.out().CreateHardlink(path, target->second);
      if (!ctx_.ContinueAfter(rc, path)) return rc;
    }
    if (visited_ < live_) {
      ctx_.ReportProblem(ErrorCode::kMalformed, "",
                         std::to_string(live_ - visited_) +
                             " yaffs objects not reachable from the root (missing parent or "
                             "a parent cycle) skipped");
    }
    return {};
  }

 private:
  Result<void> WalkDir(std::uint32_t dir_id, const std::string& prefix, int depth) {
    if (depth > kMaxDepth) {
      ctx_.ReportProblem(ErrorCode::kMalformed, prefix, "directory nesting too deep");
      return {};
    }
    if (!visited_dirs_.insert(dir_id).second) {
      ctx_.ReportProblem(ErrorCode::kMalformed, prefix, "directory cycle");
      return {};
    }
    const auto it = children_.find(dir_id);
    if (it == children_.end()) return {};
    for (const std::uint32_t id : it->second) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      ++visited_;
      const ObjectHeader& h = objects_.at(id).header;
      if (h.name.empty() || h.name == "." || h.name == ".." ||
          h.name.find('/') != std::string::npos) {
        ctx_.ReportProblem(ErrorCode::kTraversal, prefix,
                           "object " + std::to_string(id) + " has an unusable name");
        continue;
      }
      const std::string path = prefix.empty() ? h.name : prefix + "/" + h.name;
      CLEARBOX_TRY(WriteEntry(id, h, path, depth));
    }
    return {};
  }

  Result<void> WriteEntry(std::uint32_t id, const ObjectHeader& h, const std::string& path,
                          int depth) {
    const std::uint32_t perm = h.mode & 07777;
    switch (h.type) {
      case kTypeDir: {
        auto rc = ctx_.out().CreateDirectory(path, perm ? perm : 0755);
        if (!ctx_.ContinueAfter(rc, path)) return rc;
        return WalkDir(id, path, depth + 1);
      }
      case kTypeFile: {
        auto rc = WriteRegular(objects_.at(id), path);
        if (!ctx_.ContinueAfter(rc, path)) return rc;
        written_.emplace(id, path);
        return {};
      }
      case kTypeSymlink: {
        auto rc = ctx_.out().CreateSymlink(path, h.alias);
        if (!ctx_.ContinueAfter(rc, path)) return rc;
        return {};
      }
      case kTypeHardlink: hardlinks_.emplace_back(path, h.equiv); return {};
      default: return WriteSpecial(h, path);
    }
  }

  Result<void> WriteSpecial(const ObjectHeader& h, const std::string& path) {
    EntryType type;
    switch (h.mode & 0170000) {
      case 0020000: type = EntryType::kCharDevice; break;
      case 0060000: type = EntryType::kBlockDevice; break;
      case 0010000: type = EntryType::kFifo; break;
      case 0140000: type = EntryType::kSocket; break;
      default:
        ctx_.ReportProblem(ErrorCode::kMalformed, path, "special object with an unknown mode");
        return {};
    }
    // old_encode_dev (major << 8 | minor), or new_encode_dev for large numbers.
    const std::uint32_t major = (h.rdev & 0xFFF00) >> 8;
    const std::uint32_t minor = (h.rdev & 0xFF) | ((h.rdev >> 12) & 0xFFF00);
    auto rc = ctx_.out().RecordSpecial(path, type, h.mode & 07777, major, minor);
    if (!ctx_.ContinueAfter(rc, path)) return rc;
    return {};
  }

  // Writes data chunks 1, 2, ... at (chunk id - 1) * page, holes as zeros, cut to the size.
  // Bytes no chunk backs (holes, a size past the data) may not exceed the image size: a
  // hostile size or chunk id would otherwise spend the whole output budget on zeros.
  Result<void> WriteRegular(const ObjectState& obj, const std::string& path) {
    const std::uint64_t size = obj.header.size;
    const std::uint64_t allowance = data_.size();
    auto writer = ctx_.out().CreateFile(path, obj.header.mode & 07777);
    if (!writer) return Forward(writer);
    std::uint64_t pos = 0, missing = 0;
    bool cut = false;
    for (const auto& [chunk_id, entry] : obj.data) {
      const std::uint64_t offset = std::uint64_t{chunk_id - 1} * layout_.page;
      if (offset >= size) break;
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      if (offset > pos) {
        if (offset - pos > allowance - missing) {
          cut = true;
          break;
        }
        missing += offset - pos;
        CLEARBOX_TRY(writer->WriteZeros(offset - pos));
      }
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(entry.second.n_bytes, size - offset));
      CLEARBOX_TRY(writer->Write(data_.subspan(entry.first.second * layout_.chunk(), n)));
      pos = offset + n;
    }
    if (!cut && size > pos) {
      if (size - pos > allowance - missing) {
        cut = true;
      } else {
        missing += size - pos;
        CLEARBOX_TRY(writer->WriteZeros(size - pos));
      }
    }
    CLEARBOX_TRY(writer->Close());
    if (cut) {
      return Fail(ErrorCode::kMalformed, "file size " + std::to_string(size) +
                                             " leaves more bytes without data than the image "
                                             "holds; cut to " +
                                             std::to_string(pos));
    }
    if (missing > 0) {
      return Fail(ErrorCode::kTruncated,
                  std::to_string(missing) + " bytes of file data missing (written as zeros)");
    }
    return {};
  }

  ByteView data_;
  const Layout& layout_;
  const ObjectMap& objects_;
  ExtractContext& ctx_;
  std::map<std::uint32_t, std::vector<std::uint32_t>> children_;
  std::set<std::uint32_t> visited_dirs_;
  std::map<std::uint32_t, std::string> written_;
  std::vector<std::pair<std::string, std::uint32_t>> hardlinks_;
  std::size_t live_ = 0, visited_ = 0;
};

class YaffsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "yaffs"; }
  std::string_view Description() const override {
    return "YAFFS/YAFFS2 NAND flash filesystem (512 to 16384-byte pages, yaffs2 packed tags "
           "or yaffs1 512+16 tags, both byte orders)";
  }
  std::string_view Family() const override { return "filesystem"; }
  // The first object header of an image written by mkyaffs(2)image: a file, directory,
  // symlink or special object in the root (parent 1) with the unused name checksum 0xffff.
  // Big-endian magics start after the type's zero bytes (vectorscan's literal API refuses
  // a literal that starts with NUL).
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {std::string_view("\x01\x00\x00\x00\x01\x00\x00\x00\xFF\xFF", 10), 0},
        {std::string_view("\x02\x00\x00\x00\x01\x00\x00\x00\xFF\xFF", 10), 0},
        {std::string_view("\x03\x00\x00\x00\x01\x00\x00\x00\xFF\xFF", 10), 0},
        {std::string_view("\x05\x00\x00\x00\x01\x00\x00\x00\xFF\xFF", 10), 0},
        {std::string_view("\x01\x00\x00\x00\x01\xFF\xFF", 7), 3},
        {std::string_view("\x02\x00\x00\x00\x01\xFF\xFF", 7), 3},
        {std::string_view("\x03\x00\x00\x00\x01\xFF\xFF", 7), 3},
        {std::string_view("\x05\x00\x00\x00\x01\xFF\xFF", 7), 3}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = DetectLayout(data);
    if (!layout) return Forward(layout);
    return ScanChunks(data, *layout).length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout = DetectLayout(data);
    if (!layout) return Forward(layout);
    const ChunkScan scan = ScanChunks(data, *layout);
    if (scan.cut_short) {
      ctx.ReportProblem(ErrorCode::kTruncated, "", "yaffs image ends inside a chunk");
    }
    const ObjectMap objects = ResolveChunks(data, *layout, scan);
    TreeWriter writer(data, *layout, objects, ctx);
    CLEARBOX_TRY(writer.Run());
    return scan.length;
  }
};

}  // namespace

const Handler& GetYaffsHandler() {
  static const YaffsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
