// FIT images (U-Boot Flattened Image Tree): a flattened device tree (magic 0xd00dfeed)
// whose /images/<name> nodes carry the images in a "data" property, or outside the tree
// ("data-offset" from the 4-aligned end of the tree, or absolute "data-position", with
// "data-size": mkimage -E / -p). Every image is written to a file named after its node.
//
// Decisions: the chunk is the tree (header totalsize) plus any external data after it. A
// device tree without an /images node (a plain DTB, e.g. one written out of a FIT) is
// still taken as a chunk, so that its bytes are accounted for, but nothing is written.
// A tree cut short by the end of the container is kTruncated (nothing extracted); an image
// whose external data lies past the end is a per-image kTruncated problem.
#include <algorithm>
#include <set>
#include <vector>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kFdtMagic = 0xd00dfeed;
constexpr std::uint32_t kFdtBeginNode = 1, kFdtEndNode = 2, kFdtProp = 3, kFdtNop = 4, kFdtEnd = 9;
constexpr std::size_t kFdtHeaderSize = 40;
constexpr std::size_t kMaxDepth = 64;
// Tokens walked per tree: real FIT structure blocks hold hundreds (a property's value, however
// large, is one token), so a block of millions of NOPs is refused instead of walked by every
// candidate that points at it.
constexpr std::uint64_t kMaxTokens = 1 << 16;
constexpr std::uint64_t kMaxStringBytes = 4096;

// Where one /images/<name> node keeps its data.
struct FitImage {
  std::string node_name;
  bool has_data = false;                           // an embedded "data" property
  std::uint64_t data_offset = 0, data_length = 0;  // embedded: offsets within the tree
  bool has_ext_offset = false, has_ext_position = false, has_ext_size = false;
  std::uint64_t ext_offset = 0, ext_position = 0, ext_size = 0;
};

// A parsed tree: its size, whether it has /images, and the images found.
struct FitTree {
  std::uint64_t total_size = 0;
  bool has_images = false;
  std::vector<FitImage> images;
};

std::uint64_t Align4(std::uint64_t v) {
  return (v + 3) & ~std::uint64_t{3};
}

// Reads a NUL-terminated string starting at `pos` and ending before `end`.
Result<std::string_view> CStringAt(ByteView data, std::uint64_t pos, std::uint64_t end) {
  if (pos >= end) return Fail(ErrorCode::kMalformed, "FDT string outside its block");
  // Names are short; looking further for the NUL would let one token cost the whole block.
  const std::string_view text =
      AsText(data.subspan(pos, std::min<std::uint64_t>(end - pos, kMaxStringBytes)));
  const auto nul = text.find('\0');
  if (nul == std::string_view::npos)
    return Fail(ErrorCode::kMalformed, "FDT string not terminated");
  return text.substr(0, nul);
}

// Reads a 32- or 64-bit big-endian cell property value.
bool CellValue(ByteView value, std::uint64_t& out) {
  if (value.size() == 4) {
    out = LoadU32(value.data(), Endian::kBig);
    return true;
  }
  if (value.size() == 8) {
    out = LoadU64(value.data(), Endian::kBig);
    return true;
  }
  return false;
}

// Checks the header (kNotThisFormat for a false candidate, kTruncated when the tree runs
// past `data`) and walks the structure block, collecting /images/<name> nodes.
Result<FitTree> ParseFit(ByteView data) {
  if (data.size() < kFdtHeaderSize) return Fail(ErrorCode::kNotThisFormat, "short FDT header");
  auto u32 = [&](std::size_t off) { return LoadU32(data.data() + off, Endian::kBig); };
  if (u32(0) != kFdtMagic) return Fail(ErrorCode::kNotThisFormat, "no FDT magic");
  const std::uint64_t total = u32(4), off_struct = u32(8), off_strings = u32(12),
                      off_rsvmap = u32(16), version = u32(20), last_comp = u32(24),
                      size_strings = u32(32);
  if (version < 16 || last_comp > 17 || last_comp > version) {
    return Fail(ErrorCode::kNotThisFormat, "unsupported FDT version");
  }
  const std::uint64_t size_struct =
      version >= 17 ? u32(36) : (total > off_struct ? total - off_struct : 0);
  const std::uint64_t header_size = version >= 17 ? 40 : 36;
  if (total < header_size || off_struct < header_size || off_strings < header_size ||
      off_rsvmap < header_size || off_struct % 4 != 0 || off_rsvmap % 8 != 0 ||
      off_struct > total || size_struct > total - off_struct || off_strings > total ||
      size_strings > total - off_strings || off_rsvmap > total || size_struct < 4) {
    return Fail(ErrorCode::kNotThisFormat, "FDT header offsets out of range");
  }
  if (total > data.size()) {
    return Fail(ErrorCode::kTruncated, "device tree of " + std::to_string(total) +
                                           " bytes cut at " + std::to_string(data.size()));
  }
  FitTree tree;
  tree.total_size = total;
  const std::uint64_t end = off_struct + size_struct;
  const std::uint64_t strings_end = off_strings + size_strings;
  std::vector<std::string_view> path;  // path[0] is the root ("")
  std::uint64_t pos = off_struct;
  bool finished = false;
  std::uint64_t tokens = 0;
  while (!finished) {
    if (pos + 4 > end) return Fail(ErrorCode::kMalformed, "FDT structure block has no END token");
    if (++tokens > kMaxTokens) {
      return Fail(ErrorCode::kMalformed,
                  "FDT structure block has more than " + std::to_string(kMaxTokens) + " tokens");
    }
    const std::uint32_t token = u32(pos);
    pos += 4;
    switch (token) {
      case kFdtBeginNode: {
        auto name = CStringAt(data, pos, end);
        if (!name) return Forward(name);
        pos = Align4(pos + name->size() + 1);
        if (path.size() >= kMaxDepth) return Fail(ErrorCode::kMalformed, "FDT nesting too deep");
        path.push_back(*name);
        if (path.size() == 2 && *name == "images") tree.has_images = true;
        if (path.size() == 3 && path[1] == "images") {
          tree.images.push_back(FitImage{});
          tree.images.back().node_name = std::string(*name);
        }
        break;
      }
      case kFdtEndNode:
        if (path.empty()) return Fail(ErrorCode::kMalformed, "FDT END_NODE without a node");
        path.pop_back();
        break;
      case kFdtProp: {
        if (pos + 8 > end) return Fail(ErrorCode::kMalformed, "FDT property header past end");
        const std::uint64_t len = u32(pos), name_off = u32(pos + 4);
        pos += 8;
        if (len > end - pos) return Fail(ErrorCode::kMalformed, "FDT property value past end");
        const std::uint64_t value_pos = pos;
        pos = Align4(pos + len);
        if (path.empty()) return Fail(ErrorCode::kMalformed, "FDT property outside a node");
        if (path.size() != 3 || path[1] != "images") break;
        auto prop = CStringAt(data, off_strings + std::min(name_off, size_strings), strings_end);
        if (!prop) return Forward(prop);
        FitImage& image = tree.images.back();
        const ByteView value = data.subspan(value_pos, len);
        if (*prop == "data") {
          image.has_data = true;
          image.data_offset = value_pos;
          image.data_length = len;
        } else if (*prop == "data-offset") {
          image.has_ext_offset = CellValue(value, image.ext_offset);
        } else if (*prop == "data-position") {
          image.has_ext_position = CellValue(value, image.ext_position);
        } else if (*prop == "data-size") {
          image.has_ext_size = CellValue(value, image.ext_size);
        }
        break;
      }
      case kFdtNop: break;
      case kFdtEnd: finished = true; break;
      default: return Fail(ErrorCode::kMalformed, "unknown FDT token " + std::to_string(token));
    }
  }
  if (!path.empty()) return Fail(ErrorCode::kMalformed, "FDT ends inside a node");
  return tree;
}

// Absolute start of an image's external data, or false when it has none.
bool ExternalStart(const FitTree& tree, const FitImage& image, std::uint64_t& start) {
  if (!image.has_ext_size) return false;
  if (image.has_ext_position) {
    start = image.ext_position;
    return true;
  }
  if (image.has_ext_offset) {
    start = Align4(tree.total_size) + image.ext_offset;  // both below 2^33: no overflow
    return true;
  }
  return false;
}

class FitHandler final : public Handler {
 public:
  std::string_view Name() const override { return "fit"; }
  std::string_view Description() const override {
    return "U-Boot FIT image (flattened device tree): every image node carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\xd0\x0d\xfe\xed", 4), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto tree = ParseFit(data);
    if (!tree) return Forward(tree);
    std::uint64_t length = tree->total_size;
    for (const FitImage& image : tree->images) {
      std::uint64_t start = 0;
      if (image.has_data || !ExternalStart(*tree, image, start)) continue;
      // External data past the container's end is reported by Extract.
      length = std::max(length, std::min<std::uint64_t>(start + image.ext_size, data.size()));
    }
    return length;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto tree = ParseFit(data);
    if (!tree) return Forward(tree);
    std::set<std::string> used;
    for (const FitImage& image : tree->images) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      const std::string name = UniqueMemberName(SafeMemberName(image.node_name, "image"), used);
      ByteView bytes;
      std::uint64_t start = 0;
      if (image.has_data) {
        bytes = data.subspan(image.data_offset, image.data_length);
      } else if (ExternalStart(*tree, image, start)) {
        if (start > data.size() || image.ext_size > data.size() - start) {
          ctx.ReportProblem(ErrorCode::kTruncated, name,
                            "external data of image '" + name + "' (" +
                                std::to_string(image.ext_size) + " bytes at " +
                                std::to_string(start) + ") lies past the end of the data");
          continue;
        }
        bytes = data.subspan(start, image.ext_size);
      } else {
        ctx.ReportProblem(ErrorCode::kMalformed, name, "FIT image '" + name + "' has no data");
        continue;
      }
      auto written = ctx.out().WriteFile(name, bytes, 0644);
      if (!ctx.ContinueAfter(written, name)) return Forward(written);
    }
    std::uint64_t length = tree->total_size;
    for (const FitImage& image : tree->images) {
      std::uint64_t start = 0;
      if (image.has_data || !ExternalStart(*tree, image, start)) continue;
      length = std::max(length, std::min<std::uint64_t>(start + image.ext_size, data.size()));
    }
    return length;
  }
};

}  // namespace

const Handler& GetFitHandler() {
  static const FitHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
