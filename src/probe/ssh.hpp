// SSH: the identification line, the binary packet with SSH_MSG_KEXINIT (RFC 4253), the
// host key of a curve25519-sha256 key exchange, and the algorithm verdicts of
// data/probe/ssh-algorithms.json. The parsers take untrusted bytes and are fuzzed
// (fuzz/probe_ssh_fuzz.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/result.hpp"
#include "probe/net.hpp"

namespace clearbox::probe {

// RFC 4253 4.2: the identification line is at most 255 bytes with its CR LF.
inline constexpr std::size_t kMaxSshLineBytes = 255;
// Lines a server may send before its identification (RFC 4253 allows some); we read this many.
inline constexpr std::size_t kMaxSshPreBannerLines = 16;
// RFC 4253 6.1: implementations must accept packets of 35000 bytes; we refuse longer ones.
inline constexpr std::uint32_t kMaxSshPacketBytes = 35000;
// One name-list of KEXINIT: longer lists are refused, and at most this many names kept.
inline constexpr std::uint32_t kMaxNameListBytes = 8192;
inline constexpr std::size_t kMaxNamesPerList = 128;
// A host key blob larger than this (16 KiB RSA keys are 2 KiB) is refused.
inline constexpr std::uint32_t kMaxHostKeyBlobBytes = 8192;

// The user name of our USERAUTH "none" request: present on nearly every device; no password
// or key is ever tried, the request only asks which methods the server accepts.
inline constexpr std::string_view kAuthProbeUser = "root";

inline constexpr std::uint8_t kSshMsgKexinit = 20;
inline constexpr std::uint8_t kSshMsgKexEcdhInit = 30;
inline constexpr std::uint8_t kSshMsgKexEcdhReply = 31;

// The identification line "SSH-protoversion-softwareversion SP comments".
struct SshIdentification {
  std::string line;  // without CR LF
  std::string proto_version;
  std::string software_version;
  std::string comments;
  std::vector<std::string> pre_banner_lines;  // lines before it, as received
};

// Parses the bytes a server sent first: optional lines, then "SSH-..." ended by LF.
// kTruncated when more bytes are needed (no complete identification line yet), kMalformed
// when a line is too long, too many lines precede it, or it is not SSH-2.0/1.99.
Result<SshIdentification> ParseSshIdentification(std::string_view received);
// The offset just past the identification line's LF in `received` (call after a success).
std::size_t SshIdentificationEnd(std::string_view received);

// The algorithm lists of SSH_MSG_KEXINIT.
struct KexInit {
  std::vector<std::string> kex;
  std::vector<std::string> host_key;
  std::vector<std::string> cipher_c2s, cipher_s2c;
  std::vector<std::string> mac_c2s, mac_s2c;
  std::vector<std::string> compression_c2s, compression_s2c;
  bool first_kex_packet_follows = false;
};

// The payload of one unencrypted binary packet at the start of `data`: kTruncated when the
// packet is not complete yet, kMalformed for a packet_length over kMaxSshPacketBytes or a
// padding that does not fit. *consumed is the packet's size on the wire.
Result<ByteView> ParseSshPacket(ByteView data, std::size_t* consumed);
// Parses a KEXINIT payload (message byte included).
Result<KexInit> ParseKexInit(ByteView payload);

// A host key blob (RFC 4253 6.6): its algorithm name and size in bits.
struct HostKey {
  std::string type;         // "ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-dss"
  std::uint32_t bits = 0;   // modulus / curve size
  std::string fingerprint;  // "SHA256:" + unpadded base64 of SHA-256(blob), as OpenSSH prints
};
Result<HostKey> ParseHostKey(ByteView blob);
// The public host key blob K_S of an SSH_MSG_KEX_ECDH_REPLY payload.
Result<ByteView> ParseEcdhReplyHostKey(ByteView payload);

// One algorithm's verdict from the policy file.
struct AlgorithmVerdict {
  std::string verdict;  // "fail", "warn", "ok", or "unknown" for a name not in the file
  std::string reason;
  std::string source;
};
// data/probe/ssh-algorithms.json: kind ("kex", "host_key", "cipher", "mac",
// "compression") -> name -> verdict.
using SshPolicy = std::map<std::string, std::map<std::string, AlgorithmVerdict>, std::less<>>;
Result<SshPolicy> LoadSshPolicy(const std::filesystem::path& file);
// The verdict of `name` of `kind` (an "unknown" verdict when the file does not list it).
AlgorithmVerdict JudgeAlgorithm(const SshPolicy& policy, std::string_view kind,
                                std::string_view name);

// What the SSH check saw on one port.
struct SshResult {
  SshIdentification identification;
  bool have_kexinit = false;
  KexInit kexinit;
  bool have_host_key = false;
  HostKey host_key;
  std::string host_key_algorithm;  // the one negotiated for the exchange
  // The host key's signature over the exchange hash H (RFC 4253 8): checked when the key
  // type is one we verify (Ed25519, RSA, ECDSA); `signature_problem` says why it failed.
  bool signature_checked = false;
  bool signature_verified = false;
  std::string signature_algorithm;  // of the signature: "rsa-sha2-512", "ssh-rsa" (SHA-1), ...
  std::string signature_problem;
  // The encrypted transport we ran ("aes128-ctr hmac-sha2-256"), empty when none was
  // possible (the server offers no cipher and MAC of kTransportCiphers / kTransportMacs).
  std::string transport;
  // USERAUTH_REQUEST "none" for kAuthProbeUser (RFC 4252 5.2): the methods the server lists
  // in its USERAUTH_FAILURE, or none_accepted when it answers USERAUTH_SUCCESS.
  bool have_auth_methods = false;
  std::vector<std::string> auth_methods;
  bool auth_none_accepted = false;
  std::string evidence;  // the first bytes received, escaped
  std::vector<std::string> problems;
};

// Runs the SSH check against address:port: identification, KEXINIT and (when the server
// offers curve25519-sha256) the key exchange with the host key and its signature checked;
// then, over aes-ctr + hmac-sha2 when offered, USERAUTH "none" for kAuthProbeUser to list
// the authentication methods. Ends by the deadline.
SshResult CheckSsh(const Address& address, std::uint16_t port, Clock::time_point deadline);

}  // namespace clearbox::probe
