// cpp-httplib behind HttpServer: every method and path goes to the one dispatcher; the
// dispatcher boundary catches exceptions (DESIGN.md: exceptions only at the boundaries).
#include "portal/http_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <exception>

namespace clearbox::portal {

struct HttpServer::Impl {
  httplib::Server server;
  HttpDispatcher dispatcher;
};

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void Answer(const HttpDispatcher& dispatcher, const httplib::Request& req, httplib::Response& res) {
  HttpRequest request;
  request.method = req.method;
  request.path = req.path;
  request.body = req.body;
  for (const auto& [name, value] : req.headers) request.headers.emplace(Lower(name), value);
  HttpResponse response;
  try {
    response = dispatcher(request);
  } catch (const std::exception& e) {
    response = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
  }
  res.status = response.status;
  for (const auto& [name, value] : response.headers) res.set_header(name, value);
  res.set_content(std::move(response.body), response.content_type);
}

}  // namespace

HttpServer::HttpServer(HttpDispatcher dispatcher) : impl_(std::make_unique<Impl>()) {
  impl_->dispatcher = std::move(dispatcher);
  auto handler = [impl = impl_.get()](const httplib::Request& req, httplib::Response& res) {
    Answer(impl->dispatcher, req, res);
  };
  // cpp-httplib routes by method; the dispatcher decides, so every route is a catch-all.
  impl_->server.Get(".*", handler);
  impl_->server.Post(".*", handler);
  impl_->server.Put(".*", handler);
  impl_->server.Patch(".*", handler);
  impl_->server.Delete(".*", handler);
  impl_->server.Options(".*", handler);
  impl_->server.set_payload_max_length(kMaxRequestBodyBytes);
  impl_->server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("internal error\n", "text/plain; charset=utf-8");
      });
}

HttpServer::~HttpServer() {
  Stop();
}

Result<void> HttpServer::Bind(const std::string& host, int port) {
  if (port == 0) {
    port_ = impl_->server.bind_to_any_port(host);
    if (port_ <= 0) return Fail(ErrorCode::kIo, "cannot listen on " + host);
  } else {
    if (!impl_->server.bind_to_port(host, port)) {
      return Fail(ErrorCode::kIo, "cannot listen on " + host + ":" + std::to_string(port));
    }
    port_ = port;
  }
  return {};
}

Result<void> HttpServer::Serve() {
  if (!impl_->server.listen_after_bind() && impl_->server.is_running()) {
    return Fail(ErrorCode::kIo, "the HTTP listener failed");
  }
  return {};
}

void HttpServer::Stop() {
  if (impl_) impl_->server.stop();
}

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size() ||
      address.size() - colon - 1 > 5) {
    return Fail(ErrorCode::kInvalidArgument, "--listen wants HOST:PORT, got " + address);
  }
  int port = 0;
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9') return Fail(ErrorCode::kInvalidArgument, "bad port in " + address);
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return Fail(ErrorCode::kInvalidArgument, "bad port in " + address);
  return std::pair<std::string, int>{address.substr(0, colon), port};
}

}  // namespace clearbox::portal
