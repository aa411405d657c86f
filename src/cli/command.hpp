// One CLI subcommand: registers its options on the app and runs when selected.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "unpack/engine.hpp"

namespace clearbox::cli {

// Adds a subcommand to `app`; `*run` is set to the code that executes it and returns the
// process exit code.
using CommandRegistrar = void (*)(CLI::App& app, std::function<int()>* run);

void RegisterUnpackCommand(CLI::App& app, std::function<int()>* run);
void RegisterScanCommand(CLI::App& app, std::function<int()>* run);

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

}  // namespace clearbox::cli
