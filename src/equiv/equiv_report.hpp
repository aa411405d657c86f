// The result of `clearbox equiv`: both sides, the classes in force and a verdict per path;
// its canonical JSON (docs/equiv-schema.md) and terminal summary.
#pragma once

#include <array>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "equiv/tree_compare.hpp"

namespace clearbox::equiv {

inline constexpr int kEquivSchemaVersion = 1;
inline constexpr const char* kEquivFileName = "equiv.json";
// The in-toto predicate type `clearbox attest` gives an equiv.json (docs/equiv-schema.md).
inline constexpr std::string_view kEquivPredicateType =
    "https://clearbox.dev/attestation/equivalence/v1";
inline constexpr std::size_t kMaxSummaryDifferent = 50;  // DIFFERENT files listed on the terminal

// One side as given and as compared.
struct SideInfo {
  std::string input;        // the path given on the command line
  std::string kind;         // "file", "directory" or "image"
  std::string unpacked_to;  // for an image: the directory it was unpacked into
  std::size_t unpack_problems = 0;
  // What names the side: the SHA-256 of a file or image, the tree digest of a directory
  // (side_digest.hpp); empty with `digest_error` set when it could not be computed.
  std::string sha256;
  std::string tree_sha256;
  std::string digest_error;
};

// What equiv.json says before its files: both sides and the classes in force.
struct EquivHeader {
  SideInfo delivered;
  SideInfo rebuilt;
  Tolerances tolerances;
};

// Writes equiv.json as results arrive, in the order given (the caller gives them sorted by
// path): the header, each path, then the counts and the overall verdict. Keeps only the
// counts and the summary's lines, so memory does not grow with the number of files.
class EquivWriter {
 public:
  // Writes the header to `out`, which must outlive the writer.
  EquivWriter(std::ostream& out, const EquivHeader& header);
  // Writes one path's entry and counts it.
  void Add(const PathResult& result);
  // Writes the counts and the verdict and closes the document (once).
  void Finish();
  // Paths per verdict so far, indexed by Verdict.
  const std::array<std::size_t, kVerdictCount>& counts() const { return counts_; }
  // True when every path so far is IDENTICAL or EQUIVALENT.
  bool IsEquivalent() const;
  // The terminal summary: counts per verdict, the DIFFERENT and other failing paths with
  // where (at most kMaxSummaryDifferent), and the overall verdict.
  std::string Summary() const;

 private:
  std::ostream& out_;
  std::array<std::size_t, kVerdictCount> counts_{};
  std::size_t paths_ = 0;
  std::vector<std::string> failing_lines_;
  std::size_t failing_unlisted_ = 0;
  bool finished_ = false;
};

// A whole comparison held in memory (tests, single files).
struct EquivReport {
  EquivHeader header;
  std::vector<PathResult> files;  // sorted by path
};

// equiv.json of `report` (as EquivWriter writes it).
std::string RenderEquivJson(const EquivReport& report);

}  // namespace clearbox::equiv
