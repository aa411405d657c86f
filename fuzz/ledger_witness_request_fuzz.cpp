// libFuzzer target: c2sp.org/tlog-witness add-checkpoint request bodies, strict parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/witness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)clearbox::ledger::ParseAddCheckpointRequest(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
