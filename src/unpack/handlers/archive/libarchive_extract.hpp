// Extraction of one archive chunk through libarchive (read side only), every entry written
// through the context's SafeDir. Shared by the tar, cpio, zip,
// 7z, ar, ISO 9660, CAB, LHA and RAR handlers.
#pragma once

#include <cstdint>

#include "unpack/handler.hpp"

namespace clearbox::unpack {

// The single libarchive reader format enabled for a chunk.
enum class LibarchiveFormat : std::uint8_t {
  kTar,
  kCpio,
  kZipSeekable,
  kZipStreamable,
  kSevenZip,
  kAr,
  kIso9660,
  kCab,
  kLha,
  kRar,
  kRar5,
};

// Extracts every entry of `data` (exactly one chunk) read as `format`. Per-entry problems are
// reported through ctx and extraction goes on; returns data.size() when the archive was read
// to its end, kTruncated/kMalformed when libarchive stopped early (what was extracted stays),
// or a limit/time-out/I/O error.
Result<std::uint64_t> ExtractWithLibarchive(ByteView data, LibarchiveFormat format,
                                            ExtractContext& ctx);

// For a chunk our own parser found cut off: turns success or a libarchive format error into
// kTruncated carrying `why` (and libarchive's message); limit and I/O errors pass unchanged.
Result<std::uint64_t> AsTruncated(const Result<std::uint64_t>& extracted, const std::string& why);

}  // namespace clearbox::unpack
