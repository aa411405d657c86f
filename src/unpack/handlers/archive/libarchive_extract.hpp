// Extraction of one archive chunk through libarchive (read side only), every entry written
// through the context's SafeDir. Shared by the tar, cpio, zip, 7z, ar and ISO 9660 handlers.
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
};

// Extracts every entry of `data` (exactly one chunk) read as `format`. Per-entry problems are
// reported through ctx and extraction goes on; returns data.size() when the archive was read
// to its end, kTruncated/kMalformed when libarchive stopped early (what was extracted stays),
// or a limit/time-out/I/O error.
Result<std::uint64_t> ExtractWithLibarchive(ByteView data, LibarchiveFormat format,
                                            ExtractContext& ctx);

}  // namespace clearbox::unpack
