// CycloneDX 1.6 JSON (https://cyclonedx.org/docs/1.6/json/), validated by tests against the
// official schema.
#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/hex.hpp"
#include "report/renderers.hpp"
#include "report/sbom_common.hpp"

namespace clearbox::report {
namespace {

using Json = nlohmann::ordered_json;

std::string FormatEpss(double epss) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.5f", epss);
  return buffer;
}

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
    methods.push_back(
        {{"technique", Technique(e.method)},
         {"confidence", c.confidence.value()},
         {"value", e.method + ": " + e.path + (e.detail.empty() ? "" : ": " + e.detail)}});
    if (!e.path.empty()) locations.insert(e.path);
  }
  for (const auto& f : c.files) locations.insert(f);
  Json evidence = Json::object();
  if (!methods.empty()) {
    evidence["identity"] = Json::array({Json{{"field", c.purl.empty() ? "name" : "purl"},
                                             {"confidence", c.confidence.value()},
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

// NVD times lack a zone ("2022-03-15T17:15:08.513"); they are UTC, so say so.
std::string Rfc3339Utc(const std::string& time) {
  if (time.empty() || time.back() == 'Z' || time.find('+', 10) != std::string::npos) return time;
  return time + "Z";
}

std::string CvssMethod(const std::string& version) {
  if (version.starts_with("2")) return "CVSSv2";
  if (version == "3.1") return "CVSSv31";
  if (version.starts_with("3")) return "CVSSv3";
  if (version.starts_with("4")) return "CVSSv4";
  return "other";
}

// CycloneDX analysis state and justification for an OpenVEX status and justification.
std::pair<std::string, std::string> CdxAnalysis(const std::string& status,
                                                const std::string& justification) {
  static const std::map<std::string, std::string> kStates = {{"not_affected", "not_affected"},
                                                             {"affected", "exploitable"},
                                                             {"fixed", "resolved"},
                                                             {"under_investigation", "in_triage"}};
  static const std::map<std::string, std::string> kJustifications = {
      {"component_not_present", "code_not_present"},
      {"vulnerable_code_not_present", "code_not_present"},
      {"vulnerable_code_not_in_execute_path", "code_not_reachable"},
      {"vulnerable_code_cannot_be_controlled_by_adversary", "requires_environment"},
      {"inline_mitigations_already_exist", "protected_by_mitigating_control"},
      {"code_not_present", "code_not_present"},
      {"code_not_reachable", "code_not_reachable"},
      {"requires_configuration", "requires_configuration"},
      {"requires_dependency", "requires_dependency"},
      {"requires_environment", "requires_environment"},
      {"protected_by_compiler", "protected_by_compiler"},
      {"protected_at_runtime", "protected_at_runtime"},
      {"protected_at_perimeter", "protected_at_perimeter"},
      {"protected_by_mitigating_control", "protected_by_mitigating_control"}};
  const auto state = kStates.find(status);
  const auto just = kJustifications.find(justification);
  return {state == kStates.end() ? "in_triage" : state->second,
          just == kJustifications.end() ? "" : just->second};
}

Json VulnerabilityJson(const VulnerabilityRecord& v, const std::string& component_ref) {
  const vuln::VulnerabilityMatch& m = v.match;
  const bool is_cve = m.id.starts_with("CVE-");
  Json j{{"bom-ref", m.id + "@" + component_ref}, {"id", m.id}};
  if (is_cve) {
    j["source"] = {{"name", "NVD"}, {"url", "https://nvd.nist.gov/vuln/detail/" + m.id}};
  }
  if (!m.cvss_version.empty() || m.severity) {
    Json rating{{"method", CvssMethod(m.cvss_version)}};
    if (is_cve) rating["source"] = {{"name", "NVD"}};
    if (m.cvss_score > 0) rating["score"] = m.cvss_score;
    // CycloneDX's severities are ours plus "none" and "unknown".
    rating["severity"] = m.severity ? ToString(*m.severity) : "unknown";
    if (!m.cvss_vector.empty()) rating["vector"] = m.cvss_vector;
    j["ratings"] = Json::array({rating});
  }
  Json cwes = Json::array();
  for (const auto& cwe : m.cwes) {
    if (cwe.starts_with("CWE-") && cwe.size() > 4 &&
        cwe.find_first_not_of("0123456789", 4) == std::string::npos && cwe.size() < 14) {
      cwes.push_back(std::stoll(cwe.substr(4)));
    }
  }
  if (!cwes.empty()) j["cwes"] = cwes;
  if (!m.description.empty()) j["description"] = m.description;
  if (!m.published.empty()) j["published"] = Rfc3339Utc(m.published);
  if (!m.modified.empty()) j["updated"] = Rfc3339Utc(m.modified);
  if (!v.vex_status.empty()) {
    const auto [state, justification] = CdxAnalysis(v.vex_status, v.vex_justification);
    Json analysis{{"state", state}};
    if (!justification.empty()) analysis["justification"] = justification;
    std::string detail = v.vex_detail;
    if (justification.empty() && !v.vex_justification.empty()) {
      detail = v.vex_justification + (detail.empty() ? "" : ": " + detail);
    }
    if (!detail.empty()) analysis["detail"] = detail;
    j["analysis"] = analysis;
  }
  j["affects"] = Json::array({Json{{"ref", component_ref}}});
  j["properties"] =
      Json::array({Json{{"name", "clearbox:matched"}, {"value", m.matched}},
                   Json{{"name", "clearbox:match-kind"}, {"value", ToString(m.match_kind)}},
                   Json{{"name", "clearbox:decided-by"}, {"value", m.decided_by}},
                   Json{{"name", "clearbox:confidence"}, {"value", ToString(m.confidence)}},
                   Json{{"name", "clearbox:kev"}, {"value", m.kev ? "true" : "false"}},
                   Json{{"name", "clearbox:epss"}, {"value", FormatEpss(m.epss)}}});
  return j;
}

// The UUID of sbom.cdx.json, derived from the canonical report so equal evidence gives an
// equal serial number; vex.cdx.json links to its components through it.
std::string SbomUuid(const Evidence& evidence) {
  return internal::ContentUuid("cyclonedx\n" + RenderReportJson(evidence));
}

// RFC 3986 percent-encoding of a bom-ref for the fragment of a BOM-Link.
std::string FragmentEncode(std::string_view ref) {
  std::string out;
  for (unsigned char ch : ref) {
    if (std::isalnum(ch) || std::string_view("-._~:@/?!$&'()*+,;=").find(static_cast<char>(ch)) !=
                                std::string_view::npos) {
      out.push_back(static_cast<char>(ch));
    } else {
      out += '%';
      AppendHexByte(out, ch, /*upper=*/true);
    }
  }
  return out;
}

}  // namespace

std::string RenderCycloneDxVex(const Evidence& evidence) {
  const std::string sbom_uuid = SbomUuid(evidence);
  Json bom;
  bom["$schema"] = "http://cyclonedx.org/schema/bom-1.6.schema.json";
  bom["bomFormat"] = "CycloneDX";
  bom["specVersion"] = "1.6";
  bom["serialNumber"] = "urn:uuid:" + internal::ContentUuid("cyclonedx-vex\n" + sbom_uuid);
  bom["version"] = 1;
  Json metadata = Json::object();
  if (evidence.created_at) metadata["timestamp"] = Rfc3339(*evidence.created_at);
  metadata["tools"] = {{"components", Json::array({Json{{"type", "application"},
                                                        {"name", kToolName},
                                                        {"version", kToolVersion}}})}};
  bom["metadata"] = metadata;
  const std::vector<std::string> refs = ComponentRefs(evidence);
  Json vulnerabilities = Json::array();
  for (const auto& v : evidence.vulnerabilities) {
    Json j = VulnerabilityJson(v, refs[v.component]);
    // BOM-Link (CycloneDX 1.6 "refLinkType") to the component in sbom.cdx.json.
    j["affects"] = Json::array(
        {Json{{"ref", "urn:cdx:" + sbom_uuid + "/1#" + FragmentEncode(refs[v.component])}}});
    if (!j.contains("analysis")) j["analysis"] = {{"state", "in_triage"}};
    vulnerabilities.push_back(std::move(j));
  }
  bom["vulnerabilities"] = std::move(vulnerabilities);
  return bom.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string RenderCycloneDx(const Evidence& evidence) {
  const auto& image = evidence.manifest.image;
  Json bom;
  bom["$schema"] = "http://cyclonedx.org/schema/bom-1.6.schema.json";
  bom["bomFormat"] = "CycloneDX";
  bom["specVersion"] = "1.6";
  // Derived from the whole canonical report, so equal evidence gives an equal serial number.
  bom["serialNumber"] = "urn:uuid:" + SbomUuid(evidence);
  bom["version"] = 1;

  Json metadata = Json::object();
  if (evidence.created_at) metadata["timestamp"] = Rfc3339(*evidence.created_at);
  metadata["tools"] = {{"components", Json::array({Json{{"type", "application"},
                                                        {"name", kToolName},
                                                        {"version", kToolVersion}}})}};
  metadata["component"] = {{"type", "firmware"},
                           {"bom-ref", "image"},
                           {"name", image.path},
                           {"hashes", Sha256Hash(image.sha256)}};
  bom["metadata"] = metadata;

  Json components = Json::array();
  Json depends_on = Json::array();
  const std::vector<std::string> refs = ComponentRefs(evidence);
  std::set<std::string> used_refs(refs.begin(), refs.end());
  used_refs.insert("image");
  for (std::size_t i = 0; i < evidence.components.size(); ++i) {
    components.push_back(ComponentJson(evidence.components[i], refs[i]));
    depends_on.push_back(refs[i]);
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
  if (!evidence.vulnerabilities.empty()) {
    Json vulnerabilities = Json::array();
    for (const auto& v : evidence.vulnerabilities) {
      vulnerabilities.push_back(VulnerabilityJson(v, refs[v.component]));
    }
    bom["vulnerabilities"] = std::move(vulnerabilities);
  }
  return bom.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace clearbox::report
