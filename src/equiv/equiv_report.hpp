// The result of `clearbox equiv`: both sides, the classes in force and a verdict per path;
// its canonical JSON (docs/equiv-schema.md) and terminal summary.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "equiv/tree_compare.hpp"

namespace clearbox::equiv {

inline constexpr int kEquivSchemaVersion = 1;
inline constexpr const char* kEquivFileName = "equiv.json";
inline constexpr std::size_t kMaxSummaryDifferent = 50;  // DIFFERENT files listed on the terminal

// One side as given and as compared.
struct SideInfo {
  std::string input;        // the path given on the command line
  std::string kind;         // "file", "directory" or "image"
  std::string unpacked_to;  // for an image: the directory it was unpacked into
  std::size_t unpack_problems = 0;
};

struct EquivReport {
  SideInfo delivered;
  SideInfo rebuilt;
  Tolerances tolerances;
  std::vector<PathResult> files;  // sorted by path
};

// Files per verdict, indexed by Verdict.
std::array<std::size_t, kVerdictCount> CountVerdicts(const EquivReport& report);
// True when every path is IDENTICAL or EQUIVALENT.
bool IsEquivalent(const EquivReport& report);
// equiv.json: sorted, no timestamps, two-space indented, ending in a newline.
std::string RenderEquivJson(const EquivReport& report);
// The terminal summary: counts per verdict, the DIFFERENT and other failing paths with where,
// and the overall verdict.
std::string RenderEquivSummary(const EquivReport& report);

}  // namespace clearbox::equiv
