// `clearbox checksec FILE... [--libc FILE] [--json]`: the hardening report of ELF files, one
// line (or one JSON object per line) per file.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "core/mapped_file.hpp"
#include "elf/hardening.hpp"

namespace clearbox::cli {
namespace {

struct ChecksecArgs {
  std::vector<std::string> files;
  std::string libc;
  bool json = false;
};

// Maps a file named on the command line, following symlinks (the user's own files, unlike
// an unpacked tree whose links the engine confines).
Result<MappedFile> OpenFollowing(const std::string& path) {
  std::error_code ec;
  const auto resolved = std::filesystem::canonical(path, ec);
  return MappedFile::Open(ec ? path : resolved.string());
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ':';
    out += p;
  }
  return out;
}

std::string Line(const std::string& path, const elf::BinaryReport& r) {
  std::string line = path + ": " + r.arch + " " + std::to_string(r.bits) + "-bit " + r.endian +
                     "-endian " + r.type;
  line += " relro=" + r.relro;
  line += std::string(" canary=") + (r.canary ? "yes" : "no");
  line += std::string(" nx=") + (r.nx ? "yes" : "no");
  line += std::string(" pie=") + (r.pie ? "yes" : "no");
  line += " rpath=" + (r.rpath.empty() ? std::string("no") : Join(r.rpath));
  line += " runpath=" + (r.runpath.empty() ? std::string("no") : Join(r.runpath));
  line += std::string(" symbols=") + (r.stripped ? "no" : "yes");
  line += " fortify=" + r.fortify.verdict + "(" + std::to_string(r.fortify.fortified) + "/" +
          std::to_string(r.fortify.fortifiable) + ")";
  line += std::string(" ibt=") + (r.ibt ? "yes" : "no");
  line += std::string(" shstk=") + (r.shstk ? "yes" : "no");
  if (r.arch == "aarch64") {
    line += std::string(" bti=") + (r.bti ? "yes" : "no");
    line += std::string(" pac=") + (r.pac ? "yes" : "no");
  }
  return line;
}

int RunChecksec(const ChecksecArgs& args) {
  elf::FortifyCatalog libc = elf::FortifyCatalog::Default();
  if (!args.libc.empty()) {
    auto mapped = OpenFollowing(args.libc);
    if (!mapped) {
      std::fprintf(stderr, "clearbox checksec: --libc: %s\n", mapped.error().message.c_str());
      return kExitUnusableInput;
    }
    auto catalog = elf::FortifyCatalog::FromLibc(mapped->bytes());
    if (!catalog) {
      std::fprintf(stderr, "clearbox checksec: --libc %s: %s\n", args.libc.c_str(),
                   catalog.error().message.c_str());
      return kExitUnusableInput;
    }
    libc = std::move(*catalog);
  }
  int status = kExitOk;
  for (const auto& path : args.files) {
    auto mapped = OpenFollowing(path);
    Result<elf::BinaryReport> report =
        mapped ? elf::AnalyzeElf(mapped->bytes(), libc) : Forward(mapped);
    if (!report) {
      status = kExitWithProblems;
      if (args.json) {
        nlohmann::json j{{"file", path},
                         {"error", std::string(ErrorCodeName(report.error().code))},
                         {"message", report.error().message}};
        std::printf("%s\n",
                    j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        std::printf("%s: error: %s\n", path.c_str(), report.error().message.c_str());
      }
      continue;
    }
    if (args.json) {
      nlohmann::json j = elf::ReportToJson(*report);
      j["file"] = path;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("%s\n", Line(path, *report).c_str());
    }
  }
  return status;
}

}  // namespace

void RegisterChecksecCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<ChecksecArgs>();
  auto* cmd = app.add_subcommand("checksec", "Hardening report of ELF files");
  cmd->footer(
      "Per file: architecture, type, RELRO, stack canary, NX, PIE, RPATH, RUNPATH, symbols,\n"
      "FORTIFY (fortified/fortifiable imports; verdict yes, partial, no or n/a) and the CET\n"
      "properties. FORTIFY uses the __*_chk functions of --libc, else a built-in glibc list.\n"
      "--json prints one JSON object per line.\n\n"
      "Exit codes: 0 every file analysed; 3 some file is not ELF, unreadable or malformed;\n"
      "2 usage; 4 --libc unusable.");
  cmd->add_option("files", args->files, "ELF files")->required();
  cmd->add_option("--libc", args->libc, "The libc whose __*_chk functions define FORTIFY");
  cmd->add_flag("--json", args->json, "One JSON object per line");
  cmd->callback([run, args] { *run = [args] { return RunChecksec(*args); }; });
}

}  // namespace clearbox::cli
