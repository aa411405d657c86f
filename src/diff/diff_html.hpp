// diff.html: the ReleaseDiff as one self-contained page (src/html: escaped text, strict CSP).
#pragma once

#include <string>

#include "diff/release_diff.hpp"

namespace clearbox::diff {

// The page: an overview chart of the counts, then one section per kind of change. Every
// string from the reports is escaped; equal diffs give byte-identical pages.
std::string RenderDiffHtml(const ReleaseDiff& diff);

}  // namespace clearbox::diff
