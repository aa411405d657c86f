// One CLI subcommand: registers its options on the app and runs when selected.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/evidence.hpp"
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

// How to scan one image: what scan and diff (for an image input) share.
struct ScanSettings {
  unpack::UnpackOptions unpack;        // image_path, limits, threads (output_dir is set per scan)
  std::string data_dir;                // signatures, rules; "" = DataDir()
  std::string vuln_db;                 // "" = the default database, else the bundled snapshot
  std::vector<std::string> vex_files;  // OpenVEX / CycloneDX VEX documents
  bool no_vuln = false;
  bool timestamp = false;  // record the current time in the reports
};
// Adds --data-dir, --db, --no-vuln, --vex, --timestamp and the unpack limits to `cmd`.
void AddScanSettingsOptions(CLI::App& cmd, ScanSettings& settings);
// Scans settings.unpack.image_path (an image or an SBOM) into `output_dir` (created; must be
// empty): the tree in output_dir/unpacked, report.json and the SBOMs. On failure prints
// "clearbox <command>: ..." and returns the exit code (kExitUnusableInput, kExitInternal).
std::expected<report::Evidence, int> ScanIntoDirectory(std::string_view command,
                                                       const ScanSettings& settings,
                                                       const std::filesystem::path& output_dir);

// Release-to-release comparison (src/diff): `diff OLD NEW -o OUT`.
void RegisterDiffCommand(CLI::App& app, std::function<int()>* run);
// Binary equivalence (src/equiv): `equiv DELIVERED REBUILT -o OUT`.
void RegisterEquivCommand(CLI::App& app, std::function<int()>* run);
// Transparency (src/ledger): keys, attestations, the tiled log and offline verification.
void RegisterKeygenCommand(CLI::App& app, std::function<int()>* run);
void RegisterAttestCommand(CLI::App& app, std::function<int()>* run);
void RegisterLogCommand(CLI::App& app, std::function<int()>* run);
void RegisterVerifyCommand(CLI::App& app, std::function<int()>* run);
void RegisterChecksecCommand(CLI::App& app, std::function<int()>* run);
void RegisterDbCommand(CLI::App& app, std::function<int()>* run);  // src/vuln database
void RegisterWitnessCommand(CLI::App& app, std::function<int()>* run);
// The running device's network services (src/probe): `probe HOST[:PORTS] -o OUT`.
void RegisterProbeCommand(CLI::App& app, std::function<int()>* run);
// The lab portal (src/portal over src/store): `serve --data DIR`.
void RegisterServeCommand(CLI::App& app, std::function<int()>* run);
// Many images through a bounded pool of scanners, resumable: `batch DIR|LIST -o OUT`.
void RegisterBatchCommand(CLI::App& app, std::function<int()>* run);
// Scan workers of the portal on any machine: `worker --data DIR --db URL`.
void RegisterWorkerCommand(CLI::App& app, std::function<int()>* run);

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
