// QNX Neutrino image filesystem (IFS) boot image, recognised without extraction. Layout from
// QNX's sys/startup.h and sys/image.h as documented in QNX's "The startup header" pages:
//   startup header (256 bytes, in the target's byte order): signature 0x00ff7eeb, version 1,
//   flags1 (0x01 virtual, 0x02 big-endian, 0x1c compression: none/zlib/lzo/ucl), flags2,
//   header_size, machine (an ELF EM_ number), startup_vaddr, paddr_bias, image_paddr,
//   ram_paddr, ram_size, startup_size, stored_size, imagefs_paddr, imagefs_size,
//   preboot_size, zeros, info[48]; the startup code follows, then the image filesystem at
//   startup_size (compressed when flags1 says so), stored_size bytes in all.
//   image filesystem header: "imagefs", flags (0x01 big-endian), image_size (header to end of
//   trailer), hdr_dir_size, dir_offset, boot_ino[4], script_ino, chain_paddr, spare[10],
//   mountflags, mountpoint (NUL-terminated).
// The chunk is the whole stored image; what the headers say is recorded as metadata. The
// directory entries are not listed (the image filesystem is usually compressed).
#include <algorithm>
#include <cstdio>
#include <string>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kStartupSignature = 0x00ff7eeb;
constexpr std::uint16_t kStartupVersion = 1;
constexpr std::uint16_t kStartupHeaderSize = 256;
constexpr std::uint8_t kFlags1BigEndian = 0x02;
constexpr std::uint8_t kFlags1Virtual = 0x01;
constexpr std::uint8_t kFlags1CompressMask = 0x1c;
constexpr std::uint8_t kFlags1Known = 0x1f;
constexpr std::string_view kImageSignature = "imagefs";
constexpr std::size_t kImageHeaderSize = 88;  // up to the mount point
constexpr std::size_t kMaxMountPointChars = 64;
constexpr std::uint8_t kImageFlagBigEndian = 0x01;
constexpr std::uint64_t kMaxImageBytes = 1ULL << 31;  // 32-bit sizes; 2 GiB is already absurd

std::string Hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// A few ELF machine numbers QNX targets; others are given as numbers.
std::string MachineName(std::uint16_t machine) {
  switch (machine) {
    case 3: return "x86";
    case 8: return "mips";
    case 20: return "ppc";
    case 40: return "arm";
    case 42: return "sh";
    case 62: return "x86_64";
    case 183: return "aarch64";
    default: return "EM_" + std::to_string(machine);
  }
}

// The image filesystem header's facts, when one sits at `data`'s start.
struct ImageFs {
  bool big_endian = false;
  std::uint32_t image_size = 0;
  std::uint32_t dir_size = 0;
  std::string mount_point;
};

Result<ImageFs> ParseImageFs(ByteView data) {
  if (data.size() < kImageHeaderSize || !HasBytesAt(data, 0, kImageSignature)) {
    return Fail(ErrorCode::kNotThisFormat, "no imagefs header");
  }
  ImageFs fs;
  fs.big_endian = (data[7] & kImageFlagBigEndian) != 0;
  const Endian e = fs.big_endian ? Endian::kBig : Endian::kLittle;
  fs.image_size = LoadU32(data.data() + 8, e);
  fs.dir_size = LoadU32(data.data() + 12, e);
  const std::uint32_t dir_offset = LoadU32(data.data() + 16, e);
  if (fs.image_size < kImageHeaderSize || fs.dir_size > fs.image_size || dir_offset > fs.dir_size ||
      dir_offset < kImageHeaderSize) {
    return Fail(ErrorCode::kNotThisFormat, "imagefs header sizes not sane");
  }
  for (std::size_t i = kImageHeaderSize; i < data.size() && i < dir_offset; ++i) {
    if (data[i] == 0 || fs.mount_point.size() >= kMaxMountPointChars) break;
    fs.mount_point.push_back(static_cast<char>(data[i]));
  }
  return fs;
}

// The startup header's fields.
struct Startup {
  Endian endian = Endian::kLittle;
  std::uint8_t flags1 = 0;
  std::uint16_t machine = 0;
  std::uint32_t startup_vaddr = 0;
  std::uint32_t image_paddr = 0;
  std::uint32_t ram_paddr = 0;
  std::uint32_t ram_size = 0;
  std::uint32_t startup_size = 0;
  std::uint32_t stored_size = 0;
  std::uint32_t imagefs_size = 0;
};

Result<Startup> ParseStartup(ByteView data) {
  if (data.size() < kStartupHeaderSize) return Fail(ErrorCode::kNotThisFormat, "no header");
  const auto* p = data.data();
  Startup s;
  if (LoadU32(p, Endian::kLittle) == kStartupSignature) {
    s.endian = Endian::kLittle;
  } else if (LoadU32(p, Endian::kBig) == kStartupSignature) {
    s.endian = Endian::kBig;
  } else {
    return Fail(ErrorCode::kNotThisFormat, "no QNX startup signature");
  }
  const Endian e = s.endian;
  s.flags1 = p[6];
  const bool big_flag = (s.flags1 & kFlags1BigEndian) != 0;
  s.machine = LoadU16(p + 10, e);
  s.startup_vaddr = LoadU32(p + 12, e);
  s.image_paddr = LoadU32(p + 20, e);
  s.ram_paddr = LoadU32(p + 24, e);
  s.ram_size = LoadU32(p + 28, e);
  s.startup_size = LoadU32(p + 32, e);
  s.stored_size = LoadU32(p + 36, e);
  s.imagefs_size = LoadU32(p + 44, e);
  bool zeros = LoadU16(p + 50, e) == 0;
  for (int i = 0; i < 3; ++i) zeros = zeros && LoadU32(p + 52 + 4 * i, e) == 0;
  if (LoadU16(p + 4, e) != kStartupVersion || LoadU16(p + 8, e) != kStartupHeaderSize ||
      big_flag != (e == Endian::kBig) || (s.flags1 & ~kFlags1Known) != 0 || !zeros ||
      s.startup_size < kStartupHeaderSize || s.stored_size < s.startup_size ||
      s.stored_size > kMaxImageBytes) {
    return Fail(ErrorCode::kNotThisFormat, "QNX startup header fields not sane");
  }
  return s;
}

std::string CompressionName(std::uint8_t flags1) {
  switch (flags1 & kFlags1CompressMask) {
    case 0x00: return "none";
    case 0x04: return "zlib";
    case 0x08: return "lzo";
    case 0x0c: return "ucl";
    default: return "unknown (" + std::to_string((flags1 & kFlags1CompressMask) >> 2) + ")";
  }
}

void RecordImageFs(const ImageFs& fs, ExtractContext& ctx) {
  ctx.SetMetadata("imagefs_size", std::to_string(fs.image_size));
  ctx.SetMetadata("imagefs_byte_order", fs.big_endian ? "big" : "little");
  if (!fs.mount_point.empty()) ctx.SetMetadata("mount_point", fs.mount_point);
}

class QnxIfsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "qnx-ifs"; }
  std::string_view Description() const override {
    return "QNX Neutrino boot image (IFS): recognised by its startup or imagefs header "
           "(machine, compression, sizes, addresses recorded)";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    // Signature and version 1. The big-endian signature starts with a NUL, which the matcher
    // refuses: it is matched from its second byte.
    static constexpr Signature kSignatures[] = {
        {std::string_view("\xeb\x7e\xff\x00\x01\x00", 6), 0},
        {std::string_view("\xff\x7e\xeb\x00\x01", 5), 1},
        {kImageSignature, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (auto fs = ParseImageFs(data)) return std::min<std::uint64_t>(fs->image_size, data.size());
    auto startup = ParseStartup(data);
    if (!startup) return Forward(startup);
    return std::min<std::uint64_t>(startup->stored_size, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    ctx.SetMetadata("os", "QNX Neutrino");
    std::uint64_t declared = 0;
    if (auto fs = ParseImageFs(data)) {
      RecordImageFs(*fs, ctx);
      declared = fs->image_size;
    } else {
      auto s = ParseStartup(data);
      if (!s) return Forward(s);
      declared = s->stored_size;
      ctx.SetMetadata("byte_order", s->endian == Endian::kBig ? "big" : "little");
      ctx.SetMetadata("machine", MachineName(s->machine));
      ctx.SetMetadata("compression", CompressionName(s->flags1));
      ctx.SetMetadata("virtual", (s->flags1 & kFlags1Virtual) != 0 ? "yes" : "no");
      ctx.SetMetadata("startup_vaddr", Hex32(s->startup_vaddr));
      ctx.SetMetadata("image_paddr", Hex32(s->image_paddr));
      ctx.SetMetadata("ram_paddr", Hex32(s->ram_paddr));
      ctx.SetMetadata("ram_size", std::to_string(s->ram_size));
      ctx.SetMetadata("startup_size", std::to_string(s->startup_size));
      ctx.SetMetadata("stored_size", std::to_string(s->stored_size));
      ctx.SetMetadata("imagefs_size", std::to_string(s->imagefs_size));
      if ((s->flags1 & kFlags1CompressMask) == 0 && s->startup_size < data.size()) {
        if (auto inner = ParseImageFs(data.subspan(s->startup_size))) {
          ctx.SetMetadata("mount_point", inner->mount_point);
          ctx.SetMetadata("imagefs_byte_order", inner->big_endian ? "big" : "little");
        }
      }
    }
    if (declared > data.size()) {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "QNX image of " + std::to_string(declared) + " bytes cut at " +
                            std::to_string(data.size()));
    }
    return std::min<std::uint64_t>(declared, data.size());
  }
};

}  // namespace

const Handler& GetQnxIfsHandler() {
  static const QnxIfsHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
