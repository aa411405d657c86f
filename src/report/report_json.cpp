// report.json: the canonical scan result. The field list is documented in docs/report-schema.md.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "report/renderers.hpp"

namespace clearbox::report {
namespace {

using Json = nlohmann::ordered_json;

Json Strings(const std::vector<std::string>& values) {
  Json out = Json::array();
  for (const auto& v : values) out.push_back(v);
  return out;
}

std::string OctalMode(std::uint32_t mode) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04o", mode & 07777U);
  return buffer;
}

Json ImageJson(const unpack::ImageRecord& image) {
  return Json{{"path", image.path}, {"size", image.size}, {"sha256", image.sha256}};
}

Json FileJson(const FileRecord& f) {
  Json j{{"path", f.path}, {"type", f.type}, {"mode", OctalMode(f.mode)}};
  if (f.type == "symlink") {
    j["target"] = f.link_target;
  } else if (f.type != "directory") {
    j["size"] = f.size;
    j["sha256"] = f.sha256;
  }
  return j;
}

Json BinaryJson(const BinaryRecord& b) {
  const elf::BinaryReport& r = b.facts;
  return Json{{"path", b.path},
              {"arch", r.arch},
              {"bits", r.bits},
              {"endian", r.endian},
              {"type", r.type},
              {"nx", r.nx},
              {"pie", r.pie},
              {"relro", r.relro},
              {"canary", r.canary},
              {"fortify",
               {{"fortified", r.fortify.fortified},
                {"fortifiable", r.fortify.fortifiable},
                {"verdict", r.fortify.verdict}}},
              {"rpath", Strings(r.rpath)},
              {"runpath", Strings(r.runpath)},
              {"stripped", r.stripped},
              {"cet", {{"ibt", r.ibt}, {"shstk", r.shstk}}},
              {"interpreter", r.interpreter},
              {"soname", r.soname},
              {"needed", Strings(r.needed)}};
}

Json ComponentJson(const identify::Component& c, const std::string& ref) {
  Json evidence = Json::array();
  for (const auto& e : c.evidence) {
    evidence.push_back({{"method", e.method}, {"path", e.path}, {"detail", e.detail}});
  }
  return Json{{"ref", ref},           {"name", c.name},
              {"version", c.version}, {"cpe", c.cpe},
              {"purl", c.purl},       {"confidence", c.confidence.value()},
              {"evidence", evidence}, {"files", Strings(c.files)}};
}

Json VulnerabilityJson(const VulnerabilityRecord& v, const identify::Component& c,
                       const std::string& ref) {
  const vuln::VulnerabilityMatch& m = v.match;
  Json j{{"id", m.id},
         {"component", {{"ref", ref}, {"name", c.name}, {"version", c.version}}},
         {"matched", m.matched},
         {"match_kind", ToString(m.match_kind)},
         {"decided_by", m.decided_by},
         {"confidence", ToString(m.confidence)},
         {"cvss",
          {{"score", m.cvss_score},
           {"version", m.cvss_version},
           {"vector", m.cvss_vector},
           {"severity", vuln::SeverityName(m)}}},
         {"kev", m.kev},
         {"epss", m.epss},
         {"cwes", Strings(m.cwes)},
         {"published", m.published},
         {"modified", m.modified},
         {"conditions", Strings(m.conditions)},
         {"aliases", Strings(m.aliases)},
         {"description", m.description}};
  if (!v.vex_status.empty()) {
    j["vex"] = {
        {"status", v.vex_status}, {"justification", v.vex_justification}, {"detail", v.vex_detail}};
  }
  return j;
}

Json FindingJson(const inspect::Finding& f) {
  return Json{{"rule", f.rule},       {"severity", std::string(ToString(f.severity))},
              {"path", f.path},       {"offset", f.offset},
              {"message", f.message}, {"evidence", f.evidence}};
}

Json SummaryCounts(const Evidence& evidence) {
  std::map<Severity, std::size_t> by_severity;
  for (const auto& f : evidence.findings) ++by_severity[f.severity];
  Json severities = Json::object();
  for (const Severity s : kSeveritiesWorstFirst) {
    severities[std::string(ToString(s))] = by_severity.count(s) ? by_severity.at(s) : 0;
  }
  return Json{{"files", evidence.files.size()},
              {"binaries", evidence.binaries.size()},
              {"components", evidence.components.size()},
              {"findings", evidence.findings.size()},
              {"findings_by_severity", severities},
              {"vulnerabilities", evidence.vulnerabilities.size()},
              {"known_exploited",
               std::count_if(evidence.vulnerabilities.begin(), evidence.vulnerabilities.end(),
                             [](const auto& v) { return v.match.kev; })},
              {"problems", evidence.manifest.problems.size()},
              {"analysis_problems", evidence.analysis_problems.size()}};
}

}  // namespace

std::string RenderReportJson(const Evidence& evidence) {
  Json report;
  report["schema"] = "https://clearbox.dev/schemas/report";
  report["schema_version"] = kReportSchemaVersion;
  report["tool"] = {{"name", kToolName}, {"version", kToolVersion}};
  if (evidence.created_at) report["created"] = Rfc3339(*evidence.created_at);
  report["input"] = evidence.input_kind;
  report["image"] = ImageJson(evidence.manifest.image);
  report["vulnerability_database"] = evidence.vuln_database;
  report["summary"] = SummaryCounts(evidence);
  report["libc"] = evidence.libc_path;

  Json chunks = Json::array();
  for (const auto& c : evidence.manifest.chunks) {
    Json j{{"container", c.container},
           {"offset", c.offset},
           {"format", c.format},
           {"extracted_to", c.extracted_to},
           {"complete", c.complete}};
    if (c.length) j["length"] = *c.length;
    // What the handler read from the header: all a recognised-only chunk (encrypted
    // container, RTOS image) has to say.
    if (!c.metadata.empty()) j["metadata"] = c.metadata;
    chunks.push_back(std::move(j));
  }
  Json problems = Json::array();
  for (const auto& p : evidence.manifest.problems) {
    Json j{{"kind", p.kind}, {"path", p.path}, {"handler", p.handler}, {"message", p.message}};
    if (p.offset) j["offset"] = *p.offset;
    problems.push_back(std::move(j));
  }
  report["unpack"] = {{"chunks", chunks}, {"problems", problems}};

  Json files = Json::array();
  for (const auto& f : evidence.files) files.push_back(FileJson(f));
  report["files"] = std::move(files);
  Json binaries = Json::array();
  for (const auto& b : evidence.binaries) binaries.push_back(BinaryJson(b));
  report["binaries"] = std::move(binaries);
  Json components = Json::array();
  const std::vector<std::string> refs = ComponentRefs(evidence);
  for (std::size_t i = 0; i < evidence.components.size(); ++i) {
    components.push_back(ComponentJson(evidence.components[i], refs[i]));
  }
  report["components"] = std::move(components);
  Json analysis_problems = Json::array();
  for (const auto& p : evidence.analysis_problems) {
    analysis_problems.push_back(
        {{"path", p.path}, {"analyser", p.analyser}, {"kind", p.kind}, {"message", p.message}});
  }
  report["analysis_problems"] = std::move(analysis_problems);
  Json vulnerabilities = Json::array();
  for (const auto& v : evidence.vulnerabilities) {
    vulnerabilities.push_back(
        VulnerabilityJson(v, evidence.components[v.component], refs[v.component]));
  }
  report["vulnerabilities"] = std::move(vulnerabilities);
  Json findings = Json::array();
  for (const auto& f : evidence.findings) findings.push_back(FindingJson(f));
  report["findings"] = std::move(findings);
  return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string Rfc3339(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace clearbox::report
