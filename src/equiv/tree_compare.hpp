// Pairing and comparing two trees (directories or unpacked images) by path inside the root
// filesystem, one pair per task on a thread pool; only small per-path records are kept.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "equiv/file_compare.hpp"

namespace clearbox::equiv {

// More entries than this in one tree is refused (the records would not fit a sane budget).
inline constexpr std::size_t kMaxTreeEntries = std::size_t{1} << 22;
// Pairs compared per batch: results are handed on in path order after each batch, so memory
// holds at most this many results (and mapped file pairs only while their task runs).
inline constexpr std::size_t kPairsPerBatch = 256;

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

// Receives each path's result, in path order, on the calling thread.
using PathResultSink = std::function<void(PathResult&&)>;

// Compares every path of two trees on `threads` workers (0 = one per core), handing each
// result to `sink` in path order, batch by batch. Fails (kIo, kLimitExceeded) only when a
// tree cannot be listed.
Result<void> CompareTrees(const TreeSide& delivered, const TreeSide& rebuilt,
                          const Tolerances& tolerances, std::size_t threads,
                          const PathResultSink& sink);
// The same, collected (for tests and small trees).
Result<std::vector<PathResult>> CompareTrees(const TreeSide& delivered, const TreeSide& rebuilt,
                                             const Tolerances& tolerances, std::size_t threads);

}  // namespace clearbox::equiv
