// `clearbox witness cosign`: a c2sp.org/tlog-witness style witness run from the command line;
// it cosigns a log checkpoint only if it is consistent with what it cosigned before.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/encoding.hpp"
#include "ledger/file_io.hpp"
#include "ledger/note.hpp"
#include "ledger/witness.hpp"
#include "portal/http_server.hpp"
#include "portal/witness_routes.hpp"

namespace clearbox::cli {
namespace {

constexpr std::size_t kMaxInputBytes = 1 << 20;

struct WitnessArgs {
  std::string state;
  std::string key;
  std::vector<std::string> log_keys;
  std::string checkpoint;
  std::string proof;
  std::optional<std::uint64_t> time;
  std::string output;
  std::string listen = "127.0.0.1:8081";
};

int Unusable(const std::string& message) {
  std::fprintf(stderr, "clearbox witness: %s\n", message.c_str());
  return kExitUnusableInput;
}

// --time, else SOURCE_DATE_EPOCH, else the clock (cosignature timestamps are POSIX seconds).
Result<std::uint64_t> CosignTime(const WitnessArgs& args) {
  if (args.time) return *args.time;
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr) {
    auto t = ledger::ParseDecimal(epoch);
    if (!t) return Fail(ErrorCode::kInvalidArgument, "SOURCE_DATE_EPOCH is not a decimal");
    return *t;
  }
  return static_cast<std::uint64_t>(std::time(nullptr));
}

// The witness key and trusted log keys of the command line; kInvalidArgument if unusable.
Result<std::pair<ledger::SignerKey, std::vector<ledger::VerifierKey>>> ReadKeys(
    const WitnessArgs& args) {
  auto key_text = ledger::ReadKeyArgument(args.key);
  if (!key_text) return Forward(key_text);
  auto key = ledger::ParseSignerKey(*key_text);
  if (!key) {
    return Fail(ErrorCode::kInvalidArgument, "--key is not a signer key: " + key.error().message);
  }
  std::vector<ledger::VerifierKey> log_keys;
  for (const auto& k : args.log_keys) {
    auto text = ledger::ReadKeyArgument(k);
    if (!text) return Forward(text);
    auto vkey = ledger::ParseVerifierKey(*text);
    if (!vkey || vkey->algorithm != ledger::kAlgEd25519) {
      return Fail(ErrorCode::kInvalidArgument, "--log-key is not an Ed25519 verifier key");
    }
    log_keys.push_back(*vkey);
  }
  return std::pair{*key, log_keys};
}

int RunServe(const WitnessArgs& args) {
  auto keys = ReadKeys(args);
  if (!keys) return Unusable(keys.error().message);
  auto address = portal::ParseListenAddress(args.listen);
  if (!address) return Unusable(address.error().message);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ledger::Witness witness(args.state, keys->first, keys->second);
  portal::WitnessService service(witness,
                                 [] { return static_cast<std::uint64_t>(std::time(nullptr)); });
  portal::HttpServer server(
      [&service](const portal::HttpRequest& request) { return service.Handle(request); },
      [&service](const portal::HttpRequest& request) { return service.CheckHeaders(request); });
  auto bound = server.Bind(address->first, address->second);
  if (!bound) return Unusable(bound.error().message);
  std::printf(
      "witness %s serving on http://%s:%d/add-checkpoint\n",
      ledger::FormatVerifierKey(ledger::PublicKeyOf(ledger::AsCosignerKey(keys->first))).c_str(),
      address->first.c_str(), server.port());
  std::fflush(stdout);
  std::thread waiter([&server, &stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.Stop();
  });
  auto served = server.Serve();
  ::kill(::getpid(), SIGTERM);  // wakes the waiter if Serve() ended on its own
  waiter.join();
  if (!served) return Unusable(served.error().message);
  return kExitOk;
}

int RunCosign(const WitnessArgs& args) {
  auto keys = ReadKeys(args);
  if (!keys) return Unusable(keys.error().message);
  const auto& key = keys->first;
  const auto& log_keys = keys->second;
  auto checkpoint = ledger::ReadSmallFile(args.checkpoint, kMaxInputBytes);
  if (!checkpoint) return Unusable(checkpoint.error().message);
  auto when = CosignTime(args);
  if (!when) return Unusable(when.error().message);

  std::optional<std::uint64_t> old_size;
  std::vector<ledger::Hash> path;
  if (!args.proof.empty()) {
    auto text = ledger::ReadSmallFile(args.proof, kMaxInputBytes);
    if (!text) return Unusable(text.error().message);
    auto proof = ledger::ParseConsistencyProofFile(*text);
    if (!proof)
      return Unusable("--proof is not a consistency proof file: " + proof.error().message);
    // The proof must end at the checkpoint being cosigned.
    auto ours = ledger::ParseNote(*checkpoint);
    auto theirs = ledger::ParseNote(proof->signed_checkpoint);
    if (!ours || !theirs || ours->text != theirs->text) {
      std::fprintf(stderr, "clearbox witness: the proof ends at another checkpoint\n");
      return kExitInvalid;
    }
    old_size = proof->old_size;
    path = std::move(proof->path);
  }
  ledger::Witness witness(args.state, key, log_keys);
  auto result = witness.Cosign(*checkpoint, old_size, path, *when);
  if (!result) return Unusable(result.error().message);
  switch (result->outcome) {
    case ledger::WitnessOutcome::kCosigned: break;
    case ledger::WitnessOutcome::kInvalidCheckpoint:
      std::fprintf(stderr, "clearbox witness: refused: %s\n", result->message.c_str());
      return kExitInvalid;
    case ledger::WitnessOutcome::kFork:
      std::fprintf(stderr, "clearbox witness: FORK, refused: %s\n", result->message.c_str());
      return kExitFork;
    case ledger::WitnessOutcome::kConflict:
      std::fprintf(stderr, "clearbox witness: refused: %s (witness size %llu)\n",
                   result->message.c_str(), static_cast<unsigned long long>(result->witness_size));
      return kExitConflict;
  }
  std::fprintf(stderr, "clearbox witness: %s\n", result->message.c_str());
  if (args.output.empty() || args.output == "-") {
    std::fwrite(result->cosigned_checkpoint.data(), 1, result->cosigned_checkpoint.size(), stdout);
    return kExitOk;
  }
  auto wrote = ledger::WriteFileAtomically(args.output, result->cosigned_checkpoint, 0644, false);
  if (!wrote) return Unusable(wrote.error().message);
  return kExitOk;
}

}  // namespace

void RegisterWitnessCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<WitnessArgs>();
  auto* witness = app.add_subcommand("witness", "Witness a log: cosign consistent checkpoints");
  witness->require_subcommand(1);
  auto* cosign =
      witness->add_subcommand("cosign", "Cosign a checkpoint (c2sp.org/tlog-cosignature)");
  cosign->add_option("checkpoint", args->checkpoint, "Signed checkpoint file")->required();
  cosign->add_option("--state", args->state, "Witness state directory (created if absent)")
      ->required();
  cosign->add_option("--key", args->key, "Witness signer key (skey text or file)")->required();
  cosign
      ->add_option("--log-key", args->log_keys,
                   "Trusted log verifier key, named after its log's origin (repeatable)")
      ->allow_extra_args(false)
      ->required();
  cosign->add_option("--proof", args->proof,
                     "Consistency proof from the witness's last size to the checkpoint (from "
                     "`clearbox log proof DIR --consistency OLD`)");
  cosign->add_option("--time", args->time,
                     "Cosignature timestamp, POSIX seconds (default: SOURCE_DATE_EPOCH, else now)");
  cosign->add_option("-o,--output", args->output, "Output file (default: standard output)");
  cosign->footer(
      "Verifies the log's signature, then that the checkpoint extends the tree this witness last\n"
      "cosigned for its origin (same size: same root; larger: the consistency proof must start\n"
      "at the witness's size and verify). The first checkpoint of an origin is trusted as is.\n"
      "Then records the new size and root atomically (STATE/log-<sha256(origin)>, under a lock)\n"
      "and writes the checkpoint with an Ed25519 cosignature/v1 line added: key ID over type\n"
      "0x04, signature = 8-byte big-endian timestamp || Ed25519 over\n"
      "\"cosignature/v1\\ntime <t>\\n\" + checkpoint body.\n\n"
      "Exit codes: 0 cosigned; 1 invalid (not signed by the log key named after its origin, proof\n"
      "for another checkpoint); 2 usage; 3 FORK (same size with another root, or the\n"
      "consistency proof fails); 4 unusable input (unreadable file or key, damaged state); 5\n"
      "conflict (stale checkpoint, or proof from another size than the witness's: retry with a\n"
      "proof from the size printed).");
  cosign->callback([run, args] { *run = [args] { return RunCosign(*args); }; });

  auto* serve = witness->add_subcommand("serve", "Serve c2sp.org/tlog-witness over HTTP");
  serve->add_option("--state", args->state, "Witness state directory (created if absent)")
      ->required();
  serve->add_option("--key", args->key, "Witness signer key (skey text or file)")->required();
  serve
      ->add_option("--log-key", args->log_keys,
                   "Trusted log verifier key, named after its log's origin (repeatable)")
      ->required()
      ->allow_extra_args(false);
  serve->add_option("--listen", args->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve->footer(
      "POST /add-checkpoint, body \"old <size>\\n\" + consistency proof lines + \"\\n\" + signed\n"
      "checkpoint (c2sp.org/tlog-witness). Same checks and state as `witness cosign`, timestamps\n"
      "from the clock. Answers 200 with the cosignature line; 400 malformed; 403 not signed by "
      "the\n"
      "trusted log key named after its origin; 409 text/x.tlog.size \"<size>\\n\" when old is not\n"
      "the witness's size or the checkpoint is older; 409 same size with another root; 422\n"
      "consistency proof fails.\n"
      "Serves until SIGINT/SIGTERM. Exit codes: 0 stopped; 2 usage; 4 unusable (keys, address).");
  serve->callback([run, args] { *run = [args] { return RunServe(*args); }; });
}

}  // namespace clearbox::cli
