// CycloneDX 1.6 JSON (https://cyclonedx.org/docs/1.6/json/), validated by tests against the
// official schema.
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "report/renderers.hpp"
#include "report/sbom_common.hpp"

namespace clearbox::report {
namespace {

using Json = nlohmann::ordered_json;

// CycloneDX evidence technique for one of our identification methods.
std::string_view Technique(std::string_view method) {
  if (method == "dpkg" || method == "opkg" || method == "apk") return "manifest-analysis";
  if (method == "signature" || method == "kernel-banner" || method == "vermagic") {
    return "binary-analysis";
  }
  if (method == "filename") return "filename";
  return "other";
}

std::string ComponentType(const identify::Component& c) {
  if (c.name == "linux" || c.name == "linux-kernel") return "operating-system";
  if (c.name == "u-boot") return "firmware";
  return internal::LooksLikeLibrary(c) ? "library" : "application";
}

Json Sha256Hash(const std::string& hex) {
  return Json::array({Json{{"alg", "SHA-256"}, {"content", hex}}});
}

Json ComponentJson(const identify::Component& c, const std::string& ref) {
  Json j{{"type", ComponentType(c)}, {"bom-ref", ref}, {"name", c.name}};
  if (!c.version.empty()) j["version"] = c.version;
  if (!c.cpe.empty()) j["cpe"] = c.cpe;
  if (!c.purl.empty()) j["purl"] = c.purl;
  Json methods = Json::array();
  std::set<std::string> locations;
  for (const auto& e : c.evidence) {
    methods.push_back({{"technique", Technique(e.method)},
                       {"confidence", c.confidence},
                       {"value", e.method + ": " + e.path + (e.detail.empty() ? "" : ": " + e.detail)}});
    if (!e.path.empty()) locations.insert(e.path);
  }
  for (const auto& f : c.files) locations.insert(f);
  Json evidence = Json::object();
  if (!methods.empty()) {
    evidence["identity"] = Json::array({Json{{"field", c.purl.empty() ? "name" : "purl"},
                                             {"confidence", c.confidence},
                                             {"concludedValue", c.purl.empty() ? c.name : c.purl},
                                             {"methods", methods}}});
  }
  if (!locations.empty()) {
    Json occurrences = Json::array();
    for (const auto& l : locations) occurrences.push_back({{"location", l}});
    evidence["occurrences"] = occurrences;
  }
  if (!evidence.empty()) j["evidence"] = evidence;
  return j;
}

}  // namespace

std::string RenderCycloneDx(const Evidence& evidence) {
  const auto& image = evidence.manifest.image;
  Json bom;
  bom["$schema"] = "http://cyclonedx.org/schema/bom-1.6.schema.json";
  bom["bomFormat"] = "CycloneDX";
  bom["specVersion"] = "1.6";
  // Derived from the whole canonical report, so equal evidence gives an equal serial number.
  bom["serialNumber"] = "urn:uuid:" + internal::ContentUuid("cyclonedx\n" + RenderReportJson(evidence));
  bom["version"] = 1;

  Json metadata = Json::object();
  if (evidence.created_at) metadata["timestamp"] = Rfc3339(*evidence.created_at);
  metadata["tools"] = {
      {"components", Json::array({Json{{"type", "application"},
                                       {"name", kToolName},
                                       {"version", kToolVersion}}})}};
  metadata["component"] = {{"type", "firmware"},
                           {"bom-ref", "image"},
                           {"name", image.path},
                           {"hashes", Sha256Hash(image.sha256)}};
  bom["metadata"] = metadata;

  Json components = Json::array();
  Json depends_on = Json::array();
  std::set<std::string> used_refs{"image"};
  for (const auto& c : evidence.components) {
    std::string ref = !c.purl.empty() ? c.purl : "component:" + c.name + "@" + c.version;
    for (int n = 2; used_refs.count(ref); ++n) ref = ref.substr(0, ref.find('#')) + "#" + std::to_string(n);
    used_refs.insert(ref);
    components.push_back(ComponentJson(c, ref));
    depends_on.push_back(ref);
  }
  for (const auto& f : evidence.files) {
    if (f.type == "directory" || f.type == "symlink") continue;
    const std::string ref = "file:" + f.path;
    if (!used_refs.insert(ref).second) continue;
    Json file{{"type", "file"}, {"bom-ref", ref}, {"name", f.path}};
    if (!f.sha256.empty()) file["hashes"] = Sha256Hash(f.sha256);
    file["properties"] =
                           Json::array({Json{{"name", "clearbox:size"}, {"value", std::to_string(f.size)}},
                                        Json{{"name", "clearbox:type"}, {"value", f.type}}});
    components.push_back(std::move(file));
  }
  bom["components"] = std::move(components);
  bom["dependencies"] = Json::array({Json{{"ref", "image"}, {"dependsOn", depends_on}}});
  return bom.dump(2) + "\n";
}

}  // namespace clearbox::report
