// libFuzzer target: notes opened with an Ed25519 cosignature/v1 key (type 0x04 signature
// decoding), cosignature timestamps, and cosigning whatever parses (the result must open).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/note.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clearbox::ledger;
  static const SignerKey cosigner = [] {
    std::array<std::uint8_t, 32> seed{};
    seed[0] = 4;
    return AsCosignerKey(*SignerKeyFromSeed("witness.example/fuzz", seed));
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseSignerKey(text);
  (void)OpenNote(text, {PublicKeyOf(cosigner)});
  auto note = ParseNote(text);
  if (!note) return 0;
  for (const auto& s : note->signatures) (void)CosignatureTime(s);
  auto cosigned = CosignNote(text, cosigner, 1700000000);
  if (cosigned) {
    auto opened = OpenNote(*cosigned, {PublicKeyOf(cosigner)});
    // Other signatures from our key name and ID were replaced, so ours must verify.
    if (!opened) __builtin_trap();
  }
  return 0;
}
