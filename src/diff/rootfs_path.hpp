// Paths inside the root filesystem: report.json paths with the unpacker's container
// directories (`<hex offset>.<format>`) named by format instead of offset, so that a file keeps
// its path when a release moves its filesystem to another offset.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace clearbox::diff {

// Renames the chunk directories of one report's paths. A path component is a chunk directory
// when it is `0x<hex>.<format>` and sits at the top of the tree or directly inside a
// `<file>.extract` (or `.extract~N`) directory. It becomes `<format>`, or `<format>~K` for the
// K-th (K >= 2) chunk of that format among its siblings in offset order.
class RootfsPathNormaliser {
 public:
  // Learns the chunk directories of `raw_paths` (every path of one report, any order).
  explicit RootfsPathNormaliser(const std::vector<std::string>& raw_paths);

  // `raw` with each chunk directory renamed; other components unchanged.
  std::string Normalise(std::string_view raw) const;

  // `text` (a finding's message or evidence) with each path in it that starts with a chunk
  // directory normalised; a path is a run of characters up to a blank, quote, comma or ')'.
  std::string NormaliseText(std::string_view text) const;

 private:
  std::map<std::string, std::string, std::less<>> chunk_names_;  // raw dir prefix -> new name
};

// True when `component` is a chunk directory name `0x<hex>.<format>`.
bool IsChunkDirectoryName(std::string_view component);

}  // namespace clearbox::diff
