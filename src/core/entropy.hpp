// Shannon entropy of bytes, in bits per byte (0..8).
#pragma once

#include "core/byte_reader.hpp"

namespace clearbox {

// Entropy of the whole view; 0 for an empty view.
double ShannonEntropy(ByteView bytes);

}  // namespace clearbox
