// OUT/report.html: the scan's report.json (and compliance.json) as one self-contained page.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/result.hpp"

namespace clearbox::html {

// What the page says about the files it was rendered from, and how much it lists.
struct ReportPageOptions {
  std::string report_name = "report.json";  // as the attestation section names it
  std::string report_sha256;                // hex sha256 of the report.json bytes, "" = unknown
  std::size_t max_rows = 10000;  // per table; the rest is counted on the page, not listed
};

// The page for a report.json document (docs/report-schema.md) and, when not null, its
// compliance.json. The documents are untrusted: missing fields and wrong types render as empty
// values, never throw; fails (kMalformed) only when `report` is not a JSON object.
// With `probe` (a probe.json of the device, docs/probe-schema.md) a "Device probe" section
// follows compliance: services, findings on the wire and the join with this report.
// Deterministic: the same documents and options give the same bytes.
Result<std::string> RenderReportHtml(const nlohmann::json& report, const nlohmann::json* compliance,
                                     const ReportPageOptions& options = {},
                                     const nlohmann::json* probe = nullptr);

// Reads `report_json` and, unless empty, `compliance_json` and `probe_json`, and writes the
// page to `output` (with the report's sha256). Fails on unreadable or unparsable input or an
// unwritable output.
Result<void> WriteReportHtmlFile(const std::filesystem::path& report_json,
                                 const std::filesystem::path& compliance_json,
                                 const std::filesystem::path& output,
                                 const std::filesystem::path& probe_json = {});

// The scan's page: DIR/report.html from DIR/report.json and DIR/compliance.json if present.
Result<void> WriteReportHtml(const std::filesystem::path& dir);

}  // namespace clearbox::html
