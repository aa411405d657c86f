// CVSS v3.0/v3.1 base scores from vectors (OSV and GHSA records carry only the vector).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/severity.hpp"

namespace clearbox::vuln {

// The base score of a "CVSS:3.x/AV:..../A:x" vector, or nullopt when it is not a complete,
// valid v3 vector.
std::optional<double> CvssV3BaseScore(std::string_view vector);

// The qualitative rating of a v3/v4 score: NONE, LOW, MEDIUM, HIGH, CRITICAL.
std::string CvssSeverity(double score);

// The typed severity of a CVSS qualitative rating as sources spell it, in any case ("HIGH",
// "high"); "NONE" is kInfo; nullopt for anything else (no rating given).
std::optional<Severity> SeverityOfCvssRating(std::string_view rating);

}  // namespace clearbox::vuln
