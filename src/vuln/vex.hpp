// VEX input: OpenVEX and CycloneDX VEX statements about which CVEs affect which components.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "vuln/store.hpp"

namespace clearbox::vuln {

inline constexpr std::size_t kMaxVexBytes = 64u << 20;
inline constexpr std::size_t kMaxVexStatements = 200000;

// The four VEX statuses (OpenVEX names; CycloneDX analysis states map onto them).
enum class VexStatus { kNotAffected, kAffected, kFixed, kUnderInvestigation };

// "not_affected", "affected", "fixed", "under_investigation".
std::string_view VexStatusName(VexStatus status);

// One statement: a vulnerability, the products it speaks about, and what it says.
struct VexStatement {
  std::string vulnerability;          // "CVE-2022-0778" (as written, compared case-insensitively)
  std::vector<std::string> products;  // purls, CPEs, names or "name@version"; empty = all
  VexStatus status = VexStatus::kUnderInvestigation;
  std::string justification;  // e.g. "vulnerable_code_not_in_execute_path", "code_not_reachable"
  std::string impact_statement, action_statement, timestamp;
  std::string format;  // "openvex" or "cyclonedx"
};

// The statements of one or more VEX documents, in reading order.
struct VexStatements {
  std::vector<VexStatement> statements;
  // The statement that applies to `vulnerability` on `component` (the last one wins, as in
  // OpenVEX where later statements supersede earlier ones), or nullptr.
  const VexStatement* Find(std::string_view vulnerability, const ComponentQuery& component) const;
};

// Reads an OpenVEX (0.0.x and 0.2.x) or CycloneDX (1.4-1.6) VEX JSON document.
Result<VexStatements> ReadVex(const std::filesystem::path& path);
Result<VexStatements> ParseVex(std::string_view json);

}  // namespace clearbox::vuln
