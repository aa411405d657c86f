// `clearbox verify ENVELOPE --proof FILE --log-key VKEY --attester-key VKEY [--witness-key VKEY
// ...] [--old-checkpoint FILE [--consistency-proof FILE]]`: offline check of a logged
// attestation, trusting only the given public keys.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "ledger/dsse.hpp"
#include "ledger/file_io.hpp"
#include "ledger/note.hpp"
#include "ledger/verify.hpp"

namespace clearbox::cli {
namespace {

constexpr std::size_t kMaxProofBytes = 1 << 20;

struct VerifyArgs {
  std::string envelope;
  std::string proof;
  std::string log_key;
  std::string attester_key;
  std::vector<std::string> witness_keys;
  std::string old_checkpoint;
  std::string consistency_proof;
};

int Unusable(const std::string& message) {
  std::fprintf(stderr, "clearbox verify: %s\n", message.c_str());
  return kExitUnusableInput;
}

int RunVerify(const VerifyArgs& args) {
  auto envelope_bytes = ledger::ReadSmallFile(args.envelope, ledger::kMaxEnvelopeBytes);
  if (!envelope_bytes) return Unusable(envelope_bytes.error().message);
  auto proof_bytes = ledger::ReadSmallFile(args.proof, kMaxProofBytes);
  if (!proof_bytes) return Unusable(proof_bytes.error().message);
  auto log_key_text = ledger::ReadKeyArgument(args.log_key);
  if (!log_key_text) return Unusable(log_key_text.error().message);
  auto log_key = ledger::ParseVerifierKey(*log_key_text);
  if (!log_key) return Unusable("--log-key is not a verifier key: " + log_key.error().message);
  auto attester_text = ledger::ReadKeyArgument(args.attester_key);
  if (!attester_text) return Unusable(attester_text.error().message);
  auto attester = ledger::ParseVerifierKey(*attester_text);
  if (!attester)
    return Unusable("--attester-key is not a verifier key: " + attester.error().message);

  ledger::VerifyPolicy policy;
  for (const auto& w : args.witness_keys) {
    auto text = ledger::ReadKeyArgument(w);
    if (!text) return Unusable(text.error().message);
    auto key = ledger::ParseVerifierKey(*text);
    if (!key) return Unusable("--witness-key is not a verifier key: " + key.error().message);
    policy.witnesses.push_back(*key);
  }
  if (!args.old_checkpoint.empty()) {
    auto old = ledger::ReadSmallFile(args.old_checkpoint, kMaxProofBytes);
    if (!old) return Unusable(old.error().message);
    policy.old_checkpoint = std::move(*old);
  }
  if (!args.consistency_proof.empty()) {
    auto c = ledger::ReadSmallFile(args.consistency_proof, kMaxProofBytes);
    if (!c) return Unusable(c.error().message);
    policy.consistency_proof = std::move(*c);
  }
  const auto report =
      ledger::VerifyAttestation(*envelope_bytes, *proof_bytes, *log_key, *attester, policy);
  for (const auto& line : report.lines) {
    std::printf("%s %-15s %s\n", line.ok ? "PASS" : "FAIL", line.check.c_str(),
                line.detail.c_str());
  }
  std::printf("%s\n", report.verified ? "VERIFIED" : "INVALID");
  return report.verified ? kExitOk : kExitInvalid;
}

}  // namespace

void RegisterVerifyCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand("verify", "Verify a logged attestation offline");
  cmd->footer(
      "Checks, one line each: the DSSE signature by the attester key, the in-toto statement,\n"
      "the checkpoint signature by the log key, and that the envelope file (its RFC 6962 leaf\n"
      "hash) is included at the proof's index in the checkpoint's tree; with --witness-key, a\n"
      "valid c2sp.org/tlog-cosignature (cosignature/v1) by each witness on that checkpoint; with\n"
      "--old-checkpoint, that the checkpoint's tree extends the older one (RFC 6962 consistency,\n"
      "proof from `clearbox log proof DIR --consistency OLD_SIZE`).\n\n"
      "Exit codes: 0 verified; 1 invalid (a check failed); 2 usage; 4 unusable input (a file\n"
      "or key cannot be read or parsed).");
  cmd->add_option("envelope", args->envelope, "DSSE envelope (as appended to the log)")->required();
  cmd->add_option("--proof", args->proof, "c2sp.org/tlog-proof file from `clearbox log proof`")
      ->required();
  cmd->add_option("--log-key", args->log_key, "Log verifier key (vkey text or file)")->required();
  cmd->add_option("--attester-key", args->attester_key, "Attester verifier key (vkey text or file)")
      ->required();
  cmd->add_option("--witness-key", args->witness_keys,
                  "Witness verifier key (vkey text or file; type 0x04, or 0x01 taken as the same "
                  "Ed25519 key); repeatable, each must cosign")
      ->allow_extra_args(false);
  auto* old = cmd->add_option("--old-checkpoint", args->old_checkpoint,
                              "An older signed checkpoint of the log the proof's must extend");
  cmd->add_option("--consistency-proof", args->consistency_proof,
                  "Consistency proof file from the old checkpoint's size to the proof's")
      ->needs(old);
  cmd->callback([run, args] { *run = [args] { return RunVerify(*args); }; });
}

}  // namespace clearbox::cli
