// libarchive read loop: one format enabled, the chunk read from memory, every entry turned
// into a SafeDir call. libarchive never writes to disk here (no archive_write_disk).
#include "unpack/handlers/archive/libarchive_extract.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

namespace clearbox::unpack {
namespace {

// Stop after this many header reads in a row that produce no usable entry.
constexpr int kMaxConsecutiveHeaderFailures = 64;

// Owns a libarchive read handle.
struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveCloser>;

// Makes the calling thread's LC_CTYPE UTF-8 while it lives. libarchive converts entry names
// (zip's UTF-8 flag, 7z's UTF-16, Joliet, pax) to the current locale's charset; in the "C"
// locale every non-ASCII name fails to convert and the entry loses its name. Names that are
// not valid UTF-8 still come through as raw bytes. Thread-local (uselocale): no effect on
// the process's other threads or on number formatting.
class Utf8CtypeScope {
 public:
  Utf8CtypeScope() {
    locale_ = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (locale_ != static_cast<locale_t>(nullptr)) previous_ = uselocale(locale_);
  }
  ~Utf8CtypeScope() {
    if (locale_ == static_cast<locale_t>(nullptr)) return;
    uselocale(previous_);
    freelocale(locale_);
  }
  Utf8CtypeScope(const Utf8CtypeScope&) = delete;
  Utf8CtypeScope& operator=(const Utf8CtypeScope&) = delete;

 private:
  locale_t locale_ = static_cast<locale_t>(nullptr);
  locale_t previous_ = static_cast<locale_t>(nullptr);
};

std::string ErrorText(struct archive* a) {
  const char* text = archive_error_string(a);
  return text ? std::string(text) : std::string("unknown libarchive error");
}

// Sorts a libarchive failure into truncated input or malformed input.
ErrorCode ClassifyFailure(const std::string& message) {
  std::string lower(message);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"truncat", "premature", "unexpected end", "end of file", "eof"}) {
    if (lower.find(word) != std::string::npos) return ErrorCode::kTruncated;
  }
  return ErrorCode::kMalformed;
}

int EnableFormat(struct archive* a, LibarchiveFormat format) {
  switch (format) {
    case LibarchiveFormat::kTar: return archive_read_support_format_tar(a);
    case LibarchiveFormat::kCpio: return archive_read_support_format_cpio(a);
    case LibarchiveFormat::kZipSeekable: return archive_read_support_format_zip_seekable(a);
    case LibarchiveFormat::kZipStreamable: return archive_read_support_format_zip_streamable(a);
    case LibarchiveFormat::kSevenZip: return archive_read_support_format_7zip(a);
    case LibarchiveFormat::kAr: return archive_read_support_format_ar(a);
    case LibarchiveFormat::kIso9660: return archive_read_support_format_iso9660(a);
    case LibarchiveFormat::kCab: return archive_read_support_format_cab(a);
    case LibarchiveFormat::kLha: return archive_read_support_format_lha(a);
    case LibarchiveFormat::kRar: return archive_read_support_format_rar(a);
    case LibarchiveFormat::kRar5: return archive_read_support_format_rar5(a);
  }
  return ARCHIVE_FATAL;
}

const char* PathOf(struct archive_entry* e) {
  const char* p = archive_entry_pathname_utf8(e);
  return p ? p : archive_entry_pathname(e);
}
const char* SymlinkOf(struct archive_entry* e) {
  const char* p = archive_entry_symlink_utf8(e);
  return p ? p : archive_entry_symlink(e);
}
const char* HardlinkOf(struct archive_entry* e) {
  const char* p = archive_entry_hardlink_utf8(e);
  return p ? p : archive_entry_hardlink(e);
}

// ar index members (symbol tables) carry no file content worth keeping.
bool IsArIndex(std::string_view name) {
  return name == "/" || name == "/SYM64/" || name == "//" || name.starts_with("__.SYMDEF");
}

// The outcome of streaming one regular file's data.
enum class DataOutcome : std::uint8_t { kDone, kEntryFailed, kArchiveFatal };

// A sparse member's hole could not be written. A hole larger than all the output left (a
// member claiming 17 GiB) is refused without being charged: that member alone is given up
// and the archive goes on while any allowance is left; other failures follow ContinueAfter.
Result<DataOutcome> HoleFailure(const Result<void>& failed, const std::string& name,
                                ExtractContext& ctx) {
  if (failed.error().code == ErrorCode::kLimitExceeded && ctx.budget().RemainingOutput() > 0) {
    ctx.ReportProblem(failed.error(), name);
    return DataOutcome::kEntryFailed;
  }
  if (!ctx.ContinueAfter(failed, name)) return Forward(failed);
  return DataOutcome::kEntryFailed;
}

// Streams the current entry's data into a new SafeDir file.
Result<DataOutcome> WriteRegularFile(struct archive* a, struct archive_entry* entry,
                                     const std::string& name, std::uint32_t mode,
                                     ExtractContext& ctx, std::string& fatal_message) {
  auto writer = ctx.out().CreateFile(name, mode);
  if (!writer) {
    if (!ctx.ContinueAfter(Forward(writer), name)) return Forward(writer);
    return DataOutcome::kEntryFailed;
  }
  std::uint64_t pos = 0;
  DataOutcome outcome = DataOutcome::kDone;
  for (;;) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    const int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_FATAL) {
      fatal_message = ErrorText(a);
      // The member written so far is kept, and named as incomplete.
      ctx.ReportProblem(
          ClassifyFailure(fatal_message), name,
          "member cut short after " + std::to_string(pos) + " bytes: " + fatal_message);
      outcome = DataOutcome::kArchiveFatal;
      break;
    }
    if (r != ARCHIVE_OK) {  // ARCHIVE_WARN / ARCHIVE_FAILED: this entry's data is bad
      ctx.ReportProblem(ClassifyFailure(ErrorText(a)), name, ErrorText(a));
      outcome = DataOutcome::kEntryFailed;
      break;
    }
    if (offset < 0 || static_cast<std::uint64_t>(offset) < pos) {
      ctx.ReportProblem(ErrorCode::kMalformed, name, "data blocks out of order");
      outcome = DataOutcome::kEntryFailed;
      break;
    }
    if (static_cast<std::uint64_t>(offset) > pos) {
      auto zeros = writer->WriteZeros(static_cast<std::uint64_t>(offset) - pos);
      if (!zeros) {
        (void)writer->Close();
        return HoleFailure(zeros, name, ctx);
      }
      pos = static_cast<std::uint64_t>(offset);
    }
    if (size > 0) {
      auto written = writer->Write(ByteView(static_cast<const std::uint8_t*>(buf), size));
      if (!written) {
        (void)writer->Close();
        return Forward(written);
      }
      pos += size;
    }
  }
  // A sparse file may end in a hole that no data block describes.
  if (outcome == DataOutcome::kDone && archive_entry_sparse_count(entry) > 0 &&
      archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
      static_cast<std::uint64_t>(archive_entry_size(entry)) > pos) {
    auto zeros = writer->WriteZeros(static_cast<std::uint64_t>(archive_entry_size(entry)) - pos);
    if (!zeros) {
      (void)writer->Close();
      return HoleFailure(zeros, name, ctx);
    }
  }
  auto closed = writer->Close();
  if (!closed && !ctx.ContinueAfter(closed, name)) return Forward(closed);
  return outcome;
}

}  // namespace

Result<std::uint64_t> ExtractWithLibarchive(ByteView data, LibarchiveFormat format,
                                            ExtractContext& ctx) {
  const Utf8CtypeScope utf8_names;  // declared first: outlives the archive handle
  ArchivePtr archive(archive_read_new());
  struct archive* a = archive.get();
  if (a == nullptr) return Fail(ErrorCode::kInternal, "archive_read_new failed");
  if (EnableFormat(a, format) != ARCHIVE_OK) {
    return Fail(ErrorCode::kInternal, "libarchive lacks the format: " + ErrorText(a));
  }
  if (archive_read_open_memory(a, data.data(), data.size()) != ARCHIVE_OK) {
    const std::string message = ErrorText(a);
    return Fail(ClassifyFailure(message), "libarchive cannot open the chunk: " + message);
  }
  int failures_in_row = 0;
  std::string fatal_message;
  for (;;) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    struct archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_FATAL) {
      fatal_message = ErrorText(a);
      break;
    }
    if (r == ARCHIVE_RETRY || r == ARCHIVE_FAILED || entry == nullptr) {
      ctx.ReportProblem(ClassifyFailure(ErrorText(a)), "", "bad entry: " + ErrorText(a));
      if (++failures_in_row > kMaxConsecutiveHeaderFailures) {
        fatal_message = "too many bad entries in a row";
        break;
      }
      continue;
    }
    failures_in_row = 0;  // ARCHIVE_OK or ARCHIVE_WARN (e.g. a name charset warning)
    const char* raw_name = PathOf(entry);
    if (raw_name == nullptr) {
      ctx.ReportProblem(ErrorCode::kMalformed, "", "entry without a name");
      continue;
    }
    const std::string name(raw_name);
    const std::uint32_t mode = static_cast<std::uint32_t>(archive_entry_mode(entry)) & 07777;
    const mode_t type = archive_entry_filetype(entry);
    const char* hardlink = HardlinkOf(entry);
    const bool has_data = archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0;

    if (hardlink != nullptr && !has_data) {
      auto made = ctx.out().CreateHardlink(name, hardlink);
      if (!ctx.ContinueAfter(made, name)) return Forward(made);
      continue;
    }
    switch (type) {
      case AE_IFDIR: {
        auto rel = SafeDir::NormalizeMember(name);
        if (rel && rel->empty()) break;  // the archive's own root ("./")
        auto made = ctx.out().CreateDirectory(name, mode);
        if (!ctx.ContinueAfter(made, name)) return Forward(made);
        break;
      }
      case AE_IFLNK: {
        const char* target = SymlinkOf(entry);
        if (target == nullptr) {
          ctx.ReportProblem(ErrorCode::kMalformed, name, "symlink without a target");
          break;
        }
        auto made = ctx.out().CreateSymlink(name, target);
        if (!ctx.ContinueAfter(made, name)) return Forward(made);
        break;
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
      case AE_IFSOCK: {
        const EntryType special = type == AE_IFCHR   ? EntryType::kCharDevice
                                  : type == AE_IFBLK ? EntryType::kBlockDevice
                                  : type == AE_IFIFO ? EntryType::kFifo
                                                     : EntryType::kSocket;
        auto made = ctx.out().RecordSpecial(
            name, special, mode, static_cast<std::uint32_t>(archive_entry_rdevmajor(entry)),
            static_cast<std::uint32_t>(archive_entry_rdevminor(entry)));
        if (!ctx.ContinueAfter(made, name)) return Forward(made);
        break;
      }
      case AE_IFREG:
      default: {
        if (type != AE_IFREG && type != 0 && !has_data) {
          ctx.ReportProblem(ErrorCode::kUnsupported, name,
                            "entry of unknown type " + std::to_string(type) + " skipped");
          break;
        }
        if (format == LibarchiveFormat::kAr && IsArIndex(name)) break;
        auto outcome = WriteRegularFile(a, entry, name, mode, ctx, fatal_message);
        if (!outcome) return Forward(outcome);
        break;
      }
    }
    if (!fatal_message.empty()) break;
  }
  if (!fatal_message.empty()) {
    return Fail(ClassifyFailure(fatal_message), "libarchive stopped after " +
                                                    std::to_string(ctx.out().entry_count()) +
                                                    " entries: " + fatal_message);
  }
  return static_cast<std::uint64_t>(data.size());
}

Result<std::uint64_t> AsTruncated(const Result<std::uint64_t>& extracted, const std::string& why) {
  if (extracted) return Fail(ErrorCode::kTruncated, why);
  const ErrorCode code = extracted.error().code;
  if (code != ErrorCode::kMalformed && code != ErrorCode::kTruncated) return extracted;
  return Fail(ErrorCode::kTruncated, why + " (" + extracted.error().message + ")");
}

}  // namespace clearbox::unpack
