// Runs another program as a child process and waits for it, with a time limit and a hook that
// can stop it early: the scanners of the portal's workers and of `clearbox batch` run this
// way, so hostile firmware that crashes or exhausts a scanner takes down one child, never the
// caller.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace clearbox {

struct ChildOptions {
  std::filesystem::path log;             // stdout and stderr go here (created 0600, truncated)
  std::chrono::milliseconds timeout{0};  // 0 = none
  // How often the hook and the time limit are checked; the child's exit itself is noticed at
  // once (pidfd), or within this interval on kernels without pidfd_open.
  std::chrono::milliseconds poll{100};
  // Called every poll while the child runs; a non-empty reason kills the child and fails the
  // run with kTimeout and that reason ("stopped", "the job's lease was lost").
  std::function<std::string()> keep_going;
};

// Runs argv (argv[0] is a path; stdin is /dev/null) to its end; its exit status. kTimeout when
// the time limit or the hook stopped it (the child is killed with SIGKILL and reaped), kInternal
// when a signal killed it, kIo when it cannot be started.
Result<int> RunChildProcess(const std::vector<std::string>& argv, const ChildOptions& options);

// The last `max_bytes` of a child's log without trailing newlines (for error messages).
std::string LogTail(const std::filesystem::path& log, std::size_t max_bytes = 400);

}  // namespace clearbox
