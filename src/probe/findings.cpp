// The findings of the probe's checks (see probe.hpp RaiseFindings).
#include <algorithm>
#include <set>
#include <tuple>

#include "probe/probe.hpp"

namespace clearbox::probe {
namespace {

constexpr std::uint32_t kMinRsaBits = 2048;  // NIST SP 800-131A: 2048-bit RSA and DSA at least
constexpr int kMinEcBits = 224;
constexpr std::string_view kWeakCipherStrengths[] = {"null", "anonymous", "export",  "des",
                                                     "rc4",  "3des",      "cbc-sha1"};

class Raiser {
 public:
  explicit Raiser(const rules::RuleCatalogue& catalogue) : catalogue_(catalogue) {}

  void Raise(std::string_view rule, std::string_view condition, const ServiceResult& service,
             std::string message, std::string evidence) {
    auto severity = catalogue_.SeverityOf(rule, condition);
    if (!severity) {
      missing_ = std::string(rule) + (condition.empty() ? "" : "/" + std::string(condition));
      return;
    }
    findings_.push_back({std::string(rule), *severity, service.port, service.service,
                         std::move(message), EscapeEvidence(evidence, kEvidenceBytes)});
  }

  Result<std::vector<Finding>> Take() {
    if (!missing_.empty()) {
      return Fail(ErrorCode::kInternal, "the rule catalogue lacks " + missing_);
    }
    std::sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.port, a.rule, a.message) < std::tie(b.port, b.rule, b.message);
    });
    return std::move(findings_);
  }

 private:
  const rules::RuleCatalogue& catalogue_;
  std::vector<Finding> findings_;
  std::string missing_;
};

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

void SshFindings(const ServiceResult& service, const SshPolicy& policy, Raiser& raiser) {
  const SshResult& ssh = *service.ssh;
  if (ssh.have_kexinit) {
    const KexInit& k = ssh.kexinit;
    const std::tuple<const char*, const char*, const std::vector<std::string>*> lists[] = {
        {"kex", "key exchange", &k.kex},
        {"host_key", "host key algorithm", &k.host_key},
        {"cipher", "cipher (server to client)", &k.cipher_s2c},
        {"cipher", "cipher (client to server)", &k.cipher_c2s},
        {"mac", "MAC (server to client)", &k.mac_s2c},
        {"mac", "MAC (client to server)", &k.mac_c2s}};
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& [kind, label, names] : lists) {
      for (const auto& name : *names) {
        if (!seen.emplace(kind, name).second) continue;
        const AlgorithmVerdict verdict = JudgeAlgorithm(policy, kind, name);
        if (verdict.verdict != "fail" && verdict.verdict != "warn") continue;
        raiser.Raise("net.ssh-weak-algorithm", verdict.verdict == "warn" ? "warn" : "", service,
                     std::string(label) + " " + name + " offered (" + verdict.verdict + ": " +
                         verdict.reason + "; " + verdict.source + ")",
                     std::string(kind) + ": " + Join(*names));
      }
    }
  }
  if (ssh.have_host_key) {
    const HostKey& key = ssh.host_key;
    const bool small =
        ((key.type == "ssh-rsa" || key.type == "ssh-dss") && key.bits < kMinRsaBits) ||
        (key.type.starts_with("ecdsa") && static_cast<int>(key.bits) < kMinEcBits);
    if (small) {
      raiser.Raise(
          "net.ssh-small-host-key", "", service,
          key.type + " host key of " + std::to_string(key.bits) + " bits (" + key.fingerprint + ")",
          ssh.identification.line);
    }
  }
}

// The key exchange's signature check and the authentication methods (SshResult).
void SshAuthFindings(const ServiceResult& service, Raiser& raiser) {
  const SshResult& ssh = *service.ssh;
  if (ssh.signature_checked && !ssh.signature_verified) {
    raiser.Raise("net.ssh-host-key-signature-invalid", "", service,
                 ssh.host_key.type + " host key " + ssh.host_key.fingerprint +
                     ": the signature over the exchange hash does not verify (" +
                     ssh.signature_problem + ")",
                 "signature " + ssh.signature_algorithm + ", negotiated " + ssh.host_key_algorithm);
  }
  if (!ssh.have_auth_methods) return;
  if (ssh.auth_none_accepted) {
    raiser.Raise("net.ssh-no-authentication", "", service,
                 "USERAUTH_SUCCESS for user " + std::string(kAuthProbeUser) +
                     " with method none: logged in without any credential",
                 "USERAUTH_REQUEST none -> USERAUTH_SUCCESS");
  }
  std::vector<std::string> offered;
  for (const auto& method : ssh.auth_methods) {
    if (method == "password" || method == "keyboard-interactive") offered.push_back(method);
  }
  if (!offered.empty()) {
    raiser.Raise(
        "net.ssh-password-auth", "", service,
        Join(offered) + " authentication offered (methods: " + Join(ssh.auth_methods) + ")",
        "USERAUTH_FAILURE " + Join(ssh.auth_methods));
  }
}

void TlsFindings(const ServiceResult& service, Raiser& raiser) {
  const TlsResult& tls = *service.tls;
  for (const auto& v : tls.versions) {
    if (v.accepted && (v.version == "TLSv1" || v.version == "TLSv1.1")) {
      raiser.Raise("net.tls-legacy-version", "", service, v.version + " accepted",
                   v.version + " handshake, cipher " + v.cipher);
    }
  }
  for (std::string_view strength : kWeakCipherStrengths) {
    std::vector<std::string> names;
    for (const auto& c : tls.ciphers) {
      if (c.strength == strength) names.push_back(c.version + ":" + c.name);
    }
    if (names.empty()) continue;
    raiser.Raise(
        "net.tls-weak-cipher", strength == "cbc-sha1" ? "cbc-sha1" : "", service,
        std::to_string(names.size()) + " " + std::string(strength) + " cipher suite(s) accepted",
        Join(names));
  }
  if (tls.chain.empty()) return;
  const TlsCertificateResult& leaf = tls.chain.front();
  if (leaf.self_signed) {
    raiser.Raise("net.tls-self-signed", "", service, "self-signed certificate " + leaf.subject,
                 "subject " + leaf.subject + ", issuer " + leaf.issuer);
  }
  if (leaf.expired) {
    raiser.Raise("net.tls-expired", "", service, "certificate expired " + leaf.not_after,
                 "not after " + leaf.not_after);
  }
  const bool weak_key = ((leaf.key_type == "RSA" || leaf.key_type == "DSA") &&
                         leaf.key_bits < static_cast<int>(kMinRsaBits)) ||
                        (leaf.key_type == "EC" && leaf.key_bits < kMinEcBits);
  if (weak_key) {
    raiser.Raise("net.tls-weak-key", "", service,
                 leaf.key_type + " certificate key of " + std::to_string(leaf.key_bits) + " bits",
                 "subject " + leaf.subject);
  }
}

void HttpFindings(const ServiceResult& service, Raiser& raiser) {
  const HttpResult& http = *service.http;
  if (!http.answered) return;
  const bool https = service.service == "https";
  const std::string* authenticate = http.head.Find("www-authenticate");
  if (!https && authenticate != nullptr && authenticate->size() >= 5 &&
      (authenticate->substr(0, 5) == "Basic" || authenticate->substr(0, 5) == "basic")) {
    raiser.Raise("net.http-basic-auth-cleartext", "", service,
                 "HTTP basic authentication demanded over plain HTTP", http.evidence);
  }
  std::vector<std::string> missing;
  if (https && http.head.Find("strict-transport-security") == nullptr) {
    missing.push_back("Strict-Transport-Security");
  }
  const std::string* csp = http.head.Find("content-security-policy");
  if (http.head.Find("x-frame-options") == nullptr &&
      (csp == nullptr || csp->find("frame-ancestors") == std::string::npos)) {
    missing.push_back("X-Frame-Options or CSP frame-ancestors");
  }
  if (http.head.Find("x-content-type-options") == nullptr) {
    missing.push_back("X-Content-Type-Options");
  }
  if (!missing.empty()) {
    raiser.Raise("net.http-missing-security-headers", "", service, "missing: " + Join(missing),
                 http.evidence);
  }
}

// The default-page match and the findings of the opt-in checks.
void ActiveCheckFindings(const ServiceResult& service, Raiser& raiser) {
  if (service.default_page) {
    raiser.Raise("net.http-default-page", "", service,
                 "the web server shows a stock page: " + service.default_page->product + " (" +
                     service.default_page->id + ")",
                 service.default_page->marker);
  }
  if (service.ftp_login && service.ftp_login->accepted) {
    raiser.Raise("net.ftp-anonymous", "", service, "anonymous FTP login accepted",
                 service.ftp_login->evidence);
  }
  if (service.snmp) {
    for (const SnmpAnswer& answer : service.snmp->answers) {
      raiser.Raise(
          "net.snmp-default-community", "", service,
          "SNMP " + answer.version + " community '" + answer.community + "' accepted",
          answer.sys_descr.empty() ? service.snmp->evidence : "sysDescr: " + answer.sys_descr);
    }
  }
  if (service.ssdp && !service.ssdp->responses.empty()) {
    const SsdpResponse& first = service.ssdp->responses.front();
    raiser.Raise("net.upnp-exposed", "", service,
                 "UPnP (SSDP) answers a unicast M-SEARCH: " +
                     std::to_string(service.ssdp->responses.size()) + " response(s)",
                 "SERVER: " + first.server + " LOCATION: " + first.location);
  }
}

}  // namespace

Result<std::vector<Finding>> RaiseFindings(const ProbeResult& result, const SshPolicy& policy,
                                           const rules::RuleCatalogue& catalogue) {
  Raiser raiser(catalogue);
  for (const ServiceResult& service : result.services) {
    if (service.service == "telnet") {
      raiser.Raise("net.telnet-open", "", service,
                   "telnet answers on port " + std::to_string(service.port), service.banner);
    }
    if (service.service == "ftp") {
      raiser.Raise("net.ftp-cleartext", "", service,
                   "FTP answers on port " + std::to_string(service.port), service.banner);
    }
    if (service.mqtt && service.mqtt->answered && service.mqtt->return_code == 0) {
      raiser.Raise("net.mqtt-anonymous", "", service,
                   "the MQTT broker accepts a connection without credentials",
                   service.mqtt->evidence);
    }
    ActiveCheckFindings(service, raiser);
    if (service.ssh) SshFindings(service, policy, raiser);
    if (service.ssh) SshAuthFindings(service, raiser);
    if (service.tls) TlsFindings(service, raiser);
    if (service.http) HttpFindings(service, raiser);
  }
  return raiser.Take();
}

}  // namespace clearbox::probe
