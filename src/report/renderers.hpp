// Renderers of a scan's Evidence: report.json (canonical), CycloneDX 1.6, SPDX 2.3, summary.
#pragma once

#include <string>

#include "core/version.hpp"
#include "report/evidence.hpp"

namespace clearbox::report {

inline constexpr int kReportSchemaVersion = 1;
inline constexpr const char* kToolName = "clearbox";
inline constexpr const char* kToolVersion = kClearboxVersion;

// report.json: the canonical result (docs/report-schema.md), pretty JSON + newline.
std::string RenderReportJson(const Evidence& evidence);

// A CycloneDX 1.6 JSON BOM with components, file hashes and evidence; serial number
// derived from the content, timestamp only when evidence.created_at is set.
std::string RenderCycloneDx(const Evidence& evidence);

// A standalone CycloneDX 1.6 VEX document: every vulnerability with its analysis (VEX input,
// else "in_triage"), affecting components of sbom.cdx.json through BOM-Links.
std::string RenderCycloneDxVex(const Evidence& evidence);

// An SPDX 2.3 JSON document; `created` is evidence.created_at or the epoch (SPDX requires
// the field; a fixed value keeps the document reproducible).
std::string RenderSpdx(const Evidence& evidence);

// A SARIF 2.1.0 log: one result per vulnerability (VEX not_affected/fixed as suppressions)
// and per finding, with the rules they cite.
std::string RenderSarif(const Evidence& evidence);

// A readable summary for the terminal (a few dozen lines at most).
std::string RenderSummary(const Evidence& evidence);

// RFC 3339 UTC time ("2026-11-26T23:22:17Z") of seconds since the epoch.
std::string Rfc3339(std::int64_t seconds);

}  // namespace clearbox::report
