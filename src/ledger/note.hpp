// C2SP signed-note: Ed25519 signer/verifier keys in the vkey/skey text formats, and strict
// parsing, opening and signing of notes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox::ledger {

// Signature type byte of Ed25519 note signatures (C2SP signed-note).
inline constexpr std::uint8_t kAlgEd25519 = 0x01;
// Signature type byte of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature v1).
inline constexpr std::uint8_t kAlgCosignatureV1 = 0x04;
// First line of the message an Ed25519 cosignature/v1 signs.
inline constexpr std::string_view kCosignatureHeader = "cosignature/v1";
// Largest cosignature timestamp the spec allows (2^63 - 1).
inline constexpr std::uint64_t kMaxCosignatureTime = 0x7FFFFFFFFFFFFFFFull;
// Go's note.Open refuses notes with more signatures than this.
inline constexpr std::size_t kMaxNoteSignatures = 100;

// A public Ed25519 note key: name, 4-byte key ID and 32-byte public key; `algorithm` is
// kAlgEd25519 (plain note signatures) or kAlgCosignatureV1 (timestamped cosignatures).
struct VerifierKey {
  std::string name;
  std::uint32_t key_id = 0;
  std::array<std::uint8_t, 32> public_key{};
  std::uint8_t algorithm = kAlgEd25519;
};

// A private Ed25519 note key (seed) with its public half; `algorithm` as in VerifierKey.
struct SignerKey {
  std::string name;
  std::uint32_t key_id = 0;
  std::array<std::uint8_t, 32> seed{};
  std::array<std::uint8_t, 32> public_key{};
  std::uint8_t algorithm = kAlgEd25519;
};

// True if `name` is a valid key name: non-empty UTF-8, no whitespace, no '+'.
bool IsValidKeyName(std::string_view name);

// Key ID of an Ed25519 key: first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || pub).
std::uint32_t Ed25519KeyId(std::string_view name, const std::array<std::uint8_t, 32>& public_key);
// Key ID for signature type `algorithm`: first 4 bytes of SHA-256(name || 0x0A || alg || pub).
std::uint32_t NoteKeyId(std::string_view name, std::uint8_t algorithm,
                        const std::array<std::uint8_t, 32>& public_key);

// The same Ed25519 key as a cosignature/v1 key (type 0x04 and its own key ID), as
// transparency-dev/formats NewSignerForCosignatureV1 / NewVerifierForCosignatureV1 do.
VerifierKey AsCosignerKey(const VerifierKey& key);
SignerKey AsCosignerKey(const SignerKey& key);

// Parses "name+hexid+base64(type||pub)" with type 0x01 or 0x04; kMalformed on any deviation or
// key ID mismatch, kUnsupported for other types.
[[nodiscard]] Result<VerifierKey> ParseVerifierKey(std::string_view vkey);
// Parses "PRIVATE+KEY+name+hexid+base64(type||seed)" (type 0x01 or 0x04); kMalformed on any
// deviation.
[[nodiscard]] Result<SignerKey> ParseSignerKey(std::string_view skey);

// Text forms of keys (no trailing newline).
std::string FormatVerifierKey(const VerifierKey& key);
std::string FormatSignerKey(const SignerKey& key);

// The public half of a signer key.
VerifierKey PublicKeyOf(const SignerKey& key);

// A fresh random Ed25519 signer key (OpenSSL's RNG); kInvalidArgument for a bad name.
[[nodiscard]] Result<SignerKey> GenerateSignerKey(std::string_view name);
// The signer key for a given 32-byte seed (for tests and vectors).
[[nodiscard]] Result<SignerKey> SignerKeyFromSeed(std::string_view name,
                                                  const std::array<std::uint8_t, 32>& seed);

// Raw Ed25519 over bytes: 64-byte signature.
[[nodiscard]] Result<std::string> Ed25519Sign(const SignerKey& key, std::string_view message);
// True if `signature` is a valid Ed25519 signature of `message` by `public_key`.
bool Ed25519Verify(const std::array<std::uint8_t, 32>& public_key, std::string_view message,
                   std::string_view signature);

// One signature line: key name and decoded base64 (4-byte key ID || signature).
struct NoteSignature {
  std::string name;
  std::uint32_t key_id = 0;
  std::string signature;  // the bytes after the key ID
  std::string base64;     // the line's base64 as written
};

// A parsed (not yet verified) signed note.
struct Note {
  std::string text;  // ends in "\n"
  std::vector<NoteSignature> signatures;
};

// Strictly parses a signed note (UTF-8, no control bytes but '\n', text/signature split at
// the last blank line, canonical base64, at most kMaxNoteSignatures); kMalformed otherwise.
[[nodiscard]] Result<Note> ParseNote(std::string_view message);

// Outcome of opening a note against known keys.
struct OpenedNote {
  std::string text;
  std::vector<NoteSignature> verified;    // de-duplicated, in order
  std::vector<NoteSignature> unverified;  // from unknown keys, de-duplicated
};

// Parses and verifies a note as Go's note.Open does: a signature whose name and key ID match
// a known key must verify; at least one must verify. Errors are kMalformed with Go's messages
// ("malformed note", "note has no verifiable signatures", "invalid signature for key ...",
// "ambiguous key ...").
[[nodiscard]] Result<OpenedNote> OpenNote(std::string_view message,
                                          const std::vector<VerifierKey>& known);

// Signs `text` (must end in '\n', UTF-8, no control bytes) with each signer; returns the
// signed note. Cosigner keys (type 0x04) are refused: they need a timestamp (CosignNote).
[[nodiscard]] Result<std::string> SignNote(std::string_view text,
                                           const std::vector<SignerKey>& signers);

// The message an Ed25519 cosignature/v1 signs: "cosignature/v1\ntime <t>\n" + note text.
std::string CosignatureMessage(std::string_view note_text, std::uint64_t timestamp);

// Adds (or replaces) `cosigner`'s cosignature/v1 line on a signed note: signature bytes are
// key ID || big-endian timestamp || Ed25519 signature. kInvalidArgument for a timestamp above
// kMaxCosignatureTime; kMalformed if `signed_note` is not a note.
[[nodiscard]] Result<std::string> CosignNote(std::string_view signed_note,
                                             const SignerKey& cosigner, std::uint64_t timestamp);

// The timestamp of a cosignature/v1 signature; kMalformed unless it is 8 + 64 bytes.
[[nodiscard]] Result<std::uint64_t> CosignatureTime(const NoteSignature& signature);

}  // namespace clearbox::ledger
