// HTTP: the response head of GET / (status, headers) parsed from untrusted bytes (fuzzed by
// fuzz/probe_http_fuzz.cpp), and the check over plain TCP or a TLS session.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace clearbox::probe {

// The response head (status line and headers) we read at most; the body is not read.
inline constexpr std::size_t kMaxHttpHeadBytes = 16384;
// Bytes of the body kept (for the default-page markers); the rest is not read.
inline constexpr std::size_t kMaxHttpBodyBytes = 65536;
// Headers kept from one response.
inline constexpr std::size_t kMaxHttpHeaders = 100;

struct HttpResponseHead {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  // The first value of header `name` (lower case), or nullptr.
  const std::string* Find(std::string_view name) const;
};

// Parses a response head ending with an empty line: kTruncated when the empty line has not
// arrived, kNotThisFormat when it does not start "HTTP/", kMalformed for a bad status line.
Result<HttpResponseHead> ParseHttpResponseHead(std::string_view received);

// What the HTTP check saw.
struct HttpResult {
  bool answered = false;
  HttpResponseHead head;
  std::string evidence;  // the head, escaped and bounded
  std::string body;      // the first kMaxHttpBodyBytes of the body, raw (untrusted)
  std::vector<std::string> problems;
};

// Sends `GET / HTTP/1.0` for `host` through `send` and parses what `receive` returns, then
// keeps up to kMaxHttpBodyBytes of the body (until the peer closes, Content-Length, or an error)
// (receive appends at most `max` bytes and returns the count, 0 at the end, or an error).
using SendBytes = std::function<Result<void>(std::string_view)>;
using ReceiveBytes = std::function<Result<std::size_t>(std::string&, std::size_t max)>;
HttpResult CheckHttp(const std::string& host, const SendBytes& send, const ReceiveBytes& receive);

}  // namespace clearbox::probe
