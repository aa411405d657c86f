// SBOM input: the components of a CycloneDX (1.4-1.6) or SPDX 2.3 JSON document as queries.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "vuln/store.hpp"

namespace clearbox::vuln {

inline constexpr std::size_t kMaxSbomBytes = 256u << 20;
inline constexpr std::size_t kMaxSbomComponents = 500000;
inline constexpr int kMaxSbomNesting = 64;

// Every component with a CPE, a PURL or a name (CycloneDX nested components included; the
// document's own metadata.component excluded). Invalid CPEs/PURLs are dropped from their
// component, which is kept if it still has a name. Order: document order.
Result<std::vector<ComponentQuery>> ReadSbomComponents(const std::filesystem::path& path);
Result<std::vector<ComponentQuery>> ParseSbomComponents(std::string_view json);

}  // namespace clearbox::vuln
