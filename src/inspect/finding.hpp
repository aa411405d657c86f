// Finding: one secret or weak setting found in an unpacked tree, with a stable rule id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/severity.hpp"

namespace clearbox::inspect {

// One result of the inspection. Evidence never holds a whole private key or an unknown
// secret: keys are shown by their header and parameters, tokens and hard-coded passwords
// are cut to a short prefix plus their length. A cracked password from the built-in
// default-credential list is shown in clear ("root:admin"), since that list is public.
struct Finding {
  std::string rule;  // stable id (rule_ids.hpp), explained by the rule catalogue
  // The catalogue's rating of the rule under `condition`: Inspector::Finish sets it for every
  // finding; code that creates one passes kRatedByCatalogue.
  Severity severity = Severity::kInfo;
  std::string path;          // relative to the tree root, as given in FileView::path
  std::string message;       // one readable sentence
  std::string evidence;      // the matched text, redacted as described above
  std::uint64_t offset = 0;  // byte offset in the file when meaningful, else 0
  std::string condition;     // the catalogue condition that rates it ("" = the rule's default)
  bool operator==(const Finding&) const = default;
};

// The placeholder severity of a finding not yet rated by the catalogue.
inline constexpr Severity kRatedByCatalogue = Severity::kInfo;

// Sorts findings canonically (path, offset, rule, evidence, message, severity) and drops
// exact duplicates, so the order does not depend on threads or file order.
void CanonicalizeFindings(std::vector<Finding>& findings);

}  // namespace clearbox::inspect
