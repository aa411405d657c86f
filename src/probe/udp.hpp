// UDP for the opt-in probes (SNMP, SSDP): a socket connected to one address and port of the
// target, so only that peer's datagrams are received, with every receive ending by a deadline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "probe/net.hpp"

namespace clearbox::probe {

// The largest datagram read (the IPv4 UDP payload limit); longer ones are cut by the kernel.
inline constexpr std::size_t kMaxDatagramBytes = 65507;

// A UDP socket connected to address:port. Closed on destruction.
class UdpSocket {
 public:
  // Opens and connects the socket (no packet is sent); kIo when the OS refuses.
  static Result<UdpSocket> Open(const Address& address, std::uint16_t port);
  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket();

  // Sends one datagram.
  Result<void> Send(std::string_view datagram);
  // The next datagram from the peer (at most kMaxDatagramBytes), by the deadline: kTimeout
  // when none came, kIo ("port unreachable") when the peer's host refused the port.
  Result<std::string> Receive(Clock::time_point deadline);

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace clearbox::probe
