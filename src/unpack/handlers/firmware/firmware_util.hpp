// Helpers shared by the firmware container handlers: safe output names and CRC-32.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/byte_reader.hpp"
#include "unpack/handler.hpp"

namespace clearbox::unpack {

// Turns a name stored in an image header into a plain file name: printable ASCII only,
// characters outside [A-Za-z0-9._+@,-] become '_', no directory part, no leading dot, at
// most 64 characters. Returns `fallback` when nothing safe remains.
std::string SafeMemberName(std::string_view raw, std::string_view fallback);

// Reserves a name not used before in `used`: `name`, else `name.1`, `name.2`...
std::string UniqueMemberName(const std::string& name, std::set<std::string>& used);

// Standard CRC-32 (zlib's crc32, IEEE polynomial, initial and final inversion) of `data`,
// fed in pieces so that views over 4 GiB are handled.
std::uint32_t Crc32(ByteView data, std::uint32_t crc = 0);

// Writes the partition image[start, start + length) as `name`. A partition that runs past
// the image is written as far as it goes and reported (kTruncated); one that starts past it
// is only reported. Fails only with errors that stop the chunk (limits, time-outs, I/O).
Result<void> CarvePartition(ByteView image, std::uint64_t start, std::uint64_t length,
                            const std::string& name, ExtractContext& ctx);

}  // namespace clearbox::unpack
