// `clearbox unpack IMAGE -o DIR`: recursive extraction with manifest.json.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "unpack/engine.hpp"
#include "unpack/registry.hpp"

namespace clearbox::cli {
namespace {

struct UnpackArgs {
  unpack::UnpackOptions options;
  bool list_formats = false;
};

// `--list-formats`: every handler of the registry, one per line (name, family, description).
int ListFormats() {
  for (const auto* handler : unpack::AllHandlers()) {
    const std::string name(handler->Name());
    const std::string family(handler->Family());
    const std::string description(handler->Description());
    std::printf("%-16s %-12s %s\n", name.c_str(), family.c_str(), description.c_str());
  }
  return kExitOk;
}

int RunUnpack(const UnpackArgs& args) {
  if (args.list_formats) return ListFormats();
  if (args.options.image_path.empty() || args.options.output_dir.empty()) {
    std::fprintf(stderr, "clearbox unpack: IMAGE and -o DIR are required\n");
    return kExitUsage;
  }
  auto options = args.options;
  options.progress = ::isatty(STDERR_FILENO) == 1;
  auto manifest = unpack::Unpack(options);
  if (!manifest) {
    std::fprintf(stderr, "clearbox unpack: %s\n", manifest.error().message.c_str());
    return manifest.error().code == ErrorCode::kInvalidArgument ? kExitUnusableInput
                                                                : kExitInternal;
  }
  std::size_t files = 0;
  for (const auto& f : manifest->files) files += f.type == unpack::EntryType::kFile;
  std::printf("%zu chunks, %zu files, %zu problems; manifest: %s/manifest.json\n",
              manifest->chunks.size(), files, manifest->problems.size(),
              options.output_dir.c_str());
  for (std::size_t i = 0; i < manifest->problems.size() && i < 20; ++i) {
    const auto& p = manifest->problems[i];
    std::fprintf(stderr, "problem: %s at %s%s: %s\n", p.kind.c_str(),
                 p.path.empty() ? "<image>" : p.path.c_str(),
                 p.offset ? (" offset " + std::to_string(*p.offset)).c_str() : "",
                 p.message.c_str());
  }
  if (manifest->problems.size() > 20) {
    std::fprintf(stderr, "... and %zu more problems in the manifest\n",
                 manifest->problems.size() - 20);
  }
  return manifest->problems.empty() ? kExitOk : kExitWithProblems;
}

}  // namespace

void AddUnpackLimitOptions(CLI::App& cmd, unpack::UnpackOptions& options) {
  auto& limits = options.limits;
  cmd.add_option("--max-depth", limits.max_depth, "Nesting depth limit")->capture_default_str();
  cmd.add_option("--max-total-bytes", limits.max_total_bytes, "Total bytes written limit")
      ->capture_default_str();
  cmd.add_option("--max-files", limits.max_files, "Limit on created files, directories, links")
      ->capture_default_str();
  cmd.add_option("--max-ratio", limits.max_ratio,
                 "Expansion limit: an input and everything unpacked from it, at any depth, "
                 "may write this many bytes per input byte (at least 16 MiB)")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  cmd.add_option("--handler-timeout", limits.handler_seconds, "Seconds allowed per chunk")
      ->capture_default_str();
  cmd.add_option("-j,--threads", options.threads, "Worker threads (0 = one per core)")
      ->capture_default_str();
}

void RegisterUnpackCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<UnpackArgs>();
  auto* cmd = app.add_subcommand("unpack", "Recursively extract a firmware image into a directory");
  cmd->footer(
      "Output layout: chunks of the image go to DIR/<offset>.<format>/; a file that itself\n"
      "holds chunks gets a sibling directory <file>.extract/<offset>.<format>/. Offsets are hex.\n"
      "DIR/manifest.json lists every chunk, file, unknown gap (with entropy) and problem.\n\n"
      "Exit codes: 0 complete; 3 completed with problems (see manifest.json 'problems');\n"
      "4 unusable input (image unreadable, output directory not empty); 2 usage error;\n"
      "70 internal error.");
  cmd->add_option("image", args->options.image_path, "Firmware image or file to unpack (required)");
  cmd->add_option("-o,--output", args->options.output_dir,
                  "Output directory (required; created; must be empty if it exists)");
  cmd->add_flag("--list-formats", args->list_formats,
                "Print every format clearbox unpacks (name, family, description) and exit");
  AddUnpackLimitOptions(*cmd, args->options);
  cmd->callback([run, args] { *run = [args] { return RunUnpack(*args); }; });
}

}  // namespace clearbox::cli
