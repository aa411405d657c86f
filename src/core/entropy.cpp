#include "core/entropy.hpp"

#include <array>
#include <cmath>
#include <cstdint>

namespace clearbox {

double ShannonEntropy(ByteView bytes) {
  if (bytes.empty()) return 0.0;
  std::array<std::uint64_t, 256> counts{};
  for (std::uint8_t b : bytes) ++counts[b];
  double entropy = 0.0;
  const double n = static_cast<double>(bytes.size());
  for (std::uint64_t c : counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / n;
    entropy -= p * std::log2(p);
  }
  return entropy;
}

}  // namespace clearbox
