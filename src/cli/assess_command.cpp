// `clearbox assess REPORT.json --standard ... -o OUT`: compliance verdicts from a saved report
// (src/compliance), and the same step for `clearbox scan --standard`.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "compliance/assessment.hpp"
#include "compliance/compliance_json.hpp"
#include "compliance/compliance_sarif.hpp"
#include "compliance/declarations.hpp"
#include "compliance/report_evidence.hpp"
#include "compliance/standard_catalogue.hpp"
#include "core/data_dir.hpp"
#include "core/exit_codes.hpp"
#include "core/read_file.hpp"
#include "rules/rule_catalogue.hpp"

namespace clearbox::cli {
namespace {

namespace fs = std::filesystem;

struct AssessArgs {
  std::string report;
  std::string output_dir;
  ComplianceArgs compliance;
  bool quiet = false;
};

int RunAssess(const AssessArgs& args) {
  if (const auto refused = CheckComplianceArgs("assess", args.compliance)) return *refused;
  auto text = ReadFileCapped(args.report, kMaxReportJsonBytes);
  if (!text) {
    std::fprintf(stderr, "clearbox assess: cannot read %s: %s\n", args.report.c_str(),
                 text.error().message.c_str());
    return kExitUnusableInput;
  }
  return AssessReport("assess", *text, args.report, args.compliance, args.output_dir, args.quiet);
}

}  // namespace

std::optional<int> CheckComplianceArgs(std::string_view command, const ComplianceArgs& args) {
  const std::string name(command);
  auto data_dir = FindDataDir(args.data_dir);
  if (!data_dir) {
    std::fprintf(stderr, "clearbox %s: %s\n", name.c_str(), data_dir.error().message.c_str());
    return kExitUnusableInput;
  }
  auto catalogue = compliance::StandardCatalogue::LoadFromDataDir(*data_dir);
  if (!catalogue) {
    std::fprintf(stderr, "clearbox %s: %s\n", name.c_str(), catalogue.error().message.c_str());
    return kExitUnusableInput;
  }
  const auto ids = compliance::SplitStandardIds(args.standards);
  if (auto selected = catalogue->Select(ids); !selected) {
    std::fprintf(stderr, "clearbox %s: --standard: %s\n", name.c_str(),
                 selected.error().message.c_str());
    return kExitUsage;
  }
  if (!args.declarations.empty()) {
    if (auto loaded = compliance::LoadDeclarations(args.declarations); !loaded) {
      std::fprintf(stderr, "clearbox %s: %s\n", name.c_str(), loaded.error().message.c_str());
      return kExitUnusableInput;
    }
  }
  return std::nullopt;
}

int AssessReport(std::string_view command, const std::string& report_text,
                 const std::string& origin, const ComplianceArgs& args,
                 const std::filesystem::path& output_dir, bool quiet) {
  const std::string name(command);
  auto fail = [&](const Error& error, int code) {
    std::fprintf(stderr, "clearbox %s: %s\n", name.c_str(), error.message.c_str());
    return code;
  };
  auto data_dir = FindDataDir(args.data_dir);
  if (!data_dir) return fail(data_dir.error(), kExitUnusableInput);
  auto rules = rules::RuleCatalogue::LoadFromDataDir(*data_dir);
  if (!rules) return fail(rules.error(), kExitUnusableInput);
  auto catalogue = compliance::StandardCatalogue::LoadFromDataDir(*data_dir);
  if (!catalogue) return fail(catalogue.error(), kExitUnusableInput);
  auto selected = catalogue->Select(compliance::SplitStandardIds(args.standards));
  if (!selected) return fail(selected.error(), kExitUsage);
  std::optional<compliance::DeclarationFile> declarations;
  if (!args.declarations.empty()) {
    auto loaded = compliance::LoadDeclarations(args.declarations);
    if (!loaded) return fail(loaded.error(), kExitUnusableInput);
    declarations = std::move(*loaded);
  }
  auto report = compliance::ParseReportJson(report_text, origin);
  if (!report) return fail(report.error(), kExitUnusableInput);
  auto assessment =
      compliance::Assess(*report, *rules, *selected, declarations ? &*declarations : nullptr);
  if (!assessment) return fail(assessment.error(), kExitUnusableInput);
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  const fs::path file = output_dir / compliance::kComplianceFileName;
  if (auto written = WriteWholeFile(file, compliance::RenderComplianceJson(*assessment));
      !written) {
    return fail(written.error(), kExitUnusableInput);
  }
  const fs::path sarif = output_dir / compliance::kComplianceSarifFileName;
  if (auto written = WriteWholeFile(sarif, compliance::RenderComplianceSarif(*assessment, *report));
      !written) {
    return fail(written.error(), kExitUnusableInput);
  }
  if (!quiet) std::fputs(compliance::RenderComplianceSummary(*assessment).c_str(), stdout);
  std::printf("compliance: %s\n", file.c_str());
  return kExitOk;
}

CLI::Option* AddComplianceOptions(CLI::App& cmd, ComplianceArgs& args) {
  return cmd.add_option(
      "--declarations", args.declarations,
      "Vendor declarations (JSON, docs/compliance.md) to check against the image");
}

void RegisterAssessCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<AssessArgs>();
  auto* cmd = app.add_subcommand(
      "assess", "Compliance verdicts per clause from a saved report.json, without rescanning");
  cmd->footer(
      "Writes OUT/compliance.json (docs/compliance.md): a verdict per clause of each selected\n"
      "standard (CONTRADICTED, PARTIALLY_SUPPORTED, SUPPORTED, NOT_DETERMINABLE,\n"
      "NOT_APPLICABLE) with a rationale and JSON pointers to the evidence in report.json, and\n"
      "the check of each vendor declaration (CONFIRMED, CONTRADICTED, UNVERIFIABLE).\n"
      "Standards: en303645, cra, ts33117, iec62443-4-2, en18031-1 (data/standards), or all.\n\n"
      "Exit codes: 0 assessed (whatever the verdicts); 2 usage error (unknown standard id);\n"
      "4 unusable input (report.json or declarations unreadable or invalid, data files\n"
      "missing, OUT not writable); 70 internal error.");
  cmd->add_option("report", args->report, "report.json written by clearbox scan")->required();
  cmd->add_option("-s,--standard", args->compliance.standards,
                  "Comma-separated standard ids, or all")
      ->required();
  cmd->add_option("-o,--output", args->output_dir, "Output directory (created if missing)")
      ->required();
  AddComplianceOptions(*cmd, args->compliance);
  cmd->add_option("--data-dir", args->compliance.data_dir,
                  "Data directory: rules and standards (default: $CLEARBOX_DATA_DIR, else "
                  "share/clearbox beside the binary)");
  cmd->add_flag("-q,--quiet", args->quiet, "Do not print the summary");
  cmd->callback([run, args] { *run = [args] { return RunAssess(*args); }; });
}

}  // namespace clearbox::cli
