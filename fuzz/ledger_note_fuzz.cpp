// libFuzzer target: the strict signed-note parser and opener.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/note.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)clearbox::ledger::ParseNote(text);
  (void)clearbox::ledger::ParseVerifierKey(text);
  return 0;
}
