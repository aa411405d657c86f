// The portal's signing keys and verdict transparency log, under the data directory: an
// Ed25519 attester key that signs each verdict's in-toto statement (DSSE), and a tlog-tiles
// log (its own key) the envelopes are appended to, so anyone can check a published verdict
// offline with `clearbox verify`.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

#include "core/result.hpp"
#include "ledger/group_commit.hpp"
#include "ledger/note.hpp"

namespace clearbox::portal {

// Names of the keys and the log's origin (the log key's name is the origin).
inline constexpr std::string_view kAttesterKeyName = "clearbox-portal-attester";
inline constexpr std::string_view kVerdictLogOrigin = "clearbox-portal/verdicts";

// The signer key in `path`, made (mode 0600) under `name` when the file does not exist.
[[nodiscard]] Result<ledger::SignerKey> LoadOrCreateSignerKey(const std::filesystem::path& path,
                                                              std::string_view name);

class VerdictLedger {
 public:
  // Opens DIR/keys/*.skey and DIR/verdict-log, creating the keys (0600) and the log at the
  // first start; kIo if they cannot be made or read.
  [[nodiscard]] static Result<std::unique_ptr<VerdictLedger>> Open(
      const std::filesystem::path& dir);

  // Signs `statement_json` (an in-toto Statement) and appends the envelope to the log; returns
  // the envelope text (exactly the log entry) and its index once both are durable.
  [[nodiscard]] Result<std::pair<std::string, std::uint64_t>> Publish(
      const std::string& statement_json);
  // The c2sp.org/tlog-proof file of entry `index` against the log's current checkpoint.
  [[nodiscard]] Result<std::string> InclusionProof(std::uint64_t index);
  // The public keys as vkey lines ending in "\n".
  std::string AttesterVerifierKey() const;
  std::string LogVerifierKey() const;

 private:
  VerdictLedger(std::filesystem::path log_dir, ledger::SignerKey attester,
                ledger::VerifierKey log_key)
      : log_dir_(std::move(log_dir)),
        attester_(std::move(attester)),
        log_key_(std::move(log_key)),
        writer_(ledger::GroupCommitLog::OpenLazily(log_dir_)) {}
  std::filesystem::path log_dir_;
  ledger::SignerKey attester_;
  ledger::VerifierKey log_key_;
  std::unique_ptr<ledger::GroupCommitLog> writer_;  // appends, group-committed
};

}  // namespace clearbox::portal
