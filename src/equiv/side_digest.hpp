// The digest that names one side of an equivalence in equiv.json and in its attestation: the
// SHA-256 of a file, or a tree digest of a directory (docs/equiv-schema.md).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace clearbox::equiv {

// A directory with more entries than this is not digested (the path list must fit memory).
inline constexpr std::size_t kMaxDigestEntries = std::size_t{1} << 22;

// SHA-256 (hex) of the regular file at `path`; kIo when it cannot be read.
Result<std::string> FileSha256(const std::filesystem::path& path);

// SHA-256 (hex) over the sorted entries of the directory `root`, symlinks never followed:
// per entry in byte order of its relative path, "d <path>\n", "f <path>\n<sha256 hex>\n",
// "l <path>\n<target>\n" or "o <path>\n" (other types). kIo or kLimitExceeded on failure.
Result<std::string> TreeSha256(const std::filesystem::path& root);

}  // namespace clearbox::equiv
