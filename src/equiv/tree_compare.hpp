// Pairing and comparing two trees (directories or unpacked images) by path inside the root
// filesystem, one pair per task on a thread pool; only small per-path records are kept.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "equiv/file_compare.hpp"

namespace clearbox::equiv {

// More entries than this in one tree is refused (the records would not fit a sane budget).
inline constexpr std::size_t kMaxTreeEntries = std::size_t{1} << 22;

// One side of a comparison on disk.
struct TreeSide {
  std::filesystem::path root;
  // An unpacker output directory: manifest.json is skipped, chunk directories are named by
  // format (diff::RootfsPathNormaliser) and a container whose `.extract` directory exists is
  // compared through its members.
  bool unpacked = false;
};

// The verdict on one path.
struct PathResult {
  std::string path;
  FileComparison comparison;
};

// Compares two files (regular files mapped, symlinks by target, never followed).
FileComparison CompareFilesOnDisk(const std::filesystem::path& delivered,
                                  const std::filesystem::path& rebuilt,
                                  const Tolerances& tolerances);

// Compares every path of two trees on `threads` workers (0 = one per core); results sorted
// by path. Fails (kIo, kLimitExceeded) only when a tree cannot be listed.
Result<std::vector<PathResult>> CompareTrees(const TreeSide& delivered, const TreeSide& rebuilt,
                                             const Tolerances& tolerances, std::size_t threads);

}  // namespace clearbox::equiv
