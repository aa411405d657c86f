// `clearbox log init|append|proof|check|serve`: a c2sp.org/tlog-tiles transparency log.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/file_io.hpp"
#include "ledger/log_store.hpp"
#include "ledger/note.hpp"
#include "portal/http_server.hpp"
#include "portal/log_routes.hpp"

namespace clearbox::cli {
namespace {

struct LogArgs {
  std::string dir;
  std::string origin;
  std::string key;
  std::vector<std::string> files;
  std::optional<std::uint64_t> index;
  std::optional<std::uint64_t> consistency;
  std::string output;
  std::string listen = "127.0.0.1:8080";
  std::string token_file;
};

int Report(const char* what, const Error& error) {
  std::fprintf(stderr, "clearbox log %s: %s\n", what, error.message.c_str());
  return error.code == ErrorCode::kMalformed ? kExitInvalid : kExitUnusableInput;
}

int RunInit(const LogArgs& args) {
  auto key_text = ledger::ReadKeyArgument(args.key);
  if (!key_text) return Report("init", key_text.error());
  auto key = ledger::ParseSignerKey(*key_text);
  if (!key)
    return Report("init",
                  Error{ErrorCode::kInvalidArgument, "not a signer key: " + key.error().message});
  auto done = ledger::LogStore::Init(args.dir, args.origin, *key);
  if (!done) return Report("init", done.error());
  std::printf("log %s created in %s; verifier key:\n%s\n", args.origin.c_str(), args.dir.c_str(),
              ledger::FormatVerifierKey(ledger::PublicKeyOf(*key)).c_str());
  return kExitOk;
}

int RunAppend(const LogArgs& args) {
  std::vector<std::string> entries;
  for (const auto& f : args.files) {
    auto bytes = ledger::ReadSmallFile(f, ledger::kMaxEntryBytes);
    if (!bytes) return Report("append", bytes.error());
    entries.push_back(std::move(*bytes));
  }
  auto store = ledger::LogStore::OpenForAppend(args.dir);
  if (!store) return Report("append", store.error());
  auto first = (*store)->Append(entries);
  if (!first) return Report("append", first.error());
  // Printed only now: entries, tiles and the checkpoint covering them are durable.
  for (std::size_t i = 0; i < args.files.size(); ++i) {
    std::printf("%llu %s\n", static_cast<unsigned long long>(*first + i), args.files[i].c_str());
  }
  std::fflush(stdout);
  return kExitOk;
}

int RunProof(const LogArgs& args) {
  auto store = ledger::LogStore::OpenForReading(args.dir);
  if (!store) return Report("proof", store.error());
  if (!args.index && !args.consistency) {
    std::fprintf(stderr, "clearbox log proof: give --index N or --consistency OLD_SIZE\n");
    return kExitUsage;
  }
  std::string text;
  if (args.index) {
    auto path = (*store)->Inclusion(*args.index);
    if (!path) return Report("proof", path.error());
    text = ledger::FormatInclusionProofFile(ledger::InclusionProofFile{
        std::nullopt, *args.index, *path, (*store)->signed_checkpoint()});
  } else {
    auto path = (*store)->Consistency(*args.consistency);
    if (!path) return Report("proof", path.error());
    text = ledger::FormatConsistencyProofFile(
        ledger::ConsistencyProofFile{*args.consistency, *path, (*store)->signed_checkpoint()});
  }
  if (args.output.empty() || args.output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  auto wrote = ledger::WriteFileAtomically(args.output, text, 0644, false);
  if (!wrote) return Report("proof", wrote.error());
  return kExitOk;
}

int RunCheck(const LogArgs& args) {
  auto store = ledger::LogStore::OpenForReading(args.dir);
  if (!store) return Report("check", store.error());
  auto ok = (*store)->CheckAll();
  if (!ok) return Report("check", ok.error());
  std::printf("log %s: %llu entries, tiles and checkpoint consistent\n",
              (*store)->checkpoint().origin.c_str(),
              static_cast<unsigned long long>((*store)->checkpoint().size));
  return kExitOk;
}

int RunServe(const LogArgs& args) {
  auto store = ledger::LogStore::OpenForReading(args.dir);
  if (!store) return Report("serve", store.error());
  std::string token;
  if (!args.token_file.empty()) {
    auto text = ledger::ReadSmallFile(args.token_file, 4096);
    if (!text) return Report("serve", text.error());
    token = text->substr(0, text->find('\n'));
    if (token.size() < 16) {
      return Report("serve", Error{ErrorCode::kInvalidArgument,
                                   "the token (first line of --token-file) needs 16+ bytes"});
    }
  }
  auto address = portal::ParseListenAddress(args.listen);
  if (!address) return Report("serve", address.error());
  // SIGINT/SIGTERM are blocked before the server's threads start and taken by one waiter
  // thread, which stops the server cleanly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  portal::LogService service(args.dir, token);
  portal::HttpServer server(
      [&service](const portal::HttpRequest& request) { return service.Handle(request); },
      [&service](const portal::HttpRequest& request) { return service.CheckHeaders(request); });
  auto bound = server.Bind(address->first, address->second);
  if (!bound) return Report("serve", bound.error());
  std::printf("serving log %s on http://%s:%d/ (appends %s)\n",
              (*store)->checkpoint().origin.c_str(), address->first.c_str(), server.port(),
              token.empty() ? "disabled" : "with bearer token");
  std::fflush(stdout);
  std::thread waiter([&server, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.Stop();
  });
  auto served = server.Serve();
  ::kill(::getpid(), SIGTERM);  // wakes the waiter if Serve() ended on its own
  waiter.join();
  if (!served) return Report("serve", served.error());
  return kExitOk;
}

}  // namespace

void RegisterLogCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<LogArgs>();
  auto* log = app.add_subcommand("log", "A transparency log in the C2SP tlog-tiles layout");
  log->require_subcommand(1);
  log->footer(
      "Layout of DIR: checkpoint (signed note, c2sp.org/tlog-checkpoint), tile/<L>/<N>[.p/<W>]\n"
      "(hash tiles of height 8), tile/entries/<N>[.p/<W>] (entry bundles), .clearbox-log/\n"
      "(private: signer key, writer lock). Serve DIR minus .clearbox-log/ as static files.");

  auto* init = log->add_subcommand("init", "Create an empty log");
  init->add_option("dir", args->dir, "Log directory (absent or empty)")->required();
  init->add_option("--origin", args->origin, "Log origin, e.g. lab.example.com/log")->required();
  init->add_option("--key", args->key, "Log signer key (skey text or file)")->required();
  init->footer("Exit codes: 0 created; 2 usage; 4 unusable input (bad key, DIR not empty).");
  init->callback([run, args] { *run = [args] { return RunInit(*args); }; });

  auto* append =
      log->add_subcommand("append", "Append files as entries (at most 65535 bytes each)");
  append->add_option("dir", args->dir, "Log directory")->required();
  append->add_option("files", args->files, "Entries to append, in order")->required();
  append->footer(
      "Prints \"<index> <file>\" per entry once the entry bundles, then the tiles, then the new\n"
      "signed checkpoint are durable (fsync'd). One appender at a time (lock file).\n"
      "Exit codes: 0 appended; 1 the log is damaged; 2 usage; 4 unusable input (unreadable or\n"
      "too large file, locked or missing log).");
  append->callback([run, args] { *run = [args] { return RunAppend(*args); }; });

  auto* proof = log->add_subcommand("proof", "Write an inclusion or consistency proof");
  proof->add_option("dir", args->dir, "Log directory")->required();
  auto* index = proof->add_option("--index", args->index, "Entry index: c2sp.org/tlog-proof file");
  auto* consistency =
      proof->add_option("--consistency", args->consistency,
                        "Old tree size: consistency proof file (clearbox.dev/tlog-consistency@v1)");
  index->excludes(consistency);
  proof->add_option("-o,--output", args->output, "Output file (default: standard output)");
  proof->footer(
      "Both proofs end with the current signed checkpoint.\n"
      "Exit codes: 0 written; 1 the log is damaged; 2 usage; 4 unusable input (no such index).");
  proof->callback([run, args] { *run = [args] { return RunProof(*args); }; });

  auto* serve = log->add_subcommand("serve", "Serve the log over HTTP (c2sp.org/tlog-tiles)");
  serve->add_option("dir", args->dir, "Log directory")->required();
  serve->add_option("--listen", args->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--token-file", args->token_file,
                    "File whose first line (16+ bytes) is the bearer token for appends");
  serve->footer(
      "Read-only, as tlog-tiles clients expect: GET /checkpoint (text/plain; charset=utf-8,\n"
      "Cache-Control: no-cache), GET /tile/<L>/<N>[.p/<W>] and /tile/entries/<N>[.p/<W>]\n"
      "(application/octet-stream; full tiles Cache-Control: public, max-age=31536000,\n"
      "immutable). Paths must be spelled exactly as the spec writes them (else 400).\n"
      "Appends: POST /add, body = one entry (at most 65535 bytes), header\n"
      "\"Authorization: Bearer <token>\"; answers 200 \"<index>\\n\" once durable, 401 without a\n"
      "bearer token, 403 with a wrong one (or when no --token-file was given), 413 too large.\n"
      "Prints the bound address, then serves until SIGINT/SIGTERM.\n"
      "Exit codes: 0 stopped; 1 the log is damaged; 2 usage; 4 unusable (no log, cannot listen).");
  serve->callback([run, args] { *run = [args] { return RunServe(*args); }; });

  auto* check = log->add_subcommand("check", "Recompute every tile and the root from the entries");
  check->add_option("dir", args->dir, "Log directory")->required();
  check->footer("Exit codes: 0 consistent; 1 damaged; 4 unusable input.");
  check->callback([run, args] { *run = [args] { return RunCheck(*args); }; });
}

}  // namespace clearbox::cli
