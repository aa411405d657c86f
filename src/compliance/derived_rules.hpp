// The rule ids compliance derives itself from report.json facts that are not findings
// (hardening flags, vulnerabilities, components), and the one clause decided by positive
// evidence. Their metadata (severity, clauses) always comes from data/rules/catalogue.json.
#pragma once

#include <string_view>

namespace clearbox::compliance {

inline constexpr std::string_view kRuleNoNx = "elf.no-nx";
inline constexpr std::string_view kRuleNoPie = "elf.no-pie";
inline constexpr std::string_view kRuleNoStackProtector = "elf.no-stack-protector";
inline constexpr std::string_view kRuleNoRelro = "elf.no-relro";
inline constexpr std::string_view kRuleNoFortify = "elf.no-fortify";
inline constexpr std::string_view kRuleKnownExploitedVuln = "vuln.known-exploited";
inline constexpr std::string_view kRuleKnownVuln = "vuln.known";
inline constexpr std::string_view kRuleComponentWithoutVersion = "sbom.component-without-version";

// CRA Annex I Part II (1): a software bill of materials. The one clause the image can support
// in full: report.json lists components and every one has a version.
inline constexpr std::string_view kSbomStandard = "cra";
inline constexpr std::string_view kSbomClause = "II(1)";

}  // namespace clearbox::compliance
