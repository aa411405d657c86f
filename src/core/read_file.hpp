// ReadFileCapped: a whole small file (rules, package databases) into memory, never more than
// a given number of bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox {

// Reads the whole regular file open as `fd` (from its current offset). kLimitExceeded when
// it holds more than `max_bytes` (also when it grows while being read), kIo on a read error
// or when `fd` is not a regular file. Does not close `fd`.
Result<std::string> ReadFileCapped(int fd, std::uint64_t max_bytes);

// Opens `path` (following symlinks) and reads it as above; kIo when it cannot be opened.
Result<std::string> ReadFileCapped(const std::filesystem::path& path, std::uint64_t max_bytes);

// Creates or truncates `path` and writes `text` to it; kIo naming the file on any failure.
Result<void> WriteWholeFile(const std::filesystem::path& path, std::string_view text);

}  // namespace clearbox
