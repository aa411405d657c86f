// UEFI firmware volume (PI specification vol. 3, "Firmware Storage Code Definitions"):
// EFI_FIRMWARE_VOLUME_HEADER - zero vector[16], file system GUID at 16, FvLength u64 at 32,
// "_FVH" at 40, attributes at 44, HeaderLength u16 at 48, 16-bit checksum at 50 (the header's
// u16 words sum to 0), ExtHeaderOffset at 52, reserved (0) at 54, revision (2) at 55, block
// map from 56 - followed by the FFS files of an FFS2/FFS3 file system, each 8-byte aligned.
//
// EFI_FFS_FILE_HEADER (24 bytes): name GUID, integrity check, type, attributes, 24-bit size,
// state; FFS3 large files (attribute 0x01) have a 32-byte header with a u64 size. Pad files
// (type 0xF0) are skipped; free space (a header of all 0xFF or all 0x00) ends the list.
// Raw files (type 0x01) are written whole; the others are split into their sections
// (EFI_COMMON_SECTION_HEADER: 24-bit size, type; size 0xFFFFFF means a u32 size follows),
// 4-byte aligned:
//   PE32 -> N.efi, PIC -> N.pic, TE -> N.te, RAW -> N.raw, firmware volume image -> N.fv
//   (unpacked in turn as a volume), compatibility16 and freeform -> N.bin,
//   user interface -> names the file's directory, version and dependency sections skipped,
//   compression type 0 (none) -> its sections, GUID-defined with the LZMA GUID
//   EE4E5898-3914-4259-9D6E-DC7BD79403CF -> decoded (LZMA_Alone) and its sections, other
//   GUID-defined with the Tiano GUID A31280AD-481E-41B6-95E8-127F4C984779 -> decoded
//   (Tiano, else EFI 1.1) and its sections, other GUID-defined sections -> their sections
//   when no processing is required, else N.guided. Compression type 1 (standard) -> decoded
//   (EFI 1.1, else Tiano: firmware uses both under this type) and its sections; what does
//   not decode is written as N.tiano and reported.
// Each file goes to a directory named by its GUID (and its user-interface name). Volumes of
// other file systems (NVRAM stores, ...) are recognised and reported in the metadata only.
#include <deque>
#include <optional>
#include <set>
#include <vector>

#include "unpack/handlers/compression/lzma_alone.hpp"
#include "unpack/handlers/firmware/efi_decompress.hpp"
#include "unpack/handlers/firmware/firmware_util.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kSignatureOffset = 40;
constexpr std::size_t kMinHeaderBytes = 56 + 8;  // fixed part, one block map entry
constexpr std::size_t kMaxHeaderBytes = 4096;
constexpr std::size_t kFileHeaderBytes = 24;
constexpr std::size_t kLargeFileHeaderBytes = 32;
constexpr std::size_t kMaxFilesPerVolume = 4096;
constexpr std::size_t kMaxSectionsPerFile = 256;
constexpr int kMaxSectionDepth = 4;
constexpr std::size_t kMaxDecodedBytes = 64u << 20;  // per volume, all decoded sections together
constexpr std::uint8_t kPadFile = 0xF0;
constexpr std::uint8_t kRawFile = 0x01;
constexpr std::uint8_t kLargeFileAttribute = 0x01;
constexpr std::uint16_t kProcessingRequired = 0x01;

constexpr std::string_view kFfs2Guid(
    "\x78\xe5\x8c\x8c\x3d\x8a\x1c\x4f\x99\x35\x89\x61\x85\xc3\x2d\xd3", 16);
constexpr std::string_view kFfs3Guid(
    "\x7a\xc0\x73\x54\xcb\x3d\xca\x4d\xbd\x6f\x1e\x96\x89\xe7\x34\x9a", 16);
constexpr std::string_view kLzmaGuid(
    "\x98\x58\x4e\xee\x14\x39\x59\x42\x9d\x6e\xdc\x7b\xd7\x94\x03\xcf", 16);
constexpr std::string_view kTianoGuid(
    "\xad\x80\x12\xa3\x1e\x48\xb6\x41\x95\xe8\x12\x7f\x4c\x98\x47\x79", 16);

struct VolumeHeader {
  std::uint64_t length = 0;
  std::uint16_t header_length = 0;
  bool checksum_ok = false;
  bool ffs = false;
  bool ffs3 = false;
  std::size_t files_start = 0;
};

Result<VolumeHeader> ParseVolumeHeader(ByteView data) {
  if (data.size() < kMinHeaderBytes || !HasBytesAt(data, kSignatureOffset, "_FVH")) {
    return Fail(ErrorCode::kNotThisFormat, "no firmware volume header");
  }
  VolumeHeader h;
  h.length = LoadU64(data.data() + 32, Endian::kLittle);
  h.header_length = LoadU16(data.data() + 48, Endian::kLittle);
  const std::uint16_t ext_offset = LoadU16(data.data() + 52, Endian::kLittle);
  if (data[54] != 0 || data[55] != 2) return Fail(ErrorCode::kNotThisFormat, "FV revision");
  if (h.header_length < kMinHeaderBytes || h.header_length > kMaxHeaderBytes ||
      h.header_length % 2 != 0 || h.header_length > h.length || h.header_length > data.size()) {
    return Fail(ErrorCode::kNotThisFormat, "FV header length");
  }
  std::uint16_t sum = 0;
  for (std::size_t i = 0; i < h.header_length; i += 2) {
    sum = static_cast<std::uint16_t>(sum + LoadU16(data.data() + i, Endian::kLittle));
  }
  h.checksum_ok = sum == 0;
  const ByteView guid = data.subspan(16, 16);
  h.ffs3 = AsText(guid) == kFfs3Guid;
  h.ffs = h.ffs3 || AsText(guid) == kFfs2Guid;
  h.files_start = h.header_length;
  if (ext_offset != 0) {
    // EFI_FIRMWARE_VOLUME_EXT_HEADER: FvName GUID, ExtHeaderSize u32.
    auto ext_size = ReadU32At(data, std::size_t{ext_offset} + 16, Endian::kLittle);
    if (ext_offset < h.header_length || !ext_size || *ext_size < 20 ||
        std::uint64_t{ext_offset} + *ext_size > h.length) {
      return Fail(ErrorCode::kMalformed, "FV extended header outside the volume");
    }
    h.files_start = ext_offset + *ext_size;
  }
  return h;
}

// One output of a file: its name within the file's directory and its bytes.
struct SectionOutput {
  std::string name;
  ByteView bytes;
};

// Walks the sections of one FFS file, collecting outputs.
class SectionWalker {
 public:
  SectionWalker(ExtractContext& ctx, std::deque<std::vector<std::uint8_t>>& decoded,
                std::size_t& decoded_bytes, const std::string& where)
      : ctx_(ctx), decoded_(decoded), decoded_bytes_(decoded_bytes), where_(where) {}

  // Walks `sections`; returns errors that stop the chunk (limits, time-outs).
  Result<void> Walk(ByteView sections, int depth) {
    if (depth > kMaxSectionDepth) {
      ctx_.ReportProblem(ErrorCode::kLimitExceeded, where_, "sections nested too deeply");
      return {};
    }
    std::size_t pos = 0;
    while (pos + 4 <= sections.size()) {
      CLEARBOX_TRY(ctx_.budget().CheckDeadline());
      if (++count_ > kMaxSectionsPerFile) {
        ctx_.ReportProblem(ErrorCode::kLimitExceeded, where_, "too many sections in one file");
        return {};
      }
      std::uint64_t size = sections[pos] | (sections[pos + 1] << 8) | (sections[pos + 2] << 16);
      const std::uint8_t type = sections[pos + 3];
      std::size_t header = 4;
      if (size == 0xFFFFFF) {
        auto large = ReadU32At(sections, pos + 4, Endian::kLittle);
        if (!large) break;
        size = *large;
        header = 8;
      }
      if (size < header || size > sections.size() - pos) {
        ctx_.ReportProblem(ErrorCode::kMalformed, where_,
                           "section size " + std::to_string(size) + " outside the file");
        return {};
      }
      const ByteView section = sections.subspan(pos, size);
      CLEARBOX_TRY(Section(section, section.subspan(header), type, depth));
      pos += (size + 3) & ~std::uint64_t{3};
    }
    return {};
  }

  const std::vector<SectionOutput>& outputs() const { return outputs_; }
  const std::string& ui_name() const { return ui_name_; }

 private:
  void Emit(std::string_view extension, ByteView bytes) {
    outputs_.push_back({std::to_string(outputs_.size()) + "." + std::string(extension), bytes});
  }

  Result<void> Section(ByteView section, ByteView body, std::uint8_t type, int depth) {
    switch (type) {
      case 0x01: {  // compression
        if (body.size() < 5) break;
        const std::uint8_t method = body[4];
        if (method == 0) return Walk(body.subspan(5), depth + 1);
        if (method == 1) {
          const std::uint32_t length = LoadU32(body.data(), Endian::kLittle);
          return DecodeEfi(body.subspan(5), EfiCompression::kEfi11, EfiCompression::kTiano, length,
                           depth);
        }
        Emit("tiano", body.subspan(5));
        ctx_.ReportProblem(ErrorCode::kUnsupported, where_,
                           "compression type " + std::to_string(method) + " not known");
        break;
      }
      case 0x02: {  // GUID-defined
        if (body.size() < 20) break;
        const std::uint16_t data_offset = LoadU16(body.data() + 16, Endian::kLittle);
        const std::uint16_t attributes = LoadU16(body.data() + 18, Endian::kLittle);
        if (data_offset > section.size() || data_offset < section.size() - body.size() + 20) {
          ctx_.ReportProblem(ErrorCode::kMalformed, where_, "GUID-defined section data offset");
          break;
        }
        const ByteView payload = section.subspan(data_offset);
        if (AsText(body.subspan(0, 16)) == kLzmaGuid) {
          if (decoded_bytes_ >= kMaxDecodedBytes) {
            ctx_.ReportProblem(ErrorCode::kLimitExceeded, where_,
                               "LZMA sections of this volume decode to more than " +
                                   std::to_string(kMaxDecodedBytes >> 20) + " MiB");
            break;
          }
          auto decoded = DecodeLzmaAlone(payload, kMaxDecodedBytes - decoded_bytes_, ctx_);
          if (!decoded) {
            if (decoded.error().code == ErrorCode::kTimeout) return Forward(decoded);
            ctx_.ReportProblem(decoded.error(), where_);
            Emit("lzma", payload);
            break;
          }
          decoded_bytes_ += decoded->size();
          decoded_.push_back(std::move(*decoded));
          return Walk(ByteView(decoded_.back()), depth + 1);
        }
        if (AsText(body.subspan(0, 16)) == kTianoGuid) {
          return DecodeEfi(payload, EfiCompression::kTiano, EfiCompression::kEfi11, std::nullopt,
                           depth);
        }
        if ((attributes & kProcessingRequired) == 0) return Walk(payload, depth + 1);
        Emit("guided", payload);
        break;
      }
      case 0x10: Emit("efi", body); break;
      case 0x11: Emit("pic", body); break;
      case 0x12: Emit("te", body); break;
      case 0x15: {  // user interface: UCS-2 name
        std::string name;
        for (std::size_t i = 0; i + 1 < body.size() && name.size() < 64; i += 2) {
          const std::uint16_t c = LoadU16(body.data() + i, Endian::kLittle);
          if (c == 0) break;
          name.push_back(c < 0x80 ? static_cast<char>(c) : '_');
        }
        if (ui_name_.empty()) ui_name_ = name;
        break;
      }
      case 0x16: Emit("bin", body); break;
      case 0x17: Emit("fv", body); break;
      case 0x18: Emit("bin", body.size() >= 16 ? body.subspan(16) : body); break;
      case 0x19: Emit("raw", body); break;
      default: break;  // version, dependency expressions
    }
    return {};
  }

  // Decodes EFI/Tiano data with `first`, else `second`, and walks the sections inside; the
  // stream must declare `length` bytes when the section says. Every attempt is charged its
  // declared size against the volume's decode limit, so failing attempts cannot repeat
  // without bound. What decodes neither way is written as N.tiano and reported.
  Result<void> DecodeEfi(ByteView payload, EfiCompression first, EfiCompression second,
                         std::optional<std::uint32_t> length, int depth) {
    const std::uint32_t declared =
        payload.size() >= 8 ? LoadU32(payload.data() + 4, Endian::kLittle) : 0;
    Result<std::vector<std::uint8_t>> decoded = Fail(ErrorCode::kInternal, "not decoded");
    if (length && declared != *length) {
      decoded = Fail(ErrorCode::kMalformed, "compression section says " + std::to_string(*length) +
                                                " bytes, its stream " + std::to_string(declared));
    } else {
      for (const EfiCompression variant : {first, second}) {
        if (declared > kMaxDecodedBytes - decoded_bytes_) {
          decoded = Fail(ErrorCode::kLimitExceeded,
                         "compressed sections of this volume decode to more than " +
                             std::to_string(kMaxDecodedBytes >> 20) + " MiB");
          break;
        }
        decoded_bytes_ += declared;
        decoded = EfiDecompress(payload, variant, declared, &ctx_.budget());
        if (!decoded && decoded.error().code == ErrorCode::kTimeout) return Forward(decoded);
        if (decoded || decoded.error().code == ErrorCode::kTruncated) break;
      }
    }
    if (!decoded) {
      ctx_.ReportProblem(decoded.error(), where_);
      Emit("tiano", payload);
      return {};
    }
    decoded_.push_back(std::move(*decoded));
    return Walk(ByteView(decoded_.back()), depth + 1);
  }

  ExtractContext& ctx_;
  std::deque<std::vector<std::uint8_t>>& decoded_;
  std::size_t& decoded_bytes_;
  std::string where_;
  std::vector<SectionOutput> outputs_;
  std::string ui_name_;
  std::size_t count_ = 0;
};

// Writes one output of a file (empty ones too); fails only with errors that stop the chunk.
Result<void> WriteOutput(ExtractContext& ctx, const std::string& name, ByteView bytes) {
  CLEARBOX_TRY(ctx.budget().CheckDeadline());
  auto written = ctx.out().WriteFile(name, bytes, 0644);
  if (!ctx.ContinueAfter(written, name)) return written;
  return {};
}

bool IsErased(ByteView header) {
  const auto all = [&](std::uint8_t v) {
    return std::all_of(header.begin(), header.end(), [v](std::uint8_t b) { return b == v; });
  };
  return all(0xFF) || all(0x00);
}

class UefiVolumeHandler final : public Handler {
 public:
  std::string_view Name() const override { return "uefi-fv"; }
  std::string_view Description() const override {
    return "UEFI firmware volume (FFS2/FFS3): header checksum checked, files listed by GUID, "
           "PE32/TE/raw/FV sections carved, LZMA, EFI and Tiano compressed sections decoded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"_FVH", kSignatureOffset}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseVolumeHeader(data);
    if (!header) return Forward(header);
    return std::min<std::uint64_t>(header->length, data.size());
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseVolumeHeader(data);
    if (!header) return Forward(header);
    const VolumeHeader& h = *header;
    const ByteView volume = data.subspan(0, std::min<std::uint64_t>(h.length, data.size()));
    ctx.SetMetadata("file_system", GuidText(data.subspan(16, 16)));
    ctx.SetMetadata("header_checksum", h.checksum_ok ? "ok" : "mismatch");
    if (!h.checksum_ok) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "firmware volume header checksum mismatch");
    }
    std::size_t files = 0;
    if (h.ffs) {
      auto walked = WalkFiles(volume, h, ctx, files);
      if (!walked) return Forward(walked);
    }
    ctx.SetMetadata("files", std::to_string(files));
    if (data.size() < h.length) {
      return Fail(ErrorCode::kTruncated, "firmware volume of " + std::to_string(h.length) +
                                             " bytes cut at " + std::to_string(data.size()));
    }
    return h.length;
  }

 private:
  static Result<void> WalkFiles(ByteView volume, const VolumeHeader& h, ExtractContext& ctx,
                                std::size_t& files) {
    std::deque<std::vector<std::uint8_t>> decoded;
    std::size_t decoded_bytes = 0;
    std::set<std::string> used_names;
    std::uint64_t pos = (h.files_start + 7) & ~std::uint64_t{7};
    while (pos + kFileHeaderBytes <= volume.size()) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      const ByteView fh = volume.subspan(pos, kFileHeaderBytes);
      if (IsErased(fh)) break;
      if (files >= kMaxFilesPerVolume) {
        ctx.ReportProblem(ErrorCode::kLimitExceeded, "",
                          "more than " + std::to_string(kMaxFilesPerVolume) + " files");
        break;
      }
      const std::uint8_t type = fh[18];
      const std::uint8_t attributes = fh[19];
      std::uint64_t size = fh[20] | (fh[21] << 8) | (fh[22] << 16);
      std::size_t header_bytes = kFileHeaderBytes;
      if (h.ffs3 && (attributes & kLargeFileAttribute)) {
        auto large = ReadU64At(volume, pos + kFileHeaderBytes, Endian::kLittle);
        if (!large) break;
        size = *large;
        header_bytes = kLargeFileHeaderBytes;
      }
      const std::string guid = GuidText(fh.subspan(0, 16));
      if (size < header_bytes || size > volume.size() - pos) {
        ctx.ReportProblem(size < header_bytes ? ErrorCode::kMalformed : ErrorCode::kTruncated, guid,
                          "FFS file size " + std::to_string(size) + " outside the volume");
        break;
      }
      const ByteView body = volume.subspan(pos + header_bytes, size - header_bytes);
      pos = (pos + size + 7) & ~std::uint64_t{7};
      if (type == kPadFile) continue;
      ++files;
      if (type == kRawFile) {
        const std::string dir = UniqueMemberName(guid, used_names);
        CLEARBOX_TRY(WriteOutput(ctx, dir + "/file.raw", body));
        continue;
      }
      SectionWalker walker(ctx, decoded, decoded_bytes, guid);
      CLEARBOX_TRY(walker.Walk(body, 0));
      std::string dir = guid;
      const std::string ui = SafeMemberName(walker.ui_name(), "");
      if (!ui.empty()) dir += "_" + ui;
      dir = UniqueMemberName(dir, used_names);
      for (const SectionOutput& out : walker.outputs()) {
        CLEARBOX_TRY(WriteOutput(ctx, dir + "/" + out.name, out.bytes));
      }
    }
    return {};
  }
};

}  // namespace

const Handler& GetUefiVolumeHandler() {
  static const UefiVolumeHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
