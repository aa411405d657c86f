// Severity and Confidence: the typed ratings every analyser gives its results.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.hpp"

namespace clearbox {

// How bad a finding is, ordered: kInfo < kLow < kMedium < kHigh < kCritical.
enum class Severity : std::uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };

// Every severity, worst first: the order reports list and count them in.
inline constexpr std::array<Severity, 5> kSeveritiesWorstFirst = {
    Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow, Severity::kInfo};

// The stable lower-case name used in rules, reports and options ("critical" ... "info").
constexpr std::string_view ToString(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "info";
}

// The severity named `name` (exactly one of the lower-case names), else nullopt.
constexpr std::optional<Severity> FindSeverity(std::string_view name) {
  for (const Severity s : kSeveritiesWorstFirst) {
    if (ToString(s) == name) return s;
  }
  return std::nullopt;
}

// Like FindSeverity, but an unknown name is a kInvalidArgument error naming it.
Result<Severity> ParseSeverity(std::string_view name);

// How sure an identification is, in [0, 1]; JSON output shows the plain number.
class Confidence {
 public:
  constexpr Confidence() = default;
  // Clamps `value` into [0, 1] (NaN becomes 0).
  constexpr explicit Confidence(double value)
      : value_(value >= 0.0 ? (value <= 1.0 ? value : 1.0) : 0.0) {}
  constexpr double value() const { return value_; }
  // Reading as a plain number is always safe; writing goes through the clamping constructor.
  constexpr operator double() const { return value_; }  // NOLINT(google-explicit-constructor)
  constexpr auto operator<=>(const Confidence&) const = default;

 private:
  double value_ = 0.0;
};

// How sure a match is when it is rated in words rather than a number (vulnerability matches:
// kHigh by an exact CPE or package identity, kMedium by name), ordered kLow < kHigh.
enum class ConfidenceLevel : std::uint8_t { kLow, kMedium, kHigh };

// "low", "medium" or "high".
constexpr std::string_view ToString(ConfidenceLevel level) {
  switch (level) {
    case ConfidenceLevel::kLow: return "low";
    case ConfidenceLevel::kMedium: return "medium";
    case ConfidenceLevel::kHigh: return "high";
  }
  return "low";
}

// One step less sure (kLow stays kLow).
constexpr ConfidenceLevel OneLevelLower(ConfidenceLevel level) {
  return level == ConfidenceLevel::kHigh ? ConfidenceLevel::kMedium : ConfidenceLevel::kLow;
}

// How a rule matched its subject: at an exact value (a version listed, a fingerprint) or
// inside a range (of versions).
enum class MatchKind : std::uint8_t { kExact, kRange };

// "exact" or "range".
constexpr std::string_view ToString(MatchKind kind) {
  return kind == MatchKind::kExact ? "exact" : "range";
}

}  // namespace clearbox
