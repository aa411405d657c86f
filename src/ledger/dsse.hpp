// DSSE envelopes (secure-systems-lab/dsse v1) signed with note keys, and in-toto Statement v1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "ledger/note.hpp"

namespace clearbox::ledger {

// The payload type of in-toto statements in DSSE.
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
// Our predicate type for attestations over an unpack manifest or report.
inline constexpr std::string_view kUnpackPredicateType =
    "https://clearbox.dev/attestation/unpack/v1";
// Largest envelope or payload we accept (the log's entry limit is 65535 bytes).
inline constexpr std::size_t kMaxEnvelopeBytes = 1 << 20;

// DSSE pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body.
std::string Pae(std::string_view payload_type, std::string_view payload);

// One DSSE signature: optional key ID hint and the raw signature bytes.
struct DsseSignature {
  std::optional<std::string> keyid;
  std::string sig;
};

// A DSSE envelope with its payload decoded.
struct DsseEnvelope {
  std::string payload;
  std::string payload_type;
  std::vector<DsseSignature> signatures;
};

// Serialises compactly: {"payload":..,"payloadType":..,"signatures":[{"keyid":..,"sig":..}]}
// followed by "\n".
std::string FormatEnvelope(const DsseEnvelope& envelope);

// Strict parse: a JSON object with exactly payload, payloadType, signatures (non-empty list
// of objects with "sig" and optional "keyid", nothing else), base64 in the standard or
// URL-safe alphabet, canonical; kMalformed otherwise.
[[nodiscard]] Result<DsseEnvelope> ParseEnvelope(std::string_view json);

// Signs payload with `key` (Ed25519 over the PAE); keyid = "name+hexid" of the key.
[[nodiscard]] Result<DsseEnvelope> SignEnvelope(std::string_view payload_type,
                                                std::string_view payload, const SignerKey& key);

// Returns OK if some signature whose keyid names `key` (or has no keyid) verifies over the
// PAE; kMalformed otherwise.
[[nodiscard]] Result<void> VerifyEnvelope(const DsseEnvelope& envelope, const VerifierKey& key);

// The "name+hexid" label of a key, used as DSSE keyid.
std::string KeyLabel(const VerifierKey& key);

// One subject of a statement: name and sha256 digest (64 lower-case hex digits).
struct StatementSubject {
  std::string name;
  std::string sha256;
};

// An in-toto Statement v1; predicate kept as serialised JSON.
struct Statement {
  std::vector<StatementSubject> subjects;
  std::string predicate_type;
  std::string predicate_json;  // a JSON object
};

// Serialises the statement as compact JSON (keys in the order of the spec).
[[nodiscard]] Result<std::string> FormatStatement(const Statement& statement);

// Strict parse: _type exact, non-empty subject list each with a name and a sha256 digest of
// 64 lower-case hex digits, a URI-like predicateType, an object predicate; unknown
// top-level fields are ignored (as the spec requires); kMalformed otherwise.
[[nodiscard]] Result<Statement> ParseStatement(std::string_view json);

}  // namespace clearbox::ledger
