// The SSH check (see ssh.hpp).
#include "probe/ssh.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>

#include "core/hashing.hpp"
#include "core/read_file.hpp"
#include "probe/ssh_transport.hpp"

namespace clearbox::probe {
namespace {

// The policy file is small; a larger one is refused.
constexpr std::uint64_t kMaxPolicyBytes = 1 << 20;
// Bytes read per receive while waiting for the identification or a packet.
constexpr std::size_t kReadChunkBytes = 4096;
// Our identification line (RFC 4253 4.2).
constexpr std::string_view kOurIdentification = "SSH-2.0-clearbox_probe\r\n";
// IGNORE / DEBUG (and, encrypted, EXT_INFO / USERAUTH_BANNER) messages skipped in a row.
constexpr std::size_t kMaxSkippedMessages = 32;
// Bytes of the first answer kept as evidence.
constexpr std::size_t kEvidenceBytes = 256;

// Host key algorithms in the order we prefer them for the exchange.
constexpr std::array<std::string_view, 10> kHostKeyPreference = {
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com"};

// Significant bits of an SSH mpint (big-endian two's complement, positive here).
std::uint32_t MpintBits(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && bytes[i] == '\0') ++i;
  if (i == bytes.size()) return 0;
  auto first = static_cast<std::uint8_t>(bytes[i]);
  std::uint32_t bits = static_cast<std::uint32_t>(bytes.size() - i - 1) * 8;
  while (first != 0) {
    ++bits;
    first >>= 1;
  }
  return bits;
}

std::string Base64Unpadded(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

void AppendU32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
}
void AppendString(std::string& out, std::string_view text) {
  AppendU32(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}
std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

// An unencrypted binary packet around `payload` (block size 8, at least 4 padding bytes).
std::string FramePacket(std::string_view payload) {
  std::size_t padding = 8 - ((payload.size() + 5) % 8);
  if (padding < 4) padding += 8;
  std::string packet;
  AppendU32(packet, static_cast<std::uint32_t>(1 + payload.size() + padding));
  packet += static_cast<char>(padding);
  packet += payload;
  packet.append(padding, '\0');
  return packet;
}

// The first of `ours` that the server lists in both directions ("" when none).
std::string FirstOffered(std::span<const std::string_view> ours,
                         const std::vector<std::string>& c2s, const std::vector<std::string>& s2c) {
  for (std::string_view name : ours) {
    if (std::find(c2s.begin(), c2s.end(), name) != c2s.end() &&
        std::find(s2c.begin(), s2c.end(), name) != s2c.end()) {
      return std::string(name);
    }
  }
  return "";
}

// Our KEXINIT: `kex` only, our host key preference; for ciphers, MACs and compression our
// `transport` choice when there is one, else the server's own lists (so negotiation cannot
// fail on them; the check then stops after the key exchange).
std::string ClientKexInit(const KexInit& server, const std::string& kex,
                          const std::string& host_key, const std::string& cipher,
                          const std::string& mac) {
  std::string payload(1, static_cast<char>(kSshMsgKexinit));
  std::array<unsigned char, 16> cookie{};
  RAND_bytes(cookie.data(), static_cast<int>(cookie.size()));
  payload.append(reinterpret_cast<const char*>(cookie.data()), cookie.size());
  const bool ours = !cipher.empty();
  const bool our_mac = !mac.empty();
  for (const std::string& list :
       {kex, host_key, ours ? cipher : JoinNames(server.cipher_c2s),
        ours ? cipher : JoinNames(server.cipher_s2c), our_mac ? mac : JoinNames(server.mac_c2s),
        our_mac ? mac : JoinNames(server.mac_s2c),
        ours ? std::string("none") : JoinNames(server.compression_c2s),
        ours ? std::string("none") : JoinNames(server.compression_s2c), std::string(),
        std::string()}) {
    AppendString(payload, list);
  }
  payload += '\0';
  AppendU32(payload, 0);
  return payload;
}

// Reads from `connection` until `buffer` holds one whole packet; returns its payload and
// removes the packet from the buffer. Counts the packet in *received.
Result<std::string> ReadPacket(Connection& connection, std::string& buffer,
                               std::uint32_t* received) {
  for (;;) {
    std::size_t consumed = 0;
    auto payload = ParseSshPacket(
        ByteView(reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()), &consumed);
    if (payload) {
      std::string out(AsText(*payload));
      buffer.erase(0, consumed);
      ++*received;
      return out;
    }
    if (payload.error().code != ErrorCode::kTruncated) return Forward(payload);
    auto n =
        connection.ReadSome(buffer, kReadChunkBytes,
                            std::chrono::milliseconds(MillisecondsLeft(connection.deadline())));
    if (!n) return Forward(n);
    if (*n == 0) return Fail(ErrorCode::kTruncated, "peer closed the connection mid-packet");
  }
}

// Like ReadPacket, but skips IGNORE and DEBUG messages (RFC 4253 11), at most
// kMaxSkippedMessages of them.
Result<std::string> ReadMessage(Connection& connection, std::string& buffer,
                                std::uint32_t* received) {
  for (std::size_t skipped = 0;; ++skipped) {
    auto payload = ReadPacket(connection, buffer, received);
    if (!payload) return Forward(payload);
    const auto type = payload->empty() ? 0 : static_cast<std::uint8_t>((*payload)[0]);
    if (type != kSshMsgIgnore && type != kSshMsgDebug) return payload;
    if (skipped >= kMaxSkippedMessages) {
      return Fail(ErrorCode::kMalformed, "more than 32 IGNORE/DEBUG messages");
    }
  }
}

// What the key exchange leaves for the encrypted transport.
struct KexOutcome {
  std::string shared_secret_mpint;   // K
  std::string hash;                  // H, also the session id
  std::uint32_t server_packets = 0;  // packets received so far (the server's sequence number)
  std::uint32_t client_packets = 0;
  std::string cipher, mac;  // our transport choice, empty when none
};

// Runs curve25519-sha256: records the host key and the check of its signature over H in
// `result`. `server_kexinit` is the server's KEXINIT payload.
Result<void> ExchangeKeys(Connection& connection, std::string& buffer,
                          std::string_view server_kexinit, SshResult& result, KexOutcome& outcome) {
  const auto& kex = result.kexinit.kex;
  std::string method;
  for (std::string_view wanted : {"curve25519-sha256", "curve25519-sha256@libssh.org"}) {
    if (method.empty() && std::find(kex.begin(), kex.end(), wanted) != kex.end()) {
      method = wanted;
    }
  }
  if (method.empty()) {
    return Fail(ErrorCode::kUnsupported, "server offers no curve25519-sha256 key exchange");
  }
  std::string host_keys;
  for (std::string_view name : kHostKeyPreference) {
    const auto& offered = result.kexinit.host_key;
    if (std::find(offered.begin(), offered.end(), name) == offered.end()) continue;
    if (result.host_key_algorithm.empty()) result.host_key_algorithm = name;
    if (!host_keys.empty()) host_keys += ',';
    host_keys += name;
  }
  if (host_keys.empty()) return Fail(ErrorCode::kUnsupported, "no host key algorithm we know");
  const KexInit& k = result.kexinit;
  outcome.cipher = FirstOffered(kTransportCiphers, k.cipher_c2s, k.cipher_s2c);
  outcome.mac = FirstOffered(kTransportMacs, k.mac_c2s, k.mac_s2c);
  // AES-GCM and ChaCha20-Poly1305 negotiate no MAC: the server's lists are sent.
  const bool gcm = outcome.cipher.ends_with("-gcm@openssh.com") ||
                   outcome.cipher == "chacha20-poly1305@openssh.com";
  if (gcm) outcome.mac.clear();
  const std::string_view none[] = {"none"};
  if (outcome.cipher.empty() || (outcome.mac.empty() && !gcm) ||
      FirstOffered(none, k.compression_c2s, k.compression_s2c).empty()) {
    outcome.cipher.clear();
    outcome.mac.clear();
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr), &EVP_PKEY_CTX_free);
  EVP_PKEY* raw_key = nullptr;
  if (!context || EVP_PKEY_keygen_init(context.get()) <= 0 ||
      EVP_PKEY_keygen(context.get(), &raw_key) <= 0) {
    return Fail(ErrorCode::kInternal, "X25519 key generation failed");
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw_key, &EVP_PKEY_free);
  std::array<unsigned char, kCurve25519Bytes> public_key{};
  std::size_t public_size = public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), public_key.data(), &public_size) <= 0) {
    return Fail(ErrorCode::kInternal, "X25519 public key unavailable");
  }
  const std::string client_kexinit =
      ClientKexInit(result.kexinit, method, host_keys, outcome.cipher, outcome.mac);
  std::string init(1, static_cast<char>(kSshMsgKexEcdhInit));
  AppendString(init,
               std::string_view(reinterpret_cast<const char*>(public_key.data()), public_size));
  auto sent = connection.WriteAll(FramePacket(client_kexinit) + FramePacket(init));
  if (!sent) return Forward(sent);
  outcome.client_packets = 2;
  auto reply = ReadMessage(connection, buffer, &outcome.server_packets);
  if (!reply) return Forward(reply);
  const ByteView reply_view(reinterpret_cast<const std::uint8_t*>(reply->data()), reply->size());
  auto blob = ParseEcdhReplyHostKey(reply_view);
  if (!blob) return Forward(blob);
  auto host_key = ParseHostKey(*blob);
  if (!host_key) return Forward(host_key);
  result.host_key = std::move(*host_key);
  result.have_host_key = true;
  auto ecdh = ParseEcdhReply(reply_view);
  if (!ecdh) return Forward(ecdh);
  // K: X25519 of our private key and Q_S, as an mpint (RFC 8731 3.1).
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> peer(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, ecdh->server_public.data(),
                                  ecdh->server_public.size()),
      &EVP_PKEY_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> derive(
      EVP_PKEY_CTX_new(key.get(), nullptr), &EVP_PKEY_CTX_free);
  std::array<unsigned char, kCurve25519Bytes> shared{};
  std::size_t shared_size = shared.size();
  if (!peer || !derive || EVP_PKEY_derive_init(derive.get()) <= 0 ||
      EVP_PKEY_derive_set_peer(derive.get(), peer.get()) <= 0 ||
      EVP_PKEY_derive(derive.get(), shared.data(), &shared_size) <= 0) {
    return Fail(ErrorCode::kMalformed, "X25519 with the server's public value failed");
  }
  outcome.shared_secret_mpint = EncodeMpint(ByteView(shared.data(), shared_size));
  ExchangeHashInput input;
  input.client_identification = kOurIdentification.substr(0, kOurIdentification.size() - 2);
  input.server_identification = result.identification.line;
  input.client_kexinit = client_kexinit;
  input.server_kexinit = server_kexinit;
  input.host_key = ecdh->host_key;
  input.client_public = ByteView(public_key.data(), public_size);
  input.server_public = ecdh->server_public;
  input.shared_secret_mpint = outcome.shared_secret_mpint;
  outcome.hash = ExchangeHash(input);
  auto check = VerifyHostKeySignature(ecdh->host_key, ecdh->signature, outcome.hash,
                                      result.host_key_algorithm);
  if (!check) return Forward(check);
  result.signature_checked = true;
  result.signature_verified = check->verified;
  result.signature_algorithm = check->algorithm;
  result.signature_problem = check->detail;
  return {};
}

// Reads one encrypted message, skipping IGNORE, DEBUG, EXT_INFO and USERAUTH_BANNER (at
// most kMaxSkippedMessages).
Result<std::string> ReadEncrypted(Connection& connection, std::string& buffer,
                                  SshPacketCipher& cipher) {
  for (std::size_t skipped = 0; skipped <= kMaxSkippedMessages;) {
    auto payload = cipher.Open(buffer);
    if (payload) {
      const auto type = payload->empty() ? 0 : static_cast<std::uint8_t>((*payload)[0]);
      if (type != kSshMsgIgnore && type != kSshMsgDebug && type != kSshMsgExtInfo &&
          type != kSshMsgUserauthBanner) {
        return payload;
      }
      ++skipped;
      continue;
    }
    if (payload.error().code != ErrorCode::kTruncated) return Forward(payload);
    auto n =
        connection.ReadSome(buffer, kReadChunkBytes,
                            std::chrono::milliseconds(MillisecondsLeft(connection.deadline())));
    if (!n) return Forward(n);
    if (*n == 0) return Fail(ErrorCode::kTruncated, "peer closed the connection mid-packet");
  }
  return Fail(ErrorCode::kMalformed, "more than 32 messages skipped");
}

// NEWKEYS both ways, then over the encrypted transport SERVICE_REQUEST "ssh-userauth" and
// USERAUTH_REQUEST "none" for kAuthProbeUser; records the methods the server lists.
Result<void> QueryAuthMethods(Connection& connection, std::string& buffer, KexOutcome& outcome,
                              SshResult& result) {
  auto sent = connection.WriteAll(FramePacket(std::string(1, static_cast<char>(kSshMsgNewkeys))));
  if (!sent) return Forward(sent);
  ++outcome.client_packets;
  auto newkeys = ReadMessage(connection, buffer, &outcome.server_packets);
  if (!newkeys) return Forward(newkeys);
  if (*newkeys != std::string(1, static_cast<char>(kSshMsgNewkeys))) {
    return Fail(ErrorCode::kMalformed,
                "expected NEWKEYS, got message " +
                    std::to_string(static_cast<std::uint8_t>((*newkeys)[0])));
  }
  auto to_server = SshPacketCipher::Create(outcome.cipher, outcome.mac, outcome.shared_secret_mpint,
                                           outcome.hash, true, true, outcome.client_packets);
  if (!to_server) return Forward(to_server);
  auto from_server =
      SshPacketCipher::Create(outcome.cipher, outcome.mac, outcome.shared_secret_mpint,
                              outcome.hash, false, false, outcome.server_packets);
  if (!from_server) return Forward(from_server);
  result.transport = outcome.mac.empty() ? outcome.cipher : outcome.cipher + " " + outcome.mac;
  std::string request(1, static_cast<char>(kSshMsgServiceRequest));
  AppendString(request, "ssh-userauth");
  auto sealed = to_server->Seal(request);
  if (!sealed) return Forward(sealed);
  if (auto written = connection.WriteAll(*sealed); !written) return Forward(written);
  auto accept = ReadEncrypted(connection, buffer, *from_server);
  if (!accept) return Forward(accept);
  if (accept->empty() || static_cast<std::uint8_t>((*accept)[0]) != kSshMsgServiceAccept) {
    return Fail(ErrorCode::kMalformed,
                "ssh-userauth not accepted: " + EscapeEvidence(*accept, kEvidenceBytes));
  }
  std::string userauth(1, static_cast<char>(kSshMsgUserauthRequest));
  AppendString(userauth, kAuthProbeUser);
  AppendString(userauth, "ssh-connection");
  AppendString(userauth, "none");
  sealed = to_server->Seal(userauth);
  if (!sealed) return Forward(sealed);
  if (auto written = connection.WriteAll(*sealed); !written) return Forward(written);
  auto answer = ReadEncrypted(connection, buffer, *from_server);
  if (!answer) return Forward(answer);
  if (!answer->empty() && static_cast<std::uint8_t>((*answer)[0]) == kSshMsgUserauthSuccess) {
    result.auth_none_accepted = true;
    result.have_auth_methods = true;
    return {};
  }
  auto failure = ParseUserauthFailure(
      ByteView(reinterpret_cast<const std::uint8_t*>(answer->data()), answer->size()));
  if (!failure) return Forward(failure);
  result.auth_methods = std::move(failure->methods);
  result.have_auth_methods = true;
  return {};
}

}  // namespace

Result<SshIdentification> ParseSshIdentification(std::string_view received) {
  SshIdentification id;
  std::string_view rest = received;
  for (;;) {
    const std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      if (rest.size() >= kMaxSshLineBytes) {
        return Fail(ErrorCode::kMalformed, "line longer than 255 bytes before the identification");
      }
      return Fail(ErrorCode::kTruncated, "no complete identification line yet");
    }
    if (newline + 1 > kMaxSshLineBytes) {
      return Fail(ErrorCode::kMalformed, "line longer than 255 bytes before the identification");
    }
    std::string_view line = rest.substr(0, newline);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    rest.remove_prefix(newline + 1);
    if (line.substr(0, 4) != "SSH-") {
      if (id.pre_banner_lines.size() >= kMaxSshPreBannerLines) {
        return Fail(ErrorCode::kMalformed, "more than 16 lines before the identification");
      }
      id.pre_banner_lines.emplace_back(line);
      continue;
    }
    id.line = line;
    const std::string_view body = line.substr(4);
    const std::size_t dash = body.find('-');
    if (dash == std::string_view::npos) return Fail(ErrorCode::kMalformed, "no software version");
    id.proto_version = body.substr(0, dash);
    std::string_view software = body.substr(dash + 1);
    const std::size_t space = software.find(' ');
    if (space != std::string_view::npos) {
      id.comments = software.substr(space + 1);
      software = software.substr(0, space);
    }
    id.software_version = software;
    if (id.proto_version != "2.0" && id.proto_version != "1.99") {
      return Fail(ErrorCode::kMalformed, "protocol version " + id.proto_version + " is not SSH 2");
    }
    return id;
  }
}

std::size_t SshIdentificationEnd(std::string_view received) {
  std::size_t offset = 0;
  for (;;) {
    const std::size_t newline = received.find('\n', offset);
    if (newline == std::string_view::npos) return received.size();
    if (received.substr(offset, 4) == "SSH-") return newline + 1;
    offset = newline + 1;
  }
}

Result<ByteView> ParseSshPacket(ByteView data, std::size_t* consumed) {
  ByteReader reader(data, Endian::kBig);
  auto length = reader.U32();
  if (!length) return Forward(length);
  if (*length > kMaxSshPacketBytes || *length < 5) {
    return Fail(ErrorCode::kMalformed, "packet_length " + std::to_string(*length) + " outside 5.." +
                                           std::to_string(kMaxSshPacketBytes));
  }
  auto body = reader.Bytes(*length);
  if (!body) return Forward(body);
  const std::uint8_t padding = (*body)[0];
  if (padding >= *length || *length - 1 - padding < 1) {
    return Fail(ErrorCode::kMalformed, "padding_length does not fit the packet");
  }
  *consumed = 4 + *length;
  return body->subspan(1, *length - 1 - padding);
}

Result<KexInit> ParseKexInit(ByteView payload) {
  ByteReader reader(payload, Endian::kBig);
  auto type = reader.U8();
  if (!type) return Forward(type);
  if (*type != kSshMsgKexinit) {
    return Fail(ErrorCode::kMalformed, "message " + std::to_string(*type) + " is not KEXINIT");
  }
  if (auto cookie = reader.Skip(16); !cookie) return Forward(cookie);
  KexInit kex;
  for (auto* list : {&kex.kex, &kex.host_key, &kex.cipher_c2s, &kex.cipher_s2c, &kex.mac_c2s,
                     &kex.mac_s2c, &kex.compression_c2s, &kex.compression_s2c}) {
    auto names = ReadNameList(reader);
    if (!names) return Forward(names);
    *list = std::move(*names);
  }
  for (int language = 0; language < 2; ++language) {
    if (auto names = ReadNameList(reader); !names) return Forward(names);
  }
  auto follows = reader.U8();
  if (!follows) return Forward(follows);
  kex.first_kex_packet_follows = *follows != 0;
  if (auto reserved = reader.U32(); !reserved) return Forward(reserved);
  return kex;
}

Result<ByteView> ParseEcdhReplyHostKey(ByteView payload) {
  ByteReader reader(payload, Endian::kBig);
  auto type = reader.U8();
  if (!type) return Forward(type);
  if (*type != kSshMsgKexEcdhReply) {
    return Fail(ErrorCode::kMalformed,
                "message " + std::to_string(*type) + " is not KEX_ECDH_REPLY");
  }
  auto blob = ReadSshString(reader, kMaxHostKeyBlobBytes, "host key");
  if (!blob) return Forward(blob);
  return ByteView(reinterpret_cast<const std::uint8_t*>(blob->data()), blob->size());
}

Result<HostKey> ParseHostKey(ByteView blob) {
  ByteReader reader(blob, Endian::kBig);
  auto type = ReadSshString(reader, 64, "host key type");
  if (!type) return Forward(type);
  HostKey key;
  key.type = *type;
  if (key.type == "ssh-rsa") {
    auto exponent = ReadSshString(reader, kMaxHostKeyBlobBytes, "RSA exponent");
    if (!exponent) return Forward(exponent);
    auto modulus = ReadSshString(reader, kMaxHostKeyBlobBytes, "RSA modulus");
    if (!modulus) return Forward(modulus);
    key.bits = MpintBits(*modulus);
  } else if (key.type == "ssh-dss") {
    auto prime = ReadSshString(reader, kMaxHostKeyBlobBytes, "DSA p");
    if (!prime) return Forward(prime);
    key.bits = MpintBits(*prime);
  } else if (key.type == "ssh-ed25519") {
    auto point = ReadSshString(reader, 64, "Ed25519 key");
    if (!point) return Forward(point);
    if (point->size() != 32) return Fail(ErrorCode::kMalformed, "Ed25519 key is not 32 bytes");
    key.bits = 256;
  } else if (key.type.starts_with("ecdsa-sha2-nistp")) {
    auto curve = ReadSshString(reader, 64, "curve name");
    if (!curve) return Forward(curve);
    key.bits = *curve == "nistp256"   ? 256
               : *curve == "nistp384" ? 384
               : *curve == "nistp521" ? 521
                                      : 0;
  }
  Sha256 hash;
  hash.Update(blob);
  const auto digest = hash.Finish();
  key.fingerprint = "SHA256:" + Base64Unpadded(ByteView(digest.data(), digest.size()));
  return key;
}

Result<SshPolicy> LoadSshPolicy(const std::filesystem::path& file) {
  auto text = ReadFileCapped(file, kMaxPolicyBytes);
  if (!text) return Forward(text);
  SshPolicy policy;
  try {
    const auto json = nlohmann::json::parse(*text);
    for (const auto& entry : json.at("algorithms")) {
      AlgorithmVerdict verdict{entry.at("verdict").get<std::string>(),
                               entry.at("reason").get<std::string>(),
                               entry.at("source").get<std::string>()};
      if (verdict.verdict != "fail" && verdict.verdict != "warn" && verdict.verdict != "ok") {
        return Fail(ErrorCode::kInvalidArgument,
                    file.string() + ": bad verdict " + verdict.verdict);
      }
      policy[entry.at("kind").get<std::string>()][entry.at("name").get<std::string>()] =
          std::move(verdict);
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, file.string() + ": " + e.what());
  }
  return policy;
}

AlgorithmVerdict JudgeAlgorithm(const SshPolicy& policy, std::string_view kind,
                                std::string_view name) {
  const auto of_kind = policy.find(kind);
  if (of_kind != policy.end()) {
    const auto found = of_kind->second.find(std::string(name));
    if (found != of_kind->second.end()) return found->second;
  }
  return {"unknown", "not in data/probe/ssh-algorithms.json", ""};
}

SshResult CheckSsh(const Address& address, std::uint16_t port, Clock::time_point deadline) {
  SshResult result;
  auto connection = Connection::Open(address, port, deadline);
  if (!connection) {
    result.problems.push_back("connect: " + connection.error().message);
    return result;
  }
  std::string received;
  Result<SshIdentification> id = Fail(ErrorCode::kTruncated, "nothing received");
  const std::size_t cap = kMaxSshLineBytes * (kMaxSshPreBannerLines + 1);
  while (received.size() < cap) {
    auto n = connection->ReadSome(received, cap - received.size(),
                                  std::chrono::milliseconds(MillisecondsLeft(deadline)));
    if (!n || *n == 0) {
      id = n ? Fail(ErrorCode::kTruncated, "peer closed before its identification") : Forward(n);
      break;
    }
    id = ParseSshIdentification(received);
    if (id || id.error().code != ErrorCode::kTruncated) break;
  }
  result.evidence = EscapeEvidence(received, kEvidenceBytes);
  if (!id) {
    result.problems.push_back("identification: " + id.error().message);
    return result;
  }
  result.identification = std::move(*id);
  std::string buffer = received.substr(SshIdentificationEnd(received));
  if (auto sent = connection->WriteAll(kOurIdentification); !sent) {
    result.problems.push_back("send identification: " + sent.error().message);
    return result;
  }
  std::uint32_t server_packets = 0;
  auto payload = ReadPacket(*connection, buffer, &server_packets);
  Result<KexInit> kexinit =
      payload ? ParseKexInit(ByteView(reinterpret_cast<const std::uint8_t*>(payload->data()),
                                      payload->size()))
              : Forward(payload);
  if (!kexinit) {
    if (payload) result.evidence += " | " + EscapeEvidence(*payload, kEvidenceBytes);
    result.problems.push_back("KEXINIT: " + kexinit.error().message);
    return result;
  }
  result.kexinit = std::move(*kexinit);
  result.have_kexinit = true;
  KexOutcome outcome;
  outcome.server_packets = server_packets;
  if (auto exchanged = ExchangeKeys(*connection, buffer, *payload, result, outcome); !exchanged) {
    result.problems.push_back("key exchange: " + exchanged.error().message);
    return result;
  }
  if (!result.signature_verified) {
    result.problems.push_back("host key signature: " + result.signature_problem +
                              "; authentication methods not asked");
    return result;
  }
  if (outcome.cipher.empty()) {
    result.problems.push_back(
        "authentication methods: the server offers none of our transports (aes128/256-ctr "
        "with hmac-sha2-256/512 or hmac-sha1, plain or -etm; aes128/256-gcm; "
        "chacha20-poly1305)");
    return result;
  }
  if (auto queried = QueryAuthMethods(*connection, buffer, outcome, result); !queried) {
    result.problems.push_back("authentication methods: " + queried.error().message);
  }
  return result;
}

}  // namespace clearbox::probe
