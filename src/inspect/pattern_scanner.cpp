#include "inspect/pattern_scanner.hpp"

#include <algorithm>
#include <tuple>

namespace clearbox::inspect {

PatternScanner::PatternScanner(PatternScanner&&) noexcept = default;
PatternScanner& PatternScanner::operator=(PatternScanner&&) noexcept = default;
PatternScanner::~PatternScanner() = default;

Result<PatternScanner> PatternScanner::Build(const std::vector<PatternSpec>& specs) {
  std::vector<std::string> names;  // how compile errors name each pattern
  for (const PatternSpec& spec : specs) names.push_back("pattern " + spec.expression);
  std::vector<RegexPattern> patterns;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    patterns.push_back({.expression = specs[i].expression,
                        .id = static_cast<std::uint32_t>(i),
                        .caseless = specs[i].caseless,
                        .dot_all = true,
                        .leftmost_start = true,
                        .name = names[i]});
  }
  auto set = PatternSet::CompileRegexes(patterns);
  if (!set) return Forward(set);
  return PatternScanner(std::move(*set));
}

Result<std::vector<PatternMatch>> PatternScanner::Scan(ByteView data,
                                                       std::size_t max_matches) const {
  std::vector<PatternMatch> raw;
  const std::uint64_t size = std::min<std::uint64_t>(data.size(), kMaxScanBytes);
  if (size == 0) return raw;
  auto on_match = [&raw](std::uint32_t id, std::uint64_t from, std::uint64_t to) {
    if (raw.size() >= kMaxRawMatches) return ScanControl::kStop;
    // Consecutive reports for one (id, start) only extend the end.
    if (!raw.empty() && raw.back().id == id && raw.back().start == from) {
      raw.back().end = std::max(raw.back().end, to);
      return ScanControl::kContinue;
    }
    raw.push_back({id, from, to});
    return ScanControl::kContinue;
  };
  auto scanned = set_.Scan(data.first(size), on_match);
  if (!scanned) return Forward(scanned);
  std::sort(raw.begin(), raw.end(), [](const PatternMatch& a, const PatternMatch& b) {
    return std::tie(a.start, a.id, b.end) < std::tie(b.start, b.id, a.end);
  });
  std::vector<PatternMatch> out;
  for (const PatternMatch& m : raw) {
    if (!out.empty() && out.back().id == m.id && out.back().start == m.start) continue;
    if (out.size() >= max_matches) break;
    out.push_back(m);
  }
  return out;
}

}  // namespace clearbox::inspect
