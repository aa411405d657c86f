// The JFFS2 rubin decoders alone: byte 0 picks the coder, bytes 1-2 the output size, the
// rest is the coded stream. Output must stay exactly the requested size.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "unpack/handlers/filesystem/jffs2_rubin.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox::unpack::jffs2;
  if (size < 3) return 0;
  const std::size_t out_size = data[1] | (static_cast<std::size_t>(data[2]) << 8);
  std::vector<std::uint8_t> out(out_size);
  const clearbox::ByteView in(data + 3, size - 3);
  switch (data[0] % 3) {
    case 0: (void)DynRubinDecompress(in, out); break;
    case 1: (void)RubinMipsDecompress(in, out); break;
    default: (void)Type3Decompress(in, out); break;
  }
  if (out.size() != out_size) std::abort();
  return 0;
}
