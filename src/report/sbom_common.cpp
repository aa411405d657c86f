#include "report/sbom_common.hpp"

#include "core/hashing.hpp"

namespace clearbox::report::internal {

std::string ContentUuid(std::string_view seed) {
  std::string hex =
      Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()));
  hex[12] = '5';
  static constexpr char kVariant[] = "89ab";
  hex[16] = kVariant[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

bool LooksLikeLibrary(const identify::Component& component) {
  auto is_library_path = [](std::string_view path) {
    const auto slash = path.find_last_of('/');
    const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    return base.starts_with("lib") && base.find(".so") != std::string_view::npos;
  };
  for (const auto& e : component.evidence) {
    if (is_library_path(e.path)) return true;
  }
  return false;
}

}  // namespace clearbox::report::internal
