// FileView: one object of an unpacked tree as the analysers (elf, identify, inspect) see it.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/byte_reader.hpp"

namespace clearbox {

// What kind of filesystem object a FileView is.
enum class FileKind : std::uint8_t { kRegular, kDirectory, kSymlink, kOther };

// A borrowed view of one extracted object; valid only for the duration of the call it is
// passed to. `bytes` holds the whole content of regular files and is empty otherwise.
struct FileView {
  std::string_view path;  // relative to the unpack output directory, '/'-separated
  FileKind kind = FileKind::kRegular;
  std::uint32_t mode = 0;         // permission bits as the image stated them (incl. suid/sgid)
  std::string_view link_target;   // symlink target as stored in the image
  std::string_view sha256;        // hex digest of `bytes`, for regular files
  ByteView bytes;                 // the content (memory-mapped), regular files only
};

}  // namespace clearbox
