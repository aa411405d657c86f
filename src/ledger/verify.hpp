// Offline verification of a logged attestation: DSSE signature, statement, checkpoint
// signature and inclusion of the envelope in the log.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// Verifies `envelope` (the exact bytes appended to the log) against a tlog-proof file,
// trusting only `log_key` (checkpoint signer) and `attester` (DSSE signer). Never throws;
// every defect of the inputs is a failed line.
VerificationReport VerifyAttestation(std::string_view envelope, std::string_view proof,
                                     const VerifierKey& log_key, const VerifierKey& attester);

}  // namespace clearbox::ledger
