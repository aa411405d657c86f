// Network plumbing of the probe: resolving one host, a bounded TCP connect scan and a
// connection whose every read and write ends by a deadline and a byte cap.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox::probe {

using Clock = std::chrono::steady_clock;

// The most ports one probe scans (65535: every TCP port, never more than one host).
inline constexpr std::size_t kMaxPorts = 65535;
// The most connection attempts in flight at once (--concurrency is clamped to it).
inline constexpr int kMaxConcurrency = 256;

// One resolved address of the target.
struct Address {
  int family = 0;                      // AF_INET or AF_INET6
  std::string text;                    // numeric form: "127.0.0.1", "::1"
  std::vector<std::uint8_t> sockaddr;  // the sockaddr_in / sockaddr_in6 bytes
};

// Resolves `host` (a name or a numeric IPv4/IPv6 address, never a range) to its first
// address; kInvalidArgument when it does not resolve.
Result<Address> ResolveHost(const std::string& host);

enum class PortState : std::uint8_t { kOpen, kClosed, kFiltered };
std::string_view ToString(PortState state);

// Connects to each port with non-blocking sockets, at most `concurrency` at once, each
// attempt ending after `timeout`; returns the state of each port in the order given.
std::vector<PortState> ConnectScan(const Address& address, const std::vector<std::uint16_t>& ports,
                                   std::chrono::milliseconds timeout, int concurrency);

// A connected TCP socket with a deadline: every read and write fails with kTimeout once
// the deadline has passed. Closed on destruction.
class Connection {
 public:
  // Connects to address:port, failing with kTimeout or kIo by the deadline.
  static Result<Connection> Open(const Address& address, std::uint16_t port,
                                 Clock::time_point deadline);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  int fd() const { return fd_; }
  Clock::time_point deadline() const { return deadline_; }
  // Sends all of `bytes` by the deadline.
  Result<void> WriteAll(ByteView bytes);
  Result<void> WriteAll(std::string_view text);
  // Appends what arrives (at most `max_bytes`) to `out`; 0 bytes appended means the peer
  // closed. Waits no longer than `wait` nor past the deadline (then kTimeout).
  Result<std::size_t> ReadSome(std::string& out, std::size_t max_bytes,
                               std::chrono::milliseconds wait);
  // Reads until `out` holds at least `size` bytes; kTruncated when the peer closes first.
  Result<void> ReadExactly(std::string& out, std::size_t size);

 private:
  Connection(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}
  int fd_ = -1;
  Clock::time_point deadline_;
};

// Milliseconds left until `deadline` (0 when past).
int MillisecondsLeft(Clock::time_point deadline);

// Bytes received, for evidence: printable ASCII kept, others as \xNN, \r \n \t escaped;
// at most `max_bytes` of the input, with "..." when cut.
std::string EscapeEvidence(std::string_view bytes, std::size_t max_bytes);

}  // namespace clearbox::probe
