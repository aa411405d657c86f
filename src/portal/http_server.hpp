// A small HTTP/1.1 server for clearbox (the only place that links the HTTP library,
// Boost.Beast/Asio): a header check sees every request's headers before any body byte is read,
// then one dispatcher function sees the whole request and returns a response.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace clearbox::portal {

// Largest request body the server reads (any transfer encoding); larger requests get 413.
inline constexpr std::size_t kMaxRequestBodyBytes = 1 << 20;
// Largest request line plus headers; larger requests get 431.
inline constexpr std::size_t kMaxRequestHeaderBytes = 16 << 10;
// Open connections at most; a new one evicts the oldest connection still waiting for its
// request headers (else the oldest one still sending a body), or is closed if every
// connection is being answered.
inline constexpr std::size_t kMaxConnections = 256;
// Time a connection has to deliver a request's line and headers (also the keep-alive idle time).
inline constexpr std::chrono::milliseconds kHeaderTimeout{10'000};
// Time a request has to deliver its whole body once the headers are in.
inline constexpr std::chrono::milliseconds kBodyTimeout{30'000};
// Time the client has to take a whole response.
inline constexpr std::chrono::milliseconds kWriteTimeout{30'000};
// A streamed body (HttpBodySink) is read in pieces of this size.
inline constexpr std::size_t kStreamChunkBytes = 64 << 10;
// A streamed body must keep up this average rate after its first kBodyTimeout, and no single
// read may wait longer than kBodyTimeout: a large upload on a slow link passes, a trickle not.
inline constexpr std::size_t kMinStreamBytesPerSecond = 16 << 10;
// Threads running the server's I/O and the dispatcher.
inline constexpr int kServerThreads = 4;

// The limits of one server (the constants above unless a test shortens them).
struct HttpServerLimits {
  std::size_t max_body_bytes = kMaxRequestBodyBytes;
  std::size_t max_header_bytes = kMaxRequestHeaderBytes;
  std::size_t max_connections = kMaxConnections;
  std::chrono::milliseconds header_timeout = kHeaderTimeout;
  std::chrono::milliseconds body_timeout = kBodyTimeout;
  std::chrono::milliseconds write_timeout = kWriteTimeout;
  int threads = kServerThreads;
};

// One request as the dispatcher sees it: method, decoded path, lower-cased header names.
struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_address = {};  // the client's IP address as text ("" if unknown)
  std::string query = {};           // the raw text after '?' in the target ("" if none)
  // The header value, or "" if absent (`name` lower-case).
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One response: status, content type, body and extra headers.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Returns the response to a request; exceptions it throws become 500 responses.
using HttpDispatcher = std::function<HttpResponse(const HttpRequest&)>;

// Takes a request body piece by piece as it arrives (uploads), so the server never holds it
// whole. Called on the connection's strand, one call at a time.
class HttpBodySink {
 public:
  virtual ~HttpBodySink() = default;
  // The next bytes of the body. An error ends the request: kLimitExceeded is answered 413,
  // kInvalidArgument/kMalformed 400, anything else 500, each with the error's message.
  virtual Result<void> Write(std::string_view bytes) = 0;
  // The whole body arrived: the response (`request` has no body).
  virtual HttpResponse Finish(const HttpRequest& request) = 0;
  // The body will not arrive whole (limit, timeout, client gone, Write failed): drop it.
  virtual void Abort() = 0;
};

// What the header phase decided: answer now without reading the body (`response`, e.g. 401,
// 403, 404, 405, 413; the connection is then closed), or read a body of at most
// `max_body_bytes` (more is 413) and dispatch it. Without `body_sink` the body is read into
// memory, capped also by the server's limit; with one, it is streamed to the sink (then
// `max_body_bytes` alone caps it) and the sink answers instead of the dispatcher.
struct HttpHeaderDecision {
  std::optional<HttpResponse> response;
  std::size_t max_body_bytes = kMaxRequestBodyBytes;
  std::shared_ptr<HttpBodySink> body_sink = {};
};

// Decides from a request without its body (`body` empty); exceptions become 500 responses.
using HttpHeaderCheck = std::function<HttpHeaderDecision(const HttpRequest&)>;

// A listening server; Serve() blocks until Stop() is called from another thread.
class HttpServer {
 public:
  // `check` empty: every request may send a body up to `limits.max_body_bytes`.
  explicit HttpServer(HttpDispatcher dispatcher, HttpHeaderCheck check = {},
                      HttpServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `host`:`port` (port 0 picks a free one); kIo if it cannot.
  [[nodiscard]] Result<void> Bind(const std::string& host, int port);
  // The bound port (valid after Bind).
  int port() const { return port_; }
  // Accepts and answers requests (on `limits.threads` threads, this one included) until
  // Stop(); kIo if the listener fails.
  [[nodiscard]] Result<void> Serve();
  // Makes Serve() return; safe from any thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// "host:port" split; kInvalidArgument unless the port is a decimal 0..65535.
[[nodiscard]] Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address);

}  // namespace clearbox::portal
