// VirtualBox VDI disk image (layout from VirtualBox's VDICore.h, checked against qemu-img's
// output): a 64-byte text banner ("<<< Oracle VM VirtualBox Disk Image >>>" or QEMU's),
// the signature 0xbeda107f and version 1.1 at 64, then little-endian header fields: header
// size, image type (1 dynamic, 2 fixed), the block map and data offsets (340, 344), the disk
// size (368), block size, per-block extra bytes, block count and allocated count. The block
// map has one u32 per block: its index among the stored blocks, 0xffffffff (not allocated)
// or 0xfffffffe (zeros). The disk is rebuilt as `disk.img`, unallocated blocks as sparse
// holes (every byte charged to the budget); the engine then unpacks what is inside.
#include <algorithm>
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kSignature("\x7f\x10\xda\xbe", 4);
constexpr std::size_t kSignatureOffset = 64;
constexpr std::size_t kHeaderEnd = 392;  // through the allocated-block count
constexpr std::uint32_t kVersion = 0x00010001;
constexpr std::uint32_t kTypeDynamic = 1;
constexpr std::uint32_t kTypeFixed = 2;
constexpr std::uint32_t kBlockFree = 0xffffffffu;
constexpr std::uint32_t kBlockZero = 0xfffffffeu;
constexpr std::uint32_t kMinBlockSize = 512;
constexpr std::uint32_t kMaxBlockSize = 64u << 20;
constexpr std::uint32_t kMaxBlocks = 1u << 24;
constexpr std::size_t kMaxReportedBlockProblems = 8;

struct VdiHeader {
  std::uint32_t type = 0;
  std::uint64_t map_offset = 0;
  std::uint64_t data_offset = 0;
  std::uint64_t disk_size = 0;
  std::uint32_t block_size = 0;
  std::uint32_t block_extra = 0;
  std::uint32_t blocks = 0;
  std::uint32_t allocated = 0;
  std::uint64_t stride() const { return std::uint64_t{block_size} + block_extra; }
  std::uint64_t end() const { return data_offset + std::uint64_t{allocated} * stride(); }
};

Result<VdiHeader> ParseVdi(ByteView data) {
  if (data.size() < kHeaderEnd || !HasBytesAt(data, kSignatureOffset, kSignature)) {
    return Fail(ErrorCode::kNotThisFormat, "no VDI signature");
  }
  const auto* p = data.data();
  VdiHeader h;
  h.type = LoadU32(p + 76, Endian::kLittle);
  h.map_offset = LoadU32(p + 340, Endian::kLittle);
  h.data_offset = LoadU32(p + 344, Endian::kLittle);
  h.disk_size = LoadU64(p + 368, Endian::kLittle);
  h.block_size = LoadU32(p + 376, Endian::kLittle);
  h.block_extra = LoadU32(p + 380, Endian::kLittle);
  h.blocks = LoadU32(p + 384, Endian::kLittle);
  h.allocated = LoadU32(p + 388, Endian::kLittle);
  if (LoadU32(p + 68, Endian::kLittle) != kVersion ||
      (h.type != kTypeDynamic && h.type != kTypeFixed) || h.block_size < kMinBlockSize ||
      h.block_size > kMaxBlockSize || h.block_extra > kMaxBlockSize || h.blocks > kMaxBlocks ||
      h.allocated > h.blocks || h.map_offset < kHeaderEnd ||
      h.data_offset < h.map_offset + std::uint64_t{h.blocks} * 4 ||
      std::uint64_t{h.blocks} * h.block_size < h.disk_size) {
    return Fail(ErrorCode::kNotThisFormat, "VDI header fields out of range");
  }
  return h;
}

Result<void> Rebuild(ByteView data, const VdiHeader& h, ExtractContext& ctx, FileWriter& disk) {
  std::uint64_t written = 0;
  std::size_t problems = 0;
  for (std::uint32_t i = 0; i < h.blocks && written < h.disk_size; ++i) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    const std::uint64_t want = std::min<std::uint64_t>(h.block_size, h.disk_size - written);
    written += want;
    const std::uint32_t index = LoadU32(data.data() + h.map_offset + i * 4ULL, Endian::kLittle);
    if (index == kBlockFree || index == kBlockZero) {
      CLEARBOX_TRY(disk.WriteZeros(want));
      continue;
    }
    const std::uint64_t at = h.data_offset + std::uint64_t{index} * h.stride() + h.block_extra;
    if (index >= h.allocated || at > data.size() || data.size() - at < want) {
      if (++problems <= kMaxReportedBlockProblems) {
        ctx.ReportProblem(ErrorCode::kTruncated, "disk.img",
                          "VDI block " + std::to_string(i) + " outside the stored blocks");
      }
      CLEARBOX_TRY(disk.WriteZeros(want));
      continue;
    }
    CLEARBOX_TRY(disk.Write(data.subspan(at, want)));
  }
  if (written < h.disk_size) CLEARBOX_TRY(disk.WriteZeros(h.disk_size - written));
  return {};
}

class VdiHandler final : public Handler {
 public:
  std::string_view Name() const override { return "vdi"; }
  std::string_view Description() const override {
    return "VirtualBox VDI disk image (dynamic, fixed), rebuilt as a raw disk";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kSignature, kSignatureOffset}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto h = ParseVdi(data);
    if (!h) return Forward(h);
    return std::min<std::uint64_t>(h->end(), data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto h = ParseVdi(data);
    if (!h) return Forward(h);
    ctx.SetMetadata("image_type", h->type == kTypeFixed ? "fixed" : "dynamic");
    ctx.SetMetadata("disk_size", std::to_string(h->disk_size));
    ctx.SetMetadata("block_size", std::to_string(h->block_size));
    if (h->map_offset > data.size() || (data.size() - h->map_offset) / 4 < h->blocks) {
      return Fail(ErrorCode::kTruncated, "VDI block map past the end of the data");
    }
    auto disk = ctx.out().CreateFile("disk.img", 0644);
    if (!disk) return Forward(disk);
    auto rebuilt = Rebuild(data, *h, ctx, *disk);
    auto closed = disk->Close();
    if (!rebuilt) return Forward(rebuilt);
    if (!closed) return Forward(closed);
    if (h->end() > data.size()) {
      return Fail(ErrorCode::kTruncated, "VDI image of " + std::to_string(h->end()) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return h->end();
  }
};

}  // namespace

const Handler& GetVdiHandler() {
  static const VdiHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
