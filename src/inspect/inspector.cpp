#include "inspect/inspector.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>

#include "inspect/accounts.hpp"
#include "inspect/config_checks.hpp"
#include "inspect/crypto_material.hpp"
#include "inspect/pattern_scanner.hpp"
#include "inspect/rule_ids.hpp"
#include "inspect/rules.hpp"
#include "inspect/secrets.hpp"
#include "inspect/web_credentials.hpp"

namespace clearbox::inspect {

void CanonicalizeFindings(std::vector<Finding>& findings) {
  auto key = [](const Finding& f) {
    // The severity's name, not its rank, so the order stays what it was with string severities.
    return std::make_tuple(std::cref(f.path), f.offset, std::cref(f.rule), std::cref(f.evidence),
                           std::cref(f.message), ToString(f.severity));
  };
  std::sort(findings.begin(), findings.end(),
            [&](const Finding& a, const Finding& b) { return key(a) < key(b); });
  findings.erase(std::unique(findings.begin(), findings.end()), findings.end());
}

namespace {

// What a compiled pattern stands for.
enum class Role : std::uint8_t { kPem, kDerCertificate, kDerKey, kDerEncryptedKey, kSecret };

struct PatternRole {
  Role role;
  std::size_t secret = 0;  // index into RuleSet::secrets for kSecret
};

struct BuiltinPattern {
  const char* expression;
  Role role;
};

// Structural patterns for keys and certificates (not data: they follow the formats).
constexpr BuiltinPattern kBuiltinPatterns[] = {
    {"-----BEGIN [A-Z0-9 ]{1,64}-----", Role::kPem},
    // X.509 v3: Certificate SEQUENCE, TBSCertificate SEQUENCE, [0] version 2.
    {"\\x30\\x82..\\x30\\x82..\\xa0\\x03\\x02\\x01\\x02", Role::kDerCertificate},
    {"\\x30\\x81.\\x30\\x81.\\xa0\\x03\\x02\\x01\\x02", Role::kDerCertificate},
    // X.509 v1 (no [0] version): serial INTEGER, then an RSA/ECDSA/DSA signature algorithm.
    {"\\x30\\x82..\\x30\\x82..\\x02[\\x01-\\x15].{1,21}\\x30[\\x0a-\\x0d]\\x06[\\x07-\\x09]"
     "\\x2a\\x86\\x48",
     Role::kDerCertificate},
    // PKCS#1 RSA / DSA private keys: SEQUENCE, version 0, INTEGER with a long length.
    {"\\x30\\x82..\\x02\\x01\\x00\\x02[\\x81\\x82]", Role::kDerKey},
    // PKCS#8 PrivateKeyInfo: SEQUENCE, version 0, AlgorithmIdentifier SEQUENCE, OID.
    {"\\x30(\\x81.|\\x82..)\\x02\\x01\\x00\\x30.\\x06", Role::kDerKey},
    {"\\x30[\\x2e\\x51\\x72\\x73]\\x02\\x01[\\x00\\x01]\\x30\\x05\\x06\\x03\\x2b\\x65[\\x6e-\\x71]",
     Role::kDerKey},
    // SEC1 EC private key: SEQUENCE, version 1, OCTET STRING of 32/48/66 bytes.
    {"\\x30(\\x77|\\x81.)\\x02\\x01\\x01\\x04[\\x20\\x30\\x42]", Role::kDerKey},
    // PKCS#8 EncryptedPrivateKeyInfo: SEQUENCE, AlgorithmIdentifier with a PKCS#5/#12 OID.
    {"\\x30(\\x81.|\\x82..)\\x30(.|\\x81.|\\x82..)\\x06[\\x09\\x0a]\\x2a\\x86\\x48\\x86\\xf7\\x0d"
     "\\x01(\\x05|\\x0c\\x01)",
     Role::kDerEncryptedKey},
};

std::string ModeText(std::uint32_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04o", mode & 07777u);
  return buffer;
}

std::string_view Basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string Dirname(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

// One account line after classification (and cracking).
struct AccountRecord {
  AccountEntry entry;
  HashState state = HashState::kUnknown;
  std::string scheme;
  CrackResult crack;
};

struct AccountFile {
  std::string path;
  AccountFileKind kind = AccountFileKind::kShadow;
  bool htpasswd = false;  // a web-server credential file (.htpasswd, htdigest, lighttpd.user...)
  std::vector<AccountRecord> records;
};

bool LoginShell(std::string_view shell) {
  const std::string_view base = Basename(shell);
  return !(base == "nologin" || base == "false" || base == "sync" || base == "halt" ||
           base == "shutdown");
}

// A file holding many self-signed CA certificates is a compiled-in trust store: its roots
// are replaced by one cert.trust-store note (other certificates in it are still judged).
void SummarizeTrustStore(std::string_view path, std::vector<Finding>& out) {
  std::set<std::uint64_t> roots;
  for (const Finding& f : out) {
    if ((f.rule == kRuleCertSelfSigned && f.message.ends_with(kSelfSignedCaSuffix)) ||
        f.rule == kRuleCertTrustAnchor) {
      roots.insert(f.offset);
    }
  }
  if (roots.size() < kMinRootsForTrustStore) return;
  std::erase_if(out, [&](const Finding& f) {
    return f.rule.starts_with("cert.") && roots.count(f.offset) != 0;
  });
  out.push_back({std::string(kRuleCertTrustStore),
                 kRatedByCatalogue,
                 std::string(path),
                 "The file holds " + std::to_string(roots.size()) +
                     " self-signed CA certificates: a built-in trust store; its roots are not "
                     "judged one by one.",
                 std::to_string(roots.size()) + " roots",
                 0,
                 {}});
}

// A key matched by a specific assignment rule (e.g. secret.wifi-psk for wpa_passphrase=)
// and by the generic password rule is reported once, by the specific rule.
void DropGenericDuplicates(std::vector<Finding>& out) {
  std::set<std::uint64_t> specific;
  for (const Finding& f : out) {
    if (f.rule.starts_with("secret.") && f.rule != kRuleHardcodedPassword) {
      specific.insert(f.offset);
    }
  }
  if (specific.empty()) return;
  std::erase_if(out, [&](const Finding& f) {
    return f.rule == kRuleHardcodedPassword && specific.count(f.offset) != 0;
  });
}

}  // namespace

struct Inspector::Impl {
  RuleSet rules;
  InspectOptions options;
  // Two databases: structural and "any" patterns scan every file; the costlier
  // text-config patterns (caseless key words) scan only text configuration and scripts.
  std::unique_ptr<PatternScanner> scanner;
  std::vector<PatternRole> roles;
  std::unique_ptr<PatternScanner> text_scanner;  // null when there are no text rules
  std::vector<PatternRole> text_roles;
  std::set<std::string, std::less<>> default_passwords;
  KnownKeyIndex known_keys;
  std::atomic<std::int64_t> crack_remaining_us{0};

  mutable std::mutex mutex;
  std::vector<Finding> findings;
  std::vector<AnalysisProblem> problems;
  std::vector<AccountFile> account_files;
  std::vector<KeyRecord> key_records;  // private keys and CA certificates, for Finish

  void CheckMode(const FileView& file, std::vector<Finding>& out) const;
  // Records that `path` could not be inspected fully (thread-safe).
  void AddProblem(std::string_view path, const Error& error) {
    std::lock_guard lock(mutex);
    problems.push_back(MakeAnalysisProblem(std::string(path), "inspect", error));
  }
  void CheckContent(const FileView& file, std::vector<Finding>& out);
  AccountFile ReadAccounts(const FileView& file, AccountFileKind kind,
                           std::optional<WebCredentialFormat> web);
};

Inspector::Inspector(Inspector&&) noexcept = default;
Inspector& Inspector::operator=(Inspector&&) noexcept = default;
Inspector::~Inspector() = default;

Result<Inspector> Inspector::Create(const std::filesystem::path& rules_dir,
                                    InspectOptions options) {
  auto rules = LoadRules(rules_dir);
  if (!rules) return Forward(rules);
  Inspector inspector;
  inspector.impl_ = std::make_unique<Impl>();
  Impl& impl = *inspector.impl_;
  impl.rules = std::move(*rules);
  if (options.now_unix == 0) options.now_unix = static_cast<std::int64_t>(std::time(nullptr));
  impl.options = options;
  impl.crack_remaining_us =
      static_cast<std::int64_t>(std::max(0.0, options.crack_seconds_per_scan) * 1e6);
  std::vector<PatternSpec> specs;
  for (const BuiltinPattern& p : kBuiltinPatterns) {
    specs.push_back({p.expression, false});
    impl.roles.push_back({p.role, 0});
  }
  std::vector<PatternSpec> text_specs;
  for (std::size_t i = 0; i < impl.rules.secrets.size(); ++i) {
    const SecretRule& rule = impl.rules.secrets[i];
    if (rule.scope == SecretScope::kTextConfig) {
      text_specs.push_back({rule.pattern, rule.caseless});
      impl.text_roles.push_back({Role::kSecret, i});
    } else {
      specs.push_back({rule.pattern, rule.caseless});
      impl.roles.push_back({Role::kSecret, i});
    }
  }
  auto scanner = PatternScanner::Build(specs);
  if (!scanner) return Forward(scanner);
  impl.scanner = std::make_unique<PatternScanner>(std::move(*scanner));
  if (!text_specs.empty()) {
    auto text_scanner = PatternScanner::Build(text_specs);
    if (!text_scanner) return Forward(text_scanner);
    impl.text_scanner = std::make_unique<PatternScanner>(std::move(*text_scanner));
  }
  for (const Credential& c : impl.rules.credentials) impl.default_passwords.insert(c.password);
  for (const KnownKey& k : impl.rules.known_keys) impl.known_keys.emplace(k.fingerprint, &k);
  return inspector;
}

void Inspector::Impl::CheckMode(const FileView& file, std::vector<Finding>& out) const {
  const std::uint32_t mode = file.mode & 07777u;
  const std::string path(file.path);
  if (file.kind == FileKind::kRegular) {
    if (mode & 04000u) {
      out.push_back({std::string(kRuleSetuid),
                     kRatedByCatalogue,
                     path,
                     "Executable runs with its owner's privileges (setuid).",
                     "mode " + ModeText(mode),
                     0,
                     {}});
    }
    if (mode & 02000u) {
      out.push_back({std::string(kRuleSetgid),
                     kRatedByCatalogue,
                     path,
                     "Executable runs with its group's privileges (setgid).",
                     "mode " + ModeText(mode),
                     0,
                     {}});
    }
  }
  if ((file.kind == FileKind::kRegular || file.kind == FileKind::kDirectory) && (mode & 0002u)) {
    if (file.kind == FileKind::kDirectory && (mode & 01000u)) {
      out.push_back({std::string(kRuleWorldWritable), kRatedByCatalogue, path,
                     "Directory is world-writable with the sticky bit (like /tmp).",
                     "mode " + ModeText(mode), 0, std::string(kWhenStickyDirectory)});
    } else {
      out.push_back({std::string(kRuleWorldWritable),
                     kRatedByCatalogue,
                     path,
                     file.kind == FileKind::kDirectory
                         ? "Directory is world-writable without the sticky bit."
                         : "File is world-writable.",
                     "mode " + ModeText(mode),
                     0,
                     {}});
    }
  }
}

AccountFile Inspector::Impl::ReadAccounts(const FileView& file, AccountFileKind kind,
                                          std::optional<WebCredentialFormat> web) {
  AccountFile account_file;
  account_file.path = std::string(file.path);
  account_file.kind = kind;
  account_file.htpasswd = Basename(file.path) == ".htpasswd" || web.has_value();
  const std::string_view text =
      AsText(file.bytes).substr(0, std::min<std::size_t>(file.bytes.size(), kMaxConfigFileBytes));
  CrackBudget budget;
  budget.file_deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(
                                             std::max(0.0, options.crack_seconds_per_file) * 1e6));
  budget.scan_remaining_us = &crack_remaining_us;
  if (web) {
    // Web credential files hold hashes or, often on devices, passwords in clear.
    for (WebCredential& c : ParseWebCredentials(text, *web)) {
      AccountRecord record;
      if (*web == WebCredentialFormat::kHtdigest) {
        record.state = HashState::kHash;
        record.scheme = "htdigest-md5";
      } else {
        record.state = ClassifyPasswordField(c.secret, &record.scheme);
        // The file's format decides whether 13 characters of [./0-9A-Za-z] are a DES hash.
        const bool bare_crypt = record.scheme == "descrypt" || record.scheme == "bsdicrypt";
        if (record.state == HashState::kUnknown || (bare_crypt && !HoldsCryptHashes(*web))) {
          record.state = HashState::kPlaintext;
          record.scheme = "plaintext";
        }
      }
      record.entry.user = std::move(c.user);
      record.entry.hash = std::move(c.secret);
      record.entry.realm = std::move(c.realm);
      record.entry.offset = c.offset;
      account_file.records.push_back(std::move(record));
    }
  } else {
    // .htpasswd lines are "user:hash" like shadow, without passwd's seven fields.
    const AccountFileKind parse_as = account_file.htpasswd ? AccountFileKind::kShadow : kind;
    for (AccountEntry& entry : ParseAccountFile(text, parse_as)) {
      AccountRecord record;
      record.state = ClassifyPasswordField(entry.hash, &record.scheme);
      record.entry = std::move(entry);
      account_file.records.push_back(std::move(record));
    }
  }
  if (!options.crack_passwords) return account_file;
  // Fast schemes first, so a time limit cuts the slow ones (bcrypt, yescrypt) rather than
  // leaving cheap DES/MD5/SHA-crypt hashes untried.
  for (const bool slow : {false, true}) {
    for (AccountRecord& record : account_file.records) {
      if ((record.state != HashState::kHash && record.state != HashState::kPlaintext) ||
          IsSlowScheme(record.scheme) != slow) {
        continue;
      }
      record.crack =
          CrackHash(record.entry.user, record.entry.hash, record.scheme, rules.credentials,
                    options.max_slow_attempts, budget, record.entry.realm);
    }
  }
  return account_file;
}

void Inspector::Impl::CheckContent(const FileView& file, std::vector<Finding>& out) {
  const ByteView data = file.bytes;
  const std::string_view path = file.path;
  const bool text_config = IsTextConfigFile(path, data);
  auto matches = scanner->Scan(data, kMaxMatchesPerFile);
  if (!matches) AddProblem(path, matches.error());
  // Text-config matches get ids after the first database's, so one role table serves both.
  std::vector<PatternRole> all_roles;
  if (matches && text_config && text_scanner) {
    auto text_matches = text_scanner->Scan(data, kMaxMatchesPerFile);
    if (!text_matches) AddProblem(path, text_matches.error());
    if (text_matches && !text_matches->empty()) {
      const auto base = static_cast<std::uint32_t>(roles.size());
      for (PatternMatch m : *text_matches) {
        m.id += base;
        matches->push_back(m);
      }
      std::sort(matches->begin(), matches->end(), [](const PatternMatch& a, const PatternMatch& b) {
        return std::tie(a.start, a.id) < std::tie(b.start, b.id);
      });
      if (matches->size() > kMaxMatchesPerFile) matches->resize(kMaxMatchesPerFile);
      all_roles = roles;
      all_roles.insert(all_roles.end(), text_roles.begin(), text_roles.end());
    }
  }
  const std::vector<PatternRole>& role_table = all_roles.empty() ? roles : all_roles;
  if (matches) {
    std::vector<KeyRecord> file_keys;
    const CryptoContext crypto{path,        options.now_unix, ClassifyTrustStorePath(path),
                               &known_keys, &file_keys,       LooksBinary(data)};
    // A dropbear key file is binary SSH wire format from its first byte.
    std::uint64_t covered_until = InspectDropbearKey(data, crypto, out);
    std::size_t pem_attempts = 0, der_attempts = 0;
    bool capped = matches->size() >= kMaxMatchesPerFile;
    for (const PatternMatch& m : *matches) {
      const PatternRole& role = role_table[m.id];
      if (m.start < covered_until) continue;
      std::uint64_t covered = 0;
      const bool is_der = role.role == Role::kDerCertificate || role.role == Role::kDerKey ||
                          role.role == Role::kDerEncryptedKey;
      if ((role.role == Role::kPem && ++pem_attempts > kMaxPemAttemptsPerFile) ||
          (is_der && ++der_attempts > kMaxDerAttemptsPerFile)) {
        capped = true;
        continue;
      }
      switch (role.role) {
        case Role::kPem: covered = InspectPem(data, m.start, crypto, out); break;
        case Role::kDerCertificate:
          covered = InspectDer(data, m.start, DerHint::kCertificate, crypto, out);
          break;
        case Role::kDerKey:
          covered = InspectDer(data, m.start, DerHint::kPrivateKey, crypto, out);
          break;
        case Role::kDerEncryptedKey:
          covered = InspectDer(data, m.start, DerHint::kEncryptedPrivateKey, crypto, out);
          break;
        case Role::kSecret: {
          const SecretRule& rule = rules.secrets[role.secret];
          if (rule.scope == SecretScope::kTextConfig && !text_config) break;
          SecretFinding(rule, path, data, m.start, m.end, default_passwords, out);
          break;
        }
      }
      if (covered > 0) covered_until = m.start + covered;
    }
    SummarizeTrustStore(path, out);
    DropGenericDuplicates(out);
    if (!file_keys.empty()) {
      std::lock_guard lock(mutex);
      for (KeyRecord& k : file_keys) key_records.push_back(std::move(k));
    }
    if (capped) {
      out.push_back({std::string(kRuleTruncated),
                     kRatedByCatalogue,
                     std::string(path),
                     "The file has more candidate spots than the per-file limits; later ones "
                     "were not examined.",
                     "",
                     0,
                     {}});
    }
  }
  const ConfigKind kind = ClassifyConfigPath(path);
  const auto web = ClassifyWebCredentialPath(path);
  if (web) {
    AccountFile accounts = ReadAccounts(file, AccountFileKind::kPasswd, web);
    if (!accounts.records.empty()) {
      std::lock_guard lock(mutex);
      account_files.push_back(std::move(accounts));
    }
  } else if (kind == ConfigKind::kShadow || kind == ConfigKind::kPasswd) {
    AccountFile accounts = ReadAccounts(
        file, kind == ConfigKind::kShadow ? AccountFileKind::kShadow : AccountFileKind::kPasswd,
        std::nullopt);
    std::lock_guard lock(mutex);
    account_files.push_back(std::move(accounts));
  } else if (kind != ConfigKind::kNone) {
    CheckConfigFile(kind, path, AsText(data), rules.services, out);
  }
}

void Inspector::AddFile(const FileView& file) {
  std::vector<Finding> out;
  impl_->CheckMode(file, out);
  if (file.kind == FileKind::kRegular || file.kind == FileKind::kSymlink) {
    CheckRcLinkName(file.path, impl_->rules.services, out);
  }
  if (file.kind == FileKind::kRegular && !file.bytes.empty()) impl_->CheckContent(file, out);
  if (out.size() > kMaxFindingsPerFile) {
    const std::size_t dropped = out.size() - kMaxFindingsPerFile;
    CanonicalizeFindings(out);
    out.resize(std::min(out.size(), kMaxFindingsPerFile));
    out.push_back({std::string(kRuleTruncated),
                   kRatedByCatalogue,
                   std::string(file.path),
                   "Too many findings in one file; " + std::to_string(dropped) + " were dropped.",
                   "",
                   0,
                   {}});
  }
  std::lock_guard lock(impl_->mutex);
  for (Finding& f : out) impl_->findings.push_back(std::move(f));
}

std::vector<AnalysisProblem> Inspector::problems() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<AnalysisProblem> out = impl_->problems;
  CanonicalizeProblems(out);
  return out;
}

namespace {

// The message of a hash that resisted (or escaped) the default-password check.
std::string PasswordHashMessage(const AccountRecord& r, const std::string& who,
                                const InspectOptions& options) {
  std::string message = "Account " + who + " has a password hashed with " + r.scheme + "; ";
  if (!options.crack_passwords) {
    message += "default passwords were not tried.";
  } else if (r.crack.unsupported) {
    message += "the system's libcrypt cannot compute it, so default passwords were not tried.";
  } else if (r.crack.skipped_cost) {
    message += "its cost parameters are too high to try default passwords.";
  } else if (!r.crack.cracked) {
    message += "none of the " + std::to_string(r.crack.tried) + " default passwords tried matched";
    if (r.crack.tried < r.crack.candidates) {
      message += " (" + std::to_string(r.crack.candidates) + " apply; slow schemes get " +
                 std::to_string(options.max_slow_attempts) + ")";
    }
    message += ".";
  } else {
    message += "it is a default password.";
  }
  return message;
}

// The findings of one account entry; `facts` is its passwd entry (uid, shell) when known.
void JudgeAccount(const AccountFile& file, const AccountRecord& r, const AccountEntry* facts,
                  const InspectOptions& options, std::vector<Finding>& out) {
  const AccountEntry& e = r.entry;
  const bool uid0 = facts && facts->uid == "0";
  const bool can_login = file.htpasswd || !facts || uid0 || LoginShell(facts->shell);
  const std::string who = "'" + e.user + "'" + (uid0 ? " (uid 0)" : "");
  auto add = [&](std::string_view rule, std::string_view condition, std::string message,
                 std::string evidence) {
    out.push_back({std::string(rule), kRatedByCatalogue, file.path, std::move(message),
                   std::move(evidence), e.offset, std::string(condition)});
  };
  const bool passwd = file.kind == AccountFileKind::kPasswd && !file.htpasswd;
  if (passwd && e.uid == "0" && e.user != "root") {
    add(kRuleUid0Account, {}, "Account " + who + " has root's user id 0.", e.user + ":" + e.uid);
  }
  if (r.state == HashState::kEmpty) {
    add(kRuleEmptyPassword, can_login ? std::string_view() : kWhenAccountCannotLogIn,
        "Account " + who + " has an empty password: it needs none to log in.", e.user + "::");
    return;
  }
  if (r.state == HashState::kPlaintext) {
    if (r.crack.cracked) {
      add(kRuleDefaultPassword, {},
          "Web account " + who + " has the default password '" + r.crack.password +
              "', stored in plain text.",
          e.user + ":" + r.crack.password);
    } else {
      add(kRulePlaintextPassword, {},
          "Password of web account " + who + " is stored in plain text.",
          e.user + ":" + RedactSecret(e.hash, 2));
    }
    return;
  }
  if (r.state != HashState::kHash) return;
  const std::string prefix =
      e.hash.substr(0, e.hash.starts_with("$") ? e.hash.find('$', 1) + 1 : 0);
  const std::string scheme_evidence =
      e.user + ":" + (prefix.empty() ? std::string() : prefix + " ") + "(" + r.scheme + ")";
  if (r.crack.cracked) {
    add(kRuleDefaultPassword, can_login ? std::string_view() : kWhenAccountCannotLogIn,
        "Account " + who + " has the default password '" + r.crack.password + "' (" + r.scheme +
            ").",
        e.user + ":" + r.crack.password);
  }
  if (IsWeakScheme(r.scheme)) {
    const bool des = r.scheme == "descrypt" || r.scheme == "bsdicrypt" || r.scheme == "nt";
    add(kRuleWeakHash, des ? kWhenDesCrypt : std::string_view(),
        "Password of account " + who + " is hashed with the weak scheme " + r.scheme + ".",
        scheme_evidence);
  } else {
    add(kRulePasswordHash, {}, PasswordHashMessage(r, who, options), scheme_evidence);
  }
  if (passwd) {
    add(kRuleHashInPasswd, {},
        "Password hash of account " + who + " is in the world-readable passwd file.",
        scheme_evidence);
  }
}

// Findings of every account file; shadow entries are judged with the passwd facts (uid,
// shell) of the same directory.
void JudgeAccountFiles(const std::vector<AccountFile>& files, const InspectOptions& options,
                       std::vector<Finding>& out) {
  std::map<std::pair<std::string, std::string>, const AccountEntry*> passwd_by_user;
  for (const AccountFile& file : files) {
    if (file.kind != AccountFileKind::kPasswd || file.htpasswd) continue;
    for (const AccountRecord& r : file.records) {
      passwd_by_user.emplace(std::make_pair(Dirname(file.path), r.entry.user), &r.entry);
    }
  }
  for (const AccountFile& file : files) {
    const std::string dir = Dirname(file.path);
    std::vector<std::string> stopped;  // first accounts the time limit cut short
    std::size_t stopped_count = 0;
    for (const AccountRecord& r : file.records) {
      const AccountEntry* facts = file.kind == AccountFileKind::kPasswd ? &r.entry : nullptr;
      if (!facts) {
        auto it = passwd_by_user.find({dir, r.entry.user});
        if (it != passwd_by_user.end()) facts = it->second;
      }
      JudgeAccount(file, r, facts, options, out);
      if (r.state == HashState::kHash && r.crack.stopped_by_time) {
        if (stopped.size() < 8) stopped.push_back(r.entry.user);
        ++stopped_count;
      }
    }
    if (stopped_count > 0) {
      std::string users;
      for (const std::string& u : stopped) users += (users.empty() ? "" : ",") + u;
      if (stopped_count > stopped.size()) users += ",...";
      out.push_back({std::string(kRuleCrackIncomplete),
                     kRatedByCatalogue,
                     file.path,
                     "The crack time limit stopped default-password checks for " +
                         std::to_string(stopped_count) + " account(s).",
                     users,
                     0,
                     {}});
    }
  }
}

// A CA certificate whose private key is in the image lets anyone who has the image issue
// certificates that whatever trusts this CA accepts. It counts as a CA when it is in a
// trust store or issued another certificate of the image: a self-signed server
// certificate (CA:TRUE by openssl's default) beside its key is judged as self-signed only.
void JudgeCaKeys(const std::vector<KeyRecord>& key_records, const KnownKeyIndex& known_keys,
                 std::vector<Finding>& out) {
  std::map<std::string, const KeyRecord*> private_keys;
  std::set<std::string> issuers;  // issuer names of certificates not self-issued
  for (const KeyRecord& k : key_records) {
    if (!k.certificate && !k.fingerprint.empty()) private_keys.emplace(k.fingerprint, &k);
    if (k.certificate && k.issuer != k.description) issuers.insert(k.issuer);
  }
  std::set<std::pair<std::string, std::uint64_t>> reported;
  for (const KeyRecord& k : key_records) {
    if (!k.certificate || !k.ca || k.fingerprint.empty()) continue;
    if (!k.trust_store && issuers.count(k.description) == 0) continue;
    auto it = private_keys.find(k.fingerprint);
    if (it == private_keys.end() || !reported.emplace(k.path, k.offset).second) continue;
    const KeyRecord& key = *it->second;
    const bool known = known_keys.count(k.fingerprint) != 0;
    const std::string who = k.description.empty() ? "(empty subject)" : k.description;
    out.push_back({std::string(kRuleCaKeyPresent), kRatedByCatalogue, k.path,
                   "The private key of CA certificate " + who + " is in the image (" + key.path +
                       ")" + (known ? ", a well-known test key." : "."),
                   "key at " + key.path + " offset " + std::to_string(key.offset), k.offset,
                   known ? std::string(kWhenKnownKey) : std::string()});
  }
}

}  // namespace

std::vector<Finding> Inspector::Finish() {
  std::lock_guard lock(impl_->mutex);
  std::vector<Finding> out = std::move(impl_->findings);
  impl_->findings.clear();
  JudgeAccountFiles(impl_->account_files, impl_->options, out);
  impl_->account_files.clear();
  JudgeCaKeys(impl_->key_records, impl_->known_keys, out);
  impl_->key_records.clear();
  for (Finding& f : out) {
    // LoadRules checked that the catalogue rates every rule and condition the code raises.
    f.severity = impl_->rules.catalogue.SeverityOf(f.rule, f.condition).value_or(Severity::kHigh);
  }
  CanonicalizeFindings(out);
  return out;
}

}  // namespace clearbox::inspect
