// The portal's audit trail: every state change (accounts, memberships, shares, projects,
// tokens, uploads, triage answers and decisions, comments, verdicts) is one entry of a
// transparency log under the data directory (c2sp.org/tlog-tiles, signed checkpoints, its own
// key), so the history is append-only and checkable with `clearbox log check`; and
// `clearbox serve --check-audit` replays it against the database, so a row edited behind the
// portal's back is found.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "ledger/group_commit.hpp"
#include "store/portal_store.hpp"

namespace clearbox::portal {

// The audit log's origin (also its key's name).
inline constexpr std::string_view kAuditLogOrigin = "clearbox-portal/audit";

class AuditTrail {
 public:
  // Opens DIR/audit-log with DIR/keys/audit-log.skey, making both at the first start.
  [[nodiscard]] static Result<std::unique_ptr<AuditTrail>> Open(const std::filesystem::path& dir);

  // Appends {"at","actor","action","subject","detail"} (keys in that order; no secrets) and
  // returns its index once durable. Safe from many threads: entries recorded together are
  // group-committed (one fsync round for all). The first record takes the log's writer lock
  // for the life of this object.
  [[nodiscard]] Result<std::uint64_t> Record(store::UnixSeconds at, std::string_view actor,
                                             std::string_view action, std::string_view subject,
                                             const nlohmann::ordered_json& detail);

  // Every entry, in order, after checking every tile and the signed checkpoint.
  [[nodiscard]] Result<std::vector<nlohmann::json>> CheckedEntries();

 private:
  explicit AuditTrail(std::filesystem::path dir)
      : dir_(std::move(dir)), writer_(ledger::GroupCommitLog::OpenLazily(dir_)) {}
  std::filesystem::path dir_;
  std::unique_ptr<ledger::GroupCommitLog> writer_;
};

// Replays `entries` and compares the state they describe with `store`: memberships, shares,
// releases, triage answers and decisions, verdicts. One line per disagreement; none = agrees.
std::vector<std::string> CompareAuditWithStore(const std::vector<nlohmann::json>& entries,
                                               store::PortalStore& store);

}  // namespace clearbox::portal
