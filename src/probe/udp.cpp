// UDP plumbing of the opt-in probes (see udp.hpp).
#include "probe/udp.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace clearbox::probe {

Result<UdpSocket> UdpSocket::Open(const Address& address, std::uint16_t port) {
  const int fd = ::socket(address.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Fail(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  UdpSocket socket(fd);
  std::vector<std::uint8_t> storage = address.sockaddr;
  if (address.family == AF_INET && storage.size() >= sizeof(sockaddr_in)) {
    sockaddr_in sin{};
    std::memcpy(&sin, storage.data(), sizeof sin);
    sin.sin_port = htons(port);
    std::memcpy(storage.data(), &sin, sizeof sin);
  } else if (address.family == AF_INET6 && storage.size() >= sizeof(sockaddr_in6)) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, storage.data(), sizeof sin6);
    sin6.sin6_port = htons(port);
    std::memcpy(storage.data(), &sin6, sizeof sin6);
  } else {
    return Fail(ErrorCode::kInvalidArgument, "bad address");
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(storage.data()),
                static_cast<socklen_t>(storage.size())) != 0) {
    return Fail(ErrorCode::kIo, std::string("connect: ") + std::strerror(errno));
  }
  return socket;
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> UdpSocket::Send(std::string_view datagram) {
  const ssize_t n = ::send(fd_, datagram.data(), datagram.size(), MSG_NOSIGNAL);
  if (n < 0 || static_cast<std::size_t>(n) != datagram.size()) {
    return Fail(ErrorCode::kIo, std::string("send: ") + std::strerror(errno));
  }
  return {};
}

Result<std::string> UdpSocket::Receive(Clock::time_point deadline) {
  for (;;) {
    const int wait = MillisecondsLeft(deadline);
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, wait);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return Fail(ErrorCode::kTimeout, "no answer within the timeout");
    std::string datagram(kMaxDatagramBytes, '\0');
    const ssize_t n = ::recv(fd_, datagram.data(), datagram.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      if (errno == ECONNREFUSED) return Fail(ErrorCode::kIo, "port unreachable");
      return Fail(ErrorCode::kIo, std::string("recv: ") + std::strerror(errno));
    }
    datagram.resize(static_cast<std::size_t>(n));
    return datagram;
  }
}

}  // namespace clearbox::probe
