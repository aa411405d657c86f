// DataDir: where clearbox finds its data files (signatures, rules, catalogues, snapshots).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace clearbox {

// The data directory, first of: $CLEARBOX_DATA_DIR when set and non-empty; share/clearbox
// beside the installed binary (<exe>/../share/clearbox) when it exists; the source tree's
// data/ when the running binary lies inside the build tree it was built in; else the
// installed location, which then does not exist. The result is not checked (see CheckDataDir).
std::filesystem::path DataDir();

// The data files every analysis needs, relative to the data directory.
const std::vector<std::string>& RequiredDataEntries();

// `dir` itself when it holds every required entry; else an error naming the directory, each
// missing entry and how to point clearbox at its data.
Result<std::filesystem::path> CheckDataDir(const std::filesystem::path& dir);

// The data directory a command uses: `chosen` (a --data-dir option) when not empty, else
// DataDir(); checked by CheckDataDir.
Result<std::filesystem::path> FindDataDir(const std::filesystem::path& chosen);

}  // namespace clearbox
