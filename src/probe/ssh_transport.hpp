// SSH past the host key: the KEX_ECDH_REPLY and its signature over the exchange hash
// (RFC 4253 section 8, RFC 8731 for curve25519-sha256, RFC 8332 for RSA with SHA-2, RFC 5656
// for ECDSA, RFC 8709 for Ed25519), key derivation (RFC 4253 7.2), the encrypted binary
// packet of aes128-ctr / aes256-ctr with hmac-sha2-256 / hmac-sha2-512 / hmac-sha1 (RFC 4344,
// RFC 6668), also in OpenSSH's encrypt-then-MAC form (its PROTOCOL file, 1.5), AES-GCM
// (RFC 5647) and chacha20-poly1305@openssh.com (PROTOCOL.chacha20poly1305), and
// USERAUTH_FAILURE (RFC 4252). All through OpenSSL 3 EVP; the parsers take untrusted bytes
// and are fuzzed (fuzz/probe_ssh_fuzz.cpp).
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/result.hpp"
#include "probe/ssh.hpp"

namespace clearbox::probe {

// A signature blob larger than this is refused (an RSA-16384 signature is 2 KiB).
inline constexpr std::uint32_t kMaxSignatureBytes = 8192;
// curve25519 public values are 32 bytes (RFC 8731 3.1).
inline constexpr std::size_t kCurve25519Bytes = 32;
// Name of a signature or key algorithm: longer ones are refused.
inline constexpr std::uint32_t kMaxAlgorithmNameBytes = 64;

inline constexpr std::uint8_t kSshMsgIgnore = 2;
inline constexpr std::uint8_t kSshMsgDebug = 4;
inline constexpr std::uint8_t kSshMsgServiceRequest = 5;
inline constexpr std::uint8_t kSshMsgServiceAccept = 6;
inline constexpr std::uint8_t kSshMsgExtInfo = 7;
inline constexpr std::uint8_t kSshMsgNewkeys = 21;
inline constexpr std::uint8_t kSshMsgUserauthRequest = 50;
inline constexpr std::uint8_t kSshMsgUserauthFailure = 51;
inline constexpr std::uint8_t kSshMsgUserauthSuccess = 52;
inline constexpr std::uint8_t kSshMsgUserauthBanner = 53;

// Reads an SSH string (uint32 length, bytes) of at most `cap` bytes; `what` names it in errors.
Result<std::string_view> ReadSshString(ByteReader& reader, std::uint32_t cap, const char* what);
// Reads an SSH name-list (at most kMaxNameListBytes, kMaxNamesPerList names kept).
Result<std::vector<std::string>> ReadNameList(ByteReader& reader);

// The three strings of SSH_MSG_KEX_ECDH_REPLY (views into the payload).
struct EcdhReply {
  ByteView host_key;       // K_S
  ByteView server_public;  // Q_S, 32 bytes for curve25519
  ByteView signature;      // string algorithm, string blob
};
// Parses a KEX_ECDH_REPLY payload (message byte included) of a curve25519 exchange.
Result<EcdhReply> ParseEcdhReply(ByteView payload);

// A signature (RFC 4253 6.6): the algorithm name and its blob (a view into the input).
struct SshSignature {
  std::string algorithm;
  ByteView blob;
};
// Parses the signature string's content.
Result<SshSignature> ParseSshSignature(ByteView signature);

// An unsigned big-endian integer encoded as an SSH mpint (RFC 4251 5), length included.
std::string EncodeMpint(ByteView magnitude);

// The inputs of the curve25519-sha256 exchange hash, in the order they are hashed.
struct ExchangeHashInput {
  std::string_view client_identification;  // V_C, without CR LF
  std::string_view server_identification;  // V_S, without CR LF
  std::string_view client_kexinit;         // I_C, payload of our KEXINIT
  std::string_view server_kexinit;         // I_S, payload of the server's KEXINIT
  ByteView host_key;                       // K_S
  ByteView client_public;                  // Q_C
  ByteView server_public;                  // Q_S
  std::string_view shared_secret_mpint;    // K, already an mpint
};
// H = SHA-256 of the inputs, each as an SSH string (K as its mpint).
std::string ExchangeHash(const ExchangeHashInput& input);

// What checking a host key's signature over H found.
struct SignatureCheck {
  std::string algorithm;  // of the signature, e.g. "rsa-sha2-512"
  bool verified = false;
  std::string detail;  // why not, when not verified
};
// Verifies `signature` (ParseSshSignature's input) over `hash` with `host_key_blob`, which the
// server's exchange negotiated as `negotiated_algorithm`. A signature that does not verify,
// is malformed or names another algorithm gives verified = false; kUnsupported only for a
// key or signature type we cannot check (ssh-dss, security keys).
Result<SignatureCheck> VerifyHostKeySignature(ByteView host_key_blob, ByteView signature,
                                              std::string_view hash,
                                              std::string_view negotiated_algorithm);

// The encryption and MAC algorithms our transport implements, in our order of preference.
// AES-GCM (RFC 5647, as OpenSSH names it) and chacha20-poly1305@openssh.com authenticate
// themselves: no MAC is negotiated for them.
inline constexpr std::string_view kTransportCiphers[] = {
    "aes128-ctr", "aes256-ctr", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com"};
inline constexpr std::string_view kTransportMacs[] = {"hmac-sha2-256-etm@openssh.com",
                                                      "hmac-sha2-512-etm@openssh.com",
                                                      "hmac-sha2-256",
                                                      "hmac-sha2-512",
                                                      "hmac-sha1-etm@openssh.com",
                                                      "hmac-sha1"};

// RFC 4253 7.2: key `letter` ('A'..'F') of `size` bytes from K (mpint), H and the session id.
std::string DeriveKey(std::string_view shared_secret_mpint, std::string_view hash,
                      std::string_view session_id, char letter, std::size_t size);

// One direction of the encrypted binary packet protocol (cipher, MAC, sequence number).
class SshPacketCipher {
 public:
  // A direction of `cipher` and `mac` (names of kTransportCiphers / kTransportMacs; `mac` is
  // ignored for AES-GCM) keyed
  // from the exchange: `client_to_server` picks letters A, C, E, else B, D, F; `sealing`
  // encrypts (the sender's side), else decrypts. `sequence` is the number of packets this
  // direction has carried so far.
  static Result<SshPacketCipher> Create(std::string_view cipher, std::string_view mac,
                                        std::string_view shared_secret_mpint, std::string_view hash,
                                        bool client_to_server, bool sealing,
                                        std::uint32_t sequence);
  // The encrypted packet of `payload` with its MAC (random padding).
  Result<std::string> Seal(std::string_view payload);
  // The payload of the packet at the start of `buffer`, removed from it: kTruncated when
  // more bytes are needed (call again after appending), kMalformed for a packet_length over
  // kMaxSshPacketBytes, a length that is not a multiple of the block size, a bad padding or
  // a MAC that does not verify.
  Result<std::string> Open(std::string& buffer);

 private:
  SshPacketCipher() = default;
  // HMAC of the sequence number and `packet`.
  Result<std::string> Mac(std::string_view packet) const;
  // Encrypts or decrypts `in` (CTR: the same operation), appending to `out`.
  bool Crypt(std::string_view in, std::string& out);
  // ChaCha20 of `in` with the length key (`header`) or the payload key, from block `counter`,
  // the sequence number as nonce.
  Result<std::string> ChaCha(bool header, std::uint64_t counter, std::string_view in) const;
  // The Poly1305 tag of `data`, keyed by the first 32 bytes of the payload key's stream.
  Result<std::string> Poly1305(std::string_view data) const;
  // AES-GCM of one packet: `length` as additional data, `body` en- or decrypted onto `out`,
  // checked against `tag` when opening; returns the tag when sealing. Advances the IV.
  Result<std::string> GcmCrypt(std::string_view length, std::string_view body, std::string& out,
                               std::string_view tag);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> context_{nullptr,
                                                                           &EVP_CIPHER_CTX_free};
  const EVP_MD* mac_digest_ = nullptr;
  std::string mac_key_;
  bool encrypt_then_mac_ = false;  // "-etm@openssh.com": packet_length in clear, MAC last
  bool gcm_ = false;               // AES-GCM: packet_length in clear, tag last, no MAC
  bool chacha_ = false;            // chacha20-poly1305: length under its own key, tag last
  std::string chacha_keys_;        // the payload key, then the length key
  std::size_t block_ = 16;         // the cipher's block: the packet is a multiple of it
  bool sealing_ = false;
  std::string iv_;  // GCM: fixed field and invocation counter
  std::uint32_t sequence_ = 0;
  std::string header_;  // the decrypted first block of the packet being opened
};

// SSH_MSG_USERAUTH_FAILURE: the methods that can continue, and the partial-success flag.
struct UserauthFailure {
  std::vector<std::string> methods;
  bool partial_success = false;
};
// Parses a USERAUTH_FAILURE payload (message byte included).
Result<UserauthFailure> ParseUserauthFailure(ByteView payload);

}  // namespace clearbox::probe
