// Boost.Beast/Asio behind HttpServer. Each connection is a Session on its own strand: read the
// request line and headers (bounded size, header timeout), run the header check (auth, method,
// declared size) before any body byte is read, read the body (bounded for every transfer
// encoding, body timeout), dispatch, write (write timeout). The header check and dispatcher
// boundaries catch exceptions (DESIGN.md: exceptions only at the boundaries).
#include "portal/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <limits>
#include <list>
#include <mutex>
#include <thread>

namespace clearbox::portal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// After an early answer (401, 413, ...) the client may still be sending its body: we read and
// drop at most this much for at most kLingerTime so it sees the answer instead of a reset.
constexpr std::size_t kMaxLingerBytes = 256 << 10;
constexpr std::chrono::milliseconds kLingerTime{1000};
// Pause before accepting again after the listener failed (e.g. out of file descriptors).
constexpr std::chrono::milliseconds kAcceptRetry{100};

std::string_view Std(beast::string_view s) {
  return std::string_view(s.data(), s.size());
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The request target's path (query dropped) with %XX decoded; nullopt for a bad escape or NUL.
std::optional<std::string> DecodePath(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::string out;
  for (std::size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size()) return std::nullopt;
      const int hi = HexDigit(target[i + 1]), lo = HexDigit(target[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

HttpResponse TextResponse(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

// What a connection is doing; only connections waiting for a request can be evicted cheaply.
enum class Phase { kHeaders, kBody, kBusy };

class Session;

// The server's shared state (HttpServer::Impl is this; sessions refer to it).
struct ServerState {
  // Declared before `io`: sessions destroyed with the io_context's pending handlers use them.
  HttpDispatcher dispatcher;
  HttpHeaderCheck check;
  HttpServerLimits limits;
  std::mutex mutex;                            // guards `sessions`
  std::list<std::weak_ptr<Session>> sessions;  // in accept order
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::atomic<bool> stopped{false};

  void Accept();
  void Admit(tcp::socket socket);
};

// Bytes the connection's buffer may hold: a whole header block plus one read.
std::size_t BufferLimit(const HttpServerLimits& limits) {
  return limits.max_header_bytes + 8192;
}

// One connection: read headers, check, read body, dispatch, write; repeat while kept alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerState& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), buffer_(BufferLimit(server.limits)) {
    // Closing resets the connection (unsent bytes dropped, no orphaned socket left to a client
    // that stopped reading); only the close after a complete answer is graceful (Linger).
    beast::error_code ec;
    stream_.socket().set_option(asio::socket_base::linger(true, 0), ec);
  }

  ~Session() { AbortStream(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() { ReadHeader(); }

  Phase phase() const { return phase_.load(); }
  bool evicted() const { return evicted_.load(); }
  // Closes the connection from any thread (runs on the session's strand).
  void Evict() {
    evicted_ = true;
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  void ReadHeader() {
    phase_ = Phase::kHeaders;
    head_ = false;
    version_ = 11;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.limits.max_header_bytes));
    // No limit while the header is read (Beast would refuse a large Content-Length before the
    // header check could choose a streamed route); OnHeader sets the request's limit.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(server_.limits.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    phase_ = Phase::kBusy;
    if (closed_) return;
    if (ec) return Failed(ec);
    const auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(Std(req.method_string()));
    auto path = DecodePath(Std(req.target()));
    if (!path) return Answer(TextResponse(400, "bad request target\n"), false);
    request.path = std::move(*path);
    const std::string_view target = Std(req.target());
    if (const auto mark = target.find('?'); mark != std::string_view::npos) {
      request.query = std::string(target.substr(mark + 1));
    }
    for (const auto& field : req) {
      request.headers.emplace(Lower(Std(field.name_string())), std::string(Std(field.value())));
    }
    beast::error_code endpoint_ec;
    const auto remote = stream_.socket().remote_endpoint(endpoint_ec);
    if (!endpoint_ec) request.remote_address = remote.address().to_string();
    head_ = req.method() == http::verb::head;
    HttpHeaderDecision decision;
    if (server_.check) {
      try {
        decision = server_.check(request);
      } catch (const std::exception&) {
        decision.response = TextResponse(500, "internal error\n");
      }
    }
    if (decision.response) return Answer(std::move(*decision.response), false);
    version_ = req.version();
    sink_ = std::move(decision.body_sink);
    const std::size_t limit =
        sink_ ? decision.max_body_bytes
              : std::min(decision.max_body_bytes, server_.limits.max_body_bytes);
    if (parser_->content_length() && *parser_->content_length() > limit) {
      if (sink_) std::exchange(sink_, nullptr)->Abort();
      return Answer(TextResponse(413, "request body too large\n"), false);
    }
    parser_->body_limit(limit);
    request_ = std::move(request);
    if (sink_) {
      stream_parser_.emplace(std::move(*parser_));
      stream_parser_->body_limit(limit);
      keep_alive_ = stream_parser_->get().keep_alive();
      parser_.reset();
      chunk_.resize(kStreamChunkBytes);
      body_started_ = std::chrono::steady_clock::now();
      received_ = 0;
      if (stream_parser_->is_done()) return FinishStream();
    } else if (parser_->is_done()) {
      return Dispatch();
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, req.version());
      stream_.expires_after(server_.limits.write_timeout);
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                          if (self->closed_) return;
                          if (write_ec) return self->Close();
                          self->sink_ ? self->ReadStream() : self->ReadBody();
                        });
      return;
    }
    sink_ ? ReadStream() : ReadBody();
  }

  void ReadBody() {
    phase_ = Phase::kBody;
    stream_.expires_after(server_.limits.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, std::size_t) {
    phase_ = Phase::kBusy;
    if (closed_) return;
    if (ec) return Failed(ec);
    Dispatch();
  }

  // One piece of a streamed body into chunk_ (at most its size), then OnStream.
  void ReadStream() {
    phase_ = Phase::kBody;
    auto& body = stream_parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    stream_.expires_after(server_.limits.body_timeout);
    http::async_read_some(stream_, buffer_, *stream_parser_,
                          beast::bind_front_handler(&Session::OnStream, shared_from_this()));
  }

  void OnStream(beast::error_code ec, std::size_t) {
    phase_ = Phase::kBusy;
    if (closed_) return AbortStream();
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      AbortStream();
      return Failed(ec);
    }
    const std::size_t n = chunk_.size() - stream_parser_->get().body().size;
    if (n > 0) {
      received_ += n;
      auto written = sink_->Write(std::string_view(chunk_.data(), n));
      if (!written) {
        AbortStream();
        const ErrorCode code = written.error().code;
        const int status = code == ErrorCode::kLimitExceeded ? 413
                           : code == ErrorCode::kInvalidArgument || code == ErrorCode::kMalformed
                               ? 400
                               : 500;
        return Answer(TextResponse(status, written.error().message + "\n"), false);
      }
    }
    if (stream_parser_->is_done()) return FinishStream();
    // The minimum average rate, past the first body timeout's grace.
    const auto elapsed = std::chrono::steady_clock::now() - body_started_;
    const auto allowed = server_.limits.body_timeout +
                         std::chrono::milliseconds(received_ * 1000 / kMinStreamBytesPerSecond);
    if (elapsed > allowed) {
      AbortStream();
      return Close();
    }
    ReadStream();
  }

  void FinishStream() {
    HttpResponse response;
    try {
      response = std::exchange(sink_, nullptr)->Finish(request_);
    } catch (const std::exception&) {
      response = TextResponse(500, "internal error\n");
    }
    request_ = HttpRequest{};
    stream_parser_.reset();
    Answer(std::move(response), keep_alive_);
  }

  void AbortStream() {
    if (sink_) std::exchange(sink_, nullptr)->Abort();
  }

  void Dispatch() {
    request_.body = std::move(parser_->get().body());
    const bool keep_alive = parser_->get().keep_alive();
    HttpResponse response;
    try {
      response = server_.dispatcher(request_);
    } catch (const std::exception&) {
      response = TextResponse(500, "internal error\n");
    }
    request_ = HttpRequest{};
    Answer(std::move(response), keep_alive);
  }

  // A failed read: answer what deserves an answer, drop the rest.
  void Failed(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Answer(TextResponse(413, "request body too large\n"), false);
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return Answer(TextResponse(431, "request headers too large\n"), false);
    }
    if (&ec.category() == &http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Answer(TextResponse(400, "bad request\n"), false);
    }
    Close();  // timeout, end of stream, reset, eviction
  }

  // Writes `response`; then reads the next request if `keep_alive`, else closes (after
  // draining what the client still sends, so it sees the answer).
  void Answer(HttpResponse response, bool keep_alive) {
    phase_ = Phase::kBusy;
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(response.status));
    res->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    if (head_) {
      // HEAD: the length of the body a GET would get, but no body bytes.
      res->content_length(response.body.size());
    } else {
      res->body() = std::move(response.body);
      res->prepare_payload();
    }
    stream_.expires_after(server_.limits.write_timeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (self->closed_) return;
          if (ec) return self->Close();
          if (keep_alive) return self->ReadHeader();
          self->Linger();
        });
  }

  void Linger() {
    beast::error_code ec;
    stream_.socket().set_option(asio::socket_base::linger(false, 0), ec);
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (self->closed_) return;
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxLingerBytes) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    AbortStream();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  ServerState& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::request_parser<http::buffer_body>> stream_parser_;
  std::shared_ptr<HttpBodySink> sink_;
  std::vector<char> chunk_;  // sized kStreamChunkBytes while a body streams
  std::chrono::steady_clock::time_point body_started_;
  std::size_t received_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  std::optional<http::response<http::empty_body>> continue_;
  HttpRequest request_;
  std::array<char, 4096> drain_{};
  std::size_t drained_ = 0;
  bool head_ = false;
  bool closed_ = false;
  std::atomic<Phase> phase_{Phase::kHeaders};
  std::atomic<bool> evicted_{false};
};

void ServerState::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or a connection that died in the backlog: try again shortly
      // instead of spinning.
      accept_retry.expires_after(kAcceptRetry);
      accept_retry.async_wait([this](beast::error_code) {
        if (!stopped) Accept();
      });
      return;
    }
    Admit(std::move(socket));
    Accept();
  });
}

void ServerState::Admit(tcp::socket socket) {
  auto session = std::make_shared<Session>(*this, std::move(socket));
  {
    std::lock_guard<std::mutex> lock(mutex);
    std::size_t live = 0;
    std::shared_ptr<Session> idle_victim, body_victim;
    for (auto it = sessions.begin(); it != sessions.end();) {
      auto s = it->lock();
      if (!s) {
        it = sessions.erase(it);
        continue;
      }
      ++it;
      if (s->evicted()) continue;
      ++live;
      // The oldest connection still waiting for its request goes first; one that is sending a
      // body (possibly a slow attacker past the header check) only when no connection waits.
      if (!idle_victim && s->phase() == Phase::kHeaders) idle_victim = s;
      if (!body_victim && s->phase() == Phase::kBody) body_victim = s;
    }
    if (live >= limits.max_connections) {
      auto victim = idle_victim ? idle_victim : body_victim;
      if (!victim) return;  // every connection is being answered: refuse this one (closed)
      victim->Evict();
    }
    sessions.push_back(session);
  }
  session->Start();
}

}  // namespace

struct HttpServer::Impl : ServerState {};

HttpServer::HttpServer(HttpDispatcher dispatcher, HttpHeaderCheck check, HttpServerLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->dispatcher = std::move(dispatcher);
  impl_->check = std::move(check);
  impl_->limits = limits;
  impl_->limits.threads = std::max(1, limits.threads);
}

HttpServer::~HttpServer() {
  Stop();
}

Result<void> HttpServer::Bind(const std::string& host, int port) {
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code ec;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) return Fail(ErrorCode::kIo, "cannot resolve " + where);
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return Fail(ErrorCode::kIo, "cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor.local_endpoint(ec).port();
  return {};
}

Result<void> HttpServer::Serve() {
  if (!impl_->acceptor.is_open()) return Fail(ErrorCode::kIo, "the HTTP listener is not bound");
  impl_->Accept();
  auto run = [io = &impl_->io] {
    // Thread entry: a handler that throws (e.g. bad_alloc) must not end the server.
    while (true) {
      try {
        io->run();
        return;
      } catch (const std::exception&) {
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->limits.threads; ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
  return {};
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->stopped = true;
  impl_->io.stop();
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
