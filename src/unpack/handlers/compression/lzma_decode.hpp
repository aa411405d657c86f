// The decode loop shared by the liblzma-based handlers (lzma, xz, lzip).
#pragma once

#include <lzma.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"

namespace clearbox::unpack {

// Feeds `input` in steps through the started decoder `zs` into `out` until the decoder says
// the stream ended, then ends `zs`. Returns zs.total_in (all bytes the decoder took, including
// any it was given before), or an error naming `what` ("xz stream"): kTruncated when the
// input ends early, kUnsupported when the memory limit is hit, kMalformed for corrupt data.
Result<std::uint64_t> RunLzmaDecoder(lzma_stream& zs, ByteView input, LazyOutput& out,
                                     std::vector<std::uint8_t>& buffer, ExtractContext& ctx,
                                     std::string_view what);

}  // namespace clearbox::unpack
