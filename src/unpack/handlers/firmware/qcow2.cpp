// QEMU qcow2 disk image (versions 2 and 3; QEMU's docs/interop/qcow2.txt): a big-endian header
// ("QFI\xfb", version, cluster bits, virtual size, L1 table, refcount table, ...), a two-level
// table from virtual clusters to host clusters, and clusters that are allocated, compressed
// (raw deflate, or zstd when the v3 header says so), all-zero, or unallocated. The virtual
// disk is rebuilt as one file `disk.img`: unallocated and zero clusters become sparse holes,
// and every byte is charged to the budget, so a header claiming an exabyte disk ends in a
// limit problem, not a hang. The engine then finds the partitions and filesystems inside.
//
// Probe checks the header and finds the chunk's end: the furthest of the header, the L1 and
// refcount tables, every L2 table, refcount block and data cluster they point to (snapshot
// tables are not walked; bytes after the last of these are left to the carver). A backing
// file (the image is a delta of another) or encryption cannot be resolved from the image
// alone: they are reported, and encrypted images are not rebuilt.
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderV2Size = 72;
constexpr std::uint64_t kOffsetMask = 0x00fffffffffffe00ULL;  // bits 9-55
constexpr std::uint64_t kCompressedFlag = 1ULL << 62;
constexpr std::uint64_t kZeroFlag = 1ULL;  // v3 L2 entry bit 0: the cluster reads as zeros
constexpr std::uint64_t kKnownIncompatible = 0x1 | 0x2 | 0x8;  // dirty, corrupt, compression

// The header fields the image walk uses.
struct Qcow2Header {
  std::uint32_t version = 0;
  std::uint64_t backing_file_offset = 0;
  std::uint32_t cluster_bits = 0;
  std::uint64_t virtual_size = 0;
  std::uint32_t crypt_method = 0;
  std::uint32_t l1_size = 0;
  std::uint64_t l1_offset = 0;
  std::uint64_t refcount_offset = 0;
  std::uint32_t refcount_clusters = 0;
  std::uint64_t incompatible = 0;
  std::uint32_t header_length = kHeaderV2Size;
  bool zstd = false;

  std::uint64_t cluster_size() const { return std::uint64_t{1} << cluster_bits; }
  std::uint64_t l2_entries() const { return cluster_size() / 8; }
};

Result<Qcow2Header> ParseQcow2Header(ByteView data) {
  if (data.size() < kHeaderV2Size || !HasBytesAt(data, 0, "QFI\xfb")) {
    return Fail(ErrorCode::kNotThisFormat, "no qcow2 header");
  }
  const std::uint8_t* p = data.data();
  Qcow2Header h;
  h.version = LoadU32(p + 4, Endian::kBig);
  if (h.version != 2 && h.version != 3) return Fail(ErrorCode::kNotThisFormat, "qcow version");
  h.backing_file_offset = LoadU64(p + 8, Endian::kBig);
  h.cluster_bits = LoadU32(p + 20, Endian::kBig);
  h.virtual_size = LoadU64(p + 24, Endian::kBig);
  h.crypt_method = LoadU32(p + 32, Endian::kBig);
  h.l1_size = LoadU32(p + 36, Endian::kBig);
  h.l1_offset = LoadU64(p + 40, Endian::kBig);
  h.refcount_offset = LoadU64(p + 48, Endian::kBig);
  h.refcount_clusters = LoadU32(p + 56, Endian::kBig);
  if (h.cluster_bits < 9 || h.cluster_bits > 21 || h.crypt_method > 2 ||
      h.l1_offset % h.cluster_size() != 0 || h.refcount_offset % h.cluster_size() != 0 ||
      h.refcount_offset == 0 || (h.l1_offset & ~kOffsetMask) != 0 ||
      (h.refcount_offset & ~kOffsetMask) != 0) {  // table offsets are plain, in-range offsets
    return Fail(ErrorCode::kNotThisFormat, "qcow2 header fields out of range");
  }
  // The L1 table covers the virtual size and is at most QEMU's 32 MiB.
  const std::uint64_t bytes_per_l1 = h.cluster_size() * h.l2_entries();
  if (h.virtual_size > (std::uint64_t{1} << 62) || h.l1_size > (1u << 22) ||
      h.refcount_clusters > (1u << 22)) {
    return Fail(ErrorCode::kNotThisFormat, "qcow2 table sizes out of range");
  }
  if (h.l1_size < (h.virtual_size + bytes_per_l1 - 1) / bytes_per_l1) {
    return Fail(ErrorCode::kNotThisFormat, "qcow2 L1 table smaller than the virtual disk");
  }
  if (h.version == 3) {
    if (data.size() < 104) return Fail(ErrorCode::kTruncated, "qcow2 v3 header cut short");
    h.incompatible = LoadU64(p + 72, Endian::kBig);
    h.header_length = LoadU32(p + 100, Endian::kBig);
    if (h.header_length < 104 || h.header_length > h.cluster_size()) {
      return Fail(ErrorCode::kNotThisFormat, "qcow2 v3 header length");
    }
    if ((h.incompatible & 0x8) != 0) {
      if (h.header_length < 105 || data.size() < 105) {
        return Fail(ErrorCode::kMalformed, "qcow2 compression type bit without the field");
      }
      h.zstd = p[104] == 1;
    }
  }
  return h;
}

// A table entry's host offset, or an error when it leaves the data.
Result<std::uint64_t> HostOffset(std::uint64_t entry, std::uint64_t length, ByteView data,
                                 const char* what) {
  const std::uint64_t offset = entry & kOffsetMask;
  if (offset > data.size() || data.size() - offset < length) {
    return Fail(ErrorCode::kTruncated, std::string("qcow2 ") + what + " past the end of the data");
  }
  return offset;
}

// Where a compressed cluster's bytes are and how many there are (QEMU's descriptor layout).
struct CompressedExtent {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

CompressedExtent CompressedExtentOf(std::uint64_t entry, const Qcow2Header& h) {
  const unsigned offset_bits = 62 - (h.cluster_bits - 8);
  const std::uint64_t offset = entry & ((std::uint64_t{1} << offset_bits) - 1);
  const std::uint64_t sectors = ((entry & ~kCompressedFlag & ~(1ULL << 63)) >> offset_bits) + 1;
  // The descriptor counts 512-byte sectors from the sector holding the start.
  const std::uint64_t size = sectors * 512 - (offset & 511);
  return {offset, size};
}

// The furthest byte any table or cluster of the image points to (see the file comment); an
// image cut short reaches past the data (its tables are walked only as far as they exist).
std::uint64_t ImageExtent(const Qcow2Header& h, ByteView data) {
  const std::uint64_t cluster = h.cluster_size();
  std::uint64_t end = h.header_length;
  auto reach = [&](std::uint64_t offset, std::uint64_t length) {
    end = std::max(end, offset + length);
  };
  const std::uint64_t refcount_bytes = std::uint64_t{h.refcount_clusters} * cluster;
  reach(h.refcount_offset, refcount_bytes);
  if (auto refcounts = HostOffset(h.refcount_offset, refcount_bytes, data, "refcount table")) {
    for (std::uint64_t i = 0; i < refcount_bytes / 8; ++i) {
      const std::uint64_t block = LoadU64(data.data() + *refcounts + i * 8, Endian::kBig);
      if ((block & kOffsetMask) != 0) reach(block & kOffsetMask, cluster);
    }
  }
  const std::uint64_t l1_bytes = std::uint64_t{h.l1_size} * 8;
  reach(h.l1_offset, l1_bytes);
  auto l1 = HostOffset(h.l1_offset, l1_bytes, data, "L1 table");
  if (!l1) return end;
  for (std::uint64_t i = 0; i < h.l1_size; ++i) {
    const std::uint64_t l2_entry = LoadU64(data.data() + *l1 + i * 8, Endian::kBig);
    if ((l2_entry & kOffsetMask) == 0) continue;
    auto l2 = HostOffset(l2_entry, cluster, data, "L2 table");
    reach(l2_entry & kOffsetMask, cluster);
    if (!l2) continue;  // past the data: reported by Extract
    for (std::uint64_t j = 0; j < h.l2_entries(); ++j) {
      const std::uint64_t entry = LoadU64(data.data() + *l2 + j * 8, Endian::kBig);
      if ((entry & kCompressedFlag) != 0) {
        const auto extent = CompressedExtentOf(entry, h);
        reach(extent.offset, extent.size);
      } else if ((entry & kOffsetMask) != 0) {
        reach(entry & kOffsetMask, cluster);
      }
    }
  }
  return end;
}

// Inflates one compressed cluster into `out` (cluster-sized); an error when it does not fill.
Result<void> DecompressCluster(ByteView in, const Qcow2Header& h, std::vector<std::uint8_t>& out) {
  if (h.zstd) {
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    std::size_t rc = 1;
    while (output.pos < output.size && input.pos < input.size && !ZSTD_isError(rc) && rc != 0) {
      rc = ZSTD_decompressStream(dctx, &output, &input);
    }
    ZSTD_freeDCtx(dctx);
    if (ZSTD_isError(rc) || output.pos != output.size) {
      return Fail(ErrorCode::kMalformed, "qcow2 zstd cluster does not decompress to a cluster");
    }
    return {};
  }
  z_stream zs{};
  if (inflateInit2(&zs, -12) != Z_OK) return Fail(ErrorCode::kInternal, "inflateInit2");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const bool full = zs.avail_out == 0;
  inflateEnd(&zs);
  if ((rc != Z_STREAM_END && rc != Z_BUF_ERROR && rc != Z_OK) || !full) {
    return Fail(ErrorCode::kMalformed, "qcow2 deflate cluster does not inflate to a cluster");
  }
  return {};
}

// Rebuilds the virtual disk into `disk`, cluster by cluster.
class DiskRebuilder {
 public:
  DiskRebuilder(const Qcow2Header& h, ByteView data, ExtractContext& ctx, FileWriter& disk)
      : h_(h), data_(data), ctx_(ctx), disk_(disk), cluster_(h.cluster_size()) {}

  Result<void> Run() {
    const std::uint64_t cluster = h_.cluster_size();
    const std::uint64_t span = cluster * h_.l2_entries();
    for (std::uint64_t i = 0; i < h_.l1_size && written_ < h_.virtual_size; ++i) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      const std::uint64_t l2_entry = LoadU64(data_.data() + h_.l1_offset + i * 8, Endian::kBig);
      auto l2 = HostOffset(l2_entry, cluster, data_, "L2 table");
      if ((l2_entry & kOffsetMask) == 0 || !l2) {
        if ((l2_entry & kOffsetMask) != 0) Problem(l2.error());
        CLEARBOX_TRY(Zeros(span));
        continue;
      }
      for (std::uint64_t j = 0; j < h_.l2_entries() && written_ < h_.virtual_size; ++j) {
        CLEARBOX_TRY(WriteCluster(LoadU64(data_.data() + *l2 + j * 8, Endian::kBig)));
      }
    }
    return {};
  }

 private:
  Result<void> WriteCluster(std::uint64_t entry) {
    const std::uint64_t cluster = h_.cluster_size();
    if ((entry & kCompressedFlag) != 0) {
      const auto extent = CompressedExtentOf(entry, h_);
      const std::uint64_t available =
          extent.offset < data_.size() ? std::min(extent.size, data_.size() - extent.offset) : 0;
      auto inflated =
          available == 0 ? Result<void>(Fail(ErrorCode::kTruncated,
                                             "qcow2 compressed cluster "
                                             "past the end of the data"))
                         : DecompressCluster(data_.subspan(extent.offset, available), h_, cluster_);
      if (!inflated) {
        Problem(inflated.error());
        return Zeros(cluster);
      }
      return Bytes(ByteView(cluster_.data(), cluster_.size()));
    }
    if ((entry & kOffsetMask) == 0 || (h_.version == 3 && (entry & kZeroFlag) != 0)) {
      return Zeros(cluster);
    }
    auto host = HostOffset(entry, cluster, data_, "data cluster");
    if (!host) {
      Problem(host.error());
      return Zeros(cluster);
    }
    return Bytes(data_.subspan(*host, cluster));
  }

  // Writes at most what is left of the virtual size.
  Result<void> Bytes(ByteView bytes) {
    const std::uint64_t n = std::min<std::uint64_t>(bytes.size(), h_.virtual_size - written_);
    written_ += n;
    return disk_.Write(bytes.subspan(0, n));
  }
  Result<void> Zeros(std::uint64_t count) {
    const std::uint64_t n = std::min(count, h_.virtual_size - written_);
    written_ += n;
    return disk_.WriteZeros(n);
  }
  // The first few damaged clusters are reported one by one, the rest counted in the last.
  void Problem(const Error& error) {
    if (++problems_ <= 8) ctx_.ReportProblem(error, "disk.img");
  }

  const Qcow2Header& h_;
  ByteView data_;
  ExtractContext& ctx_;
  FileWriter& disk_;
  std::vector<std::uint8_t> cluster_;
  std::uint64_t written_ = 0;
  std::uint64_t problems_ = 0;
};

class Qcow2Handler final : public Handler {
 public:
  std::string_view Name() const override { return "qcow2"; }
  std::string_view Description() const override {
    return "QEMU qcow2 disk image (v2, v3; deflate and zstd clusters), rebuilt as a raw disk";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"QFI\xfb", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseQcow2Header(data);
    if (!header) return Forward(header);
    // An image cut short is a chunk up to the data's end; Extract reports what is missing.
    return std::min<std::uint64_t>(ImageExtent(*header, data), data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseQcow2Header(data);
    if (!header) return Forward(header);
    const std::uint64_t extent = ImageExtent(*header, data);
    if (header->crypt_method != 0) {
      return Fail(ErrorCode::kUnsupported,
                  "qcow2 image is encrypted (method " + std::to_string(header->crypt_method) + ")");
    }
    if ((header->incompatible & ~kKnownIncompatible) != 0) {
      return Fail(ErrorCode::kUnsupported, "qcow2 incompatible features " +
                                               std::to_string(header->incompatible) +
                                               " (external data file or extended L2)");
    }
    if (header->backing_file_offset != 0) {
      ctx.ReportProblem(ErrorCode::kUnsupported, "disk.img",
                        "qcow2 image has a backing file: its unallocated clusters are written "
                        "as zeros");
    }
    const std::uint64_t l1_bytes = std::uint64_t{header->l1_size} * 8;
    if (auto l1 = HostOffset(header->l1_offset, l1_bytes, data, "L1 table"); !l1) {
      return Fail(ErrorCode::kTruncated, l1.error().message + " (image of at least " +
                                             std::to_string(extent) + " bytes cut at " +
                                             std::to_string(data.size()) + ")");
    }
    auto disk = ctx.out().CreateFile("disk.img", 0644);
    if (!disk) return Forward(disk);
    DiskRebuilder rebuilder(*header, data, ctx, *disk);
    auto rebuilt = rebuilder.Run();
    auto closed = disk->Close();
    if (!rebuilt) return Forward(rebuilt);
    if (!closed) return Forward(closed);
    if (extent > data.size()) {
      return Fail(ErrorCode::kTruncated, "qcow2 image of at least " + std::to_string(extent) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return extent;
  }
};

}  // namespace

const Handler& GetQcow2Handler() {
  static const Qcow2Handler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
