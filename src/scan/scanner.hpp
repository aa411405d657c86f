// Scan: unpack an image and analyse every file as it is extracted (elf, identify, inspect).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/result.hpp"
#include "report/evidence.hpp"
#include "unpack/engine.hpp"

namespace clearbox::scan {

struct ScanOptions {
  unpack::UnpackOptions unpack;  // image_path; output_dir receives the extracted tree
  std::filesystem::path data_dir;  // signatures/ and inspect/ live here (see DataDir())
  std::optional<std::int64_t> created_at;  // timestamp written into the reports, if any
  std::int64_t now = 0;  // seconds since the epoch; the instant certificate expiry is judged at
};

// Unpacks and analyses the image; the evidence is canonical. Fails like unpack::Unpack
// (unusable image or output directory) or when the data files cannot be loaded.
Result<report::Evidence> ScanImage(const ScanOptions& options);

// Writes report.json, sbom.cdx.json and sbom.spdx.json into `dir`.
Result<void> WriteReports(const report::Evidence& evidence, const std::filesystem::path& dir);

}  // namespace clearbox::scan
