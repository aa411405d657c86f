#include "rules/rule_catalogue.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/read_file.hpp"

namespace clearbox::rules {
namespace {

using Json = nlohmann::json;

// "<family>.<name>" of lower-case letters, digits and '-'.
bool IsRuleId(std::string_view id) {
  const auto dot = id.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot + 1 == id.size()) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
  });
}

bool IsCweId(std::string_view id) {
  return id.starts_with("CWE-") && id.size() > 4 && id.size() <= 12 &&
         id.find_first_not_of("0123456789", 4) == std::string_view::npos;
}

std::vector<std::string> Strings(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key)) {
    for (const auto& item : j.at(key)) out.push_back(item.get<std::string>());
  }
  return out;
}

// One rule object; errors say what is wrong without the origin (the caller adds it).
Result<Rule> ParseRule(const Json& j) {
  Rule rule;
  rule.id = j.at("id").get<std::string>();
  if (!IsRuleId(rule.id)) return Fail(ErrorCode::kInvalidArgument, "bad rule id '" + rule.id + "'");
  auto fail = [&](const std::string& what) {
    return Fail(ErrorCode::kInvalidArgument, "rule " + rule.id + ": " + what);
  };
  rule.title = j.at("title").get<std::string>();
  if (rule.title.empty()) return fail("empty title");
  auto severity = ParseSeverity(j.at("severity").get<std::string>());
  if (!severity) return fail(severity.error().message);
  rule.severity = *severity;
  rule.source = j.at("source").get<std::string>();
  if (j.contains("severity_when")) {
    for (const auto& [condition, name] : j.at("severity_when").items()) {
      auto when = ParseSeverity(name.get<std::string>());
      if (!when || !IsRuleId("x." + condition)) return fail("bad condition '" + condition + "'");
      rule.severity_when.emplace_back(condition, *when);
    }
    std::sort(rule.severity_when.begin(), rule.severity_when.end());
  }
  rule.cwes = Strings(j, "cwe");
  for (const auto& cwe : rule.cwes) {
    if (!IsCweId(cwe)) return fail("bad CWE id '" + cwe + "'");
  }
  rule.remediation = j.value("remediation", "");
  rule.references = Strings(j, "references");
  if (j.contains("clauses")) {
    for (const auto& c : j.at("clauses")) {
      ClauseRef ref{c.at("standard").get<std::string>(), c.at("clause").get<std::string>()};
      if (ref.standard.empty() || ref.clause.empty()) return fail("empty clause reference");
      rule.clauses.push_back(std::move(ref));
    }
  }
  std::sort(rule.clauses.begin(), rule.clauses.end());
  if (std::adjacent_find(rule.clauses.begin(), rule.clauses.end()) != rule.clauses.end()) {
    return fail("a clause is listed twice");
  }
  return rule;
}

}  // namespace

Result<RuleCatalogue> RuleCatalogue::Parse(std::string_view text, std::string_view origin) {
  RuleCatalogue catalogue;
  const std::string where(origin);
  try {
    const Json root = Json::parse(text);
    for (const auto& j : root.at("rules")) {
      auto rule = ParseRule(j);
      if (!rule) return Fail(ErrorCode::kInvalidArgument, where + ": " + rule.error().message);
      catalogue.rules_.push_back(std::move(*rule));
    }
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, where + ": " + e.what());
  }
  auto& rules = catalogue.rules_;
  std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.id < b.id; });
  const auto twice = std::adjacent_find(rules.begin(), rules.end(),
                                        [](const Rule& a, const Rule& b) { return a.id == b.id; });
  if (twice != rules.end()) {
    return Fail(ErrorCode::kInvalidArgument, where + ": rule " + twice->id + " is listed twice");
  }
  return catalogue;
}

Result<RuleCatalogue> RuleCatalogue::Load(const std::filesystem::path& file) {
  auto text = ReadFileCapped(file, kMaxCatalogueBytes);
  if (!text) {
    return Fail(ErrorCode::kInvalidArgument, "cannot read rule catalogue: " + text.error().message);
  }
  return Parse(*text, file.string());
}

Result<RuleCatalogue> RuleCatalogue::LoadFromDataDir(const std::filesystem::path& data_dir) {
  return Load(data_dir / "rules" / "catalogue.json");
}

std::optional<Severity> RuleCatalogue::SeverityOf(std::string_view id,
                                                  std::string_view condition) const {
  const Rule* rule = Find(id);
  if (rule == nullptr) return std::nullopt;
  if (condition.empty()) return rule->severity;
  for (const auto& [name, severity] : rule->severity_when) {
    if (name == condition) return severity;
  }
  return std::nullopt;
}

const Rule* RuleCatalogue::Find(std::string_view id) const {
  const auto it = std::lower_bound(rules_.begin(), rules_.end(), id,
                                   [](const Rule& r, std::string_view key) { return r.id < key; });
  return it != rules_.end() && it->id == id ? &*it : nullptr;
}

}  // namespace clearbox::rules
