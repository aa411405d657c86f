// SquashFS 1.0, 2.x and 3.x (the layouts before 4.0, which libsquashfs cannot read), either byte
// order, with zlib or the LZMA variants of old vendor SDKs (what sasquatch patches in).
// Layouts: squashfs-tools' squashfs_compat.h. Structures are packed bitfields: a little-endian
// image numbers bits from the least significant bit of each byte, a big-endian one from the
// most significant, so every field is read by (bit position, width) in the image's order.
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kMetaSize = 8192;
constexpr std::uint32_t kInvalidFrag = 0xFFFFFFFFu;
constexpr std::uint32_t kBlockUncompressed = 1u << 24;
constexpr std::uint16_t kMetaUncompressed = 0x8000;
constexpr std::size_t kMaxDirDepth = 256;
// A decompressed inode or directory table larger than this is refused (real ones are a few MB).
constexpr std::size_t kMaxTableBytes = std::size_t{256} << 20;
constexpr std::uint32_t kMaxBlockSize = 1u << 20;

// Inode types shared by 1.0 (see ReadInodeV1), 2.x and 3.x (9, the long file, is 3.x only).
enum InodeType : std::uint32_t {
  kDir = 1,
  kFile = 2,
  kSymlink = 3,
  kBlockDev = 4,
  kCharDev = 5,
  kFifo = 6,
  kSocket = 7,
  kLongDir = 8,
  kLongFile = 9,
};

// Reads the bitfield at bit `pos` of `width` bits (<= 64) from a packed record; bytes past
// the record read as zero (callers check the record is long enough).
std::uint64_t Bits(ByteView rec, unsigned pos, unsigned width, Endian e) {
  const std::size_t first = pos / 8;
  const unsigned shift = pos % 8;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint64_t b = first + i < rec.size() ? rec[first + i] : 0;
    v |= e == Endian::kLittle ? b << (8 * i) : b << (56 - 8 * i);
  }
  const std::uint64_t mask = width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  if (e == Endian::kLittle) return (v >> shift) & mask;
  return (v >> (64 - width - shift)) & mask;
}

// The superblock fields both layouts share, normalised.
struct Super {
  Endian endian = Endian::kLittle;
  unsigned major = 0, minor = 0;
  std::uint32_t block_size = 0, block_log = 0, fragments = 0, inodes = 0;
  std::uint8_t flags = 0;
  std::uint64_t root_inode = 0, bytes_used = 0, inode_table = 0, dir_table = 0;
  std::uint64_t fragment_table = 0, uid_start = 0, guid_start = 0, lookup_table = 0;
  bool check_data() const { return (flags >> 2) & 1; }
  std::size_t super_size() const { return major >= 3 ? 119 : 63; }
};

constexpr std::array<std::string_view, 7> kMagics = {"sqsh", "hsqs", "shsq", "qshs",
                                                     "tqsh", "hsqt", "sqlz"};

Result<Super> ReadSuper(ByteView data) {
  bool magic = false;
  for (auto m : kMagics) magic = magic || HasBytesAt(data, 0, m);
  if (!magic) return Fail(ErrorCode::kNotThisFormat, "no squashfs magic");
  if (data.size() < 119) return Fail(ErrorCode::kNotThisFormat, "short squashfs superblock");
  Super s;
  // The standard magics fix the byte order; vendor magics are told apart by the version.
  const std::uint16_t le_major = LoadU16(data.data() + 28, Endian::kLittle);
  if (HasBytesAt(data, 0, "sqsh")) {
    s.endian = Endian::kBig;
  } else if (HasBytesAt(data, 0, "hsqs")) {
    s.endian = Endian::kLittle;
  } else {
    s.endian = (le_major >= 1 && le_major <= 3) ? Endian::kLittle : Endian::kBig;
  }
  const Endian e = s.endian;
  const ByteView h = data.subspan(0, 119);
  s.major = static_cast<unsigned>(Bits(h, 224, 16, e));
  s.minor = static_cast<unsigned>(Bits(h, 240, 16, e));
  if (s.major < 1 || s.major > 3 || s.minor > (s.major == 1 ? 0u : 1u)) {
    return Fail(ErrorCode::kNotThisFormat, "squashfs version not 1.0, 2.x or 3.x");
  }
  s.inodes = static_cast<std::uint32_t>(Bits(h, 32, 32, e));
  const auto block_size_1 = static_cast<std::uint32_t>(Bits(h, 256, 16, e));
  s.block_log = static_cast<std::uint32_t>(Bits(h, 272, 16, e));
  s.flags = static_cast<std::uint8_t>(Bits(h, 288, 8, e));
  s.root_inode = Bits(h, 344, 64, e);
  s.block_size = static_cast<std::uint32_t>(Bits(h, 408, 32, e));
  if (s.block_size == 0 || s.major == 1) s.block_size = block_size_1;
  s.fragments = s.major == 1 ? 0 : static_cast<std::uint32_t>(Bits(h, 440, 32, e));
  if (s.major <= 2) {
    s.bytes_used = Bits(h, 64, 32, e);
    s.uid_start = Bits(h, 96, 32, e);
    s.guid_start = Bits(h, 128, 32, e);
    s.inode_table = Bits(h, 160, 32, e);
    s.dir_table = Bits(h, 192, 32, e);
    if (s.major == 2) s.fragment_table = Bits(h, 472, 32, e);
  } else {
    s.bytes_used = Bits(h, 504, 64, e);
    s.uid_start = Bits(h, 568, 64, e);
    s.guid_start = Bits(h, 632, 64, e);
    s.inode_table = Bits(h, 696, 64, e);
    s.dir_table = Bits(h, 760, 64, e);
    s.fragment_table = Bits(h, 824, 64, e);
    s.lookup_table = Bits(h, 888, 64, e);
  }
  if (s.block_log < 12 || s.block_log > 20 || s.block_size != (1u << s.block_log)) {
    return Fail(ErrorCode::kNotThisFormat, "squashfs block size not sane");
  }
  if (s.bytes_used < s.super_size() || s.inode_table < s.super_size() ||
      s.inode_table >= s.dir_table || s.dir_table >= s.bytes_used) {
    return Fail(ErrorCode::kNotThisFormat, "squashfs table offsets not sane");
  }
  return s;
}

Result<std::uint64_t> ProbeLength(ByteView data) {
  auto s = ReadSuper(data);
  if (!s) return Forward(s);
  if (s->bytes_used > data.size()) {
    return Fail(ErrorCode::kTruncated, "truncated SquashFS " + std::to_string(s->major) + "." +
                                           std::to_string(s->minor) + ": superblock says " +
                                           std::to_string(s->bytes_used) + " bytes, only " +
                                           std::to_string(data.size()) + " available");
  }
  const std::uint64_t padded = (s->bytes_used + 4095) / 4096 * 4096;
  if (padded <= data.size()) {
    bool zeros = true;
    for (std::uint64_t i = s->bytes_used; i < padded && zeros; ++i) zeros = data[i] == 0;
    if (zeros) return padded;
  }
  return s->bytes_used;
}

// How a compressed block is stored; the first that works is tried first for later blocks.
enum class Method { kZlib, kLzma13, kLzma5, kLzmaRaw };
constexpr std::array<Method, 4> kMethods = {Method::kZlib, Method::kLzma13, Method::kLzma5,
                                            Method::kLzmaRaw};

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kZlib: return "zlib";
    case Method::kLzma13: return "lzma with 13-byte header";
    case Method::kLzma5: return "lzma with 5-byte properties, no size";
    case Method::kLzmaRaw: return "raw lzma lc3 lp0 pb2";
  }
  return "?";
}

// Inflates a zlib stream; returns the bytes written to out (which must end the stream).
std::size_t Inflate(ByteView in, std::span<std::uint8_t> out, bool& ok) {
  ok = false;
  if (in.size() < 2 || (in[0] & 0x0f) != 8 || ((in[0] << 8) | in[1]) % 31 != 0) return 0;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return 0;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const std::size_t got = zs.total_out;
  inflateEnd(&zs);
  ok = rc == Z_STREAM_END;
  return got;
}

// Decodes raw LZMA1 with the properties byte `props`; succeeds when the stream ends, all input
// is used, or (for a known size) the output is full.
std::size_t LzmaRaw(ByteView in, std::uint8_t props, std::span<std::uint8_t> out, bool exact,
                    bool& ok) {
  ok = false;
  if (props >= 9 * 5 * 5 || in.empty()) return 0;
  lzma_options_lzma opts{};
  if (lzma_lzma_preset(&opts, 6)) return 0;
  opts.lc = props % 9;
  opts.lp = (props / 9) % 5;
  opts.pb = props / 45;
  if (opts.lc + opts.lp > LZMA_LCLP_MAX) return 0;
  // The output is at most one block: a dictionary that large decodes any stream.
  opts.dict_size = std::max<std::uint32_t>(
      LZMA_DICT_SIZE_MIN, static_cast<std::uint32_t>(std::max<std::size_t>(out.size(), 4096)));
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, &opts}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_stream strm = LZMA_STREAM_INIT;
  if (lzma_raw_decoder(&strm, filters) != LZMA_OK) return 0;
  strm.next_in = in.data();
  strm.avail_in = in.size();
  strm.next_out = out.data();
  strm.avail_out = out.size();
  lzma_ret rc = LZMA_OK;
  for (int round = 0; round < 4 && rc == LZMA_OK && strm.avail_out > 0 && strm.avail_in > 0;
       ++round) {
    rc = lzma_code(&strm, LZMA_RUN);
  }
  const std::size_t got = strm.total_out;
  const bool consumed = strm.avail_in == 0;
  lzma_end(&strm);
  if (rc != LZMA_OK && rc != LZMA_STREAM_END) return got;
  ok = got > 0 && (exact ? got == out.size() : (rc == LZMA_STREAM_END || consumed));
  return got;
}

// Decompresses one block with the image's method (found on the first block). `exact`: the
// block must fill `out`; otherwise `out` is an upper bound. Returns the bytes produced.
class Decompressor {
 public:
  Result<std::size_t> Run(ByteView in, std::span<std::uint8_t> out, bool exact) {
    if (found_) {
      bool ok = false;
      const std::size_t got = Try(*found_, in, out, exact, ok);
      if (ok) return got;
    }
    for (const Method m : kMethods) {
      if (found_ && m == *found_) continue;
      bool ok = false;
      const std::size_t got = Try(m, in, out, exact, ok);
      if (ok) {
        found_ = m;
        return got;
      }
    }
    return Fail(ErrorCode::kMalformed,
                std::string("squashfs block does not decompress (") +
                    (found_ ? "the image's other blocks are " + std::string(MethodName(*found_))
                            : std::string("tried zlib and the lzma variants")) +
                    ")");
  }
  std::optional<Method> found() const { return found_; }

 private:
  static std::size_t Try(Method m, ByteView in, std::span<std::uint8_t> out, bool exact, bool& ok) {
    ok = false;
    switch (m) {
      case Method::kZlib: {
        const std::size_t got = Inflate(in, out, ok);
        ok = ok && (!exact || got == out.size());
        return got;
      }
      case Method::kLzma13: {
        if (in.size() < 14) return 0;
        const std::uint64_t size = LoadU64(in.data() + 5, Endian::kLittle);
        if (size != ~std::uint64_t{0} && (size > out.size() || (exact && size != out.size()))) {
          return 0;
        }
        const std::size_t cap = size == ~std::uint64_t{0} ? out.size() : size;
        const std::size_t got = LzmaRaw(in.subspan(13), in[0], out.subspan(0, cap), true, ok);
        if (!ok && size == ~std::uint64_t{0}) return LzmaRaw(in.subspan(13), in[0], out, exact, ok);
        return got;
      }
      case Method::kLzma5:
        if (in.size() < 6) return 0;
        return LzmaRaw(in.subspan(5), in[0], out, exact, ok);
      case Method::kLzmaRaw: return LzmaRaw(in, 0x5d, out, exact, ok);
    }
    return 0;
  }

  std::optional<Method> found_;
};

// A decompressed metadata table: the bytes of all its blocks in order, and where each block
// (by its offset from the table start) begins in them.
struct Table {
  std::vector<std::uint8_t> bytes;
  std::unordered_map<std::uint64_t, std::size_t> block_at;
};

struct Inode {
  std::uint32_t type = 0, mode = 0, nlink = 1;
  std::uint64_t file_size = 0, start_block = 0;
  std::uint32_t fragment = kInvalidFrag, frag_offset = 0;
  std::size_t block_list = 0;  // position of the block list in the inode table bytes
  std::uint32_t dir_block = 0, dir_offset = 0;
  std::uint32_t rdev = 0;
  std::string target;
};

struct FileJob {
  std::string path;
  Inode inode;
};

class LegacyExtraction {
 public:
  LegacyExtraction(ByteView data, const Super& s, ExtractContext& ctx)
      : data_(data), s_(s), e_(s.endian), ctx_(ctx) {}

  Result<void> Run() {
    ReadFragmentTable();
    CLEARBOX_TRY(ReadTable(s_.inode_table, s_.dir_table, inodes_, "inode"));
    CLEARBOX_TRY(ReadTable(s_.dir_table, DirTableEnd(), dirs_, "directory"));
    CLEARBOX_TRY(Walk());
    CLEARBOX_TRY(WriteFiles());
    for (const auto& [path, target] : hardlinks_) {
      auto r = ctx_.out().CreateHardlink(path, target);
      if (!ctx_.ContinueAfter(r, path)) return r;
    }
    for (const auto& job : others_) {
      auto r = WriteOther(job);
      if (!ctx_.ContinueAfter(r, job.path)) return r;
    }
    return walk_status_;
  }

 private:
  // The directory table runs to the next table the superblock names.
  std::uint64_t DirTableEnd() const {
    std::uint64_t end = s_.bytes_used;
    for (const std::uint64_t t :
         {s_.fragment_table, s_.uid_start, s_.guid_start, s_.lookup_table, first_fragment_}) {
      if (t > s_.dir_table && t < end) end = t;
    }
    return end;
  }

  // Reads one metadata block at `pos`; appends its bytes to `out`; returns the next position.
  Result<std::uint64_t> ReadMetaBlock(std::uint64_t pos, std::vector<std::uint8_t>& out) {
    const std::uint64_t header = 2 + (s_.check_data() ? 1 : 0);
    if (pos > data_.size() || data_.size() - pos < header) {
      return Fail(ErrorCode::kMalformed, "squashfs metadata block outside the image");
    }
    const std::uint16_t c = LoadU16(data_.data() + pos, e_);
    const std::uint32_t size = c & 0x7fffu;
    if (size == 0 || size > data_.size() - pos - header) {
      return Fail(ErrorCode::kMalformed, "squashfs metadata block size out of bounds");
    }
    const ByteView in = data_.subspan(pos + header, size);
    if (c & kMetaUncompressed) {
      if (size > kMetaSize) return Fail(ErrorCode::kMalformed, "squashfs metadata block too big");
      out.insert(out.end(), in.begin(), in.end());
    } else {
      std::array<std::uint8_t, kMetaSize> buf;
      auto got = decompressor_.Run(in, buf, false);
      if (!got) return Forward(got);
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*got));
    }
    return pos + header + size;
  }

  Result<void> ReadTable(std::uint64_t start, std::uint64_t end, Table& table,
                         std::string_view what) {
    std::uint64_t pos = start;
    while (pos < end) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      table.block_at.emplace(pos - start, table.bytes.size());
      auto next = ReadMetaBlock(pos, table.bytes);
      if (!next) {
        if (table.bytes.empty()) {
          return Fail(ErrorCode::kMalformed, "squashfs " + std::string(what) +
                                                 " table unreadable: " + next.error().message);
        }
        ctx_.ReportProblem(ErrorCode::kMalformed, "",
                           "squashfs " + std::string(what) + " table ends early at byte " +
                               std::to_string(pos) + ": " + next.error().message);
        break;
      }
      if (table.bytes.size() > kMaxTableBytes) {
        return Fail(ErrorCode::kLimitExceeded,
                    "squashfs " + std::string(what) + " table larger than 256 MiB");
      }
      pos = *next;
    }
    return {};
  }

  // Loads the fragment entries (start, size) through their index of metadata block pointers.
  void ReadFragmentTable() {
    if (s_.fragments == 0) return;
    const std::uint64_t entry = s_.major == 2 ? 8 : 16;
    const std::uint64_t pointer = s_.major == 2 ? 4 : 8;
    const std::uint64_t bytes = std::uint64_t{s_.fragments} * entry;
    const std::uint64_t blocks = (bytes + kMetaSize - 1) / kMetaSize;
    if (bytes / 3 > data_.size() || s_.fragment_table > data_.size() ||
        (data_.size() - s_.fragment_table) / pointer < blocks) {
      ctx_.ReportProblem(ErrorCode::kMalformed, "",
                         "squashfs fragment table of " + std::to_string(s_.fragments) +
                             " entries does not fit the image; fragments not read");
      return;
    }
    std::vector<std::uint8_t> table;
    for (std::uint64_t i = 0; i < blocks; ++i) {
      const std::uint64_t at = LoadU64Or32(s_.fragment_table + i * pointer, pointer);
      if (i == 0) first_fragment_ = at;
      auto next = ReadMetaBlock(at, table);
      if (!next) {
        ctx_.ReportProblem(ErrorCode::kMalformed, "",
                           "squashfs fragment table unreadable: " + next.error().message);
        return;
      }
    }
    if (table.size() < bytes) {
      ctx_.ReportProblem(ErrorCode::kMalformed, "", "squashfs fragment table short");
      return;
    }
    for (std::uint64_t i = 0; i < s_.fragments; ++i) {
      const ByteView rec(table.data() + i * entry, entry);
      const std::uint64_t start = Bits(rec, 0, s_.major == 2 ? 32 : 64, e_);
      const auto size = static_cast<std::uint32_t>(Bits(rec, s_.major == 2 ? 32 : 64, 32, e_));
      fragments_.emplace_back(start, size);
    }
  }

  std::uint64_t LoadU64Or32(std::uint64_t at, std::uint64_t width) const {
    return width == 4 ? LoadU32(data_.data() + at, e_) : LoadU64(data_.data() + at, e_);
  }

  // Parses the inode at reference (block offset in the inode table, offset in the block).
  Result<Inode> ReadInode(std::uint64_t block, std::uint32_t offset) {
    auto it = inodes_.block_at.find(block);
    if (it == inodes_.block_at.end() || offset >= kMetaSize ||
        it->second + offset >= inodes_.bytes.size()) {
      return Fail(ErrorCode::kMalformed, "squashfs inode reference out of bounds");
    }
    const std::size_t at = it->second + offset;
    const ByteView rec(inodes_.bytes.data() + at, inodes_.bytes.size() - at);
    const bool v3 = s_.major == 3;
    auto need = [&](std::size_t n) -> Result<void> {
      if (rec.size() < n) return Fail(ErrorCode::kMalformed, "squashfs inode truncated");
      return {};
    };
    if (s_.major == 1) return ReadInodeV1(rec, at);
    CLEARBOX_TRY(need(v3 ? 12 : 4));
    Inode in;
    in.type = static_cast<std::uint32_t>(Bits(rec, 0, 4, e_));
    in.mode = static_cast<std::uint32_t>(Bits(rec, 4, 12, e_));
    const unsigned base = v3 ? 96 : 32;  // bit position after the common header
    const unsigned after_nlink = v3 ? base + 32 : base;
    if (v3 && in.type != kFile) in.nlink = static_cast<std::uint32_t>(Bits(rec, base, 32, e_));
    switch (in.type) {
      case kDir:
        CLEARBOX_TRY(need(v3 ? 28 : 15));
        in.file_size = Bits(rec, after_nlink, 19, e_);
        in.dir_offset = static_cast<std::uint32_t>(Bits(rec, after_nlink + 19, 13, e_));
        in.dir_block =
            static_cast<std::uint32_t>(v3 ? Bits(rec, 160, 32, e_) : Bits(rec, 96, 24, e_));
        break;
      case kLongDir:
        CLEARBOX_TRY(need(v3 ? 31 : 18));
        in.file_size = Bits(rec, after_nlink, 27, e_);
        in.dir_offset = static_cast<std::uint32_t>(Bits(rec, after_nlink + 27, 13, e_));
        in.dir_block =
            static_cast<std::uint32_t>(v3 ? Bits(rec, 168, 32, e_) : Bits(rec, 104, 24, e_));
        break;
      case kFile:
      case kLongFile: {
        if (in.type == kLongFile && !v3) {
          return Fail(ErrorCode::kMalformed, "squashfs inode of unknown type 9");
        }
        const bool lreg = in.type == kLongFile;
        std::size_t header = 0;
        if (!v3) {
          header = 24;
          CLEARBOX_TRY(need(header));
          in.start_block = Bits(rec, 64, 32, e_);
          in.fragment = static_cast<std::uint32_t>(Bits(rec, 96, 32, e_));
          in.frag_offset = static_cast<std::uint32_t>(Bits(rec, 128, 32, e_));
          in.file_size = Bits(rec, 160, 32, e_);
        } else {
          header = lreg ? 40 : 32;
          CLEARBOX_TRY(need(header));
          const unsigned p = lreg ? 128 : 96;
          if (lreg) in.nlink = static_cast<std::uint32_t>(Bits(rec, 96, 32, e_));
          in.start_block = Bits(rec, p, 64, e_);
          in.fragment = static_cast<std::uint32_t>(Bits(rec, p + 64, 32, e_));
          in.frag_offset = static_cast<std::uint32_t>(Bits(rec, p + 96, 32, e_));
          in.file_size = Bits(rec, p + 128, lreg ? 64 : 32, e_);
        }
        in.block_list = at + header;
        break;
      }
      case kSymlink: {
        const std::size_t header = v3 ? 18 : 6;
        CLEARBOX_TRY(need(header));
        const auto size = static_cast<std::size_t>(Bits(rec, after_nlink, 16, e_));
        CLEARBOX_TRY(need(header + size));
        in.target.assign(reinterpret_cast<const char*>(rec.data() + header), size);
        break;
      }
      case kBlockDev:
      case kCharDev:
        CLEARBOX_TRY(need(v3 ? 18 : 6));
        in.rdev = static_cast<std::uint32_t>(Bits(rec, after_nlink, 16, e_));
        break;
      case kFifo:
      case kSocket: CLEARBOX_TRY(need(v3 ? 16 : 4)); break;
      default:
        return Fail(ErrorCode::kMalformed,
                    "squashfs inode of unknown type " + std::to_string(in.type));
    }
    return in;
  }

  // 1.0 inodes: a 3-byte header (type, mode, 4-bit uid and gid); type 0 is a fifo or socket
  // (subtype in the next 4 bits), and types above 5 repeat 1-5 with higher uid bits.
  Result<Inode> ReadInodeV1(ByteView rec, std::size_t at) const {
    auto need = [&](std::size_t n) -> Result<void> {
      if (rec.size() < n) return Fail(ErrorCode::kMalformed, "squashfs inode truncated");
      return {};
    };
    CLEARBOX_TRY(need(4));
    Inode in;
    const auto raw_type = static_cast<std::uint32_t>(Bits(rec, 0, 4, e_));
    in.mode = static_cast<std::uint32_t>(Bits(rec, 4, 12, e_));
    if (raw_type == 0) {
      in.type = Bits(rec, 24, 4, e_) == kSocket ? kSocket : kFifo;
      return in;
    }
    in.type = (raw_type - 1) % 5 + 1;
    switch (in.type) {
      case kDir:
        CLEARBOX_TRY(need(14));
        in.file_size = Bits(rec, 24, 19, e_);
        in.dir_offset = static_cast<std::uint32_t>(Bits(rec, 43, 13, e_));
        in.dir_block = static_cast<std::uint32_t>(Bits(rec, 88, 24, e_));
        break;
      case kFile:
        CLEARBOX_TRY(need(15));
        in.start_block = Bits(rec, 56, 32, e_);
        in.file_size = Bits(rec, 88, 32, e_);
        in.block_list = at + 15;
        break;
      case kSymlink: {
        CLEARBOX_TRY(need(5));
        const auto size = static_cast<std::size_t>(Bits(rec, 24, 16, e_));
        CLEARBOX_TRY(need(5 + size));
        in.target.assign(reinterpret_cast<const char*>(rec.data() + 5), size);
        break;
      }
      default:  // block and character devices
        CLEARBOX_TRY(need(5));
        in.rdev = static_cast<std::uint32_t>(Bits(rec, 24, 16, e_));
        break;
    }
    return in;
  }

  // Lists a directory: (name, inode block, inode offset) of each entry.
  struct Entry {
    std::string name;
    std::uint64_t block;
    std::uint32_t offset;
  };
  Result<std::vector<Entry>> ListDir(const Inode& dir) {
    std::vector<Entry> entries;
    const bool v3 = s_.major == 3;
    std::uint64_t size = dir.file_size;
    if (v3) {
      if (size < 3) return Fail(ErrorCode::kMalformed, "squashfs directory size below 3");
      size -= 3;
    }
    if (size == 0) return entries;
    auto it = dirs_.block_at.find(dir.dir_block);
    if (it == dirs_.block_at.end() || dir.dir_offset >= kMetaSize ||
        it->second + dir.dir_offset > dirs_.bytes.size() ||
        dirs_.bytes.size() - (it->second + dir.dir_offset) < size) {
      return Fail(ErrorCode::kMalformed, "squashfs directory listing out of bounds");
    }
    const ByteView listing(dirs_.bytes.data() + it->second + dir.dir_offset, size);
    const std::size_t head = v3 ? 9 : 4, ent = v3 ? 5 : 3;
    std::size_t pos = 0;
    while (pos < listing.size()) {
      if (listing.size() - pos < head) {
        return Fail(ErrorCode::kMalformed, "squashfs directory header truncated");
      }
      const ByteView h = listing.subspan(pos, head);
      const std::uint64_t count = Bits(h, 0, 8, e_) + 1;
      const std::uint64_t block = Bits(h, 8, v3 ? 32 : 24, e_);
      pos += head;
      for (std::uint64_t i = 0; i < count; ++i) {
        if (listing.size() - pos < ent) {
          return Fail(ErrorCode::kMalformed, "squashfs directory entry truncated");
        }
        const ByteView d = listing.subspan(pos, ent);
        const auto offset = static_cast<std::uint32_t>(Bits(d, 0, 13, e_));
        const std::size_t name_len = Bits(d, 16, 8, e_) + 1;
        pos += ent;
        if (listing.size() - pos < name_len) {
          return Fail(ErrorCode::kMalformed, "squashfs directory name truncated");
        }
        entries.push_back(
            {std::string(reinterpret_cast<const char*>(listing.data() + pos), name_len), block,
             offset});
        pos += name_len;
      }
    }
    return entries;
  }

  Result<void> Walk() {
    const std::uint64_t root_block = s_.root_inode >> 16;
    const auto root_offset = static_cast<std::uint32_t>(s_.root_inode & 0xffff);
    auto root = ReadInode(root_block, root_offset);
    if (!root) return Fail(ErrorCode::kMalformed, "squashfs root inode: " + root.error().message);
    if (root->type != kDir && root->type != kLongDir) {
      return Fail(ErrorCode::kMalformed, "squashfs root inode is not a directory");
    }
    const std::uint64_t max_entries = ctx_.budget().run().limits().max_files;
    std::uint64_t seen = 0;
    std::unordered_set<std::uint64_t> visited{s_.root_inode};
    struct Pending {
      std::string path;
      Inode inode;
      std::size_t depth;
    };
    std::vector<Pending> stack;
    stack.push_back({"", std::move(*root), 0});
    while (!stack.empty()) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      Pending dir = std::move(stack.back());
      stack.pop_back();
      auto entries = ListDir(dir.inode);
      if (!entries) {
        ctx_.ReportProblem(entries.error(), dir.path);
        continue;
      }
      for (auto& ent : *entries) {
        const std::string path = dir.path.empty() ? ent.name : dir.path + "/" + ent.name;
        if (ent.name == "." || ent.name == ".." || ent.name.find('/') != std::string::npos ||
            ent.name.find('\0') != std::string::npos) {
          ctx_.ReportProblem(ErrorCode::kMalformed, dir.path, "squashfs entry with a bad name");
          continue;
        }
        if (++seen > max_entries) {
          walk_status_ = Fail(
              ErrorCode::kLimitExceeded,
              "squashfs has more than " + std::to_string(max_entries) + " entries (--max-files)");
          return {};
        }
        auto inode = ReadInode(ent.block, ent.offset);
        if (!inode) {
          ctx_.ReportProblem(inode.error(), path);
          continue;
        }
        const std::uint64_t ref = (ent.block << 16) | ent.offset;
        switch (inode->type) {
          case kDir:
          case kLongDir: {
            if (!visited.insert(ref).second) {
              ctx_.ReportProblem(ErrorCode::kMalformed, path,
                                 "squashfs directory seen twice (loop); skipped");
              break;
            }
            if (dir.depth + 1 > kMaxDirDepth) {
              ctx_.ReportProblem(ErrorCode::kMalformed, path,
                                 "squashfs directories nested too deep");
              break;
            }
            auto r = ctx_.out().CreateDirectory(path, inode->mode & 07777u);
            if (!ctx_.ContinueAfter(r, path)) return r;
            stack.push_back({path, std::move(*inode), dir.depth + 1});
            break;
          }
          case kFile:
          case kLongFile: {
            auto [it, fresh] = first_path_.try_emplace(ref, path);
            if (!fresh) {
              hardlinks_.emplace_back(path, it->second);
            } else {
              files_.push_back({path, std::move(*inode)});
            }
            break;
          }
          default: others_.push_back({path, std::move(*inode)}); break;
        }
      }
    }
    return {};
  }

  Result<void> WriteFiles() {
    // Files sharing a fragment block one after another, so that it is decompressed once.
    std::stable_sort(files_.begin(), files_.end(), [](const FileJob& a, const FileJob& b) {
      return a.inode.fragment < b.inode.fragment;
    });
    for (const auto& job : files_) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      auto r = WriteFile(job);
      if (!ctx_.ContinueAfter(r, job.path)) return r;
    }
    return {};
  }

  // Decompresses fragment block `index` into fragment_ (kept for the next file).
  Result<void> LoadFragment(std::uint32_t index) {
    if (index == fragment_index_) return {};
    fragment_index_ = kInvalidFrag;
    if (index >= fragments_.size()) {
      return Fail(ErrorCode::kMalformed, "squashfs fragment index out of range");
    }
    const auto [start, raw] = fragments_[index];
    const std::uint32_t size = raw & ~kBlockUncompressed;
    if (size == 0 || size > kMaxBlockSize || start > data_.size() || data_.size() - start < size) {
      return Fail(ErrorCode::kMalformed, "squashfs fragment block out of bounds");
    }
    const ByteView in = data_.subspan(start, size);
    if (raw & kBlockUncompressed) {
      fragment_.assign(in.begin(), in.end());
    } else {
      fragment_.resize(s_.block_size);
      auto got = decompressor_.Run(in, fragment_, false);
      if (!got) return Forward(got);
      fragment_.resize(*got);
    }
    fragment_index_ = index;
    return {};
  }

  Result<void> WriteFile(const FileJob& job) {
    const Inode& in = job.inode;
    const std::uint64_t bs = s_.block_size;
    const bool has_frag = in.fragment != kInvalidFrag;
    const std::uint64_t blocks = in.file_size / bs + (!has_frag && in.file_size % bs ? 1 : 0);
    // Every block list entry is 4 bytes (2 in 1.0) of the inode table: a size the table
    // cannot hold is a lie, checked before anything is written.
    const std::size_t word = s_.major == 1 ? 2 : 4;
    if (in.block_list > inodes_.bytes.size() ||
        (inodes_.bytes.size() - in.block_list) / word < blocks) {
      return Fail(ErrorCode::kMalformed, "squashfs file size " + std::to_string(in.file_size) +
                                             " does not match its block list");
    }
    auto writer = ctx_.out().CreateFile(job.path, in.mode & 07777u);
    if (!writer) return Forward(writer);
    Result<void> status;
    std::uint64_t pos = in.start_block;
    std::uint64_t left = in.file_size;
    std::vector<std::uint8_t> buf(bs);
    for (std::uint64_t i = 0; status && i < blocks; ++i) {
      const std::uint32_t raw = BlockWord(inodes_.bytes.data() + in.block_list + word * i);
      const std::uint32_t size = raw & ~kBlockUncompressed;
      const std::uint64_t want = std::min(left, bs);
      if (size == 0) {
        status = writer->WriteZeros(want);
      } else if (pos > data_.size() || data_.size() - pos < size) {
        status = Fail(ErrorCode::kMalformed, "squashfs data block outside the image");
      } else if (raw & kBlockUncompressed) {
        status = size == want ? writer->Write(data_.subspan(pos, size))
                              : Fail(ErrorCode::kMalformed,
                                     "squashfs uncompressed block has the wrong size");
      } else {
        auto got = decompressor_.Run(data_.subspan(pos, size),
                                     std::span<std::uint8_t>(buf.data(), want), true);
        status = got ? writer->Write(ByteView(buf.data(), want))
                     : Fail(ErrorCode::kMalformed,
                            "data block " + std::to_string(i) + ": " + got.error().message);
      }
      pos += size;
      left -= want;
      if (status && (i & 63) == 63) status = ctx_.budget().CheckDeadline();
    }
    if (status && has_frag && left > 0) {
      status = LoadFragment(in.fragment);
      if (status) {
        if (in.frag_offset > fragment_.size() || fragment_.size() - in.frag_offset < left) {
          status = Fail(ErrorCode::kMalformed, "squashfs fragment smaller than the file's tail");
        } else {
          status = writer->Write(ByteView(fragment_.data() + in.frag_offset, left));
        }
      }
    }
    auto closed = writer->Close();
    if (!status) return status;
    return closed;
  }

  // A block list entry as 2.x/3.x store it: size, with bit 24 set when stored uncompressed.
  // 1.0 stores 16 bits: bit 15 for uncompressed, and a size of 0 meaning 32 KiB.
  std::uint32_t BlockWord(const std::uint8_t* p) const {
    if (s_.major != 1) return LoadU32(p, e_);
    const std::uint16_t raw = LoadU16(p, e_);
    const std::uint32_t size = (raw & 0x7fffu) ? (raw & 0x7fffu) : 0x8000u;
    return size | ((raw & 0x8000u) ? kBlockUncompressed : 0);
  }

  Result<void> WriteOther(const FileJob& job) {
    const Inode& in = job.inode;
    const std::uint32_t mode = in.mode & 07777u;
    switch (in.type) {
      case kSymlink: return ctx_.out().CreateSymlink(job.path, in.target);
      case kBlockDev:
      case kCharDev:
        return ctx_.out().RecordSpecial(
            job.path, in.type == kBlockDev ? EntryType::kBlockDevice : EntryType::kCharDevice, mode,
            (in.rdev >> 8) & 0xff, in.rdev & 0xff);
      case kFifo: return ctx_.out().RecordSpecial(job.path, EntryType::kFifo, mode, 0, 0);
      case kSocket: return ctx_.out().RecordSpecial(job.path, EntryType::kSocket, mode, 0, 0);
      default: return Fail(ErrorCode::kMalformed, "squashfs inode of unknown type");
    }
  }

  ByteView data_;
  const Super& s_;
  Endian e_;
  ExtractContext& ctx_;
  Decompressor decompressor_;
  Table inodes_, dirs_;
  std::uint64_t first_fragment_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> fragments_;
  std::uint32_t fragment_index_ = kInvalidFrag;
  std::vector<std::uint8_t> fragment_;
  std::vector<FileJob> files_, others_;
  std::vector<std::pair<std::string, std::string>> hardlinks_;
  std::unordered_map<std::uint64_t, std::string> first_path_;
  Result<void> walk_status_;
};

class SquashfsLegacyHandler final : public Handler {
 public:
  std::string_view Name() const override { return "squashfs-legacy"; }
  std::string_view Description() const override {
    return "SquashFS 1.0, 2.x and 3.x, little- or big-endian, standard and vendor magics (sqsh, "
           "hsqs, shsq, qshs, tqsh, hsqt, sqlz); zlib or vendor LZMA (13-byte header, 5-byte "
           "properties, raw lc3 lp0 pb2)";
  }
  std::string_view Family() const override { return "filesystem"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"sqsh", 0}, {"hsqs", 0}, {"shsq", 0}, {"qshs", 0},
                                                {"tqsh", 0}, {"hsqt", 0}, {"sqlz", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override { return ProbeLength(data); }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto length = ProbeLength(data);
    if (!length) return Forward(length);
    auto super = ReadSuper(data);
    if (!super) return Forward(super);
    LegacyExtraction extraction(data.subspan(0, *length), *super, ctx);
    CLEARBOX_TRY(extraction.Run());
    return *length;
  }
};

}  // namespace

const Handler& GetSquashfsLegacyHandler() {
  static const SquashfsLegacyHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
