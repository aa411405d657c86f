// PatternScanner: one vectorscan pass of many regular expressions over a file, reporting
// where each matched (leftmost start, longest end per start).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/pattern_set.hpp"
#include "core/result.hpp"

namespace clearbox::inspect {

// One expression to compile.
struct PatternSpec {
  std::string expression;
  bool caseless = false;
};

// One match: the pattern's index in the spec list and the matched byte range.
struct PatternMatch {
  std::uint32_t id = 0;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
};

// Bytes of a file scanned at most (vectorscan takes 32-bit lengths; a cap keeps time bounded).
inline constexpr std::uint64_t kMaxScanBytes = 1ULL << 30;
// Raw match callbacks accepted per scan before the scan stops.
inline constexpr std::size_t kMaxRawMatches = 200000;

class PatternScanner {
 public:
  // Compiles every expression (DOTALL, start-of-match) into one block-mode database.
  static Result<PatternScanner> Build(const std::vector<PatternSpec>& specs);
  PatternScanner(PatternScanner&&) noexcept;
  PatternScanner& operator=(PatternScanner&&) noexcept;
  ~PatternScanner();

  // Matches in data[0, min(size, kMaxScanBytes)), one per (id, start) with the longest end,
  // sorted by start then id; at most `max_matches`. Thread-safe.
  Result<std::vector<PatternMatch>> Scan(ByteView data, std::size_t max_matches) const;

 private:
  explicit PatternScanner(PatternSet set) : set_(std::move(set)) {}
  PatternSet set_;
};

}  // namespace clearbox::inspect
