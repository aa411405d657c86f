// libFuzzer target: the strict in-toto Statement v1 parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/dsse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)clearbox::ledger::ParseStatement(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
