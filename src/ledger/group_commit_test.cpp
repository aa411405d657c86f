// Group commit: many threads appending at once each get their own index for their own entry,
// batches really share an append, the log stays whole; and a writer killed with SIGKILL loses
// no entry it had acknowledged.
#include "ledger/group_commit.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/test_support.hpp"

namespace clearbox::ledger {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::TempDir;

fs::path NewLog(const TempDir& tmp) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 9;
  const fs::path dir = tmp / "log";
  EXPECT_TRUE(
      LogStore::Init(dir, "log.example/group", *SignerKeyFromSeed("log.example/group", seed))
          .has_value());
  return dir;
}

TEST(GroupCommitLog, ConcurrentAppendsGetTheirOwnIndexAndShareCommits) {
  TempDir tmp;
  const fs::path dir = NewLog(tmp);
  auto log = GroupCommitLog::Open(dir);
  ASSERT_TRUE(log.has_value()) << log.error().message;
  constexpr int kThreads = 16;
  constexpr int kEach = 100;
  std::mutex mutex;
  std::map<std::uint64_t, std::string> acknowledged;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string entry = "thread " + std::to_string(t) + " entry " + std::to_string(i);
        auto index = (*log)->Append(entry);
        std::lock_guard lock(mutex);
        if (!index) {
          errors.push_back(index.error().message);
        } else if (!acknowledged.emplace(*index, entry).second) {
          errors.push_back("index " + std::to_string(*index) + " given twice");
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(acknowledged.rbegin()->first, static_cast<std::uint64_t>(kThreads * kEach - 1));
  EXPECT_LT((*log)->commits(), static_cast<std::uint64_t>(kThreads * kEach))
      << "appends that arrive together share a commit";
  (void)(*log)->WithLog([&](LogStore& store) {
    EXPECT_EQ(store.checkpoint().size, static_cast<std::uint64_t>(kThreads * kEach));
    for (const auto& [index, entry] : acknowledged) {
      auto stored = store.ReadEntry(index);
      EXPECT_EQ(stored.value_or("(unreadable)"), entry);
    }
  });
  log->reset();
  auto reopened = LogStore::OpenForReading(dir);
  ASSERT_TRUE(reopened.has_value());
  EXPECT_TRUE((*reopened)->CheckAll().has_value());
  auto again = GroupCommitLog::Open(dir);
  ASSERT_TRUE(again.has_value()) << "the writer lock is released with the object";
  EXPECT_EQ((*again)->Append(std::string(kMaxEntryBytes + 1, 'x')).error().code,
            ErrorCode::kLimitExceeded);
}

// A child appends from 8 threads and reports each acknowledged entry through a pipe; it is
// killed with SIGKILL mid-stream. Every entry it acknowledged is in the log at its index.
TEST(GroupCommitLog, AWriterKilledWithSigkillLosesNoAcknowledgedEntry) {
  TempDir tmp;
  const fs::path dir = NewLog(tmp);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    auto log = GroupCommitLog::Open(dir);
    if (!log) ::_exit(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          const std::string entry = "t" + std::to_string(t) + "-" + std::to_string(i);
          auto index = (*log)->Append(entry);
          if (!index) ::_exit(3);
          const std::string line = std::to_string(*index) + " " + entry + "\n";
          if (::write(pipe_fds[1], line.data(), line.size()) < 0) ::_exit(4);  // one write: atomic
        }
      });
    }
    for (auto& thread : threads) thread.join();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string received;
  char buffer[4096];
  auto lines = [&] { return std::count(received.begin(), received.end(), '\n'); };
  while (lines() < 300) {
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got <= 0) break;
    received.append(buffer, static_cast<std::size_t>(got));
  }
  ::kill(child, SIGKILL);
  // Lines already in the pipe were acknowledged before the kill: read them all.
  for (;;) {
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got <= 0) break;
    received.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself: " << status;
  ASSERT_GE(lines(), 300);
  auto log = LogStore::OpenForAppend(dir);  // recovers a pending checkpoint if there is one
  ASSERT_TRUE(log.has_value()) << log.error().message;
  std::istringstream acknowledged(received);
  std::uint64_t index = 0;
  std::string entry;
  int checked = 0;
  while (acknowledged >> index >> entry) {
    ASSERT_LT(index, (*log)->checkpoint().size) << entry << " was acknowledged but is not there";
    auto stored = (*log)->ReadEntry(index);
    ASSERT_TRUE(stored.has_value()) << stored.error().message;
    EXPECT_EQ(*stored, entry);
    ++checked;
  }
  EXPECT_GE(checked, 300);
  EXPECT_TRUE((*log)->CheckAll().has_value());
}

}  // namespace
}  // namespace clearbox::ledger
