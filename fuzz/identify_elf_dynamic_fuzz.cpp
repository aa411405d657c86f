// libFuzzer target: the bounded ELF dynamic-section reader (DT_NEEDED, DT_SONAME).
#include <cstddef>
#include <cstdint>

#include "identify/elf_dynamic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)clearbox::identify::ReadElfDynamicInfo(clearbox::ByteView(data, size));
  return 0;
}
