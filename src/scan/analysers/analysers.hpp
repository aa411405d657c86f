// The analysers the registry (src/scan/analyser.cpp) lists; one file each.
#pragma once

#include <memory>

#include "core/result.hpp"
#include "scan/analyser.hpp"

namespace clearbox::scan {

// Every extracted object as a report::FileRecord (path, type, mode, size, sha256).
std::unique_ptr<Analyser> MakeFileInventoryAnalyser();
// Hardening facts of every ELF file, against the FORTIFY catalogue of the image's own libc.
std::unique_ptr<Analyser> MakeHardeningAnalyser();
// Components from package databases and version signatures (data_dir/signatures).
Result<std::unique_ptr<Analyser>> MakeIdentifyAnalyser(const ScanOptions& options);
// Secrets and weak configuration (data_dir/inspect), certificates judged at options.now.
Result<std::unique_ptr<Analyser>> MakeInspectAnalyser(const ScanOptions& options);
// Vulnerabilities of the components from the database options name, with VEX applied.
std::unique_ptr<Analyser> MakeVulnerabilityAnalyser();

}  // namespace clearbox::scan
