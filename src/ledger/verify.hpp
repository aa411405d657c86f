// Offline verification of a logged attestation: DSSE signature, statement, checkpoint
// signature and inclusion of the envelope in the log.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.hpp"
#include "ledger/note.hpp"

namespace clearbox::ledger {

// One verification step and its outcome, for a one-line report.
struct CheckLine {
  bool ok = false;
  std::string check;
  std::string detail;
};

// All steps; `verified` only if every step passed.
struct VerificationReport {
  std::vector<CheckLine> lines;
  bool verified = false;
};

// Checks beyond the log and attester signatures.
struct VerifyPolicy {
  // Each must have a valid cosignature/v1 on the proof's checkpoint (keys of type 0x01 are
  // taken as the same Ed25519 key used for cosigning).
  std::vector<VerifierKey> witnesses;
  // An older signed checkpoint of the same log the proof's checkpoint must be consistent with,
  std::optional<std::string> old_checkpoint;
  // and the consistency proof file (clearbox.dev/tlog-consistency@v1) from it to that
  // checkpoint (not needed when both trees have the same size).
  std::optional<std::string> consistency_proof;
};

// Verifies `envelope` (the exact bytes appended to the log) against a tlog-proof file,
// trusting only `log_key` (checkpoint signer), `attester` (DSSE signer) and the policy's
// witnesses. Never throws; every defect of the inputs is a failed line.
VerificationReport VerifyAttestation(std::string_view envelope, std::string_view proof,
                                     const VerifierKey& log_key, const VerifierKey& attester,
                                     const VerifyPolicy& policy = {});

// Checks that the tree of `new_checkpoint` (a verified body) extends the one of
// `old_signed_checkpoint` (signed by `log_key`), using `consistency_proof` if the sizes differ.
CheckLine VerifyOldCheckpoint(const Checkpoint& new_checkpoint,
                              std::string_view old_signed_checkpoint,
                              const std::optional<std::string>& consistency_proof,
                              const VerifierKey& log_key);

}  // namespace clearbox::ledger
