#include "vuln/cvss.hpp"

#include <cmath>
#include <cstdint>
#include <map>

namespace clearbox::vuln {
namespace {

// CVSS v3.1 specification, section 7.4 (Roundup without floating-point surprises).
double RoundUp(double x) {
  const auto scaled = static_cast<std::int64_t>(std::llround(x * 100000.0));
  if (scaled % 10000 == 0) return static_cast<double>(scaled) / 100000.0;
  return (std::floor(static_cast<double>(scaled) / 10000.0) + 1.0) / 10.0;
}

}  // namespace

std::optional<double> CvssV3BaseScore(std::string_view vector) {
  if (!vector.starts_with("CVSS:3.0/") && !vector.starts_with("CVSS:3.1/")) return std::nullopt;
  vector.remove_prefix(9);
  std::map<std::string, char> m;
  while (!vector.empty()) {
    const auto slash = vector.find('/');
    const std::string_view item = vector.substr(0, slash);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos || colon + 2 != item.size()) return std::nullopt;
    m[std::string(item.substr(0, colon))] = item[colon + 1];
    vector.remove_prefix(slash == std::string_view::npos ? vector.size() : slash + 1);
  }
  for (const char* k : {"AV", "AC", "PR", "UI", "S", "C", "I", "A"}) {
    if (!m.contains(k)) return std::nullopt;
  }
  const bool changed = m["S"] == 'C';
  if (!changed && m["S"] != 'U') return std::nullopt;
  auto pick = [](char c, std::initializer_list<std::pair<char, double>> table) {
    for (const auto& [k, v] : table) {
      if (k == c) return v;
    }
    return -1.0;
  };
  const double av = pick(m["AV"], {{'N', 0.85}, {'A', 0.62}, {'L', 0.55}, {'P', 0.2}});
  const double ac = pick(m["AC"], {{'L', 0.77}, {'H', 0.44}});
  const double pr =
      pick(m["PR"], {{'N', 0.85}, {'L', changed ? 0.68 : 0.62}, {'H', changed ? 0.5 : 0.27}});
  const double ui = pick(m["UI"], {{'N', 0.85}, {'R', 0.62}});
  const double c = pick(m["C"], {{'H', 0.56}, {'L', 0.22}, {'N', 0.0}});
  const double i = pick(m["I"], {{'H', 0.56}, {'L', 0.22}, {'N', 0.0}});
  const double a = pick(m["A"], {{'H', 0.56}, {'L', 0.22}, {'N', 0.0}});
  if (av < 0 || ac < 0 || pr < 0 || ui < 0 || c < 0 || i < 0 || a < 0) return std::nullopt;
  const double iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
  const double impact =
      changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0.0;
  return changed ? RoundUp(std::min(1.08 * (impact + exploitability), 10.0))
                 : RoundUp(std::min(impact + exploitability, 10.0));
}

std::string CvssSeverity(double score) {
  if (score <= 0) return "NONE";
  if (score < 4.0) return "LOW";
  if (score < 7.0) return "MEDIUM";
  if (score < 9.0) return "HIGH";
  return "CRITICAL";
}

std::optional<Severity> SeverityOfCvssRating(std::string_view rating) {
  std::string lower(rating);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "none") return Severity::kInfo;
  return FindSeverity(lower);
}

}  // namespace clearbox::vuln
