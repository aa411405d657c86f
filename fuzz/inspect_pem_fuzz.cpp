// libFuzzer target for the quoted-PEM path of src/inspect/crypto_material: NormalizePemBlock
// on the input (its output bound is checked), then InspectPem on the input and on the input
// behind a BEGIN line, as a JSON string, so unescaping and OpenSSL decoding see hostile text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/crypto_material.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox::inspect;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string normalized = NormalizePemBlock(text);
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n';
  if (normalized.size() > text.size() + lines) __builtin_trap();
  std::vector<Finding> out;
  std::vector<KeyRecord> keys;
  const KnownKeyIndex known;
  const CryptoContext context{"fuzz", 1767225600, TrustStoreKind::kNone, &known, &keys};
  const std::string quoted =
      "-----BEGIN RSA PRIVATE KEY-----\\n" + std::string(text) + "\\n-----END RSA PRIVATE KEY-----";
  for (const std::string_view input : {text, std::string_view(quoted)}) {
    if (!input.starts_with("-----BEGIN ")) continue;
    const clearbox::ByteView bytes(reinterpret_cast<const std::uint8_t*>(input.data()),
                                   input.size());
    if (InspectPem(bytes, 0, context, out) > input.size()) __builtin_trap();
  }
  return 0;
}
