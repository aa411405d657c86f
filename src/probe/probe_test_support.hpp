// Helpers of the probe tests (probe_test.cpp, probe_services_test.cpp): scratch directories,
// real server processes on 127.0.0.1 high ports, in-test TCP responders, and the probe run as
// `clearbox probe` runs it.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "probe/probe.hpp"

namespace clearbox::probe {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Per-check timeout of the server tests (real servers on loopback answer in milliseconds).
inline constexpr milliseconds kTestTimeout{1000};

// A fresh directory, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "probe_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline int Shell(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  const int status = ::pclose(pipe);
  if (output != nullptr) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A loopback port nobody listens on right now.
inline std::uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t length = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &length);
  ::close(fd);
  return ntohs(sin.sin_port);
}

inline bool PortAnswers(std::uint16_t port) {
  auto address = ResolveHost("127.0.0.1");
  return address && ConnectScan(*address, {port}, milliseconds(200), 1)[0] == PortState::kOpen;
}

// A server process started by the test, stopped (SIGTERM, then SIGKILL) and reaped at the end.
class Server {
 public:
  // `port` is a TCP port waited for; 0 = do not wait (a UDP server: the test waits itself).
  Server(const std::vector<std::string>& argv, const fs::path& log, std::uint16_t port)
      : port_(port) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    for (int i = 0; port_ != 0 && i < 100 && !PortAnswers(port_); ++i) {
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  ~Server() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  bool Up() const { return PortAnswers(port_); }
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_;
};

inline fs::path DataDir() {
  return fs::path(CLEARBOX_TEST_SOURCE_DIR) / "data";
}

// Options for 127.0.0.1:ports with the repository's data directory (active checks off).
inline ProbeOptions LoopbackOptions(const std::vector<std::uint16_t>& ports,
                                    milliseconds timeout = kTestTimeout) {
  ProbeOptions options;
  options.target.host = "127.0.0.1";
  options.target.ports = ports;
  options.timeout = timeout;
  options.data_dir = DataDir();
  return options;
}

// Runs the probe and raises the findings, as `clearbox probe` does.
inline ProbeResult ProbeWith(const ProbeOptions& options) {
  auto result = RunProbe(options);
  EXPECT_TRUE(result) << result.error().message;
  if (!result) return {};
  auto catalogue = rules::RuleCatalogue::LoadFromDataDir(DataDir());
  auto policy = LoadSshPolicy(DataDir() / "probe" / "ssh-algorithms.json");
  EXPECT_TRUE(catalogue && policy);
  auto findings = RaiseFindings(*result, *policy, *catalogue);
  EXPECT_TRUE(findings) << findings.error().message;
  if (findings) result->findings = *findings;
  return *result;
}

// Probes 127.0.0.1:ports and raises the findings.
inline ProbeResult Probe(const std::vector<std::uint16_t>& ports,
                         milliseconds timeout = kTestTimeout) {
  return ProbeWith(LoopbackOptions(ports, timeout));
}

inline std::vector<std::string> RulesOf(const ProbeResult& result) {
  std::vector<std::string> rules;
  for (const auto& f : result.findings) rules.push_back(f.rule);
  return rules;
}
inline bool HasRule(const ProbeResult& result, const std::string& rule) {
  const auto rules = RulesOf(result);
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}
inline bool HasFinding(const ProbeResult& result, const std::string& rule,
                       const std::string& text) {
  for (const auto& f : result.findings) {
    if (f.rule == rule && f.message.find(text) != std::string::npos) return true;
  }
  return false;
}

// lighttpd's configuration for a document root and a port; `extra` adds TLS or auth.
inline std::string LighttpdConfig(const fs::path& dir, std::uint16_t port,
                                  const std::string& extra) {
  return "server.document-root = \"" + (dir / "www").string() +
         "\"\nserver.port = " + std::to_string(port) +
         "\nserver.bind = \"127.0.0.1\"\nindex-file.names = (\"index.html\")\n" + extra;
}

// A loopback TCP server run by a thread of the test: each accepted connection is handed to
// `serve` in turn; stops and joins on destruction.
class TinyServer {
 public:
  explicit TinyServer(std::function<void(int fd, const TinyServer* server)> serve)
      : serve_(std::move(serve)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    ::listen(listener_, 16);
    socklen_t length = sizeof sin;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&sin), &length);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TinyServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  bool stopping() const { return stop_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      serve_(fd, this);
      ::close(fd);
    }
  }
  std::function<void(int, const TinyServer*)> serve_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Writes `bytes` until the peer goes away or the server stops.
inline bool SendOrStop(int fd, const std::string& bytes, const TinyServer* server) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (server != nullptr && server->stopping()) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Waits until the peer closes (or sends, when `until_data`), or the server stops.
inline void WaitForPeer(int fd, const TinyServer* server, bool until_data) {
  char buffer[4096];
  while (!server->stopping()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0 || until_data) return;
  }
}

}  // namespace clearbox::probe
