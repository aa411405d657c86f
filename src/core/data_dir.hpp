// DataDir: where clearbox finds its data files (signatures, rules, catalogues, snapshots).
#pragma once

#include <filesystem>

namespace clearbox {

// The data directory: $CLEARBOX_DATA_DIR when set and non-empty, else the source tree's
// data/ folder recorded at build time. The directory is not checked for existence.
std::filesystem::path DataDir();

}  // namespace clearbox
