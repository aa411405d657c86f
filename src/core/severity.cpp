#include "core/severity.hpp"

#include <string>

namespace clearbox {

Result<Severity> ParseSeverity(std::string_view name) {
  if (auto severity = FindSeverity(name)) return *severity;
  return Fail(ErrorCode::kInvalidArgument, "unknown severity '" + std::string(name) +
                                               "' (expected critical, high, medium, low or info)");
}

}  // namespace clearbox
