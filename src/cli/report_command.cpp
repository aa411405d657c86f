// `clearbox report REPORT.json [--compliance C.json] [-o PAGE.html]`: re-renders the HTML page of
// a saved report (src/html), as `clearbox scan` writes OUT/report.html.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "html/report_page.hpp"

namespace clearbox::cli {
namespace {

namespace fs = std::filesystem;

struct ReportArgs {
  std::string report;
  std::string compliance;
  std::string probe;
  std::string output;
};

int RunReport(const ReportArgs& args) {
  const fs::path output = args.output.empty() ? fs::path(args.report).replace_extension(".html")
                                              : fs::path(args.output);
  if (auto written = html::WriteReportHtmlFile(args.report, args.compliance, output, args.probe);
      !written) {
    std::fprintf(stderr, "clearbox report: %s\n", written.error().message.c_str());
    return kExitUnusableInput;
  }
  std::printf("html: %s\n", output.c_str());
  return kExitOk;
}

}  // namespace

void RegisterReportCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report", "Render a saved report.json (and compliance.json) as one self-contained HTML page");
  cmd->footer(
      "The page is what `clearbox scan` writes as OUT/report.html (docs/html-report.md): no\n"
      "request leaves it (inline CSS and SVG, a strict Content-Security-Policy), JavaScript only\n"
      "sorts tables, and it prints to PDF cleanly. Default output: REPORT with .html.\n\n"
      "Exit codes: 0 written; 2 usage; 4 unusable input (unreadable or invalid JSON) or output.");
  cmd->add_option("report", args->report, "report.json of a scan")->required();
  cmd->add_option("--compliance", args->compliance,
                  "compliance.json of that report (clearbox assess or scan --standard)");
  cmd->add_option("--probe", args->probe,
                  "probe.json of the device (clearbox probe): adds a Device probe section");
  cmd->add_option("-o,--output", args->output, "Output HTML file");
  cmd->callback([run, args] { *run = [args] { return RunReport(*args); }; });
}

}  // namespace clearbox::cli
