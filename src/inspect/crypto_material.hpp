// Crypto material: private keys (PEM, OpenSSH, PKCS#8, DER; encrypted or not) and X.509
// certificates (expired, self-signed, weak key, weak signature), parsed with OpenSSL 3.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/result.hpp"
#include "inspect/finding.hpp"
#include "inspect/rules.hpp"

namespace clearbox::inspect {

// Largest PEM block (BEGIN line to END line) examined.
inline constexpr std::size_t kMaxPemBlockBytes = 256 * 1024;
// Largest DER object (outer SEQUENCE) examined.
inline constexpr std::size_t kMaxDerObjectBytes = 256 * 1024;
// Keys listed in one OpenSSH private key file, at most.
inline constexpr std::uint32_t kMaxOpenSshKeys = 64;
// A file with at least this many self-signed CA certificates is a built-in trust store
// (e.g. node's or NSS's compiled-in roots): those roots are summed up in one finding.
inline constexpr std::size_t kMinRootsForTrustStore = 10;
// End of the cert.self-signed message for CA certificates (used to recognise them).
inline constexpr std::string_view kSelfSignedCaSuffix = " is a self-signed CA certificate.";
inline constexpr std::string_view kTrustAnchorSuffix =
    " is built into a binary as a verification key (a trust anchor): self-signed by design, "
    "not the device's identity.";
// RSA/DSA keys below this many bits are weak.
inline constexpr int kMinRsaBits = 2048;

// Well-known keys by fingerprint ("sha256:<hex>"); the pointers are into a RuleSet.
using KnownKeyIndex = std::map<std::string, const KnownKey*, std::less<>>;

// A private key or CA certificate seen in a file, for checks across files (a CA
// certificate whose private key is also in the image).
struct KeyRecord {
  std::string fingerprint;   // "sha256:<hex>" of the DER SubjectPublicKeyInfo
  bool certificate = false;  // else a private key
  bool ca = false;           // a certificate with basicConstraints CA:TRUE
  bool trust_store = false;  // found in a trust-store path
  std::string path;
  std::uint64_t offset = 0;
  std::string description;  // subject (certificates) or key description
  std::string issuer;       // certificates: the issuer name
};

// Whether a path holds trusted CA certificates.
enum class TrustStoreKind : std::uint8_t {
  kNone,
  kDirectory,  // etc/ssl/certs and the like: CA certificates there are not judged, others are
  kBundle,     // ca-certificates.crt, libnssckbi: no certificate there is judged
};
struct CryptoContext {
  std::string_view path;
  std::int64_t now_unix = 0;  // certificate validity is judged at this time
  TrustStoreKind trust_store = TrustStoreKind::kNone;
  const KnownKeyIndex* known_keys = nullptr;  // keys reported as known test/compromised keys
  std::vector<KeyRecord>* keys =
      nullptr;  // when set, private keys and CA certs are noted  // The file is binary (an ELF, a
                // kernel, a signature blob): a self-signed certificate inside
  // it, past its first byte, is a compiled-in verification key (cert.trust-anchor, info).
  bool in_binary = false;
};

// True for binary content: an ELF, or a NUL byte in the first 64 KiB.
bool LooksBinary(ByteView data);

// "sha256:<hex>" of a key's DER SubjectPublicKeyInfo (the fingerprint of known_keys.json),
// or "" when OpenSSL cannot encode it.
std::string PublicKeyFingerprint(const EVP_PKEY* key);

// What the header of an OpenSSH private key ("openssh-key-v1") says.
struct OpenSshKeyInfo {
  std::string cipher;    // "none" when not encrypted
  std::string kdf;       // "none" or "bcrypt"
  std::string key_type;  // of the first key, e.g. "ssh-ed25519", "ssh-rsa"
  int bits = 0;          // of the first key, when known
  std::uint32_t keys = 0;
  bool encrypted() const { return cipher != "none"; }
};

// Parses the decoded body of an OPENSSH PRIVATE KEY block (bounds-checked).
Result<OpenSshKeyInfo> ParseOpenSshKey(ByteView blob);

// What a dropbear private key file (dropbearkey's own format) holds.
struct DropbearKeyInfo {
  std::string key_type;  // "ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", ...
  int bits = 0;
};

// Parses a whole file as a dropbear private key: SSH wire strings/mpints for the key type
// and its private parts, consuming the input exactly (bounds-checked).
Result<DropbearKeyInfo> ParseDropbearKey(ByteView file);

// The PEM block `block` (BEGIN line to END line) with JSON/C escapes ("\\n", "\\/") and XML
// character references of line breaks decoded and every line trimmed and ended by '\n', so a
// key quoted in JSON, XML or a script parses; never longer than `block` plus one byte/line.
std::string NormalizePemBlock(std::string_view block);

// Examines the PEM block whose "-----BEGIN " starts at `offset`; appends findings and returns
// the number of bytes the block covers (0 when it is not a complete, decodable block).
std::uint64_t InspectPem(ByteView data, std::uint64_t offset, const CryptoContext& context,
                         std::vector<Finding>& out);

// What a DER candidate found by the pattern scan is expected to be.
enum class DerHint : std::uint8_t { kCertificate, kPrivateKey, kEncryptedPrivateKey };

// Examines a DER object starting at `offset`; appends findings and returns the bytes it
// covers (0 when nothing was recognised).
std::uint64_t InspectDer(ByteView data, std::uint64_t offset, DerHint hint,
                         const CryptoContext& context, std::vector<Finding>& out);

// Largest file tried as a dropbear private key.
inline constexpr std::size_t kMaxDropbearKeyBytes = 16 * 1024;

// Examines a whole file as a dropbear private key; appends findings, returns bytes covered.
std::uint64_t InspectDropbearKey(ByteView data, const CryptoContext& context,
                                 std::vector<Finding>& out);

// Whether the path is a CA trust store (etc/ssl/certs, ca-certificates bundles, ...).
TrustStoreKind ClassifyTrustStorePath(std::string_view path);

}  // namespace clearbox::inspect
