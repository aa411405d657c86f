// `clearbox diff OLD NEW -o OUT`: what changed between two releases (src/diff). OLD and NEW
// are each a report.json, a scan output directory or an image (scanned into OUT/old, OUT/new).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "core/read_file.hpp"
#include "diff/diff_html.hpp"
#include "diff/diff_json.hpp"
#include "diff/release_diff.hpp"
#include "scan/scanner.hpp"

namespace clearbox::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kReportFileName = "report.json";
constexpr const char* kComplianceFileName = "compliance.json";
constexpr const char* kFailOnRegression = "regression";

struct DiffArgs {
  std::string old_input;
  std::string new_input;
  std::string output_dir;
  std::string fail_on;
  bool quiet = false;
  ScanSettings settings;      // for inputs that are images
  ComplianceArgs compliance;  // --standard: also assess the images scanned
};

// One side of the diff: its report.json and, when it has one beside it, compliance.json.
struct LoadedSide {
  Json report;
  std::optional<Json> compliance;
};

// True when `path` is a JSON document other than an SBOM (so a saved report, not an image).
bool LooksLikeReportJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[64] = {};
  in.read(head, sizeof head);
  const std::string_view text(head, static_cast<std::size_t>(in.gcount()));
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{' && !scan::LooksLikeSbom(path);
}

// Reads and parses a JSON object of at most kMaxReportJsonBytes; prints why not.
std::optional<Json> ReadJsonObject(const fs::path& file) {
  auto text = ReadFileCapped(file, kMaxReportJsonBytes);
  if (!text) {
    std::fprintf(stderr, "clearbox diff: cannot read %s: %s\n", file.c_str(),
                 text.error().message.c_str());
    return std::nullopt;
  }
  auto doc = diff::ParseJsonObject(*text, file.string());
  if (!doc) {
    std::fprintf(stderr, "clearbox diff: %s\n", doc.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*doc);
}

// A saved report.json and the compliance.json in its directory, if there is one.
std::expected<LoadedSide, int> LoadReport(const fs::path& report_file) {
  auto report = ReadJsonObject(report_file);
  if (!report) return std::unexpected(kExitUnusableInput);
  if (!report->contains("image") || !report->contains("schema_version")) {
    std::fprintf(stderr,
                 "clearbox diff: %s: not a clearbox report.json (no image or "
                 "schema_version)\n",
                 report_file.c_str());
    return std::unexpected(kExitUnusableInput);
  }
  LoadedSide side{std::move(*report), std::nullopt};
  const fs::path compliance = report_file.parent_path() / kComplianceFileName;
  std::error_code ec;
  if (fs::is_regular_file(compliance, ec)) {
    auto doc = ReadJsonObject(compliance);
    if (!doc) return std::unexpected(kExitUnusableInput);
    side.compliance = std::move(*doc);
  }
  return side;
}

// `input` as a report file, a scan output directory, or an image scanned into `scan_dir`.
std::expected<LoadedSide, int> LoadSide(const DiffArgs& args, const std::string& input,
                                        const fs::path& scan_dir) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    const fs::path report = fs::path(input) / kReportFileName;
    if (!fs::is_regular_file(report, ec)) {
      std::fprintf(stderr, "clearbox diff: %s is a directory without %s\n", input.c_str(),
                   kReportFileName);
      return std::unexpected(kExitUnusableInput);
    }
    return LoadReport(report);
  }
  if (!fs::is_regular_file(input, ec)) {
    std::fprintf(stderr, "clearbox diff: %s: no such file\n", input.c_str());
    return std::unexpected(kExitUnusableInput);
  }
  if (LooksLikeReportJson(input)) return LoadReport(input);
  ScanSettings settings = args.settings;
  settings.unpack.image_path = input;
  if (!args.quiet) std::printf("scanning %s into %s\n", input.c_str(), scan_dir.c_str());
  auto scanned = ScanIntoDirectory("diff", settings, scan_dir);
  if (!scanned) return std::unexpected(scanned.error());
  const fs::path report = scan_dir / kReportFileName;
  if (!args.compliance.standards.empty()) {
    auto text = ReadFileCapped(report, kMaxReportJsonBytes);
    if (!text) {
      std::fprintf(stderr, "clearbox diff: %s\n", text.error().message.c_str());
      return std::unexpected(kExitInternal);
    }
    const int assessed =
        AssessReport("diff", *text, report.string(), args.compliance, scan_dir, /*quiet=*/true);
    if (assessed != kExitOk) return std::unexpected(assessed);
  }
  return LoadReport(report);
}

int RunDiff(const DiffArgs& args) {
  if (!args.compliance.standards.empty()) {
    if (const auto refused = CheckComplianceArgs("diff", args.compliance)) return *refused;
  }
  const fs::path out(args.output_dir);
  auto old_side = LoadSide(args, args.old_input, out / "old");
  if (!old_side) return old_side.error();
  auto new_side = LoadSide(args, args.new_input, out / "new");
  if (!new_side) return new_side.error();
  const bool both_compliance = old_side->compliance && new_side->compliance;
  auto diff = diff::DiffReports(old_side->report, new_side->report,
                                both_compliance ? &*old_side->compliance : nullptr,
                                both_compliance ? &*new_side->compliance : nullptr);
  if (!diff) {
    std::fprintf(stderr, "clearbox diff: %s\n", diff.error().message.c_str());
    return kExitUnusableInput;
  }
  // A side's compliance.json is recorded even when the other side lacks one.
  diff->old_side.has_compliance = old_side->compliance.has_value();
  diff->new_side.has_compliance = new_side->compliance.has_value();
  std::error_code ec;
  fs::create_directories(out, ec);
  for (const auto& [name, text] :
       {std::pair{diff::kDiffFileName, diff::RenderDiffJson(*diff)},
        std::pair{diff::kDiffHtmlFileName, diff::RenderDiffHtml(*diff)}}) {
    if (auto written = WriteWholeFile(out / name, text); !written) {
      std::fprintf(stderr, "clearbox diff: %s\n", written.error().message.c_str());
      return kExitUnusableInput;
    }
  }
  if (!args.quiet) std::fputs(diff::RenderDiffSummary(*diff).c_str(), stdout);
  std::printf("diff: %s  html: %s\n", (out / diff::kDiffFileName).c_str(),
              (out / diff::kDiffHtmlFileName).c_str());
  if (args.fail_on == kFailOnRegression && diff::HasRegression(*diff)) return kExitRegression;
  return kExitOk;
}

}  // namespace

void RegisterDiffCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<DiffArgs>();
  auto* cmd = app.add_subcommand(
      "diff", "What changed between two releases: components, CVEs, hardening, findings, files");
  cmd->footer(
      "OLD and NEW are each a report.json, a `clearbox scan` output directory (its\n"
      "compliance.json is read too) or an image, scanned into OUT/old or OUT/new (with\n"
      "--standard also assessed there, as scan --standard does). Files,\n"
      "binaries and findings are matched by their path inside the root filesystem: the\n"
      "unpacker's container directories are named by format, not offset. Writes OUT/diff.json\n"
      "(docs/diff-schema.md) and OUT/diff.html and prints a summary.\n\n"
      "Exit codes: 0 compared (whatever changed); 6 --fail-on regression and the new release\n"
      "regresses (an introduced vulnerability, a downgrade, a hardening regression, a new\n"
      "finding of severity low or above, a clause newly CONTRADICTED); 4 unusable input (a\n"
      "report unreadable, invalid or over 1 GiB, an image that cannot be scanned, OUT/old or\n"
      "OUT/new not empty, OUT not writable); 2 usage error (also an unknown --standard id);\n"
      "70 internal error.");
  cmd->add_option("old", args->old_input, "The earlier release: report.json, scan output or image")
      ->required();
  cmd->add_option("new", args->new_input, "The later release: report.json, scan output or image")
      ->required();
  cmd->add_option("-o,--output", args->output_dir, "Output directory (created if missing)")
      ->required();
  cmd->add_option("--fail-on", args->fail_on, "Exit with 6 if the new release regresses")
      ->check(CLI::IsMember({kFailOnRegression}));
  cmd->add_option("-s,--standard", args->compliance.standards,
                  "Also assess the images scanned (comma-separated standard ids or all), so that "
                  "verdict changes are compared");
  cmd->add_flag("-q,--quiet", args->quiet, "Do not print the summary");
  AddScanSettingsOptions(*cmd, args->settings);
  cmd->callback([run, args] {
    args->compliance.data_dir = args->settings.data_dir;
    *run = [args] { return RunDiff(*args); };
  });
}

}  // namespace clearbox::cli
