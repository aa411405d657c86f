// AnalysisProblem: something an analyser could not do for one file. Problems are reported in
// report.json (`analysis_problems`), never dropped.
#pragma once

#include <algorithm>
#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox {

struct AnalysisProblem {
  std::string path;      // the file, relative to the tree root
  std::string analyser;  // who met it: "identify", "inspect", "elf"
  std::string kind;      // ErrorCodeName of the cause: "malformed", "truncated", "io", ...
  std::string message;   // one readable sentence
  auto operator<=>(const AnalysisProblem&) const = default;
};

// The problem `error` of `analyser` on `path`.
inline AnalysisProblem MakeAnalysisProblem(std::string path, std::string_view analyser,
                                           const Error& error) {
  return {std::move(path), std::string(analyser), std::string(ErrorCodeName(error.code)),
          error.message};
}

// Sorts problems (path, analyser, kind, message) and drops duplicates: the order does not
// depend on threads.
inline void CanonicalizeProblems(std::vector<AnalysisProblem>& problems) {
  std::sort(problems.begin(), problems.end());
  problems.erase(std::unique(problems.begin(), problems.end()), problems.end());
}

}  // namespace clearbox
