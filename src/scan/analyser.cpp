#include "scan/analyser.hpp"

#include "scan/analysers/analysers.hpp"

namespace clearbox::scan {

Result<std::vector<std::unique_ptr<Analyser>>> CreateImageAnalysers(const ScanOptions& options) {
  auto identify = MakeIdentifyAnalyser(options);
  if (!identify) return Forward(identify);
  auto inspect = MakeInspectAnalyser(options);
  if (!inspect) return Forward(inspect);
  std::vector<std::unique_ptr<Analyser>> analysers;
  analysers.push_back(MakeFileInventoryAnalyser());
  analysers.push_back(MakeHardeningAnalyser());
  analysers.push_back(std::move(*identify));
  analysers.push_back(std::move(*inspect));
  analysers.push_back(MakeVulnerabilityAnalyser());
  return analysers;
}

std::vector<std::unique_ptr<Analyser>> CreateSbomAnalysers() {
  std::vector<std::unique_ptr<Analyser>> analysers;
  analysers.push_back(MakeVulnerabilityAnalyser());
  return analysers;
}

}  // namespace clearbox::scan
