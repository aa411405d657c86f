#include "vuln/vex.hpp"

#include <map>
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

Result<VexStatus> OpenVexStatus(const std::string& s) {
  if (s == "not_affected") return VexStatus::kNotAffected;
  if (s == "affected") return VexStatus::kAffected;
  if (s == "fixed") return VexStatus::kFixed;
  if (s == "under_investigation") return VexStatus::kUnderInvestigation;
  return Fail(ErrorCode::kMalformed, "unknown OpenVEX status '" + s + "'");
}

Result<VexStatus> CycloneDxState(const std::string& s) {
  if (s == "not_affected" || s == "false_positive") return VexStatus::kNotAffected;
  if (s == "exploitable") return VexStatus::kAffected;
  if (s == "resolved" || s == "resolved_with_pedigree") return VexStatus::kFixed;
  if (s == "in_triage" || s.empty()) return VexStatus::kUnderInvestigation;
  return Fail(ErrorCode::kMalformed, "unknown CycloneDX analysis state '" + s + "'");
}

void AddProduct(const Json& p, std::vector<std::string>& out) {
  if (p.is_string()) {
    out.push_back(p.get<std::string>());
    return;
  }
  if (!p.is_object()) return;
  for (const char* key : {"@id", "purl", "cpe"}) {
    if (auto s = Str(p, key); !s.empty()) out.push_back(s);
  }
  if (p.contains("identifiers") && p["identifiers"].is_object()) {
    for (const char* key : {"purl", "cpe23", "cpe22"}) {
      if (auto s = Str(p["identifiers"], key); !s.empty()) out.push_back(s);
    }
  }
}

Result<VexStatements> ParseOpenVex(const Json& doc) {
  VexStatements out;
  const std::string doc_time = Str(doc, "timestamp");
  for (const auto& st : Arr(doc, "statements")) {
    if (out.statements.size() >= kMaxVexStatements) {
      return Fail(ErrorCode::kLimitExceeded, "too many VEX statements");
    }
    VexStatement s;
    s.format = "openvex";
    const Json* vuln =
        st.is_object() && st.contains("vulnerability") ? &st["vulnerability"] : nullptr;
    if (vuln != nullptr && vuln->is_string()) s.vulnerability = vuln->get<std::string>();
    if (vuln != nullptr && vuln->is_object()) s.vulnerability = Str(*vuln, "name");
    if (s.vulnerability.empty())
      return Fail(ErrorCode::kMalformed, "statement without vulnerability");
    auto status = OpenVexStatus(Str(st, "status"));
    if (!status) return Forward(status);
    s.status = *status;
    for (const auto& p : Arr(st, "products")) {
      AddProduct(p, s.products);
      for (const auto& sub : Arr(p, "subcomponents")) AddProduct(sub, s.products);
    }
    s.justification = Str(st, "justification");
    s.impact_statement = Str(st, "impact_statement");
    s.action_statement = Str(st, "action_statement");
    s.timestamp = Str(st, "timestamp");
    if (s.timestamp.empty()) s.timestamp = doc_time;
    out.statements.push_back(std::move(s));
  }
  return out;
}

void CollectRefs(const Json& components, std::map<std::string, std::vector<std::string>>& refs,
                 int depth) {
  if (depth > 64) return;
  for (const auto& c : components) {
    const std::string ref = Str(c, "bom-ref");
    if (!ref.empty()) {
      auto& ids = refs[ref];
      for (const char* key : {"purl", "cpe"}) {
        if (auto s = Str(c, key); !s.empty()) ids.push_back(s);
      }
      const std::string name = Str(c, "name");
      if (!name.empty()) {
        const std::string version = Str(c, "version");
        ids.push_back(version.empty() ? name : name + "@" + version);
      }
    }
    CollectRefs(Arr(c, "components"), refs, depth + 1);
  }
}

Result<VexStatements> ParseCycloneDxVex(const Json& doc) {
  std::map<std::string, std::vector<std::string>> refs;
  CollectRefs(Arr(doc, "components"), refs, 0);
  if (doc.contains("metadata") && doc["metadata"].is_object() &&
      doc["metadata"].contains("component")) {
    CollectRefs(Json::array({doc["metadata"]["component"]}), refs, 0);
  }
  VexStatements out;
  for (const auto& v : Arr(doc, "vulnerabilities")) {
    if (out.statements.size() >= kMaxVexStatements) {
      return Fail(ErrorCode::kLimitExceeded, "too many VEX statements");
    }
    VexStatement s;
    s.format = "cyclonedx";
    s.vulnerability = Str(v, "id");
    if (s.vulnerability.empty()) return Fail(ErrorCode::kMalformed, "vulnerability without id");
    const Json analysis = v.is_object() && v.contains("analysis") ? v["analysis"] : Json::object();
    auto status = CycloneDxState(Str(analysis, "state"));
    if (!status) return Forward(status);
    s.status = *status;
    s.justification = Str(analysis, "justification");
    s.impact_statement = Str(analysis, "detail");
    for (const auto& r : Arr(analysis, "response")) {
      if (r.is_string())
        s.action_statement += (s.action_statement.empty() ? "" : ", ") + r.get<std::string>();
    }
    s.timestamp = Str(analysis, "lastUpdated");
    if (s.timestamp.empty()) s.timestamp = Str(v, "updated");
    for (const auto& a : Arr(v, "affects")) {
      const std::string ref = Str(a, "ref");
      if (ref.empty()) continue;
      if (auto it = refs.find(ref); it != refs.end()) {
        s.products.insert(s.products.end(), it->second.begin(), it->second.end());
      } else {
        s.products.push_back(ref);  // a purl, or an external BOM-Link / cve-bin-tool urn
      }
    }
    out.statements.push_back(std::move(s));
  }
  return out;
}

bool SameText(std::string_view a, std::string_view b) {
  return AsciiLower(a) == AsciiLower(b);
}

// "urn:cbt:1/vendor#product:version" (cve-bin-tool's references) -> product, version.
bool ParseCbtRef(std::string_view ref, std::string* product, std::string* version) {
  if (!ref.starts_with("urn:cbt:")) return false;
  const auto hash = ref.find('#');
  if (hash == std::string_view::npos) return false;
  std::string_view rest = ref.substr(hash + 1);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return false;
  *product = std::string(rest.substr(0, colon));
  *version = std::string(rest.substr(colon + 1));
  return true;
}

bool ProductMatches(const std::string& product, const ComponentQuery& c) {
  if (product.starts_with("pkg:")) {
    auto want = ParsePurl(product);
    auto have = ParsePurl(c.purl);
    if (!want || !have) return false;
    if (want->Key() != have->Key()) return false;
    return want->version.empty() || want->version == have->version;
  }
  if (product.starts_with("cpe:")) {
    auto want = ParseCpe(product);
    auto have = ParseCpe(c.cpe);
    if (!want || !have) return false;
    if (want->vendor != have->vendor || want->product != have->product) return false;
    return want->version == "*" || want->version == "-" || want->version == have->version;
  }
  std::string name, version;
  if (ParseCbtRef(product, &name, &version)) {
    return SameText(name, c.name) && (version.empty() || version == c.version);
  }
  if (SameText(product, c.name)) return true;
  return !c.version.empty() && SameText(product, c.name + "@" + c.version);
}

}  // namespace

std::string_view VexStatusName(VexStatus status) {
  switch (status) {
    case VexStatus::kNotAffected: return "not_affected";
    case VexStatus::kAffected: return "affected";
    case VexStatus::kFixed: return "fixed";
    case VexStatus::kUnderInvestigation: return "under_investigation";
  }
  return "under_investigation";
}

const VexStatement* VexStatements::Find(std::string_view vulnerability,
                                        const ComponentQuery& component) const {
  const VexStatement* found = nullptr;
  for (const auto& s : statements) {
    if (!SameText(s.vulnerability, vulnerability)) continue;
    bool applies = s.products.empty();
    for (const auto& p : s.products) {
      if (applies) break;
      applies = ProductMatches(p, component);
    }
    if (applies && (found == nullptr || s.timestamp >= found->timestamp)) found = &s;
  }
  return found;
}

Result<VexStatements> ParseVex(std::string_view json) {
  auto doc = Json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Fail(ErrorCode::kMalformed, "VEX document is not a JSON object");
  }
  const std::string context = Str(doc, "@context");
  if (context.find("openvex") != std::string::npos || doc.contains("statements")) {
    return ParseOpenVex(doc);
  }
  if (Str(doc, "bomFormat") == "CycloneDX") return ParseCycloneDxVex(doc);
  return Fail(ErrorCode::kNotThisFormat, "neither OpenVEX nor CycloneDX");
}

Result<VexStatements> ReadVex(const std::filesystem::path& path) {
  auto bytes = ReadCappedFile(path, kMaxVexBytes);
  if (!bytes) return Forward(bytes);
  auto vex = ParseVex(*bytes);
  if (!vex) return Fail(vex.error().code, path.string() + ": " + vex.error().message);
  return vex;
}

}  // namespace clearbox::vuln
