// libFuzzer target: the probe's SSH parsers, fed what a hostile server sends: the
// identification (with pre-banner lines), then the binary packet with KEXINIT, the
// KEX_ECDH_REPLY (host key, server value, signature: its blob checked against the host key
// as the probe does), USERAUTH_FAILURE, an encrypted packet opened with fixed keys; and the
// host key files of an image.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "probe/join.hpp"
#include "probe/ssh.hpp"
#include "probe/ssh_transport.hpp"

namespace {

// The ECDH reply's host key and signature, checked as the probe checks them (the signature's
// own algorithm as the negotiated one, so every key type's path is reached).
void CheckEcdhReply(clearbox::ByteView payload) {
  using namespace clearbox;
  auto reply = probe::ParseEcdhReply(payload);
  if (!reply) return;
  const std::string hash(32, '\x48');
  auto signature = probe::ParseSshSignature(reply->signature);
  (void)probe::VerifyHostKeySignature(reply->host_key, reply->signature, hash,
                                      signature ? signature->algorithm : "ssh-ed25519");
}

// `bytes` as the server's first encrypted packets, opened with keys of a fixed exchange by
// each packet form: MAC after the encrypted packet, encrypt-then-MAC, AES-GCM, ChaCha20-Poly1305.
void OpenEncrypted(std::string_view bytes) {
  using namespace clearbox;
  static const std::string k = probe::EncodeMpint(
      ByteView(reinterpret_cast<const std::uint8_t*>("0123456789abcdef0123456789abcdef"), 32));
  constexpr std::pair<std::string_view, std::string_view> kForms[] = {
      {"aes128-ctr", "hmac-sha2-256"},
      {"aes256-ctr", "hmac-sha2-512-etm@openssh.com"},
      {"aes128-gcm@openssh.com", ""},
      {"chacha20-poly1305@openssh.com", ""}};
  for (const auto& [cipher_name, mac_name] : kForms) {
    auto cipher = probe::SshPacketCipher::Create(cipher_name, mac_name, k, std::string(32, 'h'),
                                                 false, false, 3);
    if (!cipher) continue;
    std::string buffer(bytes);
    for (int i = 0; i < 4; ++i) {
      auto payload = cipher->Open(buffer);
      if (!payload) break;
      (void)probe::ParseUserauthFailure(
          ByteView(reinterpret_cast<const std::uint8_t*>(payload->data()), payload->size()));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clearbox;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto id = probe::ParseSshIdentification(text);
  const std::size_t start = id ? probe::SshIdentificationEnd(text) : 0;
  const ByteView rest(data + start, size - start);
  std::size_t consumed = 0;
  if (auto payload = probe::ParseSshPacket(rest, &consumed)) {
    (void)probe::ParseKexInit(*payload);
    if (auto blob = probe::ParseEcdhReplyHostKey(*payload)) (void)probe::ParseHostKey(*blob);
    CheckEcdhReply(*payload);
    (void)probe::ParseUserauthFailure(*payload);
    // A second packet: what follows the first one.
    std::size_t second = 0;
    if (auto next = probe::ParseSshPacket(rest.subspan(consumed), &second)) {
      CheckEcdhReply(*next);
      (void)probe::ParseUserauthFailure(*next);
    }
  }
  (void)probe::ParseKexInit(rest);
  (void)probe::ParseHostKey(rest);
  (void)probe::ParseSshSignature(rest);
  CheckEcdhReply(rest);
  (void)probe::ParseUserauthFailure(rest);
  OpenEncrypted(AsText(rest));
  // Host key files of an image (OpenSSH public/private, dropbear) are as hostile.
  if (auto blob = probe::HostKeyBlobFromFile(text)) {
    (void)probe::ParseHostKey(
        ByteView(reinterpret_cast<const std::uint8_t*>(blob->data()), blob->size()));
  }
  return 0;
}
