// The steps of `clearbox verify`, in the order the DSSE spec requires: signature first,
// then payload type, then the payload; then the log's checkpoint and the inclusion proof.
#include "ledger/verify.hpp"

#include <algorithm>
#include <ctime>
#include <optional>

#include "ledger/checkpoint.hpp"
#include "ledger/dsse.hpp"
#include "ledger/merkle.hpp"

namespace clearbox::ledger {

namespace {

std::string Utc(std::uint64_t seconds) {
  const auto t = static_cast<std::time_t>(std::min<std::uint64_t>(seconds, 253402300799ull));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

CheckLine VerifyOldCheckpoint(const Checkpoint& now, std::string_view old_signed,
                              const std::optional<std::string>& consistency_proof,
                              const VerifierKey& log_key) {
  auto fail = [](std::string why) { return CheckLine{false, "consistency", std::move(why)}; };
  auto opened = OpenNote(old_signed, {log_key});
  if (!opened) return fail("old checkpoint: " + opened.error().message);
  auto old = ParseCheckpoint(opened->text);
  if (!old) return fail("old checkpoint: " + old.error().message);
  if (old->origin != now.origin) return fail("old checkpoint is for origin " + old->origin);
  const std::string span = std::to_string(old->size) + " -> " + std::to_string(now.size);
  if (old->size > now.size) return fail("old checkpoint is larger than the proof's (" + span + ")");
  std::vector<Hash> path;
  if (consistency_proof) {
    auto file = ParseConsistencyProofFile(*consistency_proof);
    if (!file) return fail("not a consistency proof file: " + file.error().message);
    auto note = OpenNote(file->signed_checkpoint, {log_key});
    auto target = note ? ParseCheckpoint(note->text) : Result<Checkpoint>(Forward(note));
    if (!target || target->origin != now.origin || target->size != now.size ||
        target->root != now.root) {
      return fail("the consistency proof ends at another checkpoint than the inclusion proof");
    }
    if (file->old_size != old->size) {
      return fail("the consistency proof starts at size " + std::to_string(file->old_size) +
                  ", the old checkpoint has " + std::to_string(old->size));
    }
    path = std::move(file->path);
  } else if (old->size != now.size && old->size != 0) {
    return fail("sizes differ (" + span + ") and no consistency proof was given");
  }
  if (old->size == 0) {
    if (old->root != EmptyRoot() || !path.empty())
      return fail("bad empty-tree checkpoint or proof");
    return CheckLine{true, "consistency", "from the empty tree (" + span + ")"};
  }
  auto ok = VerifyConsistency(old->size, now.size, path, old->root, now.root);
  if (!ok) return fail("tree " + span + " not consistent: " + ok.error().message);
  return CheckLine{true, "consistency",
                   "tree " + span + " extends the old checkpoint (" + std::to_string(path.size()) +
                       " proof hashes)"};
}

VerificationReport VerifyAttestation(std::string_view envelope_bytes, std::string_view proof_bytes,
                                     const VerifierKey& log_key, const VerifierKey& attester,
                                     const VerifyPolicy& policy) {
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
  for (const auto& witness : policy.witnesses) {
    const VerifierKey key = AsCosignerKey(witness);
    auto cosigned = OpenNote(proof->signed_checkpoint, {key});
    if (!cosigned) {
      line(false, "cosignature",
           key.name + ": " +
               (cosigned.error().message == "note has no verifiable signatures"
                    ? std::string("no cosignature by this witness")
                    : cosigned.error().message));
      continue;
    }
    auto when = CosignatureTime(cosigned->verified.front());
    line(when.has_value(), "cosignature",
         KeyLabel(key) + " cosigned at " + (when ? Utc(*when) : std::string("?")));
  }
  if (policy.old_checkpoint) {
    if (checkpoint) {
      const auto c = VerifyOldCheckpoint(*checkpoint, *policy.old_checkpoint,
                                         policy.consistency_proof, log_key);
      line(c.ok, "consistency", c.detail);
    } else {
      line(false, "consistency", "no trusted checkpoint to check against");
    }
  }
  report.verified = all;
  return report;
}

}  // namespace clearbox::ledger
