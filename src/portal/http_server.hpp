// A small HTTP/1.1 server for clearbox (the only place that links the HTTP library,
// cpp-httplib): one dispatcher function sees every request and returns a response.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace clearbox::portal {

// Largest request body the server reads; larger requests get 413.
inline constexpr std::size_t kMaxRequestBodyBytes = 1 << 20;

// One request as the dispatcher sees it: method, decoded path, lower-cased header names.
struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;
  std::string body;
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

// A listening server; Serve() blocks until Stop() is called from another thread.
class HttpServer {
 public:
  explicit HttpServer(HttpDispatcher dispatcher);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `host`:`port` (port 0 picks a free one); kIo if it cannot.
  [[nodiscard]] Result<void> Bind(const std::string& host, int port);
  // The bound port (valid after Bind).
  int port() const { return port_; }
  // Accepts and answers requests until Stop(); kIo if the listener fails.
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
