// FileTypeName: a coarse content type for report.json's `files` list.
#pragma once

#include <string>

#include "core/file_view.hpp"

namespace clearbox::scan {

// "elf", "script", "pem", "text", "data" or "empty" for regular files (by content);
// "directory", "symlink" or "other" for the rest.
std::string FileTypeName(const FileView& file);

}  // namespace clearbox::scan
