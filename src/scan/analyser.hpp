// Analyser: one kind of analysis of an unpacked image (file inventory, ELF hardening,
// components, secrets and configuration, vulnerabilities), run by the scanner the way the
// unpacker runs handlers: every object is offered as it is extracted, then each analyser
// finishes once over the whole tree, in the registry's order.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "core/file_view.hpp"
#include "core/result.hpp"
#include "report/evidence.hpp"
#include "scan/scanner.hpp"

namespace clearbox::scan {

// What an analyser's Finish may read besides the evidence gathered so far.
struct AnalysisContext {
  const ScanOptions& options;
  std::filesystem::path tree;  // the unpack output directory ("" when no image was unpacked)
};

class Analyser {
 public:
  virtual ~Analyser() = default;

  // Unique lower-case name, also the `analyser` of the problems it records ("identify").
  virtual std::string_view Name() const = 0;
  // Offered every extracted object (any kind) from the unpack worker threads: thread-safe.
  virtual void AddFile(const FileView& file) = 0;
  // Runs once after every AddFile has returned and every earlier analyser has finished:
  // adds its part to `evidence` and records what it could not do for a file in
  // evidence.analysis_problems. An error means the whole scan cannot go on (unusable data
  // files or database, a bad VEX document).
  virtual Result<void> Finish(const AnalysisContext& context, report::Evidence& evidence) = 0;
};

// The analysers of an image scan in the order they finish: the file inventory, ELF
// hardening (needs the inventory's libc), components, secrets and configuration, then
// vulnerabilities (needs the components). Fails when a data file cannot be loaded.
Result<std::vector<std::unique_ptr<Analyser>>> CreateImageAnalysers(const ScanOptions& options);

// The analysers of an SBOM scan: vulnerabilities only (the components come from the SBOM).
std::vector<std::unique_ptr<Analyser>> CreateSbomAnalysers();

}  // namespace clearbox::scan
