// The ids of the rules the inspector raises and the named conditions that rate a finding
// otherwise than the rule's default severity. Titles, severities, CWEs and the clauses each
// rule speaks to are in the rule catalogue (data/rules/catalogue.json); Inspector::Create
// refuses a catalogue that lacks any of these.
#pragma once

#include <array>
#include <string_view>
#include <utility>

namespace clearbox::inspect {

inline constexpr std::string_view kRuleUid0Account = "cred.uid0-account";
inline constexpr std::string_view kRuleEmptyPassword = "cred.empty-password";
inline constexpr std::string_view kRuleDefaultPassword = "cred.default-password";
inline constexpr std::string_view kRulePlaintextPassword = "cred.plaintext-password";
inline constexpr std::string_view kRuleWeakHash = "cred.weak-hash";
inline constexpr std::string_view kRulePasswordHash = "cred.password-hash";
inline constexpr std::string_view kRuleHashInPasswd = "cred.hash-in-passwd";
inline constexpr std::string_view kRuleCrackIncomplete = "cred.crack-incomplete";
inline constexpr std::string_view kRulePrivateKey = "secret.private-key";
inline constexpr std::string_view kRulePrivateKeyEncrypted = "secret.private-key-encrypted";
inline constexpr std::string_view kRuleWeakPrivateKey = "secret.weak-private-key";
inline constexpr std::string_view kRuleKnownTestKey = "secret.known-test-key";
inline constexpr std::string_view kRuleKnownCompromisedKey = "secret.known-compromised-key";
inline constexpr std::string_view kRuleHardcodedPassword = "secret.hardcoded-password";
inline constexpr std::string_view kRuleCertExpired = "cert.expired";
inline constexpr std::string_view kRuleCertSelfSigned = "cert.self-signed";
inline constexpr std::string_view kRuleCertTrustAnchor = "cert.trust-anchor";
inline constexpr std::string_view kRuleCertTrustStore = "cert.trust-store";
inline constexpr std::string_view kRuleCertWeakKey = "cert.weak-key";
inline constexpr std::string_view kRuleCertWeakSignature = "cert.weak-signature";
inline constexpr std::string_view kRuleCaKeyPresent = "cert.ca-key-present";
inline constexpr std::string_view kRuleSshPermitRootLogin = "ssh.permit-root-login";
inline constexpr std::string_view kRuleSshPasswordAuthentication = "ssh.password-authentication";
inline constexpr std::string_view kRuleSshPermitEmptyPasswords = "ssh.permit-empty-passwords";
inline constexpr std::string_view kRuleSetuid = "fs.setuid";
inline constexpr std::string_view kRuleSetgid = "fs.setgid";
inline constexpr std::string_view kRuleWorldWritable = "fs.world-writable";
inline constexpr std::string_view kRuleTruncated = "inspect.truncated";

// Conditions (the rule's default severity applies without one).
inline constexpr std::string_view kWhenAccountCannotLogIn = "account-cannot-log-in";
inline constexpr std::string_view kWhenDesCrypt = "des-crypt";
inline constexpr std::string_view kWhenSha1 = "sha1";
inline constexpr std::string_view kWhenStickyDirectory = "sticky-directory";
inline constexpr std::string_view kWhenKnownKey = "known-key";

// Every rule above, and every (rule, condition) pair the code uses: what the catalogue must
// rate.
inline constexpr std::array kCodeRules = {kRuleUid0Account,
                                          kRuleEmptyPassword,
                                          kRuleDefaultPassword,
                                          kRulePlaintextPassword,
                                          kRuleWeakHash,
                                          kRulePasswordHash,
                                          kRuleHashInPasswd,
                                          kRuleCrackIncomplete,
                                          kRulePrivateKey,
                                          kRulePrivateKeyEncrypted,
                                          kRuleWeakPrivateKey,
                                          kRuleKnownTestKey,
                                          kRuleKnownCompromisedKey,
                                          kRuleHardcodedPassword,
                                          kRuleCertExpired,
                                          kRuleCertSelfSigned,
                                          kRuleCertTrustAnchor,
                                          kRuleCertTrustStore,
                                          kRuleCertWeakKey,
                                          kRuleCertWeakSignature,
                                          kRuleCaKeyPresent,
                                          kRuleSshPermitRootLogin,
                                          kRuleSshPasswordAuthentication,
                                          kRuleSshPermitEmptyPasswords,
                                          kRuleSetuid,
                                          kRuleSetgid,
                                          kRuleWorldWritable,
                                          kRuleTruncated};
inline constexpr std::array kCodeConditions = {
    std::pair{kRuleEmptyPassword, kWhenAccountCannotLogIn},
    std::pair{kRuleDefaultPassword, kWhenAccountCannotLogIn},
    std::pair{kRuleWeakHash, kWhenDesCrypt},
    std::pair{kRuleCertWeakSignature, kWhenSha1},
    std::pair{kRuleWorldWritable, kWhenStickyDirectory},
    std::pair{kRuleCaKeyPresent, kWhenKnownKey}};

}  // namespace clearbox::inspect
