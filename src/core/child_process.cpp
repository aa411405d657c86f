#include "core/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>

extern char** environ;

namespace clearbox {
namespace {

// Waits up to `wait` for the child to exit: on a pidfd (Linux 5.3+) the wait ends the moment it
// does; without one, a plain sleep.
void WaitForExit(int pidfd, std::chrono::milliseconds wait) {
  if (pidfd >= 0) {
    pollfd fd{pidfd, POLLIN, 0};
    (void)::poll(&fd, 1, static_cast<int>(wait.count()));
    return;
  }
  std::this_thread::sleep_for(wait);
}

}  // namespace

Result<int> RunChildProcess(const std::vector<std::string>& argv, const ChildOptions& options) {
  if (argv.empty()) return Fail(ErrorCode::kInvalidArgument, "no program to run");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const std::string log = options.log.empty() ? std::string("/dev/null") : options.log.string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Fail(ErrorCode::kIo, "cannot start " + argv[0]);
  const auto started = std::chrono::steady_clock::now();
#ifdef SYS_pidfd_open
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  const int pidfd = -1;
#endif
  struct CloseFd {
    int fd;
    ~CloseFd() {
      if (fd >= 0) ::close(fd);
    }
  } close_pidfd{pidfd};
  auto kill_and_fail = [pid](std::string reason) -> Result<int> {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Fail(ErrorCode::kTimeout, std::move(reason));
  };
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return Fail(ErrorCode::kInternal,
                  argv[0] + " died with signal " + std::to_string(WTERMSIG(status)));
    }
    if (options.timeout.count() > 0 &&
        std::chrono::steady_clock::now() - started > options.timeout) {
      return kill_and_fail("it took longer than " + std::to_string(options.timeout.count() / 1000) +
                           " s");
    }
    if (options.keep_going) {
      std::string reason = options.keep_going();
      if (!reason.empty()) return kill_and_fail(std::move(reason));
    }
    WaitForExit(pidfd, options.poll);
  }
}

std::string LogTail(const std::filesystem::path& log, std::size_t max_bytes) {
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace clearbox
