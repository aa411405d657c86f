// SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/), validated by tests against the
// official schema.
#include <map>
#include <nlohmann/json.hpp>

#include "report/renderers.hpp"
#include "report/sbom_common.hpp"

namespace clearbox::report {
namespace {

using Json = nlohmann::ordered_json;

Json Relationship(const std::string& from, const char* type, const std::string& to) {
  return Json{{"spdxElementId", from}, {"relationshipType", type}, {"relatedSpdxElement", to}};
}

}  // namespace

std::string RenderSpdx(const Evidence& evidence) {
  const auto& image = evidence.manifest.image;
  Json doc;
  doc["spdxVersion"] = "SPDX-2.3";
  doc["dataLicense"] = "CC0-1.0";
  doc["SPDXID"] = "SPDXRef-DOCUMENT";
  doc["name"] = image.path;
  doc["documentNamespace"] = "https://clearbox.dev/spdx/" + image.sha256 + "/" +
                             internal::ContentUuid("spdx\n" + RenderReportJson(evidence));
  doc["creationInfo"] = {
      {"created", Rfc3339(evidence.created_at.value_or(0))},
      {"creators", Json::array({std::string("Tool: ") + kToolName + "-" + kToolVersion})}};

  Json packages = Json::array();
  Json relationships = Json::array();
  packages.push_back(
      {{"SPDXID", "SPDXRef-Image"},
       {"name", image.path},
       {"downloadLocation", "NOASSERTION"},
       {"filesAnalyzed", false},
       {"primaryPackagePurpose", "FIRMWARE"},
       {"checksums", Json::array({Json{{"algorithm", "SHA256"}, {"checksumValue", image.sha256}}})},
       {"licenseConcluded", "NOASSERTION"},
       {"licenseDeclared", "NOASSERTION"},
       {"copyrightText", "NOASSERTION"}});
  relationships.push_back(Relationship("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"));

  std::map<std::string, std::string> file_ids;  // path -> SPDXID
  Json files = Json::array();
  std::size_t file_index = 0;
  for (const auto& f : evidence.files) {
    if (f.type == "directory" || f.type == "symlink" || f.sha256.empty()) continue;
    const std::string id = "SPDXRef-File-" + std::to_string(++file_index);
    file_ids[f.path] = id;
    files.push_back(
        {{"SPDXID", id},
         {"fileName", "./" + f.path},
         {"checksums", Json::array({Json{{"algorithm", "SHA256"}, {"checksumValue", f.sha256}}})},
         {"licenseConcluded", "NOASSERTION"},
         {"copyrightText", "NOASSERTION"},
         {"comment", "type " + f.type + ", " + std::to_string(f.size) + " bytes"}});
    relationships.push_back(Relationship("SPDXRef-Image", "CONTAINS", id));
  }

  std::size_t package_index = 0;
  for (const auto& c : evidence.components) {
    const std::string id = "SPDXRef-Package-" + std::to_string(++package_index);
    Json refs = Json::array();
    if (!c.cpe.empty()) {
      refs.push_back({{"referenceCategory", "SECURITY"},
                      {"referenceType", "cpe23Type"},
                      {"referenceLocator", c.cpe}});
    }
    if (!c.purl.empty()) {
      refs.push_back({{"referenceCategory", "PACKAGE-MANAGER"},
                      {"referenceType", "purl"},
                      {"referenceLocator", c.purl}});
    }
    std::string comment =
        "identified with confidence " + std::to_string(c.confidence.value()) + " by";
    for (const auto& e : c.evidence) {
      comment += "\n" + e.method + ": " + e.path + (e.detail.empty() ? "" : ": " + e.detail);
    }
    Json package{{"SPDXID", id},
                 {"name", c.name},
                 {"downloadLocation", "NOASSERTION"},
                 {"filesAnalyzed", false},
                 {"licenseConcluded", "NOASSERTION"},
                 {"licenseDeclared", "NOASSERTION"},
                 {"copyrightText", "NOASSERTION"},
                 {"comment", comment}};
    if (!c.version.empty()) package["versionInfo"] = c.version;
    if (!refs.empty()) package["externalRefs"] = refs;
    packages.push_back(std::move(package));
    relationships.push_back(Relationship("SPDXRef-Image", "CONTAINS", id));
    for (const auto& path : c.files) {
      auto it = file_ids.find(path);
      if (it != file_ids.end()) relationships.push_back(Relationship(id, "CONTAINS", it->second));
    }
  }
  doc["packages"] = std::move(packages);
  doc["files"] = std::move(files);
  doc["relationships"] = std::move(relationships);
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace clearbox::report
