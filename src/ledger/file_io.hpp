// Small whole-file reads and durable whole-file writes for the ledger commands.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox::ledger {

// Reads a whole regular file of at most `max_bytes`; kInvalidArgument if missing or larger,
// kIo on read errors.
[[nodiscard]] Result<std::string> ReadSmallFile(const std::filesystem::path& path,
                                                std::size_t max_bytes);

// Writes via a temporary file, fsync and rename (then fsyncs the directory); with
// `exclusive`, fails with kInvalidArgument if `path` already exists.
[[nodiscard]] Result<void> WriteFileAtomically(const std::filesystem::path& path,
                                               std::string_view content, unsigned mode,
                                               bool exclusive);

// A key given on the command line: the text itself, or a file holding it (first line).
[[nodiscard]] Result<std::string> ReadKeyArgument(const std::string& arg);

}  // namespace clearbox::ledger
