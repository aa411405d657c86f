// diff.json (docs/diff-schema.md) and the terminal summary of a ReleaseDiff.
#pragma once

#include <string>

#include "diff/release_diff.hpp"

namespace clearbox::diff {

inline constexpr const char* kDiffFileName = "diff.json";
inline constexpr const char* kDiffHtmlFileName = "diff.html";

// diff.json text: keys sorted, lists in the diff's order, 2-space indent, final newline.
// Equal diffs give byte-identical text.
std::string RenderDiffJson(const ReleaseDiff& diff);

// A terminal summary: the two images, the count of each kind of change, and the first
// entries of each non-empty list (at most a few dozen lines in all).
std::string RenderDiffSummary(const ReleaseDiff& diff);

}  // namespace clearbox::diff
