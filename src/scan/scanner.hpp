// Scan: unpack an image and analyse every file as it is extracted (elf, identify, inspect).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/result.hpp"
#include "report/evidence.hpp"
#include "unpack/engine.hpp"

namespace clearbox::scan {

struct ScanOptions {
  unpack::UnpackOptions unpack;            // image_path; output_dir receives the extracted tree
  std::filesystem::path data_dir;          // signatures/ and inspect/ live here (see DataDir())
  std::optional<std::int64_t> created_at;  // timestamp written into the reports, if any
  std::int64_t now = 0;  // seconds since the epoch; the instant certificate expiry is judged at
  bool match_vulnerabilities = true;
  std::filesystem::path vuln_db;  // "" = vuln::DefaultDbPath() if it exists, else the snapshot
  std::vector<std::filesystem::path> vex_files;  // OpenVEX / CycloneDX VEX documents
};

// True when `path` is a CycloneDX or SPDX JSON document rather than an image to unpack.
bool LooksLikeSbom(const std::filesystem::path& path);

// Unpacks and analyses the image; the evidence is canonical. Fails like unpack::Unpack
// (unusable image or output directory) or when the data files cannot be loaded.
Result<report::Evidence> ScanImage(const ScanOptions& options);

// Reads the components of a CycloneDX (1.4-1.6) or SPDX 2.3 JSON document and matches
// them like an image's components; no unpacking, no files.
Result<report::Evidence> ScanSbom(const ScanOptions& options);

// Writes report.json, sbom.cdx.json, sbom.spdx.json, vex.cdx.json and vulnerabilities.sarif
// into `dir`.
Result<void> WriteReports(const report::Evidence& evidence, const std::filesystem::path& dir);

}  // namespace clearbox::scan
