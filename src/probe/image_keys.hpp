// TLS keys for the join: the SHA-256 of a public key's SubjectPublicKeyInfo (the same for a
// certificate and its private key), and the certificates and private keys in a file of the
// image (PEM with any number of blocks, or one DER certificate or key). Untrusted bytes go
// to OpenSSL's decoders only, bounded by the file cap of the caller.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox::probe {

// Certificates and keys read from one file at most.
inline constexpr std::size_t kMaxTlsKeysPerFile = 64;

// Hex SHA-256 of the DER SubjectPublicKeyInfo of `key` ("" when it cannot be encoded).
std::string SpkiSha256Hex(EVP_PKEY* key);

struct TlsKeyInFile {
  std::string kind;         // "certificate" or "private-key"
  std::string spki_sha256;  // hex
  std::string subject;      // RFC 2253, certificates only
};

// The certificates and unencrypted private keys in `bytes` (encrypted keys are skipped: no
// password is ever asked); kNotThisFormat when there are none.
Result<std::vector<TlsKeyInFile>> TlsKeysFromFile(std::string_view bytes);

}  // namespace clearbox::probe
