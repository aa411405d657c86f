#include "inspect/rules.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "core/hex.hpp"
#include "core/read_file.hpp"
#include "inspect/rule_ids.hpp"

namespace clearbox::inspect {
namespace {

Result<std::string> ReadRuleFile(const std::filesystem::path& path) {
  auto text = ReadFileCapped(path, kMaxRuleFileBytes);
  if (!text) {
    return Fail(ErrorCode::kInvalidArgument, "cannot read rule file: " + text.error().message);
  }
  return text;
}

std::vector<std::string> StringList(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key)) {
    for (const auto& item : j.at(key)) out.push_back(item.get<std::string>());
  }
  return out;
}

Result<std::vector<SecretRule>> ParseSecretRules(const std::string& text, const std::string& name) {
  std::vector<SecretRule> out;
  try {
    const auto root = nlohmann::json::parse(text);
    for (const auto& r : root.at("rules")) {
      SecretRule rule;
      rule.rule = r.at("rule").get<std::string>();
      const auto kind = r.at("kind").get<std::string>();
      if (kind == "token") {
        rule.kind = SecretKind::kToken;
      } else if (kind == "assignment") {
        rule.kind = SecretKind::kAssignment;
      } else {
        return Fail(ErrorCode::kInvalidArgument, name + ": unknown kind " + kind);
      }
      const auto scope = r.at("scope").get<std::string>();
      if (scope == "any") {
        rule.scope = SecretScope::kAny;
      } else if (scope == "text-config") {
        rule.scope = SecretScope::kTextConfig;
      } else {
        return Fail(ErrorCode::kInvalidArgument, name + ": unknown scope " + scope);
      }
      rule.pattern = r.at("pattern").get<std::string>();
      rule.caseless = r.value("caseless", false);
      rule.keep_prefix = r.value("keep_prefix", std::size_t{4});
      rule.message = r.at("message").get<std::string>();
      if (rule.rule.empty() || rule.pattern.empty()) {
        return Fail(ErrorCode::kInvalidArgument, name + ": bad rule " + rule.rule);
      }
      out.push_back(std::move(rule));
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, name + ": " + e.what());
  }
  return out;
}

Result<std::vector<ServiceRule>> ParseServiceRules(const std::string& text,
                                                   const std::string& name) {
  std::vector<ServiceRule> out;
  try {
    const auto root = nlohmann::json::parse(text);
    for (const auto& s : root.at("services")) {
      ServiceRule rule;
      rule.rule = s.at("rule").get<std::string>();
      rule.description = s.at("description").get<std::string>();
      rule.programs = StringList(s, "programs");
      rule.inetd = StringList(s, "inetd");
      rule.rc_names = StringList(s, "rc_names");
      rule.uci_options = StringList(s, "uci_options");
      if (rule.rule.empty()) {
        return Fail(ErrorCode::kInvalidArgument, name + ": bad service " + rule.rule);
      }
      out.push_back(std::move(rule));
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, name + ": " + e.what());
  }
  return out;
}

}  // namespace

Result<std::vector<Credential>> ParseCredentials(std::string_view text) {
  std::vector<Credential> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "default credentials: line without ':': " + std::string(line));
    }
    if (out.size() >= kMaxCredentials) {
      return Fail(ErrorCode::kInvalidArgument, "default credentials: too many entries");
    }
    out.push_back({std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))});
  }
  return out;
}

Result<std::vector<KnownKey>> ParseKnownKeys(std::string_view text) {
  std::vector<KnownKey> out;
  try {
    const auto root = nlohmann::json::parse(text);
    for (const auto& k : root.at("keys")) {
      KnownKey key;
      key.fingerprint = k.at("fingerprint").get<std::string>();
      key.algorithm = k.value("algorithm", std::string());
      key.source = k.at("source").get<std::string>();
      const auto status = k.at("status").get<std::string>();
      if (status == "test") {
        key.status = KnownKeyStatus::kTest;
      } else if (status == "compromised") {
        key.status = KnownKeyStatus::kCompromised;
      } else {
        return Fail(ErrorCode::kInvalidArgument, "known_keys.json: unknown status " + status);
      }
      const bool hex = key.fingerprint.size() == 71 && key.fingerprint.starts_with("sha256:") &&
                       IsLowerHex(std::string_view(key.fingerprint).substr(7));
      if (!hex || key.source.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "known_keys.json: bad key " + key.fingerprint);
      }
      out.push_back(std::move(key));
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string("known_keys.json: ") + e.what());
  }
  return out;
}

// Every rule the code and the data files raise, under every condition the code uses, must be
// rated by the catalogue (so rating a finding cannot fail).
Result<void> CheckEveryRuleIsRated(const RuleSet& rules) {
  std::vector<std::pair<std::string_view, std::string_view>> needed;
  for (const std::string_view id : kCodeRules) needed.emplace_back(id, std::string_view());
  for (const auto& pair : kCodeConditions) needed.push_back(pair);
  for (const SecretRule& r : rules.secrets) needed.emplace_back(r.rule, std::string_view());
  for (const ServiceRule& r : rules.services) needed.emplace_back(r.rule, std::string_view());
  for (const auto& [id, condition] : needed) {
    if (!rules.catalogue.SeverityOf(id, condition)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the rule catalogue does not rate " + std::string(id) +
                      (condition.empty() ? "" : " when " + std::string(condition)));
    }
  }
  return {};
}

Result<RuleSet> LoadRules(const std::filesystem::path& dir) {
  RuleSet rules;
  auto tokens = ReadRuleFile(dir / "tokens.json");
  if (!tokens) return Forward(tokens);
  auto secrets = ParseSecretRules(*tokens, "tokens.json");
  if (!secrets) return Forward(secrets);
  rules.secrets = std::move(*secrets);

  auto creds_text = ReadRuleFile(dir / "default_credentials.txt");
  if (!creds_text) return Forward(creds_text);
  auto creds = ParseCredentials(*creds_text);
  if (!creds) return Forward(creds);
  rules.credentials = std::move(*creds);

  auto services_text = ReadRuleFile(dir / "services.json");
  if (!services_text) return Forward(services_text);
  auto services = ParseServiceRules(*services_text, "services.json");
  if (!services) return Forward(services);
  rules.services = std::move(*services);

  auto known_text = ReadRuleFile(dir / "known_keys.json");
  if (!known_text) return Forward(known_text);
  auto known = ParseKnownKeys(*known_text);
  if (!known) return Forward(known);
  rules.known_keys = std::move(*known);

  auto catalogue = rules::RuleCatalogue::Load(dir / ".." / "rules" / "catalogue.json");
  if (!catalogue) return Forward(catalogue);
  rules.catalogue = std::move(*catalogue);
  if (auto rated = CheckEveryRuleIsRated(rules); !rated) return Forward(rated);
  return rules;
}

}  // namespace clearbox::inspect
