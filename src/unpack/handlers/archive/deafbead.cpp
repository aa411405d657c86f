// D-Link DEAFBEAD archive (DSL-500G / DSL-504G firmware; layout as unblob describes it,
// python/unblob/handlers/archive/dlink/deafbead.py), little-endian: magic DE AF BE AD, then
// entries until a byte other than 0x86 / 0x87 - 0x86 a directory (u16 name length, name),
// 0x87 a file (u16 name length, name, u32 size, the content compressed by gzip). Names may
// use backslashes. Files are written decompressed; one whose gzip data is corrupt is
// reported and written as it is stored, with ".gz" added.
#include <zlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kMagic("\xde\xaf\xbe\xad", 4);
constexpr std::uint8_t kDirTag = 0x86;
constexpr std::uint8_t kFileTag = 0x87;
constexpr std::size_t kMaxNameBytes = 1024;
constexpr std::size_t kOutputStep = 256 * 1024;

struct Entry {
  bool is_file = false;
  std::string name;  // with '/' separators
  std::uint64_t data_at = 0;
  std::uint32_t size = 0;
};

// Walks the entries; stops at the first byte that is no entry tag. `cut` is set when an
// entry runs past the data. A name that is empty, too long or holds NUL, or file content
// that is not gzip, ends the archive there (nothing after it is trusted).
struct Walk {
  std::vector<Entry> entries;
  std::uint64_t end = kMagic.size();
  bool cut = false;
};

Walk WalkEntries(ByteView data) {
  Walk walk;
  std::uint64_t at = kMagic.size();
  while (at < data.size() && (data[at] == kDirTag || data[at] == kFileTag)) {
    Entry e;
    e.is_file = data[at] == kFileTag;
    if (at + 3 > data.size()) {
      walk.cut = true;
      break;
    }
    const std::size_t name_len = LoadU16(data.data() + at + 1, Endian::kLittle);
    if (name_len == 0 || name_len > kMaxNameBytes) break;
    std::uint64_t next = at + 3 + name_len;
    if (next > data.size()) {
      walk.cut = true;
      break;
    }
    e.name.assign(reinterpret_cast<const char*>(data.data() + at + 3), name_len);
    if (e.name.find('\0') != std::string::npos) break;
    std::replace(e.name.begin(), e.name.end(), '\\', '/');
    if (e.is_file) {
      if (next + 4 > data.size()) {
        walk.cut = true;
        break;
      }
      e.size = LoadU32(data.data() + next, Endian::kLittle);
      e.data_at = next + 4;
      if (e.size < 2 ||
          (e.data_at + 2 <= data.size() && !HasBytesAt(data, e.data_at, "\x1f\x8b"))) {
        break;
      }
      next = e.data_at + e.size;
      if (next > data.size()) {
        walk.entries.push_back(std::move(e));
        walk.cut = true;
        break;
      }
    }
    walk.entries.push_back(std::move(e));
    at = next;
    walk.end = at;
  }
  return walk;
}

// Inflates the gzip member `packed` into `member`; kMalformed when it is not valid gzip.
Result<void> WriteGunzipped(ByteView packed, const std::string& member, ExtractContext& ctx) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Fail(ErrorCode::kInternal, "inflateInit2");
  auto file = ctx.out().CreateFile(member, 0644);
  if (!file) {
    inflateEnd(&zs);
    return Forward(file);
  }
  std::vector<std::uint8_t> buffer(kOutputStep);
  zs.next_in = const_cast<Bytef*>(packed.data());
  zs.avail_in = static_cast<uInt>(packed.size());
  int rc = Z_OK;
  Result<void> status;
  while (rc == Z_OK) {
    zs.next_out = buffer.data();
    zs.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = buffer.size() - zs.avail_out;
    if (produced) status = file->Write(ByteView(buffer.data(), produced));
    if (!status) break;
    status = ctx.budget().CheckDeadline();
    if (!status) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended early
  }
  inflateEnd(&zs);
  auto closed = file->Close();
  if (!status) return status;
  CLEARBOX_TRY(closed);
  if (rc != Z_STREAM_END) return Fail(ErrorCode::kMalformed, "file content is not valid gzip");
  return {};
}

class DeafbeadHandler final : public Handler {
 public:
  std::string_view Name() const override { return "deafbead"; }
  std::string_view Description() const override {
    return "D-Link DEAFBEAD archive (DSL-500G/504G): directories and gzip-compressed files";
  }
  std::string_view Family() const override { return "archive"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {
        {std::string_view("\xde\xaf\xbe\xad\x86", 5), 0},
        {std::string_view("\xde\xaf\xbe\xad\x87", 5), 0},
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!HasBytesAt(data, 0, kMagic)) return Fail(ErrorCode::kNotThisFormat, "no DEAFBEAD magic");
    const Walk walk = WalkEntries(data);
    if (walk.entries.empty()) return Fail(ErrorCode::kNotThisFormat, "no DEAFBEAD entry");
    return walk.cut ? data.size() : walk.end;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    if (!HasBytesAt(data, 0, kMagic)) return Fail(ErrorCode::kNotThisFormat, "no DEAFBEAD magic");
    const Walk walk = WalkEntries(data);
    if (walk.entries.empty()) return Fail(ErrorCode::kNotThisFormat, "no DEAFBEAD entry");
    for (const Entry& e : walk.entries) {
      if (!e.is_file) {
        auto made = ctx.out().CreateDirectory(e.name, 0755);
        if (!ctx.ContinueAfter(made, e.name)) return Forward(made);
        continue;
      }
      const std::uint64_t present = std::min<std::uint64_t>(e.size, data.size() - e.data_at);
      const ByteView packed = data.subspan(e.data_at, present);
      auto written = WriteGunzipped(packed, e.name, ctx);
      if (!written && (written.error().code == ErrorCode::kMalformed)) {
        ctx.ReportProblem(written.error(), e.name);
        written = ctx.out().WriteFile(e.name + ".gz", packed, 0644);
      }
      if (!ctx.ContinueAfter(written, e.name)) return Forward(written);
    }
    if (walk.cut) return Fail(ErrorCode::kTruncated, "DEAFBEAD archive ends inside an entry");
    return walk.end;
  }
};

}  // namespace

const Handler& GetDeafbeadHandler() {
  static const DeafbeadHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
