// libFuzzer target: the strict tlog-proof and consistency proof file parsers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)clearbox::ledger::ParseInclusionProofFile(text);
  (void)clearbox::ledger::ParseConsistencyProofFile(text);
  return 0;
}
