// One CLI subcommand: registers its options on the app and runs when selected.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "unpack/engine.hpp"

namespace clearbox::cli {

// Adds a subcommand to `app`; `*run` is set to the code that executes it and returns the
// process exit code.
using CommandRegistrar = void (*)(CLI::App& app, std::function<int()>* run);

void RegisterUnpackCommand(CLI::App& app, std::function<int()>* run);
void RegisterScanCommand(CLI::App& app, std::function<int()>* run);
// The HTML page of a saved report (src/html).
void RegisterReportCommand(CLI::App& app, std::function<int()>* run);

// Adds the unpacker's limit and thread options (shared by unpack and scan) to `cmd`.
void AddUnpackLimitOptions(CLI::App& cmd, unpack::UnpackOptions& options);
// Transparency (src/ledger): keys, attestations, the tiled log and offline verification.
void RegisterKeygenCommand(CLI::App& app, std::function<int()>* run);
void RegisterAttestCommand(CLI::App& app, std::function<int()>* run);
void RegisterLogCommand(CLI::App& app, std::function<int()>* run);
void RegisterVerifyCommand(CLI::App& app, std::function<int()>* run);
void RegisterChecksecCommand(CLI::App& app, std::function<int()>* run);
void RegisterDbCommand(CLI::App& app, std::function<int()>* run);  // src/vuln database
void RegisterWitnessCommand(CLI::App& app, std::function<int()>* run);

// Compliance verdicts (src/compliance): `assess`, and `scan --standard`.
void RegisterAssessCommand(CLI::App& app, std::function<int()>* run);

// The compliance options of assess and scan.
// report.json of a large image lists every file; a generous cap still bounds memory (scan
// reads back the one it wrote, assess reads a saved one).
inline constexpr std::uint64_t kMaxReportJsonBytes = std::uint64_t{1} << 30;

struct ComplianceArgs {
  std::string standards;     // --standard: comma-separated ids or "all"; "" = no assessment
  std::string declarations;  // --declarations: vendor declarations file, "" = none
  std::string data_dir;      // rules and standards directory, "" = DataDir()
};
// Adds --declarations to `cmd` (each command words its own --standard and --data-dir);
// returns the option.
CLI::Option* AddComplianceOptions(CLI::App& cmd, ComplianceArgs& args);
// Checks that the standard catalogues load, `args.standards` names known standards and the
// declarations file (if any) parses; prints the error and returns the exit code (usage, unusable
// input) when not.
std::optional<int> CheckComplianceArgs(std::string_view command, const ComplianceArgs& args);
// Assesses report.json text (`origin` names it), writes output_dir/compliance.json and prints
// the summary unless `quiet`; returns kExitOk, kExitUsage or kExitUnusableInput.
int AssessReport(std::string_view command, const std::string& report_text,
                 const std::string& origin, const ComplianceArgs& args,
                 const std::filesystem::path& output_dir, bool quiet);

}  // namespace clearbox::cli
