// JFFS2's "rubin" arithmetic coders (compression types 0x03 and 0x05): the decoder only.
// Facts from Linux fs/jffs2/compr_rubin.c and the 2.4-era compr.c / U-Boot readers.
#pragma once

#include <cstdint>
#include <span>

#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox::unpack::jffs2 {

// Decodes "dynrubin" data (8 bit-probability bytes, then the bit stream) into exactly
// out.size() bytes; kMalformed when the input runs out first.
Result<void> DynRubinDecompress(ByteView in, std::span<std::uint8_t> out);

// Decodes "rubinmips" data (the fixed MIPS probability table, no header) into exactly
// out.size() bytes; kMalformed when the input runs out first.
Result<void> RubinMipsDecompress(ByteView in, std::span<std::uint8_t> out);

// Decodes a node of compression type 0x03. Linux 2.6 and later register the dynrubin coder
// under 0x03 (and rubinmips under 0x05); older writers meant the fixed-table rubinmips. A
// real stream ends in the payload's last byte, so the reading that does wins (dynrubin first).
Result<void> Type3Decompress(ByteView in, std::span<std::uint8_t> out);

}  // namespace clearbox::unpack::jffs2
