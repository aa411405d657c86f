// OUT/equiv.html: the equivalence verdict as a self-contained page (src/html), rendered from
// equiv.json so that it says exactly what the JSON says.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace clearbox::equiv {

inline constexpr const char* kEquivHtmlFileName = "equiv.html";
// Paths listed on the page, failing ones first; the rest are counted (equiv.json has them all).
inline constexpr std::size_t kMaxHtmlRows = 20000;

// The page of an equiv.json document (docs/equiv-schema.md); fields it lacks are left out.
std::string RenderEquivHtml(const nlohmann::json& equiv_json);

}  // namespace clearbox::equiv
