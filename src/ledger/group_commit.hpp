// Appends from many threads to one open transparency log, group-committed: entries that arrive
// while an append is being made durable wait together, and the next append writes all of them
// with one round of fsyncs (bundles, tiles, signed checkpoint). Each caller returns only once
// its own entry is durable, with its own index; an error reaches every caller of that batch.
// The portal's audit trail and verdict log append through it, so many writers are not limited
// to one fsync round per entry.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/result.hpp"
#include "ledger/log_store.hpp"

namespace clearbox::ledger {

// The most entries one group commit writes (a bound on the memory and time of one append).
inline constexpr std::size_t kMaxGroupCommitEntries = 4096;

class GroupCommitLog {
 public:
  // Opens the log in `dir` for appending (takes its writer lock for the object's lifetime).
  [[nodiscard]] static Result<std::unique_ptr<GroupCommitLog>> Open(
      const std::filesystem::path& dir);
  // The same, but the log is opened (and its writer lock taken) by the first append, so a
  // process that never appends never holds the lock; an open that fails fails that append.
  static std::unique_ptr<GroupCommitLog> OpenLazily(const std::filesystem::path& dir);
  GroupCommitLog(const GroupCommitLog&) = delete;
  GroupCommitLog& operator=(const GroupCommitLog&) = delete;

  // Appends `entry` (at most kMaxEntryBytes); returns its index once it is durable. Safe from
  // any number of threads.
  [[nodiscard]] Result<std::uint64_t> Append(std::string entry);

  // Runs `read(LogStore&)` while no append is in progress (checkpoint, proofs, entries);
  // kIo if a lazily opened log cannot be opened.
  template <class Read>
  auto WithLog(Read read) -> Result<decltype(read(std::declval<LogStore&>()))> {
    std::lock_guard io(io_mutex_);
    CLEARBOX_TRY(EnsureOpen());
    if constexpr (std::is_void_v<decltype(read(std::declval<LogStore&>()))>) {
      read(*log_);
      return {};
    } else {
      return read(*log_);
    }
  }

  // How many group commits (LogStore::Append calls) were made so far.
  std::uint64_t commits() const;

 private:
  GroupCommitLog(std::filesystem::path dir, std::unique_ptr<LogStore> log)
      : dir_(std::move(dir)), log_(std::move(log)) {}
  // Opens the log if it is not open; io_mutex_ held.
  Result<void> EnsureOpen();

  struct Pending {
    std::string entry;
    std::optional<Result<std::uint64_t>> result;
  };

  mutable std::mutex mutex_;  // guards queue_, committing_, commits_
  std::condition_variable done_;
  std::deque<Pending*> queue_;
  bool committing_ = false;
  std::uint64_t commits_ = 0;
  std::mutex io_mutex_;  // guards log_
  std::filesystem::path dir_;
  std::unique_ptr<LogStore> log_;
};

}  // namespace clearbox::ledger
