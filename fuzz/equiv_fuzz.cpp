// libFuzzer target: the binary-equivalence comparer. The input is split in two halves,
// compared as an ELF pair and through the content dispatch (module signature, gzip, text).
#include <cstddef>
#include <cstdint>

#include "equiv/file_compare.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::size_t half = size / 2;
  const clearbox::ByteView delivered(data, half);
  const clearbox::ByteView rebuilt(data + half, size - half);
  const clearbox::equiv::Tolerances tolerances;
  (void)clearbox::equiv::CompareElfPair(delivered, rebuilt, tolerances);
  (void)clearbox::equiv::CompareContents(delivered, rebuilt, tolerances);
  clearbox::equiv::Tolerances strict;
  strict.Forbid(clearbox::equiv::ToleratedClass::kBuildPath);
  strict.Forbid(clearbox::equiv::ToleratedClass::kModuleSignature);
  (void)clearbox::equiv::CompareContents(rebuilt, delivered, strict);
  return 0;
}
