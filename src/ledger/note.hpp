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
// Go's note.Open refuses notes with more signatures than this.
inline constexpr std::size_t kMaxNoteSignatures = 100;

// A public Ed25519 note key: name, 4-byte key ID and 32-byte public key.
struct VerifierKey {
  std::string name;
  std::uint32_t key_id = 0;
  std::array<std::uint8_t, 32> public_key{};
};

// A private Ed25519 note key (seed) with its public half.
struct SignerKey {
  std::string name;
  std::uint32_t key_id = 0;
  std::array<std::uint8_t, 32> seed{};
  std::array<std::uint8_t, 32> public_key{};
};

// True if `name` is a valid key name: non-empty UTF-8, no whitespace, no '+'.
bool IsValidKeyName(std::string_view name);

// Key ID of an Ed25519 key: first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || pub).
std::uint32_t Ed25519KeyId(std::string_view name, const std::array<std::uint8_t, 32>& public_key);

// Parses "name+hexid+base64(0x01||pub)"; kMalformed on any deviation or key ID mismatch.
[[nodiscard]] Result<VerifierKey> ParseVerifierKey(std::string_view vkey);
// Parses "PRIVATE+KEY+name+hexid+base64(0x01||seed)"; kMalformed on any deviation.
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
// signed note.
[[nodiscard]] Result<std::string> SignNote(std::string_view text,
                                           const std::vector<SignerKey>& signers);

}  // namespace clearbox::ledger
