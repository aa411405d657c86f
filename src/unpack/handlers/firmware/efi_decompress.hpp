// The EFI 1.1 and Tiano decompressors (UEFI specification 2.10 chapter 19, "Compression
// Algorithm Specification"; EDK II BaseTools Source/C/Common/Decompress.c): LZ77 with static
// Huffman blocks; the two variants differ only in the width of the position-set count.
#pragma once

#include <cstdint>
#include <vector>

#include "core/budget.hpp"
#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox::unpack {

enum class EfiCompression { kEfi11, kTiano };

// Decodes one compressed buffer (u32 compressed size, u32 original size, bit stream) into
// its original size; kLimitExceeded when that exceeds `max_output`, kMalformed for a bad
// Huffman table, a reference before the start or a stream that ends too early; checks
// `budget`'s deadline (when given) as it goes.
Result<std::vector<std::uint8_t>> EfiDecompress(ByteView in, EfiCompression variant,
                                                std::size_t max_output,
                                                const ChunkBudget* budget = nullptr);

}  // namespace clearbox::unpack
