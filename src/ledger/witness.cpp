// The witness: verify the log signature, check consistency with the last cosigned tree,
// persist the new tree atomically, then cosign (c2sp.org/tlog-witness semantics, offline).
#include "ledger/witness.hpp"
#include "core/hex.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ledger/file_io.hpp"

namespace clearbox::ledger {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kLockName = "lock";

// Holds an exclusive flock on the state directory's lock file for its lifetime.
class StateLock {
 public:
  ~StateLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Result<void> Acquire(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail(ErrorCode::kIo, "cannot create " + dir.string() + ": " + std::strerror(errno));
    }
    const fs::path lock = dir / kLockName;
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      return Fail(ErrorCode::kIo, "cannot open " + lock.string() + ": " + std::strerror(errno));
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) return Fail(ErrorCode::kIo, "cannot lock " + lock.string());
    }
    return {};
  }

 private:
  int fd_ = -1;
};

}  // namespace

Result<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body) {
  // The body is exactly our consistency proof file without its header line.
  if (!body.starts_with("old ")) return Fail(ErrorCode::kMalformed, "no old line");
  auto file =
      ParseConsistencyProofFile(std::string(kConsistencyProofHeader) + "\n" + std::string(body));
  if (!file) return Forward(file);
  return AddCheckpointRequest{file->old_size, std::move(file->path),
                              std::move(file->signed_checkpoint)};
}

std::string FormatWitnessState(const Checkpoint& latest) {
  return std::string(kWitnessStateHeader) + "\n" +
         FormatCheckpoint(Checkpoint{latest.origin, latest.size, latest.root, {}});
}

Result<Checkpoint> ParseWitnessState(std::string_view text) {
  if (!text.starts_with(kWitnessStateHeader) || text.size() <= kWitnessStateHeader.size() ||
      text[kWitnessStateHeader.size()] != '\n') {
    return Fail(ErrorCode::kMalformed, "not a witness state file");
  }
  auto cp = ParseCheckpoint(text.substr(kWitnessStateHeader.size() + 1));
  if (!cp) return Forward(cp);
  if (!cp->extensions.empty()) return Fail(ErrorCode::kMalformed, "witness state has extra lines");
  return cp;
}

Witness::Witness(fs::path state_dir, const SignerKey& cosigner, std::vector<VerifierKey> log_keys)
    : state_dir_(std::move(state_dir)),
      cosigner_(AsCosignerKey(cosigner)),
      log_keys_(std::move(log_keys)) {}

fs::path Witness::StatePath(std::string_view origin) const {
  return state_dir_ / ("log-" + HexEncode(ByteView(Sha256Of(origin))));
}

Result<std::optional<Checkpoint>> Witness::Latest(std::string_view origin) const {
  const fs::path path = StatePath(origin);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::optional<Checkpoint>{};
  auto text = ReadSmallFile(path, kMaxWitnessStateBytes);
  if (!text) return Forward(text);
  auto state = ParseWitnessState(*text);
  if (!state) return Fail(ErrorCode::kMalformed, "witness state " + path.string() + " is damaged");
  if (state->origin != origin) {
    return Fail(ErrorCode::kMalformed, "witness state " + path.string() + " is for another origin");
  }
  return std::optional<Checkpoint>(std::move(*state));
}

Result<CosignResult> Witness::Cosign(std::string_view signed_checkpoint,
                                     std::optional<std::uint64_t> old_size,
                                     std::span<const Hash> proof, std::uint64_t timestamp) {
  CosignResult result;
  auto opened = OpenNote(signed_checkpoint, log_keys_);
  if (!opened) {
    result.message = "checkpoint not signed by a trusted log key: " + opened.error().message;
    return result;
  }
  auto cp = ParseCheckpoint(opened->text);
  if (!cp) {
    result.message = "signed note is not a checkpoint: " + cp.error().message;
    return result;
  }
  // c2sp.org/tlog-witness: a log key vouches only for its own origin (the key name), so a
  // key trusted for one log cannot advance another log's tree.
  const bool by_origin_key =
      std::any_of(opened->verified.begin(), opened->verified.end(),
                  [&](const NoteSignature& s) { return s.name == cp->origin; });
  if (!by_origin_key) {
    result.message = "checkpoint for origin " + cp->origin +
                     " is not signed by a trusted log key named after that origin";
    return result;
  }
  // The check of the old size and the state update happen under one lock, so two requests
  // cannot both advance from the same tree (the rollback race tlog-witness describes).
  StateLock lock;
  CLEARBOX_TRY(lock.Acquire(state_dir_));
  auto latest = Latest(cp->origin);
  if (!latest) return Forward(latest);
  const std::uint64_t have = *latest ? (*latest)->size : 0;
  result.witness_size = have;
  const std::uint64_t from = old_size.value_or(have);
  if (from != have) {
    result.outcome = WitnessOutcome::kConflict;
    result.message = "proof starts at size " + std::to_string(from) + " but the witness is at " +
                     std::to_string(have);
    return result;
  }
  if (!old_size && have > 0 && cp->size > have) {
    result.outcome = WitnessOutcome::kConflict;
    result.message = "a consistency proof from size " + std::to_string(have) + " is needed";
    return result;
  }
  if (cp->size < have) {
    result.outcome = WitnessOutcome::kConflict;
    result.message = "checkpoint size " + std::to_string(cp->size) +
                     " is older than the witness's " + std::to_string(have);
    return result;
  }
  if (*latest && cp->size == have && cp->root != (*latest)->root) {
    result.outcome = WitnessOutcome::kFork;
    result.message = "fork: size " + std::to_string(have) + " was cosigned with another root";
    return result;
  }
  if (have == 0) {
    // Nothing to be consistent with but the empty tree: the proof must be empty.
    if (!proof.empty() || (cp->size == 0 && cp->root != EmptyRoot())) {
      result.outcome = WitnessOutcome::kFork;
      result.bad_proof = !proof.empty();
      result.message = "inconsistent: non-empty proof from the empty tree, or a bad empty root";
      return result;
    }
  } else if (auto ok = VerifyConsistency(have, cp->size, proof, (*latest)->root, cp->root); !ok) {
    result.outcome = WitnessOutcome::kFork;
    result.bad_proof = cp->size != have;
    result.message = "inconsistent with the cosigned tree of size " + std::to_string(have) + ": " +
                     ok.error().message;
    return result;
  }
  auto cosigned = CosignNote(signed_checkpoint, cosigner_, timestamp);
  if (!cosigned) return Forward(cosigned);
  if (!*latest || cp->size > have) {
    CLEARBOX_TRY(WriteFileAtomically(StatePath(cp->origin), FormatWitnessState(*cp), 0600, false));
  }
  result.outcome = WitnessOutcome::kCosigned;
  result.message = "cosigned " + cp->origin + " size " + std::to_string(cp->size) + " (from " +
                   std::to_string(have) + ")";
  result.cosigned_checkpoint = std::move(*cosigned);
  return result;
}

}  // namespace clearbox::ledger
