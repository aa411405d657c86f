// Dispatch of one file pair by content (kernel module signature, gzip, ELF, text, bytes) and
// the tolerated classes' names and rules.
#include "equiv/file_compare.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "equiv/comparison_recorder.hpp"

namespace clearbox::equiv {
namespace {

constexpr std::string_view kModuleSignatureMagic = "~Module signature appended~\n";
constexpr std::size_t kModuleSignatureInfoSize = 12;  // struct module_signature
constexpr std::size_t kMaxNesting = 4;                // gzip inside gzip ...
constexpr std::size_t kTextProbeBytes = 8192;
constexpr std::size_t kDiffContextLines = 3;

constexpr std::array<ToleratedClassInfo, kToleratedClassCount> kClasses = {{
    {ToleratedClass::kBuildId, "build-id",
     "the descriptor of the GNU build-id note (NT_GNU_BUILD_ID), masked in the loaded image"},
    {ToleratedClass::kGnuDebuglink, "gnu-debuglink",
     "the unloaded .gnu_debuglink section (debug file name and CRC)"},
    {ToleratedClass::kDebugInfo, "debug-info",
     "unloaded debug sections (.debug_*, .zdebug_*, their relocations, .gnu_debugaltlink), "
     "present on one side only or with other content"},
    {ToleratedClass::kSymbolTable, "symbol-table",
     ".symtab/.strtab present on one side only (the other side stripped)"},
    {ToleratedClass::kBuildPath, "build-path",
     "NUL-terminated strings of equal length at the same place that differ only in the "
     "directory part of an absolute path whose file name is the same; STT_FILE symbols with "
     "the same base name"},
    {ToleratedClass::kBuildTimestamp, "build-timestamp",
     "NUL-terminated strings of equal length at the same place whose differing bytes all lie "
     "in __DATE__ (\"Mmm dd yyyy\") or __TIME__ (\"hh:mm:ss\") shaped text on both sides"},
    {ToleratedClass::kSectionLayout, "section-layout",
     "e_shoff/e_shnum/e_shstrndx and the order, offsets and padding of unloaded sections"},
    {ToleratedClass::kModuleSignature, "module-signature",
     "a kernel module's appended signature (\"~Module signature appended~\" trailer), removed "
     "before comparing"},
    {ToleratedClass::kGzipHeader, "gzip-header",
     "a gzip member's header (mtime, file name, OS, flags) and deflate encoding: the "
     "decompressed payloads are compared"},
    {ToleratedClass::kPycHeader, "pyc-header",
     "the flags and source mtime/size (or source hash) words of a Python .pyc header (same "
     "magic on both sides): the code objects after the 16-byte header are compared"},
    {ToleratedClass::kArchiveMetadata, "archive-metadata",
     "tar, ar, cpio and zip member timestamps, owners (uid, gid, names, inode numbers, link "
     "counts) and member order, and zip's extra fields, versions, flags and compression: "
     "members are paired by name and their type, mode, link target or device and contents "
     "(zip: decompressed, CRC-checked) compared"},
}};

constexpr std::size_t kPycHeaderSize = 16;  // magic, flags, mtime + size or hash (PEP 552)

bool Same(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

bool IsElf(ByteView bytes) {
  return HasBytesAt(bytes, 0,
                    "\x7f"
                    "ELF");
}
bool IsGzip(ByteView bytes) {
  return bytes.size() >= 18 && bytes[0] == 0x1f && bytes[1] == 0x8b && bytes[2] == 8;
}

// True when both are Python 3 bytecode of one magic number: a little-endian magic in
// [kMinPycMagic, kMaxPycMagic] followed by "\r\n", and a marshalled code object after the
// header.
bool ArePycPair(ByteView a, ByteView b) {
  constexpr std::uint16_t kMinPycMagic = 3000;
  constexpr std::uint16_t kMaxPycMagic = 4000;
  constexpr std::uint8_t kMarshalCode = 'c';
  constexpr std::uint8_t kMarshalFlagRef = 0x80;
  if (a.size() <= kPycHeaderSize || b.size() <= kPycHeaderSize) return false;
  const std::uint16_t magic = LoadU16(a.data(), Endian::kLittle);
  return magic >= kMinPycMagic && magic <= kMaxPycMagic && a[2] == '\r' && a[3] == '\n' &&
         std::memcmp(a.data(), b.data(), 4) == 0 &&
         (a[kPycHeaderSize] & ~kMarshalFlagRef) == kMarshalCode &&
         (b[kPycHeaderSize] & ~kMarshalFlagRef) == kMarshalCode;
}

// Tolerates the header fields of a .pyc pair and compares the code objects after them.
void ComparePyc(ByteView a, ByteView b, ComparisonRecorder& recorder) {
  const ByteView code_a = a.subspan(kPycHeaderSize);
  const ByteView code_b = b.subspan(kPycHeaderSize);
  if (!Same(code_a, code_b)) {
    std::uint64_t differing = code_a.size() > code_b.size() ? code_a.size() - code_b.size()
                                                            : code_b.size() - code_a.size();
    const std::size_t common = std::min(code_a.size(), code_b.size());
    for (std::size_t i = 0; i < common; ++i) differing += code_a[i] != code_b[i];
    recorder.Differ({"code object", {}, differing, "after the 16-byte .pyc header"});
  }
  std::string fields;
  if (std::memcmp(a.data() + 4, b.data() + 4, 4) != 0) fields = "flags";
  if (std::memcmp(a.data() + 8, b.data() + 8, 8) != 0) {
    fields += std::string(fields.empty() ? "" : ", ") + "source mtime/size or hash";
  }
  if (fields.empty()) return;
  if (!recorder.Tolerate(ToleratedClass::kPycHeader, "header: " + fields)) {
    recorder.Differ({".pyc header", {}, 0, fields});
  }
}

// The bytes before an appended kernel module signature, if `bytes` ends with one.
std::optional<ByteView> WithoutModuleSignature(ByteView bytes) {
  const std::size_t magic = kModuleSignatureMagic.size();
  if (bytes.size() < magic + kModuleSignatureInfoSize) return std::nullopt;
  if (!HasBytesAt(bytes, bytes.size() - magic, kModuleSignatureMagic)) return std::nullopt;
  const std::size_t info_at = bytes.size() - magic - kModuleSignatureInfoSize;
  const std::uint64_t signature_length = LoadU32(bytes.data() + info_at + 8, Endian::kBig);
  if (signature_length > info_at) return std::nullopt;
  return bytes.first(info_at - signature_length);
}

// True when `bytes` looks like text: no NUL and few control bytes in its first 8 KiB.
bool LooksLikeText(ByteView bytes) {
  if (bytes.size() > kMaxTextDiffInput) return false;
  if (std::memchr(bytes.data(), 0, bytes.size()) != nullptr) return false;
  const std::size_t probe = std::min(bytes.size(), kTextProbeBytes);
  std::size_t control = 0;
  for (std::size_t i = 0; i < probe; ++i) {
    const std::uint8_t c = bytes[i];
    control += c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f';
  }
  return control * 100 <= probe;
}

std::vector<std::string_view> SplitLines(ByteView bytes) {
  std::vector<std::string_view> lines;
  const std::string_view text = AsText(bytes);
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// One hunk of unified diff around the changed middle (common leading and trailing lines
// removed), cut at kMaxTextDiffLines lines / kMaxTextDiffBytes bytes.
void CompareText(ByteView a, ByteView b, ComparisonRecorder& recorder) {
  const auto x = SplitLines(a);
  const auto y = SplitLines(b);
  std::size_t prefix = 0;
  while (prefix < x.size() && prefix < y.size() && x[prefix] == y[prefix]) ++prefix;
  std::size_t suffix = 0;
  while (suffix < x.size() - prefix && suffix < y.size() - prefix &&
         x[x.size() - 1 - suffix] == y[y.size() - 1 - suffix]) {
    ++suffix;
  }
  const std::size_t begin = prefix > kDiffContextLines ? prefix - kDiffContextLines : 0;
  const std::size_t tail_context = std::min(suffix, kDiffContextLines);
  const std::size_t end_x = x.size() - suffix + tail_context;
  const std::size_t end_y = y.size() - suffix + tail_context;
  std::string out = "--- delivered\n+++ rebuilt\n";
  char header[96];
  std::snprintf(header, sizeof header, "@@ -%zu,%zu +%zu,%zu @@\n", begin + 1, end_x - begin,
                begin + 1, end_y - begin);
  out += header;
  std::vector<std::string> lines;
  for (std::size_t i = begin; i < prefix; ++i) lines.push_back(" " + std::string(x[i]));
  for (std::size_t i = prefix; i < x.size() - suffix; ++i) lines.push_back("-" + std::string(x[i]));
  for (std::size_t i = prefix; i < y.size() - suffix; ++i) lines.push_back("+" + std::string(y[i]));
  for (std::size_t i = x.size() - suffix; i < end_x; ++i) lines.push_back(" " + std::string(x[i]));
  std::size_t shown = 0;
  for (const auto& line : lines) {
    if (shown == kMaxTextDiffLines || out.size() + line.size() + 1 > kMaxTextDiffBytes) break;
    out += line;
    out += '\n';
    ++shown;
  }
  if (shown < lines.size()) {
    out += "... (" + std::to_string(lines.size() - shown) + " more lines)\n";
  }
  const std::size_t changed_x = x.size() - suffix - prefix;
  const std::size_t changed_y = y.size() - suffix - prefix;
  std::uint64_t bytes = 0;
  for (std::size_t i = prefix; i < x.size() - suffix; ++i) bytes += x[i].size() + 1;
  for (std::size_t i = prefix; i < y.size() - suffix; ++i) bytes += y[i].size() + 1;
  if (changed_x == 0 && changed_y == 0) {
    // Only a final newline (or line endings inside a line) differ.
    bytes = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
    if (bytes == 0) bytes = 1;
  }
  recorder.Differ({"text",
                   {},
                   bytes,
                   std::to_string(changed_x) + " lines removed, " + std::to_string(changed_y) +
                       " lines added from line " + std::to_string(prefix + 1)});
  recorder.SetTextDiff(std::move(out));
}

void CompareBinary(ByteView a, ByteView b, ComparisonRecorder& recorder) {
  const std::size_t common = std::min(a.size(), b.size());
  std::uint64_t differing = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  std::optional<std::size_t> first;
  for (std::size_t i = 0; i < common; ++i) {
    if (a[i] != b[i]) {
      ++differing;
      if (!first) first = i;
    }
  }
  char detail[128];
  std::snprintf(detail, sizeof detail, "first difference at offset 0x%zx; sizes %zu vs %zu",
                first.value_or(common), a.size(), b.size());
  recorder.Differ({"bytes", {}, differing, detail});
}

// A gzip member's payload, bounded by kMaxGzipPayload; nullopt when it does not inflate.
std::optional<std::string> Gunzip(ByteView bytes, std::string* error) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) {
    *error = "zlib init failed";
    return std::nullopt;
  }
  std::string out;
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(std::min<std::size_t>(bytes.size(), UINT32_MAX));
  int status = Z_OK;
  char buffer[65536];
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) break;
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (out.size() > kMaxGzipPayload) {
      inflateEnd(&stream);
      *error = "decompressed payload over " + std::to_string(kMaxGzipPayload) + " bytes";
      return std::nullopt;
    }
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      status = Z_BUF_ERROR;
      break;
    }
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) {
    *error = "gzip data does not inflate (zlib status " + std::to_string(status) + ")";
    return std::nullopt;
  }
  return out;
}

// One archive member: what must agree (type, mode, link target, contents) and what may not.
struct ArchiveMember {
  char type = '0';
  std::uint32_t mode = 0;
  std::string link;
  ByteView content;
  std::shared_ptr<const std::string> inflated;  // owns `content` of a deflated zip member
  std::string metadata;                         // mtime, owners: tolerated
  std::size_t index = 0;                        // position in the archive
};
using ArchiveMembers = std::map<std::string, ArchiveMember>;

std::uint64_t ParseOctal(ByteView field) {
  std::uint64_t value = 0;
  for (const std::uint8_t c : field) {
    if (c == 0 || c == ' ') {
      if (value != 0) break;
      continue;
    }
    if (c < '0' || c > '7' || value > (UINT64_MAX >> 3)) break;
    value = value * 8 + (c - '0');
  }
  return value;
}

std::string FieldText(ByteView field) {
  const std::string_view text = AsText(field);
  return std::string(text.substr(0, text.find('\0')));
}

constexpr std::size_t kTarBlock = 512;

bool IsTar(ByteView bytes) {
  return bytes.size() >= kTarBlock && HasBytesAt(bytes, 257, "ustar");
}

// The members of a ustar/GNU/pax tar archive (GNU long names and pax `path` records read);
// nullopt when a header is cut or there are too many members.
std::optional<ArchiveMembers> ReadTar(ByteView bytes) {
  ArchiveMembers members;
  std::size_t at = 0;
  std::string long_name;
  while (at + kTarBlock <= bytes.size()) {
    const ByteView header = bytes.subspan(at, kTarBlock);
    if (std::all_of(header.begin(), header.end(), [](std::uint8_t c) { return c == 0; })) break;
    const std::uint64_t size = ParseOctal(header.subspan(124, 12));
    const std::size_t data_at = at + kTarBlock;
    if (size > bytes.size() - data_at) return std::nullopt;
    const ByteView content = bytes.subspan(data_at, size);
    const char type = static_cast<char>(header[156]);
    at = data_at + (size + kTarBlock - 1) / kTarBlock * kTarBlock;
    if (type == 'L') {
      long_name = FieldText(content);
      continue;
    }
    if (type == 'x') {
      const std::string_view records = AsText(content);
      const auto found = records.find(" path=");
      if (found != std::string_view::npos) {
        const auto end = records.find('\n', found);
        long_name = std::string(records.substr(
            found + 6, end == std::string_view::npos ? std::string_view::npos : end - found - 6));
      }
      continue;
    }
    if (type == 'g' || type == 'K') continue;
    std::string name = long_name;
    long_name.clear();
    if (name.empty()) {
      const std::string prefix = FieldText(header.subspan(345, 155));
      name = (prefix.empty() ? "" : prefix + "/") + FieldText(header.subspan(0, 100));
    }
    if (members.size() >= kMaxArchiveMembers) return std::nullopt;
    ArchiveMember member;
    member.type = type == '\0' ? '0' : type;
    member.mode = static_cast<std::uint32_t>(ParseOctal(header.subspan(100, 8)) & 07777);
    member.link = FieldText(header.subspan(157, 100));
    member.content = content;
    member.metadata = std::string(AsText(header.subspan(108, 48))) +
                      std::string(AsText(header.subspan(265, 64)));  // ids, size, mtime, names
    member.index = members.size();
    members[name] = std::move(member);
  }
  return members;
}

constexpr std::string_view kArMagic = "!<arch>\n";
constexpr std::size_t kArHeader = 60;

bool IsAr(ByteView bytes) {
  return HasBytesAt(bytes, 0, kArMagic);
}

// The members of an ar archive (names as stored, GNU "/" symbol and "//" name tables kept as
// members); nullopt when a header is cut or there are too many members.
std::optional<ArchiveMembers> ReadAr(ByteView bytes) {
  ArchiveMembers members;
  std::size_t at = kArMagic.size();
  while (at + kArHeader <= bytes.size()) {
    const ByteView header = bytes.subspan(at, kArHeader);
    if (!HasBytesAt(header, 58, "`\n")) return std::nullopt;
    std::uint64_t size = 0;
    for (const std::uint8_t c : header.subspan(48, 10)) {
      if (c < '0' || c > '9') break;
      size = size * 10 + (c - '0');
    }
    const std::size_t data_at = at + kArHeader;
    if (size > bytes.size() - data_at) return std::nullopt;
    if (members.size() >= kMaxArchiveMembers) return std::nullopt;
    std::string name = FieldText(header.subspan(0, 16));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    ArchiveMember member;
    member.mode = static_cast<std::uint32_t>(ParseOctal(header.subspan(40, 8)) & 07777);
    member.content = bytes.subspan(data_at, size);
    member.metadata = std::string(AsText(header.subspan(16, 24)));  // mtime, uid, gid
    member.index = members.size();
    // Duplicate names (e.g. a static library's objects of one name) are kept apart.
    std::string key = name;
    for (int n = 2; members.count(key) != 0; ++n) key = name + "#" + std::to_string(n);
    members[key] = std::move(member);
    at = data_at + size + (size & 1);
  }
  return members;
}

constexpr std::string_view kCpioNewc = "070701";
constexpr std::string_view kCpioNewcCrc = "070702";
constexpr std::string_view kCpioOdc = "070707";
constexpr std::size_t kCpioNewcHeader = 110;
constexpr std::size_t kCpioOdcHeader = 76;
constexpr std::string_view kCpioTrailer = "TRAILER!!!";
constexpr std::uint32_t kModeTypeMask = 0170000;

bool IsCpio(ByteView bytes) {
  return HasBytesAt(bytes, 0, kCpioNewc) || HasBytesAt(bytes, 0, kCpioNewcCrc) ||
         HasBytesAt(bytes, 0, kCpioOdc);
}

// A fixed-width number field of a cpio header (hex for newc, octal for odc); nullopt when a
// character is not a digit of that base.
std::optional<std::uint64_t> CpioNumber(ByteView field, int base) {
  std::uint64_t value = 0;
  for (const std::uint8_t c : field) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0 || digit >= base) return std::nullopt;
    value = value * base + digit;
  }
  return value;
}

// The members of a cpio archive (newc, newc with CRC, odc) up to its trailer: the file type
// and permission bits, device numbers of device nodes and contents (a symlink's target is its
// contents) must agree; inode numbers, owners, link counts, mtimes and the archive's device
// are metadata. nullopt when a header is malformed or cut, or there are too many members.
std::optional<ArchiveMembers> ReadCpio(ByteView bytes) {
  ArchiveMembers members;
  std::size_t at = 0;
  while (true) {
    const bool odc = HasBytesAt(bytes, at, kCpioOdc);
    if (!odc && !HasBytesAt(bytes, at, kCpioNewc) && !HasBytesAt(bytes, at, kCpioNewcCrc)) {
      return std::nullopt;
    }
    const std::size_t header_size = odc ? kCpioOdcHeader : kCpioNewcHeader;
    if (bytes.size() - at < header_size) return std::nullopt;
    const ByteView header = bytes.subspan(at, header_size);
    // Field places: newc 8 hex digits each from offset 6; odc 6 or 11 octal digits.
    auto field = [&](std::size_t newc_index, std::size_t odc_at, std::size_t odc_width) {
      return odc ? CpioNumber(header.subspan(odc_at, odc_width), 8)
                 : CpioNumber(header.subspan(6 + 8 * newc_index, 8), 16);
    };
    const auto mode = field(1, 18, 6);
    const auto name_size = field(11, 59, 6);
    const auto file_size = field(6, 65, 11);
    const auto rdev_major = field(9, 42, 6);  // odc: rdev as one number
    const auto rdev_minor = odc ? std::optional<std::uint64_t>(0) : field(10, 0, 0);
    if (!mode || !name_size || !file_size || !rdev_major || !rdev_minor || *name_size == 0) {
      return std::nullopt;
    }
    const std::size_t name_at = at + header_size;
    if (*name_size > bytes.size() - name_at) return std::nullopt;
    std::string name = FieldText(bytes.subspan(name_at, *name_size));
    const std::size_t align = odc ? 1 : 4;
    auto aligned = [align](std::size_t n) { return (n + align - 1) / align * align; };
    const std::size_t data_at = aligned(name_at + *name_size);
    if (data_at > bytes.size() || *file_size > bytes.size() - data_at) return std::nullopt;
    if (name == kCpioTrailer) break;
    if (members.size() >= kMaxArchiveMembers) return std::nullopt;
    while (name.starts_with("./")) name.erase(0, 2);
    ArchiveMember member;
    const std::uint32_t type = static_cast<std::uint32_t>(*mode) & kModeTypeMask;
    member.type = static_cast<char>('0' + (type >> 12));
    member.mode = static_cast<std::uint32_t>(*mode) & 07777;
    member.link = std::to_string(*rdev_major) + ":" + std::to_string(*rdev_minor);
    member.content = bytes.subspan(data_at, *file_size);
    // ino, uid, gid, nlink, mtime, dev: tolerated (newc: fields 0, 2-5, 7-8; odc: 6..59 minus
    // mode).
    member.metadata = odc ? std::string(AsText(header.subspan(6, 12))) +
                                std::string(AsText(header.subspan(24, 18))) +
                                std::string(AsText(header.subspan(48, 11)))
                          : std::string(AsText(header.subspan(6, 8))) +
                                std::string(AsText(header.subspan(22, 32))) +
                                std::string(AsText(header.subspan(62, 16)));
    member.index = members.size();
    std::string key = name;
    for (int n = 2; members.count(key) != 0; ++n) key = name + "#" + std::to_string(n);
    members[key] = std::move(member);
    at = aligned(data_at + *file_size);
    if (at >= bytes.size()) return std::nullopt;  // no trailer
  }
  return members;
}

constexpr std::uint32_t kZipEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kZipCentralHeader = 0x02014b50;
constexpr std::uint32_t kZipLocalHeader = 0x04034b50;
constexpr std::size_t kZipEndRecordSize = 22;
constexpr std::size_t kZipMaxComment = 0xffff;
constexpr std::size_t kZipCentralHeaderSize = 46;
constexpr std::size_t kZipLocalHeaderSize = 30;
constexpr std::uint16_t kZipStored = 0;
constexpr std::uint16_t kZipDeflated = 8;
constexpr std::uint8_t kZipMadeByUnix = 3;

bool IsZip(ByteView bytes) {
  return bytes.size() >= kZipEndRecordSize &&
         LoadU32(bytes.data(), Endian::kLittle) == kZipLocalHeader;
}

// A raw deflate stream inflated to exactly `expected` bytes (at most `allowance`); nullopt
// when it does not inflate to that size.
std::optional<std::string> InflateRaw(ByteView bytes, std::uint64_t expected,
                                      std::uint64_t allowance) {
  if (expected > allowance) return std::nullopt;
  z_stream stream{};
  if (inflateInit2(&stream, -15) != Z_OK) return std::nullopt;
  std::string out(static_cast<std::size_t>(expected), '\0');
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(std::min<std::size_t>(bytes.size(), UINT32_MAX));
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(expected);
  const int status = inflate(&stream, Z_FINISH);
  const bool complete = status == Z_STREAM_END && stream.avail_out == 0;
  inflateEnd(&stream);
  if (!complete) return std::nullopt;
  return out;
}

// The members of a zip archive, read from its central directory (one archive; no zip64, no
// encryption): names, the Unix mode of members made on Unix, and contents (stored or
// deflated, CRC-32 checked) must agree; timestamps, extra fields (extended timestamps, owners),
// versions, flags, compression method and level, comments and order are metadata. Deflated
// contents count against kMaxGzipPayload per archive. nullopt when anything does not parse.
std::optional<ArchiveMembers> ReadZip(ByteView bytes) {
  const std::size_t search_from = bytes.size() > kZipEndRecordSize + kZipMaxComment
                                      ? bytes.size() - kZipEndRecordSize - kZipMaxComment
                                      : 0;
  std::optional<std::size_t> end_at;
  for (std::size_t at = bytes.size() - kZipEndRecordSize + 1; at-- > search_from;) {
    if (LoadU32(bytes.data() + at, Endian::kLittle) == kZipEndOfCentralDirectory) {
      end_at = at;
      break;
    }
  }
  if (!end_at) return std::nullopt;
  const std::uint8_t* end = bytes.data() + *end_at;
  const std::uint16_t entries = LoadU16(end + 10, Endian::kLittle);
  const std::uint64_t directory_size = LoadU32(end + 12, Endian::kLittle);
  const std::uint64_t directory_at = LoadU32(end + 16, Endian::kLittle);
  if (directory_at > *end_at || directory_size > *end_at - directory_at) return std::nullopt;
  static_assert(kMaxArchiveMembers >= UINT16_MAX, "a zip's 16-bit entry count is in the limit");
  ArchiveMembers members;
  std::uint64_t inflated_total = 0;
  std::size_t at = directory_at;
  for (std::uint16_t i = 0; i < entries; ++i) {
    if (*end_at - at < kZipCentralHeaderSize) return std::nullopt;
    const std::uint8_t* h = bytes.data() + at;
    if (LoadU32(h, Endian::kLittle) != kZipCentralHeader) return std::nullopt;
    const std::uint8_t made_by_system = h[5];
    const std::uint16_t flags = LoadU16(h + 8, Endian::kLittle);
    const std::uint16_t method = LoadU16(h + 10, Endian::kLittle);
    const std::uint32_t crc = LoadU32(h + 16, Endian::kLittle);
    const std::uint64_t packed_size = LoadU32(h + 20, Endian::kLittle);
    const std::uint64_t size = LoadU32(h + 24, Endian::kLittle);
    const std::size_t name_size = LoadU16(h + 28, Endian::kLittle);
    const std::size_t extra_size = LoadU16(h + 30, Endian::kLittle);
    const std::size_t comment_size = LoadU16(h + 32, Endian::kLittle);
    const std::uint32_t external = LoadU32(h + 38, Endian::kLittle);
    const std::uint64_t local_at = LoadU32(h + 42, Endian::kLittle);
    const std::size_t record_size = kZipCentralHeaderSize + name_size + extra_size + comment_size;
    if (*end_at - at < record_size) return std::nullopt;
    if ((flags & 1) != 0 || (method != kZipStored && method != kZipDeflated)) return std::nullopt;
    const std::string name(AsText(bytes.subspan(at + kZipCentralHeaderSize, name_size)));
    // Local header: its own name and extra lengths place the data.
    if (local_at > bytes.size() || bytes.size() - local_at < kZipLocalHeaderSize)
      return std::nullopt;
    const std::uint8_t* local = bytes.data() + local_at;
    if (LoadU32(local, Endian::kLittle) != kZipLocalHeader) return std::nullopt;
    const std::uint64_t data_at = local_at + kZipLocalHeaderSize +
                                  LoadU16(local + 26, Endian::kLittle) +
                                  LoadU16(local + 28, Endian::kLittle);
    if (data_at > bytes.size() || packed_size > bytes.size() - data_at) return std::nullopt;
    const ByteView packed = bytes.subspan(data_at, packed_size);
    ArchiveMember member;
    if (method == kZipStored) {
      if (packed_size != size) return std::nullopt;
      member.content = packed;
    } else {
      auto inflated = InflateRaw(packed, size, kMaxGzipPayload - inflated_total);
      if (!inflated) return std::nullopt;
      inflated_total += size;
      member.inflated = std::make_shared<const std::string>(std::move(*inflated));
      member.content = ByteView(reinterpret_cast<const std::uint8_t*>(member.inflated->data()),
                                member.inflated->size());
    }
    if (crc32(0, member.content.data(), static_cast<uInt>(member.content.size())) != crc) {
      return std::nullopt;
    }
    const std::uint32_t unix_mode = made_by_system == kZipMadeByUnix ? external >> 16 : 0;
    member.type =
        name.ends_with("/") ? '5' : static_cast<char>('0' + ((unix_mode & kModeTypeMask) >> 12));
    member.mode = unix_mode & 07777;
    member.metadata = std::string(AsText(bytes.subspan(at + 4, 6))) +   // versions, flags
                      std::string(AsText(bytes.subspan(at + 10, 6))) +  // method, time, date
                      std::string(AsText(bytes.subspan(at + kZipCentralHeaderSize + name_size,
                                                       extra_size + comment_size)));
    member.index = members.size();
    std::string key = name;
    for (int n = 2; members.count(key) != 0; ++n) key = name + "#" + std::to_string(n);
    members[key] = std::move(member);
    at += record_size;
  }
  return members;
}

FileComparison CompareAt(ByteView a, ByteView b, const Tolerances& tolerances, std::size_t depth);

// Pairs members by name; their type, mode, link target and contents must agree (contents
// compared like files, so an ELF member gets the ELF rules); timestamps, owners and order are
// archive-metadata.
void CompareArchives(const ArchiveMembers& a, const ArchiveMembers& b, const Tolerances& tolerances,
                     std::size_t depth, ComparisonRecorder& recorder) {
  bool metadata_differs = false;
  for (const auto& [name, x] : a) {
    const auto found = b.find(name);
    if (found == b.end()) {
      recorder.Differ({"member " + name, {}, x.content.size(), "only in delivered"});
      continue;
    }
    const ArchiveMember& y = found->second;
    metadata_differs = metadata_differs || x.metadata != y.metadata || x.index != y.index;
    if (x.type != y.type || x.mode != y.mode || x.link != y.link) {
      recorder.Differ({"member " + name, {}, 0, "type, mode or link target differs"});
      continue;
    }
    if (Same(x.content, y.content)) continue;
    recorder.Merge(CompareAt(x.content, y.content, tolerances, depth + 1), "member " + name + ": ");
  }
  for (const auto& [name, y] : b) {
    if (a.count(name) == 0) {
      recorder.Differ({"member " + name, {}, y.content.size(), "only in rebuilt"});
    }
  }
  if (metadata_differs &&
      !recorder.Tolerate(ToleratedClass::kArchiveMetadata, "member timestamps, owners or order")) {
    recorder.Differ({"member metadata", {}, 0, "timestamps, owners or order differ"});
  }
}

void CompareGzip(ByteView a, ByteView b, const Tolerances& tolerances, std::size_t depth,
                 ComparisonRecorder& recorder) {
  std::string error;
  auto payload_a = Gunzip(a, &error);
  if (!payload_a) return recorder.Uncomparable("delivered: " + error);
  auto payload_b = Gunzip(b, &error);
  if (!payload_b) return recorder.Uncomparable("rebuilt: " + error);
  const ByteView pa(reinterpret_cast<const std::uint8_t*>(payload_a->data()), payload_a->size());
  const ByteView pb(reinterpret_cast<const std::uint8_t*>(payload_b->data()), payload_b->size());
  const FileComparison inner = CompareAt(pa, pb, tolerances, depth + 1);
  std::string fields;
  auto note = [&](bool differs, std::string_view name) {
    if (!differs) return;
    if (!fields.empty()) fields += ", ";
    fields += name;
  };
  note(a[3] != b[3], "flags");
  note(std::memcmp(a.data() + 4, b.data() + 4, 4) != 0, "mtime");
  note(a[8] != b[8], "xfl");
  note(a[9] != b[9], "os");
  if (fields.empty()) fields = "name or deflate encoding";
  recorder.Tolerate(ToleratedClass::kGzipHeader, "header: " + fields);
  recorder.Merge(inner, "payload: ");
}

enum class ArchiveKind { kNone, kTar, kAr, kCpio, kZip };

ArchiveKind ArchiveKindOf(ByteView bytes) {
  if (IsTar(bytes)) return ArchiveKind::kTar;
  if (IsAr(bytes)) return ArchiveKind::kAr;
  if (IsCpio(bytes)) return ArchiveKind::kCpio;
  if (IsZip(bytes)) return ArchiveKind::kZip;
  return ArchiveKind::kNone;
}

std::string_view ArchiveKindName(ArchiveKind kind) {
  switch (kind) {
    case ArchiveKind::kTar: return "tar";
    case ArchiveKind::kAr: return "ar";
    case ArchiveKind::kCpio: return "cpio";
    case ArchiveKind::kZip: return "zip";
    case ArchiveKind::kNone: break;
  }
  return "file";
}

// The members of an archive of a known kind; nullopt when it does not parse.
std::optional<ArchiveMembers> ReadArchive(ArchiveKind kind, ByteView bytes) {
  switch (kind) {
    case ArchiveKind::kTar: return ReadTar(bytes);
    case ArchiveKind::kAr: return ReadAr(bytes);
    case ArchiveKind::kCpio: return ReadCpio(bytes);
    case ArchiveKind::kZip: return ReadZip(bytes);
    case ArchiveKind::kNone: break;
  }
  return std::nullopt;
}

FileComparison CompareAt(ByteView a, ByteView b, const Tolerances& tolerances, std::size_t depth) {
  ComparisonRecorder recorder(tolerances);
  if (Same(a, b)) return recorder.Finish(IsElf(a) ? "elf" : "file", false);
  auto unsigned_a = WithoutModuleSignature(a);
  auto unsigned_b = WithoutModuleSignature(b);
  if ((unsigned_a || unsigned_b) && tolerances.Allows(ToleratedClass::kModuleSignature)) {
    const ByteView ua = unsigned_a.value_or(a);
    const ByteView ub = unsigned_b.value_or(b);
    recorder.Tolerate(ToleratedClass::kModuleSignature, unsigned_a && unsigned_b
                                                            ? "signature on both sides"
                                                        : unsigned_a ? "signature on delivered only"
                                                                     : "signature on rebuilt only");
    const FileComparison inner = CompareAt(ua, ub, tolerances, depth + 1);
    recorder.Merge(inner, "");
    return recorder.Finish(inner.kind, true);
  }
  if (IsElf(a) && IsElf(b)) return CompareElfPair(a, b, tolerances);
  if (IsGzip(a) && IsGzip(b) && depth < kMaxNesting &&
      tolerances.Allows(ToleratedClass::kGzipHeader)) {
    CompareGzip(a, b, tolerances, depth, recorder);
    return recorder.Finish("gzip", true);
  }
  if (depth < kMaxNesting && tolerances.Allows(ToleratedClass::kArchiveMetadata) &&
      ArchiveKindOf(a) != ArchiveKind::kNone && ArchiveKindOf(a) == ArchiveKindOf(b)) {
    const ArchiveKind kind = ArchiveKindOf(a);
    auto members_a = ReadArchive(kind, a);
    auto members_b = ReadArchive(kind, b);
    if (members_a && members_b) {
      CompareArchives(*members_a, *members_b, tolerances, depth, recorder);
      return recorder.Finish(std::string(ArchiveKindName(kind)), true);
    }
  }
  if (ArePycPair(a, b)) {
    ComparePyc(a, b, recorder);
    return recorder.Finish("pyc", true);
  }
  if (IsElf(a) != IsElf(b)) {
    recorder.Uncomparable(std::string("only the ") + (IsElf(a) ? "delivered" : "rebuilt") +
                          " file is ELF");
    return recorder.Finish("file", true);
  }
  if (LooksLikeText(a) && LooksLikeText(b)) {
    CompareText(a, b, recorder);
    return recorder.Finish("text", true);
  }
  CompareBinary(a, b, recorder);
  return recorder.Finish("binary", true);
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kIdentical: return "IDENTICAL";
    case Verdict::kEquivalent: return "EQUIVALENT";
    case Verdict::kDifferent: return "DIFFERENT";
    case Verdict::kOnlyInDelivered: return "ONLY_IN_DELIVERED";
    case Verdict::kOnlyInRebuilt: return "ONLY_IN_REBUILT";
    case Verdict::kUncomparable: return "UNCOMPARABLE";
  }
  return "UNCOMPARABLE";
}

const std::array<ToleratedClassInfo, kToleratedClassCount>& ToleratedClasses() {
  return kClasses;
}

std::string_view ToleratedClassName(ToleratedClass tolerated_class) {
  return kClasses[static_cast<std::size_t>(tolerated_class)].name;
}

std::optional<ToleratedClass> FindToleratedClass(std::string_view name) {
  for (const auto& info : kClasses) {
    if (info.name == name) return info.tolerated_class;
  }
  return std::nullopt;
}

FileComparison CompareContents(ByteView delivered, ByteView rebuilt, const Tolerances& tolerances) {
  return CompareAt(delivered, rebuilt, tolerances, 0);
}

}  // namespace clearbox::equiv
