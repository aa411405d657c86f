// Android boot images (AOSP system/tools/mkbootimg, include/bootimg/bootimg.h):
// - boot "ANDROID!" header versions 0-2 (page size from the header; kernel, ramdisk,
//   second stage, v1+ recovery DTBO/ACPIO, v2 DTB, each padded to a page), and versions 3-4
//   (4096-byte pages; kernel, ramdisk, v4 boot signature);
// - vendor_boot "VNDRBOOT" versions 3-4 (vendor ramdisk, DTB, v4 ramdisk table and
//   bootconfig), v4 ramdisks written one per table entry.
// Every section is carved to its own file (then unpacked by the engine: gzip'd kernels,
// cpio ramdisks, DTBs) and header.txt records version, page size, OS version and patch level,
// board name and command lines. Legacy Qualcomm v0 images keep a DT image size where the
// version is (a value over 4): it is carved as dt.img.
//
// Decisions: sections that run past the data are written as far as they go and reported
// truncated; a header whose sizes are implausible (page size not a power of two in
// 2 KiB..128 KiB, a section over kMaxSectionBytes, no kernel in a boot image) is no image.
// Debian's mkbootimg 29 writes "version 4" vendor_boot images with the v3 layout (header
// size 2108): the layout follows header_size, not the version.
#include <cstdio>
#include <set>
#include <vector>

#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kMinPageSize = 2048, kMaxPageSize = 128 * 1024;
constexpr std::uint32_t kBootV3PageSize = 4096;
constexpr std::uint64_t kMaxSectionBytes = 1ULL << 31;
constexpr std::size_t kBootV0HeaderSize = 1632, kBootV1HeaderSize = 1648, kBootV2HeaderSize = 1660,
                      kBootV3HeaderSize = 1580;
// AOSP's v3 vendor header is 2112 bytes; Debian's mkbootimg 29 writes and records 2108.
constexpr std::size_t kMinVendorHeaderSize = 2108, kVendorV4HeaderSize = 2128;
constexpr std::uint32_t kMaxHeaderVersion = 4;
constexpr std::uint32_t kMinRamdiskEntrySize = 108;  // size, offset, type, name[32], board_id[16]
constexpr std::uint32_t kMaxRamdiskEntries = 64;

// One carved part of the image.
struct BootSection {
  std::string name;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// The parsed header: sections in order, the total length and the text for header.txt.
struct BootLayout {
  std::vector<BootSection> sections;
  std::uint64_t total = 0;
  std::string description;
  // vendor_boot v4: the ramdisk table, resolved against the vendor ramdisk section.
  std::uint64_t table_offset = 0, table_size = 0, table_entries = 0, table_entry_size = 0;
  std::uint64_t vendor_ramdisk_offset = 0, vendor_ramdisk_size = 0;
};

std::uint64_t PagesOf(std::uint64_t size, std::uint64_t page) {
  return (size + page - 1) / page * page;
}

bool ValidPageSize(std::uint32_t page) {
  return page >= kMinPageSize && page <= kMaxPageSize && (page & (page - 1)) == 0;
}

// Text of a fixed-size NUL-padded header field, made printable.
std::string FieldText(ByteView data, std::size_t offset, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size && offset + i < data.size(); ++i) {
    const std::uint8_t c = data[offset + i];
    if (c == 0) break;
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

// "os_version: A.B.C" and "os_patch_level: YYYY-MM" lines of the packed field.
std::string OsVersionLines(std::uint32_t packed) {
  if (packed == 0) return "";
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "os_version: %u.%u.%u\nos_patch_level: %u-%02u\n",
                (packed >> 25) & 0x7f, (packed >> 18) & 0x7f, (packed >> 11) & 0x7f,
                ((packed >> 4) & 0x7f) + 2000, packed & 0xf);
  return buffer;
}

// Appends the sections in order from `offset`, each padded to `page`.
void LayOut(BootLayout& layout, std::uint64_t offset, std::uint64_t page,
            std::initializer_list<std::pair<const char*, std::uint64_t>> parts) {
  for (const auto& [name, size] : parts) {
    if (size > 0) layout.sections.push_back({name, offset, size});
    offset += PagesOf(size, page);
  }
  layout.total = offset;
}

Result<BootLayout> ParseBootHeader(ByteView data) {
  if (data.size() < kBootV0HeaderSize) return Fail(ErrorCode::kNotThisFormat, "short boot header");
  auto u32 = [&](std::size_t off) { return LoadU32(data.data() + off, Endian::kLittle); };
  BootLayout layout;
  const std::uint32_t kernel = u32(8);
  const std::uint32_t version_field = u32(40);
  if (kernel == 0 || kernel > kMaxSectionBytes) {
    return Fail(ErrorCode::kNotThisFormat, "boot image kernel size");
  }
  if (version_field == 3 || version_field == 4) {
    const std::uint32_t ramdisk = u32(12);
    const std::uint32_t signature = version_field == 4 ? u32(kBootV3HeaderSize) : 0;
    if (ramdisk > kMaxSectionBytes || signature > kMaxSectionBytes) {
      return Fail(ErrorCode::kNotThisFormat, "boot image section sizes");
    }
    layout.description = "type: boot\nheader_version: " + std::to_string(version_field) +
                         "\npage_size: 4096\n" + OsVersionLines(u32(16)) +
                         "cmdline: " + FieldText(data, 44, 1536) + "\n";
    LayOut(layout, kBootV3PageSize, kBootV3PageSize,
           {{"kernel", kernel}, {"ramdisk", ramdisk}, {"boot_signature", signature}});
    return layout;
  }
  const std::uint32_t page = u32(36);
  if (!ValidPageSize(page)) return Fail(ErrorCode::kNotThisFormat, "boot image page size");
  const std::uint32_t ramdisk = u32(16), second = u32(24);
  // A value over 4 is a legacy Qualcomm DT image size, not a version.
  const bool qcom_dt = version_field > kMaxHeaderVersion;
  const std::uint32_t version = qcom_dt ? 0 : version_field;
  const std::uint32_t dt = qcom_dt ? version_field : 0;
  std::uint32_t recovery = 0, dtb = 0;
  if (version >= 1) {
    if (data.size() < kBootV1HeaderSize) return Fail(ErrorCode::kNotThisFormat, "short header");
    recovery = u32(1632);
  }
  if (version >= 2) {
    if (data.size() < kBootV2HeaderSize) return Fail(ErrorCode::kNotThisFormat, "short header");
    dtb = u32(1648);
  }
  for (const std::uint32_t size : {ramdisk, second, dt, recovery, dtb}) {
    if (size > kMaxSectionBytes) return Fail(ErrorCode::kNotThisFormat, "boot image section size");
  }
  std::string cmdline = FieldText(data, 64, 512) + FieldText(data, 608, 1024);
  layout.description = "type: boot\nheader_version: " + std::to_string(version) +
                       "\npage_size: " + std::to_string(page) + "\n" + OsVersionLines(u32(44)) +
                       "name: " + FieldText(data, 48, 16) + "\ncmdline: " + cmdline + "\n";
  LayOut(layout, PagesOf(kBootV0HeaderSize, page), page,
         {{"kernel", kernel},
          {"ramdisk", ramdisk},
          {"second", second},
          {"dt.img", dt},
          {"recovery_dtbo", recovery},
          {"dtb", dtb}});
  return layout;
}

Result<BootLayout> ParseVendorBootHeader(ByteView data) {
  if (data.size() < kVendorV4HeaderSize) {
    return Fail(ErrorCode::kNotThisFormat, "short vendor_boot header");
  }
  auto u32 = [&](std::size_t off) { return LoadU32(data.data() + off, Endian::kLittle); };
  const std::uint32_t version = u32(8), page = u32(12), ramdisk = u32(24), header_size = u32(2096),
                      dtb = u32(2100);
  if (version < 3 || version > kMaxHeaderVersion || !ValidPageSize(page) ||
      header_size < kMinVendorHeaderSize || header_size > kMaxPageSize ||
      ramdisk > kMaxSectionBytes || dtb > kMaxSectionBytes) {
    return Fail(ErrorCode::kNotThisFormat, "vendor_boot header fields");
  }
  BootLayout layout;
  // The v4 fields exist only when the header is long enough (see the file comment).
  const bool v4_layout = version >= 4 && header_size >= kVendorV4HeaderSize;
  std::uint32_t table = 0, bootconfig = 0;
  if (v4_layout) {
    table = u32(2112);
    layout.table_entries = u32(2116);
    layout.table_entry_size = u32(2120);
    bootconfig = u32(2124);
    if (table > kMaxSectionBytes || bootconfig > kMaxSectionBytes) {
      return Fail(ErrorCode::kNotThisFormat, "vendor_boot v4 section sizes");
    }
  }
  layout.description = "type: vendor_boot\nheader_version: " + std::to_string(version) +
                       (version >= 4 && !v4_layout ? " (v3 layout)" : "") +
                       "\npage_size: " + std::to_string(page) +
                       "\nname: " + FieldText(data, 2080, 16) +
                       "\nvendor_cmdline: " + FieldText(data, 28, 2048) + "\n";
  const std::uint64_t first = PagesOf(header_size, page);
  layout.vendor_ramdisk_offset = first;
  layout.vendor_ramdisk_size = ramdisk;
  layout.table_offset = first + PagesOf(ramdisk, page) + PagesOf(dtb, page);
  layout.table_size = table;
  LayOut(layout, first, page,
         {{"vendor_ramdisk", ramdisk},
          {"dtb", dtb},
          {"vendor_ramdisk_table", table},
          {"bootconfig", bootconfig}});
  return layout;
}

Result<BootLayout> ParseAndroidBoot(ByteView data) {
  if (HasBytesAt(data, 0, "ANDROID!")) return ParseBootHeader(data);
  if (HasBytesAt(data, 0, "VNDRBOOT")) return ParseVendorBootHeader(data);
  return Fail(ErrorCode::kNotThisFormat, "no Android boot magic");
}

// Carves each vendor ramdisk of a v4 table; false when the table is unusable (then the
// vendor ramdisk is written whole).
Result<bool> CarveRamdiskTable(ByteView data, const BootLayout& layout, ExtractContext& ctx) {
  if (layout.table_size == 0 || layout.table_entries == 0) return false;
  if (layout.table_entry_size < kMinRamdiskEntrySize || layout.table_entries > kMaxRamdiskEntries ||
      layout.table_entries * layout.table_entry_size > layout.table_size ||
      layout.table_offset + layout.table_size > data.size()) {
    ctx.ReportProblem(ErrorCode::kMalformed, "vendor_ramdisk_table",
                      "vendor ramdisk table unusable; vendor ramdisk written whole");
    return false;
  }
  std::set<std::string> used;
  for (std::uint64_t i = 0; i < layout.table_entries; ++i) {
    const std::uint64_t at = layout.table_offset + i * layout.table_entry_size;
    const std::uint64_t size = LoadU32(data.data() + at, Endian::kLittle);
    const std::uint64_t offset = LoadU32(data.data() + at + 4, Endian::kLittle);
    const std::uint32_t type = LoadU32(data.data() + at + 8, Endian::kLittle);
    std::string base = SafeMemberName(FieldText(data, at + 12, 32), "");
    if (base.empty()) base = std::to_string(i);
    const std::string name = UniqueMemberName("vendor_ramdisk." + base, used);
    if (offset > layout.vendor_ramdisk_size || size > layout.vendor_ramdisk_size - offset) {
      ctx.ReportProblem(ErrorCode::kMalformed, name,
                        "ramdisk entry " + std::to_string(i) + " (type " + std::to_string(type) +
                            ") lies outside the vendor ramdisk section");
      continue;
    }
    CLEARBOX_TRY(CarvePartition(data, layout.vendor_ramdisk_offset + offset, size, name, ctx));
  }
  return true;
}

class AndroidBootHandler final : public Handler {
 public:
  std::string_view Name() const override { return "android-boot"; }
  std::string_view Description() const override {
    return "Android boot image (header v0-v4) and vendor_boot (v3, v4): kernel, ramdisks, "
           "second, DTB, recovery DTBO, bootconfig carved; header.txt";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"ANDROID!", 0}, {"VNDRBOOT", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseAndroidBoot(data);
    if (!layout) return Forward(layout);
    return std::min<std::uint64_t>(layout->total, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto layout_read = ParseAndroidBoot(data);
    if (!layout_read) return Forward(layout_read);
    const BootLayout& layout = *layout_read;
    auto described = ctx.out().WriteFile(
        "header.txt",
        ByteView(reinterpret_cast<const std::uint8_t*>(layout.description.data()),
                 layout.description.size()),
        0644);
    if (!ctx.ContinueAfter(described, "header.txt")) return Forward(described);
    auto split = CarveRamdiskTable(data, layout, ctx);
    if (!split) return Forward(split);
    for (const BootSection& section : layout.sections) {
      if (*split && section.name == "vendor_ramdisk") continue;
      CLEARBOX_TRY(CarvePartition(data, section.offset, section.size, section.name, ctx));
    }
    return std::min<std::uint64_t>(layout.total, data.size());
  }
};

}  // namespace

const Handler& GetAndroidBootHandler() {
  static const AndroidBootHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
