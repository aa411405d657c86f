// The EFI 1.1 / Tiano decompressor alone: byte 0 picks the variant, the rest is the
// compressed buffer (its 8-byte header included). Output must be exactly the header's size.
#include <cstdint>
#include <cstdlib>

#include "unpack/handlers/firmware/efi_decompress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox;
  using namespace clearbox::unpack;
  if (size < 1) return 0;
  const ByteView in(data + 1, size - 1);
  const auto variant = (data[0] & 1) ? EfiCompression::kTiano : EfiCompression::kEfi11;
  auto out = EfiDecompress(in, variant, 1 << 20);
  if (out && out->size() != LoadU32(in.data() + 4, Endian::kLittle)) std::abort();
  return 0;
}
