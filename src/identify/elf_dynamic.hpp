// ElfDynamicInfo: the DT_NEEDED and DT_SONAME names of an ELF file (32/64-bit, either byte
// order), read with bounds checks. Used to tell a library's own version banner from the
// header version a program that links the library dynamically echoes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/byte_reader.hpp"

namespace clearbox::identify {

inline constexpr std::size_t kMaxProgramHeaders = 4096;
inline constexpr std::size_t kMaxDynamicEntries = 16384;
inline constexpr std::size_t kMaxNeeded = 1024;
inline constexpr std::size_t kMaxDynamicNameBytes = 4096;

// What the dynamic section says about linking.
struct ElfDynamicInfo {
  bool is_elf = false;              // a well-formed ELF header was found
  std::vector<std::string> needed;  // DT_NEEDED names, in order
  std::string soname;               // DT_SONAME or ""
};

// Reads the dynamic section of `bytes`; anything malformed yields what could be read (and
// is_elf = false when the header itself is not ELF). Never reads outside `bytes`.
ElfDynamicInfo ReadElfDynamicInfo(ByteView bytes);

}  // namespace clearbox::identify
