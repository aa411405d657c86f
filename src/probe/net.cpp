// Resolving, the connect scan and deadline-bound sockets (see net.hpp).
#include "probe/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/hex.hpp"

namespace clearbox::probe {
namespace {

// A non-blocking, close-on-exec TCP socket with a connect to `address:port` started;
// -1 on a refused or failed start (sets *refused when the peer refused at once).
int StartConnect(const Address& address, std::uint16_t port, bool* refused) {
  *refused = false;
  const int fd = ::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  std::vector<std::uint8_t> storage = address.sockaddr;
  if (address.family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, storage.data(), sizeof sin);
    sin.sin_port = htons(port);
    std::memcpy(storage.data(), &sin, sizeof sin);
  } else {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, storage.data(), sizeof sin6);
    sin6.sin6_port = htons(port);
    std::memcpy(storage.data(), &sin6, sizeof sin6);
  }
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(storage.data()),
                           static_cast<socklen_t>(storage.size()));
  if (rc == 0 || errno == EINPROGRESS) return fd;
  *refused = errno == ECONNREFUSED;
  ::close(fd);
  return -1;
}

// The outcome of a finished non-blocking connect on `fd`.
PortState ConnectOutcome(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return PortState::kFiltered;
  if (error == 0) return PortState::kOpen;
  return error == ECONNREFUSED ? PortState::kClosed : PortState::kFiltered;
}

// Waits for `fd` to be ready for `events` until the deadline; false on timeout or error.
bool WaitReady(int fd, short events, int milliseconds) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int rc = ::poll(&p, 1, milliseconds);
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

std::string_view ToString(PortState state) {
  switch (state) {
    case PortState::kOpen: return "open";
    case PortState::kClosed: return "closed";
    case PortState::kFiltered: return "filtered";
  }
  return "filtered";
}

int MillisecondsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

Result<Address> ResolveHost(const std::string& host) {
  if (host.empty() || host.find_first_of("/*, ") != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "not one host: '" + host + "'");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot resolve '" + host + "': " + ::gai_strerror(rc));
  }
  Address address;
  address.family = found->ai_family;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(found->ai_addr);
  address.sockaddr.assign(bytes, bytes + found->ai_addrlen);
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      found->ai_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr);
  ::inet_ntop(found->ai_family, raw, text, sizeof text);
  address.text = text;
  ::freeaddrinfo(found);
  if (address.family != AF_INET && address.family != AF_INET6) {
    return Fail(ErrorCode::kInvalidArgument, "'" + host + "' is not an IP host");
  }
  return address;
}

std::vector<PortState> ConnectScan(const Address& address, const std::vector<std::uint16_t>& ports,
                                   std::chrono::milliseconds timeout, int concurrency) {
  std::vector<PortState> states(ports.size(), PortState::kFiltered);
  const std::size_t window = static_cast<std::size_t>(std::clamp(concurrency, 1, kMaxConcurrency));
  for (std::size_t first = 0; first < ports.size(); first += window) {
    const std::size_t last = std::min(ports.size(), first + window);
    std::vector<pollfd> polls;
    std::vector<std::size_t> index;
    for (std::size_t i = first; i < last; ++i) {
      bool refused = false;
      const int fd = StartConnect(address, ports[i], &refused);
      if (fd < 0) {
        states[i] = refused ? PortState::kClosed : PortState::kFiltered;
        continue;
      }
      polls.push_back({fd, POLLOUT, 0});
      index.push_back(i);
    }
    const auto deadline = Clock::now() + timeout;
    std::size_t pending = polls.size();
    while (pending > 0) {
      const int rc = ::poll(polls.data(), polls.size(), MillisecondsLeft(deadline));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) break;
      for (std::size_t k = 0; k < polls.size(); ++k) {
        if (polls[k].fd < 0 || polls[k].revents == 0) continue;
        states[index[k]] = ConnectOutcome(polls[k].fd);
        ::close(polls[k].fd);
        polls[k].fd = -1;
        --pending;
      }
    }
    for (auto& p : polls) {
      if (p.fd >= 0) ::close(p.fd);  // no answer by the timeout: filtered
    }
  }
  return states;
}

Result<Connection> Connection::Open(const Address& address, std::uint16_t port,
                                    Clock::time_point deadline) {
  bool refused = false;
  const int fd = StartConnect(address, port, &refused);
  if (fd < 0) return Fail(ErrorCode::kIo, refused ? "connection refused" : "connect failed");
  Connection connection(fd, deadline);
  if (!WaitReady(fd, POLLOUT, MillisecondsLeft(deadline))) {
    return Fail(ErrorCode::kTimeout, "connect timed out");
  }
  if (ConnectOutcome(fd) != PortState::kOpen) return Fail(ErrorCode::kIo, "connect failed");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return connection;
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), deadline_(other.deadline_) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    deadline_ = other.deadline_;
  }
  return *this;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> Connection::WriteAll(ByteView bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (!WaitReady(fd_, POLLOUT, MillisecondsLeft(deadline_))) {
      return Fail(ErrorCode::kTimeout, "write timed out");
    }
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Fail(ErrorCode::kIo, std::string("write failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> Connection::WriteAll(std::string_view text) {
  return WriteAll(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Result<std::size_t> Connection::ReadSome(std::string& out, std::size_t max_bytes,
                                         std::chrono::milliseconds wait) {
  const int wait_ms = std::min<int>(
      MillisecondsLeft(deadline_), static_cast<int>(std::min<std::int64_t>(wait.count(), 1 << 30)));
  if (!WaitReady(fd_, POLLIN, wait_ms)) return Fail(ErrorCode::kTimeout, "read timed out");
  const std::size_t old_size = out.size();
  out.resize(old_size + max_bytes);
  for (;;) {
    const ssize_t n = ::recv(fd_, out.data() + old_size, max_bytes, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.resize(old_size);
      if (errno == EAGAIN) return Fail(ErrorCode::kTimeout, "read timed out");
      return Fail(ErrorCode::kIo, std::string("read failed: ") + std::strerror(errno));
    }
    out.resize(old_size + static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }
}

Result<void> Connection::ReadExactly(std::string& out, std::size_t size) {
  while (out.size() < size) {
    auto n =
        ReadSome(out, size - out.size(), std::chrono::milliseconds(MillisecondsLeft(deadline_)));
    if (!n) return Forward(n);
    if (*n == 0) return Fail(ErrorCode::kTruncated, "peer closed the connection");
  }
  return {};
}

std::string EscapeEvidence(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  const std::string_view kept = bytes.substr(0, max_bytes);
  for (const char c : kept) {
    const auto byte = static_cast<std::uint8_t>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      AppendHexByte(out, byte);
    }
  }
  if (bytes.size() > max_bytes) out += "...";
  return out;
}

}  // namespace clearbox::probe
