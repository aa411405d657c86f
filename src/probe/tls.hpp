// TLS: OpenSSL as the client, one context per protocol version pinned with min/max and
// SECLEVEL=0 so legacy servers can be measured: versions accepted, every cipher suite
// accepted (grouped by strength), the certificate chain, compression and secure
// renegotiation. Each handshake uses its own connection and ends by its deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "probe/http.hpp"
#include "probe/net.hpp"

namespace clearbox::probe {

// Handshakes one cipher enumeration may use per protocol version (each finds one suite).
inline constexpr int kMaxCipherHandshakesPerVersion = 64;
// Certificates of a chain recorded.
inline constexpr std::size_t kMaxChainCertificates = 10;

struct TlsVersionResult {
  std::string version;  // "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
  bool accepted = false;
  std::string cipher;    // the suite negotiated with our full offer
  std::string problem;   // why it was not accepted (the handshake error)
  bool testable = true;  // false when our OpenSSL cannot offer the version at all
};

struct TlsCipherResult {
  std::string version;
  std::string name;      // OpenSSL's name
  std::string strength;  // "null", "anonymous", "export", "des", "rc4", "3des", "cbc-sha1",
                         // "medium" (no forward secrecy or CBC with SHA-2), "strong"
};

struct TlsCertificateResult {
  std::string subject;
  std::string issuer;
  bool self_signed = false;
  std::string key_type;  // OpenSSL's type name: "RSA", "EC", "ED25519", ...
  int key_bits = 0;
  std::string signature_algorithm;    // "sha256WithRSAEncryption"
  std::string not_before, not_after;  // "YYYY-MM-DDTHH:MM:SSZ"
  bool expired = false;
  bool not_yet_valid = false;
  std::vector<std::string> subject_alt_names;
  bool matches_host = false;  // subject/SAN matches the host name or address probed
  std::string spki_sha256;    // hex SHA-256 of the SubjectPublicKeyInfo (the join's key id)
};

struct TlsResult {
  bool handshake = false;  // some version was accepted
  std::vector<TlsVersionResult> versions;
  std::vector<TlsCipherResult> ciphers;
  std::vector<TlsCertificateResult> chain;  // leaf first
  std::string compression;                  // "" = none
  bool secure_renegotiation = false;
  std::vector<std::string> problems;
};

// Runs the TLS check against address:port; `host` is the name given (SNI when a name, the
// certificate host check). Each handshake gets `timeout`; a handshake that times out ends
// the check (a silent server costs one timeout, not dozens).
TlsResult CheckTls(const Address& address, std::uint16_t port, const std::string& host,
                   std::chrono::milliseconds timeout);

// GET / over TLS (any version our OpenSSL offers).
HttpResult CheckHttps(const Address& address, std::uint16_t port, const std::string& host,
                      std::chrono::milliseconds timeout);

}  // namespace clearbox::probe
