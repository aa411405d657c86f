#include "compliance/report_evidence.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <tuple>

#include "compliance/derived_rules.hpp"

namespace clearbox::compliance {
namespace {

using Json = nlohmann::json;

// The analysers of the rule catalogue's `source` field, as report.json shows that they ran.
constexpr std::string_view kAnalyserIdentify = "identify";
constexpr std::string_view kAnalyserInspect = "inspect";
constexpr std::string_view kAnalyserElf = "elf";
constexpr std::string_view kAnalyserVuln = "vuln";
// report.json `input` of a scan that read an SBOM instead of unpacking an image.
constexpr std::string_view kSbomInput = "sbom";
// ELF types (report.json binaries[].type) that are loaded and run, so their hardening matters.
constexpr std::string_view kElfExecutable = "exec";
constexpr std::string_view kElfPie = "pie";
constexpr std::string_view kElfShared = "shared";
// VEX statuses that take a vulnerability out of the evidence.
constexpr std::string_view kVexNotAffected = "not_affected";
constexpr std::string_view kVexFixed = "fixed";

std::string Pointer(std::string_view list, std::size_t index) {
  return "/" + std::string(list) + "/" + std::to_string(index);
}

constexpr std::array<const char*, 4> kEvidenceLists{"findings", "binaries", "vulnerabilities",
                                                    "components"};

// The array `key` of the report (checked by ExtractReportEvidence), or an empty array.
const Json& ListOrEmpty(const Json& report, const char* key) {
  static const Json kEmpty = Json::array();
  const auto it = report.find(key);
  return it == report.end() ? kEmpty : *it;
}

void AddFindings(const Json& report, ReportEvidence& out) {
  const Json& findings = ListOrEmpty(report, "findings");
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const Json& f = findings[i];
    out.items.push_back({f.at("rule").get<std::string>(), Pointer("findings", i),
                         f.at("path").get<std::string>() + ": " + f.value("message", "")});
  }
}

void AddBinaries(const Json& report, ReportEvidence& out) {
  const Json& binaries = ListOrEmpty(report, "binaries");
  for (std::size_t i = 0; i < binaries.size(); ++i) {
    const Json& b = binaries[i];
    const std::string type = b.at("type").get<std::string>();
    if (type != kElfExecutable && type != kElfPie && type != kElfShared) continue;
    const std::string path = b.at("path").get<std::string>();
    const std::string pointer = Pointer("binaries", i);
    auto add = [&](std::string_view rule, const char* gap) {
      out.items.push_back({std::string(rule), pointer, path + ": " + gap});
    };
    if (!b.at("nx").get<bool>()) add(kRuleNoNx, "executable stack (no NX)");
    if (type == kElfExecutable && !b.at("pie").get<bool>()) add(kRuleNoPie, "not a PIE");
    if (!b.at("canary").get<bool>()) add(kRuleNoStackProtector, "no stack protector");
    if (b.at("relro").get<std::string>() == "none") add(kRuleNoRelro, "no RELRO");
    if (b.at("fortify").at("verdict").get<std::string>() == "no") {
      add(kRuleNoFortify, "no FORTIFY_SOURCE");
    }
  }
}

void AddVulnerabilities(const Json& report, ReportEvidence& out) {
  const Json& vulns = ListOrEmpty(report, "vulnerabilities");
  for (std::size_t i = 0; i < vulns.size(); ++i) {
    const Json& v = vulns[i];
    if (v.contains("vex")) {
      const std::string status = v.at("vex").value("status", "");
      if (status == kVexNotAffected || status == kVexFixed) continue;
    }
    const bool kev = v.value("kev", false);
    const Json& component = v.at("component");
    out.items.push_back(
        {std::string(kev ? kRuleKnownExploitedVuln : kRuleKnownVuln), Pointer("vulnerabilities", i),
         v.at("id").get<std::string>() + " in " + component.value("name", "") + " " +
             component.value("version", "") + (kev ? " (known exploited)" : "")});
  }
}

void AddComponents(const Json& report, ReportEvidence& out) {
  const Json& components = ListOrEmpty(report, "components");
  out.component_count = components.size();
  for (std::size_t i = 0; i < components.size(); ++i) {
    const Json& c = components[i];
    if (!c.at("version").get<std::string>().empty()) continue;
    const std::string pointer = Pointer("components", i);
    out.components_without_version.push_back(pointer);
    out.items.push_back({std::string(kRuleComponentWithoutVersion), pointer,
                         "component " + c.at("name").get<std::string>() + " has no version"});
  }
}

// Which analysers produced the report: an SBOM input is not unpacked (no inspect, no ELF);
// vulnerabilities are matched only when the report names the database it used.
void AddAnalysersRun(const Json& report, ReportEvidence& out) {
  out.analysers_run.emplace_back(kAnalyserIdentify);
  if (report.value("input", "") != kSbomInput) {
    out.analysers_run.emplace_back(kAnalyserInspect);
    out.analysers_run.emplace_back(kAnalyserElf);
  }
  if (!report.value("vulnerability_database", "").empty()) {
    out.analysers_run.emplace_back(kAnalyserVuln);
  }
  std::sort(out.analysers_run.begin(), out.analysers_run.end());
}

}  // namespace

Result<ReportEvidence> ExtractReportEvidence(const nlohmann::json& report) {
  ReportEvidence out;
  if (!report.is_object()) return Fail(ErrorCode::kMalformed, "report.json: not an object");
  for (const char* key : kEvidenceLists) {
    if (report.contains(key) && !report.at(key).is_array()) {
      return Fail(ErrorCode::kMalformed, std::string("report.json: /") + key + " is not a list");
    }
  }
  try {
    const Json& image = report.at("image");
    out.image_path = image.value("path", "");
    out.image_size = image.value("size", std::uint64_t{0});
    out.image_sha256 = image.at("sha256").get<std::string>();
    out.created = report.value("created", "");
    AddFindings(report, out);
    AddBinaries(report, out);
    AddVulnerabilities(report, out);
    AddComponents(report, out);
    AddAnalysersRun(report, out);
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kMalformed, std::string("report.json: ") + e.what());
  }
  return out;
}

Result<nlohmann::json> ParseReportJson(std::string_view text, std::string_view origin) {
  Json report = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) {
    return Fail(ErrorCode::kMalformed, std::string(origin) + ": not valid JSON");
  }
  if (!report.is_object() || !report.contains("image") || !report.contains("schema_version")) {
    return Fail(ErrorCode::kMalformed,
                std::string(origin) + ": not a clearbox report.json (no image or schema_version)");
  }
  return report;
}

bool PointerLess(const std::string& a, const std::string& b) {
  auto split = [](const std::string& p) {
    const auto slash = p.rfind('/');
    const std::string parent = slash == std::string::npos ? "" : p.substr(0, slash);
    const std::string last = slash == std::string::npos ? p : p.substr(slash + 1);
    const bool numeric = !last.empty() && last.size() < 19 &&
                         last.find_first_not_of("0123456789") == std::string::npos;
    return std::tuple(parent, numeric ? std::stoull(last) : 0ULL, numeric ? "" : last);
  };
  return split(a) < split(b);
}

}  // namespace clearbox::compliance
