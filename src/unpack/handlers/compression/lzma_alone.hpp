// LZMA_Alone decoding shared by the lzma handler and the containers that wrap such a stream
// (Arcadyan's obfuscated images).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "unpack/handler.hpp"

namespace clearbox::unpack {

// Checks that `data` starts with a plausible LZMA_Alone header and that the first bytes of the
// stream decode; kNotThisFormat when not.
Result<void> CheckLzmaAloneStart(ByteView data);

// Decodes the LZMA_Alone stream at the start of `data` into the file `name` (created only when
// output arrives); returns the bytes of `data` the stream occupies (header included).
Result<std::uint64_t> ExtractLzmaAlone(ByteView data, ExtractContext& ctx, const std::string& name);

// Decodes the LZMA_Alone stream at the start of `data` into memory, for containers that parse
// what it holds (UEFI GUID-defined sections). kLimitExceeded when the output would pass
// `max_output` bytes; kTruncated/kMalformed for a cut or corrupt stream.
Result<std::vector<std::uint8_t>> DecodeLzmaAlone(ByteView data, std::size_t max_output,
                                                  ExtractContext& ctx);

}  // namespace clearbox::unpack
