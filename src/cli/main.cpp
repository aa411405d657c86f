// clearbox: the command-line entry point; dispatches to one subcommand.
#include <cstdio>
#include <exception>
#include <functional>
#include <string>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "core/version.hpp"
#include "unpack/engine.hpp"

int main(int argc, char** argv) {
  CLI::App app{"clearbox: an open verification lab for firmware and software releases"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("clearbox ") + clearbox::kClearboxVersion);
  std::function<int()> run;
  clearbox::cli::RegisterUnpackCommand(app, &run);
  clearbox::cli::RegisterScanCommand(app, &run);
  clearbox::cli::RegisterReportCommand(app, &run);
  clearbox::cli::RegisterAssessCommand(app, &run);
  clearbox::cli::RegisterDiffCommand(app, &run);
  clearbox::cli::RegisterEquivCommand(app, &run);
  clearbox::cli::RegisterKeygenCommand(app, &run);
  clearbox::cli::RegisterAttestCommand(app, &run);
  clearbox::cli::RegisterLogCommand(app, &run);
  clearbox::cli::RegisterVerifyCommand(app, &run);
  clearbox::cli::RegisterChecksecCommand(app, &run);
  clearbox::cli::RegisterDbCommand(app, &run);
  clearbox::cli::RegisterWitnessCommand(app, &run);
  clearbox::cli::RegisterProbeCommand(app, &run);
  clearbox::cli::RegisterServeCommand(app, &run);
  clearbox::cli::RegisterWorkerCommand(app, &run);
  clearbox::cli::RegisterBatchCommand(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return clearbox::kExitUsage;
  }
  try {
    return run ? run() : clearbox::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "clearbox: internal error: %s\n", e.what());
    return clearbox::kExitInternal;
  }
}
