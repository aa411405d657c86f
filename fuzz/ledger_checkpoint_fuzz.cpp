// libFuzzer target: the strict tlog-checkpoint body parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)clearbox::ledger::ParseCheckpoint(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
