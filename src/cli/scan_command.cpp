// `clearbox scan IMAGE -o OUT`: unpack, analyse, and write report.json and the SBOMs.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/data_dir.hpp"
#include "core/exit_codes.hpp"
#include "core/read_file.hpp"
#include "core/severity.hpp"
#include "html/report_page.hpp"
#include "report/renderers.hpp"
#include "scan/scanner.hpp"

namespace clearbox::cli {
namespace {

namespace fs = std::filesystem;

struct ScanArgs {
  ScanSettings settings;  // the image, limits, data, vulnerability options
  std::string output_dir;
  std::string fail_on;
  bool quiet = false;
  ComplianceArgs compliance;  // --standard, --declarations
};

// "info", "low", "medium", "high", "critical": the values of --fail-on.
std::vector<std::string> SeverityNamesMildestFirst() {
  std::vector<std::string> names;
  for (auto it = kSeveritiesWorstFirst.rbegin(); it != kSeveritiesWorstFirst.rend(); ++it) {
    names.emplace_back(ToString(*it));
  }
  return names;
}

// SOURCE_DATE_EPOCH (https://reproducible-builds.org/specs/source-date-epoch/), if valid.
std::optional<std::int64_t> SourceDateEpoch() {
  const char* value = std::getenv("SOURCE_DATE_EPOCH");
  if (value == nullptr || *value == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long seconds = std::strtoll(value, &end, 10);
  if (errno != 0 || *end != '\0' || seconds < 0) return std::nullopt;
  return seconds;
}

// Compliance verdicts from the report.json just written (the same path as `clearbox assess`).
int AssessWrittenReport(const ScanArgs& args) {
  const fs::path report = fs::path(args.output_dir) / "report.json";
  auto text = ReadFileCapped(report, kMaxReportJsonBytes);
  if (!text) {
    std::fprintf(stderr, "clearbox scan: %s\n", text.error().message.c_str());
    return kExitInternal;
  }
  return AssessReport("scan", *text, report.string(), args.compliance, args.output_dir, args.quiet);
}

int RunScan(const ScanArgs& args) {
  const bool assess = !args.compliance.standards.empty();
  if (assess) {
    if (const auto refused = CheckComplianceArgs("scan", args.compliance)) return *refused;
  }
  auto evidence = ScanIntoDirectory("scan", args.settings, args.output_dir);
  if (!evidence) return evidence.error();
  if (!args.quiet) std::fputs(report::RenderSummary(*evidence).c_str(), stdout);
  std::printf(
      "report: %s/report.json  sbom: %s/sbom.cdx.json, %s/sbom.spdx.json  sarif: "
      "%s/vulnerabilities.sarif\n",
      args.output_dir.c_str(), args.output_dir.c_str(), args.output_dir.c_str(),
      args.output_dir.c_str());
  const int assessed = assess ? AssessWrittenReport(args) : kExitOk;
  // After compliance.json, so the page shows the verdicts per standard.
  if (auto page = html::WriteReportHtml(args.output_dir); !page) {
    std::fprintf(stderr, "clearbox scan: %s\n", page.error().message.c_str());
    return kExitInternal;
  }
  std::printf("html: %s/report.html\n", args.output_dir.c_str());
  if (assessed != kExitOk) return assessed;
  if (!args.fail_on.empty()) {
    const Severity threshold = FindSeverity(args.fail_on).value_or(Severity::kInfo);
    for (const auto& f : evidence->findings) {
      if (f.severity >= threshold) return kExitFindings;
    }
  }
  return evidence->manifest.problems.empty() ? kExitOk : kExitWithProblems;
}

}  // namespace

std::expected<report::Evidence, int> ScanIntoDirectory(std::string_view command,
                                                       const ScanSettings& settings,
                                                       const std::filesystem::path& output_dir) {
  const std::string name(command);
  scan::ScanOptions options;
  options.unpack = settings.unpack;
  options.unpack.output_dir = (output_dir / "unpacked").string();
  options.match_vulnerabilities = !settings.no_vuln;
  options.vuln_db = settings.vuln_db;
  for (const auto& v : settings.vex_files) options.vex_files.emplace_back(v);
  options.unpack.progress = ::isatty(STDERR_FILENO) == 1;
  auto data_dir = FindDataDir(settings.data_dir);
  if (!data_dir) {
    std::fprintf(stderr, "clearbox %s: %s\n", name.c_str(), data_dir.error().message.c_str());
    return std::unexpected(kExitUnusableInput);
  }
  options.data_dir = *data_dir;
  const auto wall_clock = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  const auto epoch = SourceDateEpoch();
  options.now = epoch.value_or(wall_clock);
  if (epoch) {
    options.created_at = *epoch;
  } else if (settings.timestamp) {
    options.created_at = wall_clock;
  }
  std::error_code ec;
  if (fs::exists(output_dir, ec) && !fs::is_empty(output_dir, ec)) {
    std::fprintf(stderr, "clearbox %s: output directory %s is not empty\n", name.c_str(),
                 output_dir.c_str());
    return std::unexpected(kExitUnusableInput);
  }
  fs::create_directories(output_dir, ec);
  const bool sbom_input = scan::LooksLikeSbom(settings.unpack.image_path);
  auto evidence = sbom_input ? scan::ScanSbom(options) : scan::ScanImage(options);
  if (!evidence) {
    std::fprintf(stderr, "clearbox %s: %s\n", name.c_str(), evidence.error().message.c_str());
    return std::unexpected(evidence.error().code == ErrorCode::kInvalidArgument ? kExitUnusableInput
                                                                                : kExitInternal);
  }
  if (auto written = scan::WriteReports(*evidence, output_dir); !written) {
    std::fprintf(stderr, "clearbox %s: %s\n", name.c_str(), written.error().message.c_str());
    return std::unexpected(kExitInternal);
  }
  return std::move(*evidence);
}

void AddScanSettingsOptions(CLI::App& cmd, ScanSettings& settings) {
  cmd.add_option("--data-dir", settings.data_dir,
                 "Data directory: signatures, rules, catalogues (default: $CLEARBOX_DATA_DIR, "
                 "else share/clearbox beside the binary)");
  cmd.add_option("--db", settings.vuln_db,
                 "Vulnerability database (default: $CLEARBOX_DB, ~/.local/share/clearbox/vuln.db, "
                 "else the bundled snapshot)");
  cmd.add_flag("--no-vuln", settings.no_vuln, "Do not match known vulnerabilities");
  cmd.add_option("--vex", settings.vex_files,
                 "OpenVEX or CycloneDX VEX document (repeatable); statuses are kept in the report");
  cmd.add_flag("--timestamp", settings.timestamp, "Record the current time in the reports");
  AddUnpackLimitOptions(cmd, settings.unpack);
}

void RegisterScanCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<ScanArgs>();
  auto* cmd = app.add_subcommand(
      "scan", "Unpack and analyse an image: binaries, components, secrets; report and SBOMs");
  cmd->footer(
      "Writes OUT/report.json (docs/report-schema.md), OUT/report.html (the same as one\n"
      "self-contained page, docs/html-report.md), OUT/sbom.cdx.json (CycloneDX 1.6,\n"
      "with vulnerabilities and VEX analysis), OUT/sbom.spdx.json (SPDX 2.3),\n"
      "OUT/vex.cdx.json (CycloneDX VEX), OUT/vulnerabilities.sarif (SARIF 2.1.0) and the extracted "
      "tree OUT/unpacked/ (with its\n"
      "manifest.json; report paths are relative to it). IMAGE may also be a CycloneDX or\n"
      "SPDX JSON document: its components are matched without unpacking. Reports carry no\n"
      "wall-clock time unless SOURCE_DATE_EPOCH is set or --timestamp is given. With\n"
      "--standard, also writes OUT/compliance.json as `clearbox assess` does "
      "(docs/compliance.md).\n\n"
      "Exit codes: 0 complete; 3 completed with unpack problems; 5 a finding reached the\n"
      "--fail-on severity; 4 unusable input (image unreadable, OUT not empty, data files\n"
      "missing, declarations invalid); 2 usage error (also an unknown --standard id); 70 internal\n"
      "error.");
  cmd->add_option("image", args->settings.unpack.image_path,
                  "Firmware image or file to scan, or a CycloneDX/SPDX JSON SBOM")
      ->required();
  cmd->add_option("-o,--output", args->output_dir, "Output directory (created; must be empty)")
      ->required();
  cmd->add_option("--fail-on", args->fail_on, "Exit with 5 if a finding has this severity or worse")
      ->check(CLI::IsMember(SeverityNamesMildestFirst()));
  auto* standard = cmd->add_option(
      "-s,--standard", args->compliance.standards,
      "Also assess compliance: comma-separated standard ids (en303645, cra, ts33117, "
      "iec62443-4-2, en18031-1) or all; writes OUT/compliance.json");
  AddComplianceOptions(*cmd, args->compliance)->needs(standard);
  cmd->add_flag("-q,--quiet", args->quiet, "Do not print the summary");
  AddScanSettingsOptions(*cmd, args->settings);
  cmd->callback([run, args] {
    args->compliance.data_dir = args->settings.data_dir;
    *run = [args] { return RunScan(*args); };
  });
}

}  // namespace clearbox::cli
