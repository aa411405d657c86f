// Helpers shared by the SBOM renderers (internal to src/report).
#pragma once

#include <string>
#include <string_view>

#include "report/evidence.hpp"

namespace clearbox::report::internal {

// A UUID (version 5 layout, RFC 4122 variant) derived from SHA-256 of `seed`.
std::string ContentUuid(std::string_view seed);

// True when the component's evidence points at a shared library ("lib*.so*").
bool LooksLikeLibrary(const identify::Component& component);

}  // namespace clearbox::report::internal
