#include "scan/scanner.hpp"

#include <fstream>
#include <string>
#include <vector>

#include "core/hashing.hpp"
#include "core/mapped_file.hpp"
#include "core/read_file.hpp"
#include "identify/component.hpp"
#include "report/renderers.hpp"
#include "rules/rule_catalogue.hpp"
#include "scan/analyser.hpp"
#include "vuln/sbom_input.hpp"

namespace clearbox::scan {
namespace {

namespace fs = std::filesystem;

// Runs the analysers' Finish in order and puts the evidence in canonical order.
Result<void> FinishAnalysers(const std::vector<std::unique_ptr<Analyser>>& analysers,
                             const AnalysisContext& context, report::Evidence& evidence) {
  for (const auto& analyser : analysers) {
    if (auto finished = analyser->Finish(context, evidence); !finished) return finished;
  }
  report::Canonicalize(evidence);
  return {};
}

// Missing or broken data files make the installation unusable, like an unreadable image.
Unexpected UnusableDataFiles(const ScanOptions& options, const Error& error) {
  return Fail(ErrorCode::kInvalidArgument,
              "cannot load data files from " + options.data_dir.string() + ": " + error.message);
}

}  // namespace

Result<report::Evidence> ScanImage(const ScanOptions& options) {
  auto catalogue = rules::RuleCatalogue::LoadFromDataDir(options.data_dir);
  if (!catalogue) return UnusableDataFiles(options, catalogue.error());
  auto analysers = CreateImageAnalysers(options);
  if (!analysers) return UnusableDataFiles(options, analysers.error());
  unpack::UnpackOptions unpack_options = options.unpack;
  unpack_options.on_entry = [&analysers](const FileView& file) {
    for (const auto& analyser : *analysers) analyser->AddFile(file);
  };
  auto manifest = unpack::Unpack(unpack_options);
  if (!manifest) return Forward(manifest);

  report::Evidence evidence;
  evidence.rule_catalogue = std::make_shared<const rules::RuleCatalogue>(std::move(*catalogue));
  evidence.manifest = std::move(*manifest);
  evidence.created_at = options.created_at;
  const AnalysisContext context{options, options.unpack.output_dir};
  if (auto finished = FinishAnalysers(*analysers, context, evidence); !finished) {
    return Forward(finished);
  }
  return evidence;
}

bool LooksLikeSbom(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4096] = {};
  in.read(head, sizeof head);
  const std::string_view text(head, static_cast<std::size_t>(in.gcount()));
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') return false;
  return text.find("\"bomFormat\"") != std::string_view::npos ||
         text.find("\"spdxVersion\"") != std::string_view::npos;
}

Result<report::Evidence> ScanSbom(const ScanOptions& options) {
  const fs::path input = options.unpack.image_path;
  auto mapped = MappedFile::Open(input.string());
  if (!mapped) return Fail(ErrorCode::kInvalidArgument, mapped.error().message);
  auto queries = vuln::ReadSbomComponents(input);
  if (!queries) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot read SBOM " + input.string() + ": " + queries.error().message);
  }
  auto catalogue = rules::RuleCatalogue::LoadFromDataDir(options.data_dir);
  if (!catalogue) return UnusableDataFiles(options, catalogue.error());
  report::Evidence evidence;
  evidence.rule_catalogue = std::make_shared<const rules::RuleCatalogue>(std::move(*catalogue));
  evidence.input_kind = "sbom";
  evidence.manifest.image = {input.filename().string(), mapped->size(), Sha256Hex(mapped->bytes())};
  for (const auto& q : *queries) {
    identify::Component c;
    c.name = q.name;
    c.version = q.version;
    c.cpe = q.cpe;
    c.purl = q.purl;
    c.confidence = Confidence(1.0);  // as the SBOM's author states it
    c.evidence.push_back({input.filename().string(), "sbom",
                          !q.purl.empty()  ? q.purl
                          : !q.cpe.empty() ? q.cpe
                                           : q.name + "@" + q.version});
    evidence.components.push_back(std::move(c));
  }
  evidence.created_at = options.created_at;
  const AnalysisContext context{options, {}};
  if (auto finished = FinishAnalysers(CreateSbomAnalysers(), context, evidence); !finished) {
    return Forward(finished);
  }
  return evidence;
}

Result<void> WriteReports(const report::Evidence& evidence, const fs::path& dir) {
  if (auto r = WriteWholeFile(dir / "report.json", report::RenderReportJson(evidence)); !r)
    return r;
  if (auto r = WriteWholeFile(dir / "sbom.cdx.json", report::RenderCycloneDx(evidence)); !r)
    return r;
  if (auto r = WriteWholeFile(dir / "sbom.spdx.json", report::RenderSpdx(evidence)); !r) return r;
  if (auto r = WriteWholeFile(dir / "vex.cdx.json", report::RenderCycloneDxVex(evidence)); !r)
    return r;
  return WriteWholeFile(dir / "vulnerabilities.sarif", report::RenderSarif(evidence));
}

}  // namespace clearbox::scan
