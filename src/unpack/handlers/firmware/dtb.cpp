// Device tree blob (flattened device tree, devicetree specification v0.4 ch. 5): header
// (magic 0xd00dfeed, totalsize, block offsets, version 16/17), memory reservation block,
// structure block of BEGIN_NODE/END_NODE/PROP/NOP/END tokens, strings block. Extracted as
// tree.dts, a dtc-like source text of the whole tree, and every property of at least
// kLargePropertyBytes (firmware blobs, embedded images) as its own file, referenced from
// tree.dts by /incbin/.
//
// Decisions: a tree whose /images node holds an image with data ("data", "data-offset" or
// "data-position") is a U-Boot FIT and left to the fit handler (this handler sorts first, so
// it says no). Depth, tokens, string lengths and the tree size are bounded.
#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kFdtMagic = 0xd00dfeed;
constexpr std::uint32_t kFdtBeginNode = 1, kFdtEndNode = 2, kFdtProp = 3, kFdtNop = 4, kFdtEnd = 9;
constexpr std::size_t kFdtHeaderV17Size = 40, kFdtHeaderV16Size = 36;
// Largest tree taken (real DTBs are kilobytes; a bigger one is left to the fit handler).
constexpr std::uint64_t kMaxTreeBytes = 32 << 20;
constexpr std::size_t kMaxDepth = 64;
constexpr std::uint64_t kMaxTokens = 1 << 20;
constexpr std::uint64_t kMaxNameBytes = 1024;
constexpr std::size_t kMaxReserveEntries = 1024;
// Properties from this size on are written as files instead of inline bytes.
constexpr std::uint64_t kLargePropertyBytes = 4096;
// tree.dts text buffered before a write.
constexpr std::size_t kTextFlushBytes = 64 * 1024;

// The checked header fields.
struct FdtHeader {
  std::uint64_t total = 0, off_struct = 0, off_strings = 0, off_rsvmap = 0, version = 0,
                last_comp = 0, boot_cpu = 0, size_strings = 0, size_struct = 0;
};

Result<FdtHeader> ParseFdtHeader(ByteView data) {
  if (data.size() < kFdtHeaderV16Size) return Fail(ErrorCode::kNotThisFormat, "short FDT header");
  auto u32 = [&](std::size_t off) {
    return std::uint64_t{LoadU32(data.data() + off, Endian::kBig)};
  };
  if (u32(0) != kFdtMagic) return Fail(ErrorCode::kNotThisFormat, "no FDT magic");
  FdtHeader h;
  h.total = u32(4);
  h.off_struct = u32(8);
  h.off_strings = u32(12);
  h.off_rsvmap = u32(16);
  h.version = u32(20);
  h.last_comp = u32(24);
  h.boot_cpu = u32(28);
  h.size_strings = u32(32);
  if (h.version < 16 || h.version > 17 || h.last_comp > 17 || h.last_comp > h.version) {
    return Fail(ErrorCode::kNotThisFormat, "unsupported FDT version");
  }
  const std::uint64_t header_size = h.version >= 17 ? kFdtHeaderV17Size : kFdtHeaderV16Size;
  if (h.version >= 17 && data.size() < kFdtHeaderV17Size) {
    return Fail(ErrorCode::kNotThisFormat, "short FDT header");
  }
  h.size_struct = h.version >= 17 ? u32(36) : (h.total > h.off_struct ? h.total - h.off_struct : 0);
  if (h.total < header_size || h.total > kMaxTreeBytes || h.off_struct < header_size ||
      h.off_strings < header_size || h.off_rsvmap < header_size || h.off_struct % 4 != 0 ||
      h.off_rsvmap % 8 != 0 || h.off_struct > h.total || h.size_struct > h.total - h.off_struct ||
      h.off_strings > h.total || h.size_strings > h.total - h.off_strings ||
      h.off_rsvmap > h.total || h.size_struct < 4) {
    return Fail(ErrorCode::kNotThisFormat, "FDT header offsets out of range");
  }
  if (h.total > data.size()) {
    return Fail(ErrorCode::kTruncated, "device tree of " + std::to_string(h.total) +
                                           " bytes cut at " + std::to_string(data.size()));
  }
  return h;
}

// Reads a NUL-terminated string at `pos` that ends before `end`, at most kMaxNameBytes long.
Result<std::string_view> FdtString(ByteView data, std::uint64_t pos, std::uint64_t end) {
  if (pos >= end) return Fail(ErrorCode::kMalformed, "FDT string outside its block");
  const std::string_view text =
      AsText(data.subspan(pos, std::min<std::uint64_t>(end - pos, kMaxNameBytes + 1)));
  const auto nul = text.find('\0');
  if (nul == std::string_view::npos) return Fail(ErrorCode::kMalformed, "FDT string not ended");
  return text.substr(0, nul);
}

std::uint64_t Align4(std::uint64_t v) {
  return (v + 3) & ~std::uint64_t{3};
}

// One step of the structure walk, handed to the visitor.
struct FdtEvent {
  enum class Kind : std::uint8_t { kBegin, kEnd, kProp } kind = Kind::kBegin;
  std::string_view name;  // node or property name
  ByteView value;         // property value
  std::size_t depth = 0;  // depth of the node (root 0) or of the property's node
};

// Walks the structure block, calling `visit(const FdtEvent&) -> Result<void>` for each node
// and property. kMalformed for a broken structure block.
template <typename Visit>
Result<void> WalkFdt(ByteView data, const FdtHeader& h, Visit&& visit) {
  const std::uint64_t end = h.off_struct + h.size_struct;
  const std::uint64_t strings_end = h.off_strings + h.size_strings;
  std::size_t depth = 0;
  std::uint64_t pos = h.off_struct;
  for (std::uint64_t tokens = 0;; ++tokens) {
    if (pos + 4 > end) return Fail(ErrorCode::kMalformed, "FDT structure block has no END token");
    if (tokens >= kMaxTokens) {
      return Fail(ErrorCode::kMalformed,
                  "FDT structure block has more than " + std::to_string(kMaxTokens) + " tokens");
    }
    const std::uint32_t token = LoadU32(data.data() + pos, Endian::kBig);
    pos += 4;
    switch (token) {
      case kFdtBeginNode: {
        auto name = FdtString(data, pos, end);
        if (!name) return Forward(name);
        pos = Align4(pos + name->size() + 1);
        if (depth >= kMaxDepth) return Fail(ErrorCode::kMalformed, "FDT nesting too deep");
        if (depth == 0 && tokens > 0) return Fail(ErrorCode::kMalformed, "FDT has two roots");
        CLEARBOX_TRY(visit(FdtEvent{FdtEvent::Kind::kBegin, *name, {}, depth}));
        ++depth;
        break;
      }
      case kFdtEndNode:
        if (depth == 0) return Fail(ErrorCode::kMalformed, "FDT END_NODE without a node");
        --depth;
        CLEARBOX_TRY(visit(FdtEvent{FdtEvent::Kind::kEnd, {}, {}, depth}));
        break;
      case kFdtProp: {
        if (pos + 8 > end) return Fail(ErrorCode::kMalformed, "FDT property header past end");
        const std::uint64_t len = LoadU32(data.data() + pos, Endian::kBig);
        const std::uint64_t name_off = LoadU32(data.data() + pos + 4, Endian::kBig);
        pos += 8;
        if (len > end - pos) return Fail(ErrorCode::kMalformed, "FDT property value past end");
        if (depth == 0) return Fail(ErrorCode::kMalformed, "FDT property outside a node");
        if (name_off >= h.size_strings) {
          return Fail(ErrorCode::kMalformed, "FDT property name outside the strings block");
        }
        auto name = FdtString(data, h.off_strings + name_off, strings_end);
        if (!name) return Forward(name);
        CLEARBOX_TRY(
            visit(FdtEvent{FdtEvent::Kind::kProp, *name, data.subspan(pos, len), depth - 1}));
        pos = Align4(pos + len);
        break;
      }
      case kFdtNop: break;
      case kFdtEnd:
        if (depth != 0 || tokens == 0) return Fail(ErrorCode::kMalformed, "FDT ends inside a node");
        return {};
      default: return Fail(ErrorCode::kMalformed, "unknown FDT token " + std::to_string(token));
    }
  }
}

// True when the tree is a FIT: an /images/<name> node with "data", "data-offset" or
// "data-position".
Result<bool> IsFitTree(ByteView data, const FdtHeader& h) {
  bool in_images = false, fit = false;
  CLEARBOX_TRY(WalkFdt(data, h, [&](const FdtEvent& e) -> Result<void> {
    if (e.kind == FdtEvent::Kind::kBegin && e.depth == 1) in_images = e.name == "images";
    if (e.kind == FdtEvent::Kind::kEnd && e.depth == 1) in_images = false;
    if (e.kind == FdtEvent::Kind::kProp && e.depth == 2 && in_images &&
        (e.name == "data" || e.name == "data-offset" || e.name == "data-position")) {
      fit = true;
    }
    return {};
  }));
  return fit;
}

// Checks everything Probe and Extract need: a valid, walkable tree that is not a FIT.
Result<FdtHeader> CheckDtb(ByteView data) {
  auto header = ParseFdtHeader(data);
  if (!header) return Forward(header);
  auto fit = IsFitTree(data, *header);
  if (!fit) return Forward(fit);
  if (*fit) return Fail(ErrorCode::kNotThisFormat, "a FIT image (the fit handler's)");
  return header;
}

// Appends `bytes` as a DTS string literal body (quotes and backslashes escaped).
void AppendEscaped(std::string& out, std::string_view bytes) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
      out += buffer;
    }
  }
}

// A node or property name as DTS text: printable characters kept, others '?'.
std::string PrintableName(std::string_view name) {
  std::string out;
  for (const char ch : name) out += (ch >= 0x21 && ch < 0x7f) ? ch : '?';
  return out;
}

// True when the value is a list of non-empty printable NUL-terminated strings.
bool LooksLikeStrings(ByteView value) {
  if (value.empty() || value.back() != 0 || value[0] == 0) return false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::uint8_t c = value[i];
    if (c == 0) {
      if (i + 1 < value.size() && value[i + 1] == 0) return false;
    } else if (c < 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

// The value of a property as DTS text (without " = " and ";").
void AppendValue(std::string& out, ByteView value) {
  char buffer[16];
  if (LooksLikeStrings(value)) {
    const std::string_view text = AsText(value.first(value.size() - 1));
    std::size_t start = 0;
    while (true) {
      const auto nul = text.find('\0', start);
      out += '"';
      AppendEscaped(out,
                    text.substr(start, nul == std::string_view::npos ? text.npos : nul - start));
      out += '"';
      if (nul == std::string_view::npos) break;
      out += ", ";
      start = nul + 1;
    }
  } else if (value.size() % 4 == 0) {
    out += '<';
    for (std::size_t i = 0; i < value.size(); i += 4) {
      std::snprintf(buffer, sizeof buffer, i ? " 0x%x" : "0x%x",
                    LoadU32(value.data() + i, Endian::kBig));
      out += buffer;
    }
    out += '>';
  } else {
    out += '[';
    for (std::size_t i = 0; i < value.size(); ++i) {
      std::snprintf(buffer, sizeof buffer, i ? " %02x" : "%02x", value[i]);
      out += buffer;
    }
    out += ']';
  }
}

class DtbHandler final : public Handler {
 public:
  std::string_view Name() const override { return "dtb"; }
  std::string_view Description() const override {
    return "Device tree blob (FDT v16/v17): decompiled to tree.dts, large properties carved "
           "(FIT images are fit's)";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\xd0\x0d\xfe\xed", 4), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = CheckDtb(data);
    if (!header) return Forward(header);
    return header->total;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header_read = CheckDtb(data);
    if (!header_read) return Forward(header_read);
    const FdtHeader& h = *header_read;
    auto created = ctx.out().CreateFile("tree.dts", 0644);
    if (!created) return Forward(created);
    FileWriter& out = *created;
    std::string text = "/dts-v1/;\n";
    if (h.boot_cpu != 0) text += "// boot_cpuid_phys: " + std::to_string(h.boot_cpu) + "\n";
    char buffer[64];
    for (std::size_t i = 0; i < kMaxReserveEntries; ++i) {
      const std::uint64_t at = h.off_rsvmap + 16 * i;
      if (at + 16 > h.total) break;
      const std::uint64_t address = LoadU64(data.data() + at, Endian::kBig);
      const std::uint64_t size = LoadU64(data.data() + at + 8, Endian::kBig);
      if (address == 0 && size == 0) break;
      std::snprintf(buffer, sizeof buffer, "/memreserve/ 0x%llx 0x%llx;\n",
                    static_cast<unsigned long long>(address),
                    static_cast<unsigned long long>(size));
      text += buffer;
    }
    std::set<std::string> used{"tree.dts"};
    std::vector<std::string> node_names;  // the open nodes, for naming carved properties
    auto walked = WalkFdt(data, h, [&](const FdtEvent& e) -> Result<void> {
      const std::string indent(e.depth, '\t');
      switch (e.kind) {
        case FdtEvent::Kind::kBegin:
          node_names.emplace_back(e.name);
          text +=
              "\n" + indent + (e.depth == 0 ? std::string("/") : PrintableName(e.name)) + " {\n";
          break;
        case FdtEvent::Kind::kEnd:
          if (!node_names.empty()) node_names.pop_back();
          text += indent + "};\n";
          break;
        case FdtEvent::Kind::kProp: {
          text += indent + '\t' + PrintableName(e.name);
          if (e.value.size() >= kLargePropertyBytes) {
            const std::string node = node_names.empty() || node_names.back().empty()
                                         ? std::string("root")
                                         : node_names.back();
            const std::string name = UniqueMemberName(
                SafeMemberName(node + "." + std::string(e.name), "property"), used);
            auto written = ctx.out().WriteFile(name, e.value, 0644);
            if (!ctx.ContinueAfter(written, name)) return written;
            text += " = /incbin/(\"" + name + "\")";
          } else if (!e.value.empty()) {
            text += " = ";
            AppendValue(text, e.value);
          }
          text += ";\n";
          break;
        }
      }
      if (text.size() >= kTextFlushBytes) {
        CLEARBOX_TRY(
            out.Write(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
        text.clear();
        CLEARBOX_TRY(ctx.budget().CheckDeadline());
      }
      return {};
    });
    if (walked) {
      walked = out.Write(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    }
    auto closed = out.Close();
    if (!walked) return Forward(walked);
    CLEARBOX_TRY(closed);
    return h.total;
  }
};

}  // namespace

const Handler& GetDtbHandler() {
  static const DtbHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
