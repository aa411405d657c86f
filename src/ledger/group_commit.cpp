#include "ledger/group_commit.hpp"

#include <vector>

namespace clearbox::ledger {

Result<std::unique_ptr<GroupCommitLog>> GroupCommitLog::Open(const std::filesystem::path& dir) {
  auto log = LogStore::OpenForAppend(dir);
  if (!log) return Forward(log);
  return std::unique_ptr<GroupCommitLog>(new GroupCommitLog(dir, std::move(*log)));
}

std::unique_ptr<GroupCommitLog> GroupCommitLog::OpenLazily(const std::filesystem::path& dir) {
  return std::unique_ptr<GroupCommitLog>(new GroupCommitLog(dir, nullptr));
}

Result<void> GroupCommitLog::EnsureOpen() {
  if (log_) return {};
  auto log = LogStore::OpenForAppend(dir_);
  if (!log) return Forward(log);
  log_ = std::move(*log);
  return {};
}

std::uint64_t GroupCommitLog::commits() const {
  std::lock_guard lock(mutex_);
  return commits_;
}

Result<std::uint64_t> GroupCommitLog::Append(std::string entry) {
  if (entry.size() > kMaxEntryBytes) {
    return Fail(ErrorCode::kLimitExceeded,
                "a log entry is larger than " + std::to_string(kMaxEntryBytes) + " bytes");
  }
  Pending mine{std::move(entry), std::nullopt};
  std::unique_lock lock(mutex_);
  queue_.push_back(&mine);
  while (!mine.result) {
    if (committing_) {
      done_.wait(lock);
      continue;
    }
    // Leader: take everything waiting (up to the bound), write it with one append, and
    // acknowledge each waiter with its own index.
    committing_ = true;
    std::vector<Pending*> batch;
    while (!queue_.empty() && batch.size() < kMaxGroupCommitEntries) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    std::vector<std::string> entries;
    entries.reserve(batch.size());
    for (Pending* pending : batch) entries.push_back(std::move(pending->entry));
    Result<std::uint64_t> first = Fail(ErrorCode::kInternal, "not appended");
    {
      std::lock_guard io(io_mutex_);
      auto opened = EnsureOpen();
      first = opened ? log_->Append(entries) : Result<std::uint64_t>(Forward(opened));
    }
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (first) {
        batch[i]->result = *first + i;
      } else {
        batch[i]->result = Forward(first);
      }
    }
    ++commits_;
    committing_ = false;
    done_.notify_all();
  }
  return *mine.result;
}

}  // namespace clearbox::ledger
