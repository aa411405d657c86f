// SSDP / UPnP (opt-in, `--ssdp`): one M-SEARCH sent by unicast to the target's port 1900 only
// (never to the multicast group of the segment), and the HTTPU response heads it answers,
// parsed bounded (fuzzed by fuzz/probe_ssdp_fuzz.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "probe/net.hpp"

namespace clearbox::probe {

// The SSDP port (UDA 2.0 section 1.3.2).
inline constexpr std::uint16_t kSsdpPort = 1900;
// Bytes of one response head parsed, and responses collected from the target.
inline constexpr std::size_t kMaxSsdpResponseBytes = 8192;
inline constexpr std::size_t kMaxSsdpResponses = 32;

// The unicast M-SEARCH request for all devices and services (`ssdp:all`) sent to host:port.
std::string SsdpSearchRequest(const std::string& host, std::uint16_t port);

// One response: the status and the headers a finding names.
struct SsdpResponse {
  int status = 0;
  std::string server;    // SERVER: OS/version UPnP/1.x product/version
  std::string location;  // LOCATION: the device description URL
  std::string st;        // ST: the search target answered
  std::string usn;       // USN: the unique service name
};

// Parses an HTTPU response head ("HTTP/1.1 200 OK" and headers, CRLF or LF lines) from one
// datagram, at most kMaxSsdpResponseBytes of it: kNotThisFormat when it is not an HTTP
// response, kMalformed for a bad status line.
Result<SsdpResponse> ParseSsdpResponse(std::string_view datagram);

struct SsdpResult {
  bool attempted = false;
  std::vector<SsdpResponse> responses;  // in order of arrival, at most kMaxSsdpResponses
  std::string evidence;                 // the first response, escaped and bounded
  std::vector<std::string> problems;
};

// Sends the M-SEARCH to address:port and collects what answers until `timeout` passed.
SsdpResult CheckSsdp(const Address& address, std::uint16_t port, const std::string& host,
                     std::chrono::milliseconds timeout);

}  // namespace clearbox::probe
