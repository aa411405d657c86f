#include "vuln/sbom_input.hpp"

#include <nlohmann/json.hpp>

#include "vuln/identifiers.hpp"
#include "vuln/json_input.hpp"

namespace clearbox::vuln {
namespace {

using Json = nlohmann::json;

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

const Json& Arr(const Json& j, const char* key) {
  static const Json kEmpty = Json::array();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return (it != j.end() && it->is_array()) ? *it : kEmpty;
}

// Keeps a component if it says who it is; drops identifiers that do not parse.
Result<void> Add(ComponentQuery q, std::vector<ComponentQuery>& out) {
  if (!q.purl.empty() && !ParsePurl(q.purl)) q.purl.clear();
  if (!q.cpe.empty() && !ParseCpe(q.cpe)) q.cpe.clear();
  if (q.name.empty() && q.purl.empty() && q.cpe.empty()) return {};
  if (out.size() >= kMaxSbomComponents) {
    return Fail(ErrorCode::kLimitExceeded,
                "more than " + std::to_string(kMaxSbomComponents) + " components");
  }
  out.push_back(std::move(q));
  return {};
}

Result<void> CycloneDxComponents(const Json& list, int depth, std::vector<ComponentQuery>& out) {
  if (depth > kMaxSbomNesting) return Fail(ErrorCode::kLimitExceeded, "components nested too deep");
  for (const auto& c : list) {
    CLEARBOX_TRY(Add({Str(c, "name"), Str(c, "version"), Str(c, "cpe"), Str(c, "purl")}, out));
    CLEARBOX_TRY(CycloneDxComponents(Arr(c, "components"), depth + 1, out));
  }
  return {};
}

Result<std::vector<ComponentQuery>> ParseCycloneDx(const Json& doc) {
  const std::string spec = Str(doc, "specVersion");
  if (spec != "1.4" && spec != "1.5" && spec != "1.6" && spec != "1.3" && spec != "1.2") {
    return Fail(ErrorCode::kUnsupported, "CycloneDX specVersion '" + spec + "' (1.2-1.6 read)");
  }
  std::vector<ComponentQuery> out;
  CLEARBOX_TRY(CycloneDxComponents(Arr(doc, "components"), 0, out));
  return out;
}

Result<std::vector<ComponentQuery>> ParseSpdx(const Json& doc) {
  const std::string version = Str(doc, "spdxVersion");
  if (!version.starts_with("SPDX-2.")) {
    return Fail(ErrorCode::kUnsupported, "SPDX version '" + version + "' (2.x read)");
  }
  std::vector<ComponentQuery> out;
  for (const auto& p : Arr(doc, "packages")) {
    ComponentQuery q{Str(p, "name"), Str(p, "versionInfo"), "", ""};
    for (const auto& ref : Arr(p, "externalRefs")) {
      const std::string type = Str(ref, "referenceType");
      const std::string locator = Str(ref, "referenceLocator");
      if ((type == "cpe23Type" || type == "cpe22Type") && q.cpe.empty() && ParseCpe(locator)) {
        q.cpe = locator;
      }
      if (type == "purl" && q.purl.empty() && ParsePurl(locator)) q.purl = locator;
    }
    CLEARBOX_TRY(Add(std::move(q), out));
  }
  return out;
}

}  // namespace

Result<std::vector<ComponentQuery>> ParseSbomComponents(std::string_view json) {
  auto doc = Json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Fail(ErrorCode::kMalformed, "SBOM is not a JSON object");
  }
  if (Str(doc, "bomFormat") == "CycloneDX") return ParseCycloneDx(doc);
  if (doc.contains("spdxVersion")) return ParseSpdx(doc);
  return Fail(ErrorCode::kNotThisFormat, "neither CycloneDX nor SPDX JSON");
}

Result<std::vector<ComponentQuery>> ReadSbomComponents(const std::filesystem::path& path) {
  auto bytes = ReadCappedFile(path, kMaxSbomBytes);
  if (!bytes) return Forward(bytes);
  auto components = ParseSbomComponents(*bytes);
  if (!components) {
    return Fail(components.error().code, path.string() + ": " + components.error().message);
  }
  return components;
}

}  // namespace clearbox::vuln
