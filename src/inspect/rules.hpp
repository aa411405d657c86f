// Rules: the data-driven parts of the inspection (secret patterns, default credentials,
// insecure services), loaded from data/inspect at start.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/severity.hpp"
#include "rules/rule_catalogue.hpp"

namespace clearbox::inspect {

// How a secret pattern's match is turned into a finding.
enum class SecretKind : std::uint8_t {
  kToken,       // the whole match is the secret
  kAssignment,  // the match ends at the ':'/'=' of a key; the value follows it
};

// Which files a secret pattern applies to.
enum class SecretScope : std::uint8_t {
  kAny,         // every regular file (binaries included)
  kTextConfig,  // text files that look like configuration or scripts
};

// One secret pattern from tokens.json.
struct SecretRule {
  std::string rule;
  SecretKind kind = SecretKind::kToken;
  SecretScope scope = SecretScope::kAny;
  std::string pattern;  // vectorscan expression
  bool caseless = false;
  std::size_t keep_prefix = 4;  // characters of the secret kept in the evidence
  std::string message;
};

// One default credential; an empty user applies to every account.
struct Credential {
  std::string user;
  std::string password;
};

// One insecure service from services.json.
struct ServiceRule {
  std::string rule;
  std::string description;
  std::vector<std::string> programs;     // executable basenames
  std::vector<std::string> inetd;        // inetd/xinetd service names
  std::vector<std::string> rc_names;     // init script / OpenWrt section names
  std::vector<std::string> uci_options;  // OpenWrt options that enable it when true
};

// What a well-known key from known_keys.json is.
enum class KnownKeyStatus : std::uint8_t {
  kTest,         // a published test/example key: no leak (secret.known-test-key)
  kCompromised,  // a leaked key that products used (secret.known-compromised-key)
};

// One well-known key, identified by "sha256:<hex>" of its DER SubjectPublicKeyInfo.
struct KnownKey {
  std::string fingerprint;
  std::string algorithm;
  KnownKeyStatus status = KnownKeyStatus::kTest;
  std::string source;
};

// Everything loaded from the rules directory.
struct RuleSet {
  std::vector<SecretRule> secrets;
  std::vector<Credential> credentials;
  std::vector<ServiceRule> services;
  std::vector<KnownKey> known_keys;
  rules::RuleCatalogue catalogue;  // rates every finding (data/rules/catalogue.json)
};

// Caps on the rule files (they are trusted data, but still bounded).
inline constexpr std::size_t kMaxRuleFileBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxCredentials = 10000;

// Parses known_keys.json; fails with kInvalidArgument on a bad fingerprint or status.
Result<std::vector<KnownKey>> ParseKnownKeys(std::string_view text);

// Loads tokens.json, default_credentials.txt, services.json and known_keys.json from `dir`;
// fails with
// kInvalidArgument naming the file and the problem.
Result<RuleSet> LoadRules(const std::filesystem::path& dir);

// Parses the default-credential text ("user:password" or ":password" per line, '#' comments).
Result<std::vector<Credential>> ParseCredentials(std::string_view text);

}  // namespace clearbox::inspect
