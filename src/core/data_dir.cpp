#include "core/data_dir.hpp"

#include <cstdlib>

namespace clearbox {

std::filesystem::path DataDir() {
  const char* from_env = std::getenv("CLEARBOX_DATA_DIR");
  if (from_env != nullptr && *from_env != '\0') return from_env;
  return CLEARBOX_DEFAULT_DATA_DIR;
}

}  // namespace clearbox
