// Helpers shared by the src/elf tests: fixture scripts, checksec and readelf as oracles.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "elf/hardening.hpp"
#include "support/test_support.hpp"

namespace clearbox::elf::testing {

// One checksec result: its JSON fields ("relro", "canary", "nx", "pie", "rpath", "runpath",
// "symbols", "fortify_source", "fortified", "fortify-able").
using ChecksecFields = std::map<std::string, std::string>;

// The source tree (CLEARBOX_SOURCE_DIR, else the configured one).
std::string SourceDir();

// Runs Debian's checksec once over `files` (--listfile, JSON) and returns file -> fields.
std::map<std::string, ChecksecFields> RunChecksec(const std::vector<std::string>& files,
                                                  const clearbox::testing::fs::path& scratch);

// Reads a file whole (the tests' fixtures are small).
std::string Slurp(const std::string& path);

// Our report in checksec's vocabulary (same keys and values as ChecksecFields).
ChecksecFields AsChecksec(const BinaryReport& report);

// Why checksec's FORTIFY counts differ from ours, recomputed from `readelf --dyn-syms`:
// checksec counts every dynamic symbol (defined ones too) after stripping leading
// underscores and the version. Returns the numbers checksec should print after removing
// the documented differences, i.e. what we must print; `classes` gets one word per
// difference met ("defined", "underscore-alias", "siglongjmp").
struct FortifyExplanation {
  int fortified = 0;
  int fortifiable = 0;
  std::vector<std::string> classes;
};
FortifyExplanation ExplainFortify(const std::string& file, const FortifyCatalog& libc,
                                  const ChecksecFields& checksec);

// Reads a tab-separated file into rows of fields.
std::vector<std::vector<std::string>> ReadTsv(const std::string& path);

}  // namespace clearbox::elf::testing
