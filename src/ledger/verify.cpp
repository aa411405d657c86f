// The steps of `clearbox verify`, in the order the DSSE spec requires: signature first,
// then payload type, then the payload; then the log's checkpoint and the inclusion proof.
#include "ledger/verify.hpp"

#include <optional>

#include "ledger/checkpoint.hpp"
#include "ledger/dsse.hpp"
#include "ledger/merkle.hpp"

namespace clearbox::ledger {

VerificationReport VerifyAttestation(std::string_view envelope_bytes, std::string_view proof_bytes,
                                     const VerifierKey& log_key, const VerifierKey& attester) {
  VerificationReport report;
  bool all = true;
  auto line = [&](bool ok, const char* check, std::string detail) {
    report.lines.push_back(CheckLine{ok, check, std::move(detail)});
    all = all && ok;
  };
  auto envelope = ParseEnvelope(envelope_bytes);
  if (!envelope) {
    line(false, "envelope", "not a DSSE envelope: " + envelope.error().message);
  } else {
    auto signed_ok = VerifyEnvelope(*envelope, attester);
    line(signed_ok.has_value(), "dsse-signature",
         signed_ok ? "Ed25519 over the DSSEv1 PAE by " + KeyLabel(attester)
                   : signed_ok.error().message);
    if (signed_ok) {
      if (envelope->payload_type != kInTotoPayloadType) {
        line(false, "statement", "payloadType is not " + std::string(kInTotoPayloadType));
      } else if (auto st = ParseStatement(envelope->payload); !st) {
        line(false, "statement", st.error().message);
      } else {
        std::string subjects;
        for (const auto& s : st->subjects) subjects += " " + s.name + " sha256:" + s.sha256;
        line(true, "statement",
             "in-toto v1, predicate " + st->predicate_type + ", subject" + subjects);
      }
    }
  }
  auto proof = ParseInclusionProofFile(proof_bytes);
  if (!proof) {
    line(false, "proof", "not a c2sp.org/tlog-proof file: " + proof.error().message);
    report.verified = false;
    return report;
  }
  auto opened = OpenNote(proof->signed_checkpoint, {log_key});
  std::optional<Checkpoint> checkpoint;
  if (opened) {
    if (auto cp = ParseCheckpoint(opened->text)) checkpoint = *cp;
  }
  line(checkpoint.has_value(), "checkpoint",
       checkpoint ? checkpoint->origin + " size " + std::to_string(checkpoint->size) +
                        " signed by " + KeyLabel(log_key)
                  : (opened ? "body is not a checkpoint" : opened.error().message));
  if (checkpoint) {
    // The envelope is the logged entry: its RFC 6962 leaf hash is proven into the tree.
    const Hash leaf = HashLeaf(envelope_bytes);
    auto included =
        VerifyInclusion(proof->index, checkpoint->size, leaf, proof->path, checkpoint->root);
    line(included.has_value(), "inclusion",
         included ? "envelope is entry " + std::to_string(proof->index) + " of " +
                        std::to_string(checkpoint->size) + " (" +
                        std::to_string(proof->path.size()) + " proof hashes)"
                  : included.error().message);
  } else {
    line(false, "inclusion", "no trusted checkpoint to check against");
  }
  report.verified = all;
  return report;
}

}  // namespace clearbox::ledger
