// A c2sp.org/tlog-witness style cosigner: keeps the latest cosigned tree per log origin and
// cosigns a checkpoint (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1) only if it is
// signed by the log and consistent with that tree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/merkle.hpp"
#include "ledger/note.hpp"

namespace clearbox::ledger {

// First line of a witness state file; the rest is the checkpoint body (origin, size, root).
inline constexpr std::string_view kWitnessStateHeader = "clearbox.dev/witness-state@v1";
// Largest witness state file we read.
inline constexpr std::size_t kMaxWitnessStateBytes = 4096;

// "clearbox.dev/witness-state@v1\n" + origin, size and root lines (extensions dropped).
std::string FormatWitnessState(const Checkpoint& latest);
// Strict parser of a witness state file: exact header, then a checkpoint body without
// extension lines; kMalformed otherwise.
[[nodiscard]] Result<Checkpoint> ParseWitnessState(std::string_view text);

// What a cosigning request came to (each maps to its own exit code / HTTP status).
enum class WitnessOutcome {
  kCosigned,           // consistent: cosigned, state advanced
  kInvalidCheckpoint,  // not a checkpoint signed by the trusted key of its origin (403)
  kFork,               // same size with another root, or the consistency proof fails (409/422)
  kConflict,           // the witness is at another size than the proof starts from (409)
};

// The outcome, a one-line reason, and on kCosigned the checkpoint with our cosignature.
struct CosignResult {
  WitnessOutcome outcome = WitnessOutcome::kInvalidCheckpoint;
  std::string message;
  std::string cosigned_checkpoint;
  std::uint64_t witness_size = 0;  // the size the witness had cosigned before this request
  bool bad_proof = false;          // kFork because the consistency proof failed
};

// A c2sp.org/tlog-witness add-checkpoint request body: "old <size>\n", 0-63 base64
// consistency proof hashes, an empty line, then the signed checkpoint.
struct AddCheckpointRequest {
  std::uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string signed_checkpoint;
};

// Strict parser of an add-checkpoint body (canonical decimal and base64, a checkpoint note);
// kMalformed otherwise.
[[nodiscard]] Result<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body);

// One witness: a state directory (one file per origin plus a lock), its cosigner key and the
// log keys it trusts.
class Witness {
 public:
  // `cosigner` is used as a cosignature/v1 key whatever its type byte. Each of `log_keys`
  // vouches only for checkpoints whose origin line equals its name (c2sp.org/tlog-witness).
  Witness(std::filesystem::path state_dir, const SignerKey& cosigner,
          std::vector<VerifierKey> log_keys);

  // Cosigns `signed_checkpoint` at `timestamp` (POSIX seconds). `old_size`/`proof` is the
  // consistency proof from the witness's last tree (absent: the witness's own size and an
  // empty proof). The state file is replaced atomically, under an exclusive lock, before
  // this returns. Errors (state unreadable or damaged, I/O) are the Result's.
  [[nodiscard]] Result<CosignResult> Cosign(std::string_view signed_checkpoint,
                                            std::optional<std::uint64_t> old_size,
                                            std::span<const Hash> proof, std::uint64_t timestamp);

  // The latest cosigned tree for `origin`, if any.
  [[nodiscard]] Result<std::optional<Checkpoint>> Latest(std::string_view origin) const;

  // Path of the state file of `origin` (hex SHA-256 of the origin, so any origin is safe).
  std::filesystem::path StatePath(std::string_view origin) const;

 private:
  std::filesystem::path state_dir_;
  SignerKey cosigner_;
  std::vector<VerifierKey> log_keys_;
};

}  // namespace clearbox::ledger
