// libFuzzer target: the witness state file parser; what it accepts must re-format to the
// same bytes (one spelling per state).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/witness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = clearbox::ledger::ParseWitnessState(text);
  if (state && clearbox::ledger::FormatWitnessState(*state) != text) __builtin_trap();
  return 0;
}
