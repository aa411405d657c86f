// RuleCatalogue: every finding rule clearbox has (data/rules/catalogue.json): its title,
// default severity, CWEs, remediation, references and the clauses of the standards it speaks
// to. Findings, SARIF and compliance verdicts all read this one catalogue.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "core/severity.hpp"

namespace clearbox::rules {

inline constexpr std::size_t kMaxCatalogueBytes = 4 << 20;

// One clause of a standard catalogue (data/standards/*.json) a rule's findings speak to.
struct ClauseRef {
  std::string standard;  // the standard catalogue's id: "en303645", "cra", ...
  std::string clause;    // the clause id within it: "5.1-1", "I(2)(a)", ...
  auto operator<=>(const ClauseRef&) const = default;
};

struct Rule {
  std::string id;     // stable, lower-case, "<family>.<name>": "cred.default-password"
  std::string title;  // one short line
  Severity severity = Severity::kInfo;  // the default
  // Named conditions under which one finding is rated otherwise ("account-cannot-log-in" ->
  // medium), sorted by name.
  std::vector<std::pair<std::string, Severity>> severity_when;
  std::string source;  // the analyser whose facts raise it: "inspect", "elf", "vuln", "identify"
  std::vector<std::string> cwes;        // "CWE-798"
  std::string remediation;              // what the vendor should do
  std::vector<std::string> references;  // documents or URLs
  std::vector<ClauseRef> clauses;       // a finding of this rule is evidence against each
};

class RuleCatalogue {
 public:
  // Reads and checks a catalogue file: unique well-formed ids, known severities, non-empty
  // titles, CWE ids spelt "CWE-<n>". kInvalidArgument names the file and the bad rule.
  static Result<RuleCatalogue> Load(const std::filesystem::path& file);
  // Same, from the JSON text (`origin` names it in errors).
  static Result<RuleCatalogue> Parse(std::string_view text, std::string_view origin);
  // The catalogue shipped in `data_dir` (data_dir/rules/catalogue.json).
  static Result<RuleCatalogue> LoadFromDataDir(const std::filesystem::path& data_dir);

  // The rule `id`, or nullptr.
  const Rule* Find(std::string_view id) const;
  // The severity of a finding of rule `id` under `condition` ("" = the rule's default), or
  // nullopt when the catalogue has no such rule or condition.
  std::optional<Severity> SeverityOf(std::string_view id, std::string_view condition = {}) const;
  // Every rule, sorted by id.
  std::span<const Rule> rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

}  // namespace clearbox::rules
