// Evidence: everything one scan found about an image, the input of every report renderer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis_problem.hpp"
#include "elf/hardening.hpp"
#include "identify/component.hpp"
#include "inspect/finding.hpp"
#include "rules/rule_catalogue.hpp"
#include "unpack/manifest.hpp"
#include "vuln/store.hpp"

namespace clearbox::report {

// One object of the unpacked tree with the content type the scan gave it.
struct FileRecord {
  std::string path;  // relative to the output directory's tree
  std::uint64_t size = 0;
  std::string sha256;  // regular files only
  std::string type;    // "elf", "script", "text", "pem", "data", "empty", "directory", "symlink"
  std::uint32_t mode = 0;
  std::string link_target;
};

// The hardening facts of one ELF file.
struct BinaryRecord {
  std::string path;
  elf::BinaryReport facts;
};

// One known vulnerability of one component, with the VEX statement about it if any.
struct VulnerabilityRecord {
  std::size_t component = 0;  // index into Evidence::components (canonical order)
  vuln::VulnerabilityMatch match;
  std::string
      vex_status;  // "" (no statement), "not_affected", "affected", "fixed", "under_investigation"
  std::string vex_justification;  // as the VEX document gave it
  std::string vex_detail;         // impact or action statement
};

// The scan's whole result; every list is in canonical order (see Canonicalize).
struct Evidence {
  unpack::Manifest manifest;  // chunks, problems and the image record of the unpack run
  std::vector<FileRecord> files;
  std::vector<BinaryRecord> binaries;
  std::vector<identify::Component> components;
  std::vector<inspect::Finding> findings;
  std::vector<VulnerabilityRecord> vulnerabilities;
  std::vector<AnalysisProblem> analysis_problems;  // files an analyser could not handle
  std::string input_kind = "image";  // "image", or "sbom" when a CycloneDX/SPDX document was read
  std::string vuln_database;         // where the vulnerabilities came from ("" = not matched)
  std::string libc_path;             // the libc FORTIFY was judged against, or ""
  std::optional<std::int64_t> created_at;  // seconds since the epoch; absent = no timestamp
  // The catalogue that explains the rule ids of the findings (titles, CWEs, remediation for
  // SARIF); null when the evidence was built without one (then rules are shown by id).
  std::shared_ptr<const rules::RuleCatalogue> rule_catalogue;
};

// A unique reference for each component (its PURL, else name@version), parallel to
// evidence.components; used as the CycloneDX bom-ref and in report.json.
std::vector<std::string> ComponentRefs(const Evidence& evidence);

// Sorts every list of the evidence into its canonical order (for byte-identical output).
// Components are sorted first; vulnerabilities must already index the sorted components.
void Canonicalize(Evidence& evidence);

}  // namespace clearbox::report
