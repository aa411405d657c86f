// `clearbox equiv DELIVERED REBUILT -o OUT`: is the delivered binary (tree, image, package) the
// one built from the reviewed source? A verdict per file, every tolerated difference named
// (src/equiv, docs/equiv-schema.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "diff/rootfs_path.hpp"
#include "equiv/equiv_html.hpp"
#include "equiv/equiv_report.hpp"
#include "equiv/side_digest.hpp"
#include "unpack/engine.hpp"

namespace clearbox::cli {
namespace {

namespace fs = std::filesystem;

struct EquivArgs {
  std::string delivered;
  std::string rebuilt;
  std::string output_dir;
  std::vector<std::string> no_tolerate;
  bool quiet = false;
  unpack::UnpackOptions unpack;  // limits and threads for image sides
};

bool StartsWithElfMagic(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

// True when `dir` is a `clearbox unpack` output: manifest.json beside chunk directories.
bool IsUnpackOutput(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "manifest.json", ec)) return false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (diff::IsChunkDirectoryName(it->path().filename().string())) return true;
  }
  return false;
}

// Unpacks an image side into `dir`; prints why not and returns false on failure.
bool UnpackSide(const EquivArgs& args, const std::string& input, const fs::path& dir,
                equiv::SideInfo& side, std::size_t* chunks) {
  unpack::UnpackOptions options = args.unpack;
  options.image_path = input;
  options.output_dir = dir.string();
  if (!args.quiet) std::printf("unpacking %s into %s\n", input.c_str(), dir.c_str());
  auto manifest = unpack::Unpack(options);
  if (!manifest) {
    std::fprintf(stderr, "clearbox equiv: cannot unpack %s: %s\n", input.c_str(),
                 manifest.error().message.c_str());
    return false;
  }
  side.kind = "image";
  side.unpacked_to = dir.string();
  side.unpack_problems = manifest->problems.size();
  *chunks = manifest->chunks.size();
  return true;
}

// Records the digest that names `side` (the input as given, before any unpacking).
void DigestSide(equiv::SideInfo& side) {
  const bool directory = side.kind == "directory";
  auto digest = directory ? equiv::TreeSha256(side.input) : equiv::FileSha256(side.input);
  if (!digest) {
    side.digest_error = digest.error().message;
  } else {
    (directory ? side.tree_sha256 : side.sha256) = *digest;
  }
}

// equiv.json is read back at most this large to render equiv.html.
constexpr std::uintmax_t kMaxEquivJsonForHtml = std::uintmax_t{512} << 20;

// Writes OUT/equiv.html from the equiv.json just written (skipped, with a message, when that is
// too large); false when it cannot be written.
bool WriteEquivHtml(const fs::path& json_path, const fs::path& html_path) {
  std::error_code ec;
  const auto size = fs::file_size(json_path, ec);
  if (ec || size > kMaxEquivJsonForHtml) {
    std::fprintf(stderr, "clearbox equiv: %s not written: equiv.json is too large to render\n",
                 html_path.c_str());
    return true;  // equiv.json holds the whole result
  }
  std::ifstream in(json_path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto json = nlohmann::json::parse(text, nullptr, false);
  std::ofstream out(html_path, std::ios::binary | std::ios::trunc);
  out << equiv::RenderEquivHtml(json);
  out.close();
  if (json.is_discarded() || !out) {
    std::fprintf(stderr, "clearbox equiv: cannot write %s\n", html_path.c_str());
    return false;
  }
  return true;
}

int RunEquiv(const EquivArgs& args) {
  equiv::EquivHeader report;
  for (const auto& name : args.no_tolerate) {
    const auto found = equiv::FindToleratedClass(name);
    if (!found) {
      std::string known;
      for (const auto& info : equiv::ToleratedClasses()) {
        known += (known.empty() ? "" : ", ") + std::string(info.name);
      }
      std::fprintf(stderr, "clearbox equiv: unknown class '%s' (known: %s)\n", name.c_str(),
                   known.c_str());
      return kExitUsage;
    }
    report.tolerances.Forbid(*found);
  }
  std::error_code ec;
  for (const auto* input : {&args.delivered, &args.rebuilt}) {
    const auto type = fs::status(*input, ec).type();
    if (type != fs::file_type::directory && type != fs::file_type::regular) {
      std::fprintf(stderr, "clearbox equiv: %s: not a file or directory\n", input->c_str());
      return kExitUnusableInput;
    }
  }
  const fs::path out(args.output_dir);
  fs::create_directories(out, ec);
  if (ec) {
    std::fprintf(stderr, "clearbox equiv: cannot create %s: %s\n", out.c_str(),
                 ec.message().c_str());
    return kExitUnusableInput;
  }
  report.delivered.input = args.delivered;
  report.rebuilt.input = args.rebuilt;
  const bool dir_a = fs::is_directory(args.delivered, ec);
  const bool dir_b = fs::is_directory(args.rebuilt, ec);
  // A directory that is an unpacker output is named like an image unpacked here.
  equiv::TreeSide tree_a{args.delivered, dir_a && IsUnpackOutput(args.delivered)};
  equiv::TreeSide tree_b{args.rebuilt, dir_b && IsUnpackOutput(args.rebuilt)};
  report.delivered.kind = dir_a ? "directory" : "file";
  report.rebuilt.kind = dir_b ? "directory" : "file";
  bool single_files = !dir_a && !dir_b;
  if (single_files && !(StartsWithElfMagic(args.delivered) && StartsWithElfMagic(args.rebuilt))) {
    // Two files that are not both ELF: images or packages when the unpacker finds chunks.
    std::size_t chunks_a = 0;
    std::size_t chunks_b = 0;
    equiv::SideInfo side_a = report.delivered;
    equiv::SideInfo side_b = report.rebuilt;
    if (!UnpackSide(args, args.delivered, out / "delivered", side_a, &chunks_a) ||
        !UnpackSide(args, args.rebuilt, out / "rebuilt", side_b, &chunks_b)) {
      return kExitUnusableInput;
    }
    if (chunks_a > 0 || chunks_b > 0) {
      single_files = false;
      report.delivered = side_a;
      report.rebuilt = side_b;
      tree_a = {out / "delivered", true};
      tree_b = {out / "rebuilt", true};
    }
  } else if (!single_files) {
    // A directory against a file: the file is an image to unpack.
    std::size_t chunks = 0;
    if (!dir_a && !UnpackSide(args, args.delivered, out / "delivered", report.delivered, &chunks)) {
      return kExitUnusableInput;
    }
    if (!dir_b && !UnpackSide(args, args.rebuilt, out / "rebuilt", report.rebuilt, &chunks)) {
      return kExitUnusableInput;
    }
    if (!dir_a) tree_a = {out / "delivered", true};
    if (!dir_b) tree_b = {out / "rebuilt", true};
  }
  DigestSide(report.delivered);
  DigestSide(report.rebuilt);
  // equiv.json is written as the results arrive, under a temporary name until complete.
  const fs::path json_path = out / equiv::kEquivFileName;
  const fs::path partial_path = out / (std::string(equiv::kEquivFileName) + ".part");
  std::ofstream json(partial_path, std::ios::binary | std::ios::trunc);
  if (!json) {
    std::fprintf(stderr, "clearbox equiv: cannot write %s\n", partial_path.c_str());
    return kExitUnusableInput;
  }
  equiv::EquivWriter writer(json, report);
  if (single_files) {
    writer.Add({fs::path(args.delivered).filename().string(),
                equiv::CompareFilesOnDisk(args.delivered, args.rebuilt, report.tolerances)});
  } else {
    auto compared =
        equiv::CompareTrees(tree_a, tree_b, report.tolerances, args.unpack.threads,
                            [&writer](equiv::PathResult&& result) { writer.Add(result); });
    if (!compared) {
      std::fprintf(stderr, "clearbox equiv: %s\n", compared.error().message.c_str());
      return kExitUnusableInput;
    }
  }
  writer.Finish();
  json.close();
  fs::rename(partial_path, json_path, ec);
  if (!json || ec) {
    std::fprintf(stderr, "clearbox equiv: cannot write %s\n", json_path.c_str());
    return kExitUnusableInput;
  }
  if (!WriteEquivHtml(json_path, out / equiv::kEquivHtmlFileName)) return kExitInternal;
  if (!args.quiet) std::fputs(writer.Summary().c_str(), stdout);
  std::printf("equiv: %s\n", json_path.c_str());
  return writer.IsEquivalent() ? kExitOk : kExitNotEquivalent;
}

std::string ClassList() {
  std::string out;
  for (const auto& info : equiv::ToleratedClasses()) {
    out += "  " + std::string(info.name) + ": " + std::string(info.rule) + "\n";
  }
  return out;
}

}  // namespace

void RegisterEquivCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<EquivArgs>();
  auto* cmd = app.add_subcommand(
      "equiv", "Binary equivalence: is the delivered build the one rebuilt from the source?");
  cmd->footer(
      "DELIVERED and REBUILT are each a file, a directory, or an image or package clearbox can\n"
      "unpack (into OUT/delivered, OUT/rebuilt). Files are paired by their path inside the\n"
      "root filesystem. Per path: IDENTICAL, EQUIVALENT (differences only in tolerated\n"
      "classes, each named with where), DIFFERENT (ELF sections, functions, bytes; a diff\n"
      "excerpt for text), ONLY_IN_DELIVERED, ONLY_IN_REBUILT or UNCOMPARABLE (with a reason).\n"
      "ELF files are compared on their loaded segments: no class can hide a code change.\n"
      "Writes OUT/equiv.json (docs/equiv-schema.md), OUT/equiv.html and prints a summary.\n\n"
      "Tolerated classes (each can be switched off with --no-tolerate NAME):\n" +
      ClassList() +
      "\nExit codes: 0 every path IDENTICAL or EQUIVALENT; 1 some path DIFFERENT, only on one\n"
      "side or UNCOMPARABLE; 4 unusable input (a side missing or not unpackable, OUT not\n"
      "writable or OUT/delivered, OUT/rebuilt not empty); 2 usage error; 70 internal error.");
  cmd->add_option("delivered", args->delivered, "What the vendor delivered")->required();
  cmd->add_option("rebuilt", args->rebuilt, "What was rebuilt from the reviewed source")
      ->required();
  cmd->add_option("-o,--output", args->output_dir, "Output directory (created if missing)")
      ->required();
  cmd->add_option("--no-tolerate", args->no_tolerate,
                  "Treat differences of this class as real (repeatable; names below)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only where equiv.json is");
  AddUnpackLimitOptions(*cmd, args->unpack);
  cmd->callback([run, args] { *run = [args] { return RunEquiv(*args); }; });
}

}  // namespace clearbox::cli
