// Triage of a release's scan: the items the vendor answers and the lab decides on (one per
// vulnerability and per finding of report.json), and the CycloneDX VEX document the triage
// state gives (docs/portal.md "Triage").
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/portal_store.hpp"

namespace clearbox::portal {

// The vendor's possible answers and, for not_affected, the CycloneDX 1.6 justifications.
inline constexpr std::string_view kVendorStatuses[] = {"not_affected", "affected", "fixed",
                                                       "under_investigation"};
inline constexpr std::string_view kVexJustifications[] = {
    "code_not_present",     "code_not_reachable",     "requires_configuration",
    "requires_dependency",  "requires_environment",   "protected_by_compiler",
    "protected_at_runtime", "protected_at_perimeter", "protected_by_mitigating_control"};

// True when `text` is one of `list`.
template <std::size_t N>
bool OneOf(std::string_view text, const std::string_view (&list)[N]) {
  for (std::string_view entry : list) {
    if (entry == text) return true;
  }
  return false;
}

// The triage items of a scan's report.json: each vulnerability (key "ID@component ref", the
// bom-ref of the scan's VEX) and each finding (key "rule@path#offset").
std::vector<store::TriageItem> TriageItemsFromReport(const nlohmann::json& report);

// Reads RESULTS/report.json and adds its items to the release (the scan workers' hook).
// The triage items of the scan results in `results` (its report.json).
Result<std::vector<store::TriageItem>> TriageItemsOfResults(const std::filesystem::path& results);
Result<void> ImportTriageItems(store::PortalStore& store, store::Id release_id,
                               const std::filesystem::path& results);

// The scan's vex.cdx.json with each vulnerability's `analysis` from the triage state: an
// accepted answer gives its state (not_affected + justification, exploitable for affected,
// resolved + fix version for fixed, in_triage for under_investigation); anything not accepted
// stays in_triage. Deterministic for the same inputs.
nlohmann::json TriageVex(const nlohmann::json& scan_vex,
                         const std::vector<store::TriageItem>& items);

}  // namespace clearbox::portal
