// libFuzzer target: the probe's SSH parsers, fed what a hostile server sends first: the
// identification (with pre-banner lines), then the binary packet with KEXINIT, the
// KEX_ECDH_REPLY host key and the host key blob; and the host key files of an image.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probe/join.hpp"
#include "probe/ssh.hpp"

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
  }
  (void)probe::ParseKexInit(rest);
  (void)probe::ParseHostKey(rest);
  // Host key files of an image (OpenSSH public/private, dropbear) are as hostile.
  if (auto blob = probe::HostKeyBlobFromFile(text)) {
    (void)probe::ParseHostKey(
        ByteView(reinterpret_cast<const std::uint8_t*>(blob->data()), blob->size()));
  }
  return 0;
}
