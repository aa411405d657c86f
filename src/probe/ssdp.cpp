// SSDP unicast M-SEARCH and the response head parser (see ssdp.hpp).
#include "probe/ssdp.hpp"

#include <algorithm>
#include <cctype>

#include "probe/http.hpp"
#include "probe/udp.hpp"

namespace clearbox::probe {
namespace {

// Seconds a device may delay its answer (MX, UDA 2.0: 1 to 5); unicast searches need none
// but many stacks read the header anyway.
constexpr int kSearchMx = 1;
// Bytes of the first response kept as evidence, and of one header value kept.
constexpr std::size_t kSsdpEvidenceBytes = 512;
constexpr std::size_t kSsdpValueBytes = 256;

}  // namespace

std::string SsdpSearchRequest(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return "M-SEARCH * HTTP/1.1\r\nHOST: " + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + "\r\nMAN: \"ssdp:discover\"\r\nMX: " + std::to_string(kSearchMx) +
         "\r\nST: ssdp:all\r\nUSER-AGENT: clearbox-probe UPnP/1.1 clearbox/1\r\n\r\n";
}

Result<SsdpResponse> ParseSsdpResponse(std::string_view datagram) {
  datagram = datagram.substr(0, kMaxSsdpResponseBytes);
  if (!datagram.starts_with("HTTP/")) return Fail(ErrorCode::kNotThisFormat, "not HTTPU");
  // A datagram is the whole message: an absent empty line ends the head at the datagram.
  std::string head(datagram);
  if (head.find("\n\n") == std::string::npos && head.find("\r\n\r\n") == std::string::npos) {
    head += "\r\n\r\n";
  }
  auto parsed = ParseHttpResponseHead(head);
  if (!parsed) return Forward(parsed);
  SsdpResponse out;
  out.status = parsed->status;
  auto value = [&](std::string_view name) {
    const std::string* v = parsed->Find(name);
    return v == nullptr ? std::string() : EscapeEvidence(*v, kSsdpValueBytes);
  };
  out.server = value("server");
  out.location = value("location");
  out.st = value("st");
  out.usn = value("usn");
  return out;
}

SsdpResult CheckSsdp(const Address& address, std::uint16_t port, const std::string& host,
                     std::chrono::milliseconds timeout) {
  SsdpResult result;
  result.attempted = true;
  auto socket = UdpSocket::Open(address, port);
  if (!socket) {
    result.problems.push_back("SSDP: " + socket.error().message);
    return result;
  }
  if (auto sent = socket->Send(SsdpSearchRequest(host, port)); !sent) {
    result.problems.push_back("SSDP send: " + sent.error().message);
    return result;
  }
  const auto deadline = Clock::now() + timeout;
  while (result.responses.size() < kMaxSsdpResponses) {
    auto datagram = socket->Receive(deadline);
    if (!datagram) {
      if (datagram.error().code != ErrorCode::kTimeout || result.responses.empty()) {
        result.problems.push_back("SSDP: " + datagram.error().message);
      }
      break;
    }
    auto response = ParseSsdpResponse(*datagram);
    if (!response) {
      result.problems.push_back("SSDP answer: " + response.error().message);
      continue;
    }
    if (result.evidence.empty()) result.evidence = EscapeEvidence(*datagram, kSsdpEvidenceBytes);
    result.responses.push_back(std::move(*response));
  }
  return result;
}

}  // namespace clearbox::probe
