// The HTTP server under hostile clients, on a real 127.0.0.1 socket with raw requests: body
// limits for Content-Length and chunked bodies (413 without reading, memory bounded), header
// checks decided before the body (401/403), slow clients dropped, connection floods that do not
// starve an honest client, oversized headers, exceptions as 500, keep-alive and HEAD.
#include "portal/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ledger/log_store.hpp"
#include "ledger/note.hpp"
#include "portal/log_routes.hpp"
#include "support/test_support.hpp"

namespace clearbox::portal {
namespace {

using clearbox::testing::TempDir;
using Clock = std::chrono::steady_clock;

// An HttpServer on 127.0.0.1 and a free port, serving on its own thread until destroyed.
class RunningServer {
 public:
  RunningServer(HttpDispatcher dispatcher, HttpHeaderCheck check = {}, HttpServerLimits limits = {})
      : server_(std::move(dispatcher), std::move(check), limits) {
    auto bound = server_.Bind("127.0.0.1", 0);
    EXPECT_TRUE(bound.has_value()) << bound.error().message;
    thread_ = std::thread([this] { (void)server_.Serve(); });
  }
  ~RunningServer() {
    server_.Stop();
    thread_.join();
  }
  int port() const { return server_.port(); }

 private:
  HttpServer server_;
  std::thread thread_;
};

// A connected client socket with a receive timeout; -1 on failure.
int Connect(int port, int recv_timeout_ms = 10000) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One response (headers and a Content-Length body), or what arrived before EOF/timeout.
std::string ReadResponse(int fd) {
  std::string in;
  char buf[4096];
  while (true) {
    const auto end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string lower = in.substr(0, end);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const auto cl = lower.find("content-length: ");
      const std::size_t want = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 16));
      if (lower.starts_with("http/1.1 100")) {
        in.erase(0, end + 4);
        continue;
      }
      if (in.size() >= end + 4 + want) return in.substr(0, end + 4 + want);
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return in;
    in.append(buf, static_cast<std::size_t>(n));
  }
}

int StatusOf(const std::string& response) {
  if (!response.starts_with("HTTP/1.")) return 0;
  return std::atoi(response.c_str() + 9);
}

// True once the server has closed `fd` (EOF or reset), waiting at most `within`.
bool ClosedByServer(int fd, std::chrono::milliseconds within) {
  const auto deadline = Clock::now() + within;
  char buf[256];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// One request on a fresh connection; returns the raw response.
std::string Exchange(int port, std::string_view request) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  std::string response;
  if (SendAll(fd, request)) response = ReadResponse(fd);
  ::close(fd);
  return response;
}

long VmRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// A dispatcher that echoes the body size and counts its calls.
struct Echo {
  std::atomic<int> calls{0};
  HttpDispatcher Dispatcher() {
    return [this](const HttpRequest& request) {
      ++calls;
      return HttpResponse{
          200,
          "text/plain",
          request.method + " " + request.path + " " + std::to_string(request.body.size()) + "\n",
          {}};
    };
  }
};

// A header check that wants "Authorization: Bearer good" on POST.
HttpHeaderDecision NeedsToken(const HttpRequest& request) {
  if (request.method == "POST" && request.Header("authorization") != "Bearer good") {
    return HttpHeaderDecision{HttpResponse{401, "text/plain", "token\n", {}}, 0};
  }
  return HttpHeaderDecision{};
}

TEST(HttpServer, AnswersPlainChunkedKeepAliveAndHeadRequests) {
  Echo echo;
  RunningServer server(echo.Dispatcher());
  EXPECT_EQ(StatusOf(Exchange(server.port(), "GET /a%2Fb?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
  auto r = Exchange(server.port(),
                    "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_NE(r.find("POST /c 11\n"), std::string::npos) << r;
  // Two requests on one connection; the path is percent-decoded.
  const int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n"));
  r = ReadResponse(fd);
  EXPECT_NE(r.find("GET /a/b 0\n"), std::string::npos) << r;
  ASSERT_TRUE(SendAll(fd, "HEAD /z HTTP/1.1\r\nHost: x\r\n\r\n"));
  char buf[512];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  const std::string head(buf, static_cast<std::size_t>(n));
  EXPECT_EQ(StatusOf(head), 200);
  EXPECT_NE(head.find("Content-Length: 10"), std::string::npos) << head;  // "HEAD /z 0\n"
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << "HEAD answered with body bytes: " << head;
  ::close(fd);
  EXPECT_EQ(StatusOf(Exchange(server.port(), "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
  EXPECT_EQ(StatusOf(Exchange(server.port(), "BAD REQUEST\r\n\r\n")), 400);
}

TEST(HttpServer, OversizedContentLengthIs413WithoutReadingTheBody) {
  Echo echo;
  RunningServer server(echo.Dispatcher(), [](const HttpRequest&) {
    return HttpHeaderDecision{std::nullopt, 1000};
  });
  // Only the headers are sent: the answer must come without waiting for the body.
  const auto start = Clock::now();
  for (const char* length : {"1001", "1048577", "99999999999999"}) {
    const auto r = Exchange(server.port(), std::string("POST /x HTTP/1.1\r\nHost: x\r\n") +
                                               "Content-Length: " + length + "\r\n\r\n");
    EXPECT_EQ(StatusOf(r), 413) << length << ": " << r;
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(echo.calls, 0);
  // A chunked body over the per-request limit is cut at the limit too.
  const auto r = Exchange(server.port(),
                          "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3e9\r\n" +
                              std::string(1001, 'a') + "\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_EQ(echo.calls, 0);
  EXPECT_EQ(StatusOf(Exchange(server.port(),
                              "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                                  std::string(1000, 'b'))),
            200);
}

TEST(HttpServer, EndlessChunkedPostIsCutWithBoundedMemory) {
  Echo echo;
  RunningServer server(echo.Dispatcher());
  // Warm up the server's threads and allocator before measuring.
  EXPECT_EQ(StatusOf(Exchange(server.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
  const long before = VmRssKiB();
  const int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "4000\r\n" + std::string(0x4000, 'z') + "\r\n";
  std::size_t sent = 0;
  constexpr std::size_t kGiveUp = 256u << 20;  // the server would have kept reading
  while (sent < kGiveUp && SendAll(fd, chunk)) sent += chunk.size();
  const std::string r = ReadResponse(fd);
  ::close(fd);
  const long after = VmRssKiB();
  EXPECT_LT(sent, 32u << 20) << "the server kept reading an endless body";
  EXPECT_TRUE(r.empty() || StatusOf(r) == 413) << r;
  EXPECT_EQ(echo.calls, 1) << "only the warm-up request reached the dispatcher";
  EXPECT_LT(after - before, 64 * 1024) << "RSS grew from " << before << " to " << after << " KiB";
  std::printf("endless chunked POST: client sent %zu KiB before the cut; RSS %ld -> %ld KiB\n",
              sent >> 10, before, after);
}

TEST(HttpServer, HeaderCheckAnswersBeforeTheBodyIsRead) {
  Echo echo;
  RunningServer server(echo.Dispatcher(), NeedsToken);
  // Headers only, announcing a body that never comes: the 401 must not wait for it.
  const auto start = Clock::now();
  auto r =
      Exchange(server.port(), "POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 401) << r;
  r = Exchange(server.port(),
               "POST /add HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 401) << r;
  // Expect: 100-continue: no 100 for a refused request, only the refusal.
  r = Exchange(
      server.port(),
      "POST /add HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 401) << r;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(echo.calls, 0);
  // The right token: 100 Continue, then the body is read and dispatched.
  const int fd = Connect(server.port());
  ASSERT_TRUE(SendAll(fd,
                      "POST /add HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n"
                      "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  char buf[64];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(std::string(buf, static_cast<std::size_t>(n)).starts_with("HTTP/1.1 100"));
  ASSERT_TRUE(SendAll(fd, "abcde"));
  r = ReadResponse(fd);
  ::close(fd);
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_NE(r.find("POST /add 5\n"), std::string::npos) << r;
}

TEST(HttpServer, LogAppendsAreAuthorizedBeforeTheBody) {
  TempDir tmp;
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 7;
  auto key = ledger::SignerKeyFromSeed("headers.example/log", seed);
  ASSERT_TRUE(ledger::LogStore::Init(tmp / "log", "headers.example/log", *key).has_value());
  LogService service(tmp / "log", "0123456789abcdef-token");
  RunningServer server([&](const HttpRequest& r) { return service.Handle(r); },
                       [&](const HttpRequest& r) { return service.CheckHeaders(r); });
  const std::string post = "POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n";
  EXPECT_EQ(StatusOf(Exchange(server.port(), post + "\r\n")), 401);
  EXPECT_EQ(StatusOf(Exchange(server.port(), post + "Authorization: Bearer nope\r\n\r\n")), 403);
  EXPECT_EQ(StatusOf(Exchange(server.port(),
                              "POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n"
                              "Authorization: Bearer 0123456789abcdef-token\r\n\r\n")),
            413);
  EXPECT_EQ(StatusOf(Exchange(server.port(),
                              "PUT /checkpoint HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 99999\r\n\r\n")),
            405);
  auto r = Exchange(server.port(),
                    "POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    "Authorization: Bearer 0123456789abcdef-token\r\n\r\nentry");
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\n0\n")) << r;
}

TEST(HttpServer, SlowClientsAreDropped) {
  Echo echo;
  HttpServerLimits limits;
  limits.header_timeout = std::chrono::milliseconds(2000);
  limits.body_timeout = std::chrono::milliseconds(2000);
  RunningServer server(echo.Dispatcher(), {}, limits);
  // Slow headers: one byte a second never completes a request line within the timeout.
  const int slow = Connect(server.port());
  ASSERT_GE(slow, 0);
  const std::string request = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto start = Clock::now();
  bool dropped = false;
  for (char c : request) {
    if (!SendAll(slow, std::string_view(&c, 1)) ||
        ClosedByServer(slow, std::chrono::milliseconds(1000))) {
      dropped = true;
      break;
    }
  }
  const auto took = Clock::now() - start;
  ::close(slow);
  EXPECT_TRUE(dropped);
  EXPECT_LT(took, std::chrono::milliseconds(4500));
  EXPECT_GE(took, std::chrono::milliseconds(1500));
  // Slow body: headers at once, then a byte a second.
  const int slow_body = Connect(server.port());
  ASSERT_TRUE(SendAll(slow_body, "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"));
  dropped = false;
  for (int i = 0; i < 10 && !dropped; ++i) {
    dropped =
        !SendAll(slow_body, "b") || ClosedByServer(slow_body, std::chrono::milliseconds(1000));
  }
  ::close(slow_body);
  EXPECT_TRUE(dropped);
  EXPECT_EQ(echo.calls, 0);
  EXPECT_EQ(StatusOf(Exchange(server.port(), request)), 200);
}

TEST(HttpServer, ClientThatDoesNotReadIsDropped) {
  HttpServerLimits limits;
  limits.write_timeout = std::chrono::milliseconds(1500);
  RunningServer server(
      [](const HttpRequest&) {
        return HttpResponse{200, "application/octet-stream", std::string(64 << 20, 'r'), {}};
      },
      {}, limits);
  const int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_TRUE(SendAll(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  // Past the write timeout the server gave up: reading now ends well before 64 MiB.
  std::size_t got = 0;
  char buf[65536];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  EXPECT_LT(got, std::size_t{64} << 20);
}

TEST(HttpServer, ConnectionFloodDoesNotStarveAnHonestClient) {
  Echo echo;
  RunningServer server(echo.Dispatcher());
  // 500 connections: half idle, half stuck half-way through their headers.
  std::vector<int> flood;
  for (int i = 0; i < 500; ++i) {
    const int fd = Connect(server.port());
    ASSERT_GE(fd, 0) << i;
    if (i % 2) SendAll(fd, "GET /flood HTTP/1.1\r\nHost:");
    flood.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    const auto r = Exchange(server.port(), "GET /honest HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    EXPECT_EQ(StatusOf(r), 200) << r;
    EXPECT_LT(ms, 2000);
  }
  // The server holds at most kMaxConnections of them: the oldest were closed.
  int closed = 0;
  for (int fd : flood) closed += ClosedByServer(fd, std::chrono::milliseconds(0)) ? 1 : 0;
  EXPECT_GE(closed, 500 - static_cast<int>(kMaxConnections));
  for (int fd : flood) ::close(fd);
}

TEST(HttpServer, LimitsHeadersAndTurnsExceptionsInto500) {
  RunningServer server(
      [](const HttpRequest& request) -> HttpResponse {
        if (request.path == "/throw") throw std::runtime_error("boom");
        return HttpResponse{};
      },
      [](const HttpRequest& request) {
        if (request.path == "/throw-early") throw std::runtime_error("boom");
        return HttpHeaderDecision{};
      });
  EXPECT_EQ(StatusOf(Exchange(server.port(), "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n")), 500);
  EXPECT_EQ(StatusOf(Exchange(server.port(), "GET /throw-early HTTP/1.1\r\nHost: x\r\n\r\n")), 500);
  const std::string big =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(kMaxRequestHeaderBytes, 'h') +
      "\r\n\r\n";
  EXPECT_EQ(StatusOf(Exchange(server.port(), big)), 431);
  EXPECT_EQ(StatusOf(Exchange(server.port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
}

}  // namespace
}  // namespace clearbox::portal

namespace clearbox::portal {
namespace {

// A body sink that records what reached it: bytes, and whether it finished or was aborted.
struct RecordingSink final : HttpBodySink {
  std::string bytes;
  std::atomic<int> finished{0};
  std::atomic<int> aborted{0};
  Result<void> Write(std::string_view piece) override {
    bytes.append(piece);
    return {};
  }
  HttpResponse Finish(const HttpRequest&) override {
    ++finished;
    return HttpResponse{201, "text/plain", "stored " + std::to_string(bytes.size()) + "\n", {}};
  }
  void Abort() override { ++aborted; }
};

// A header check that streams POST bodies of at most `cap` bytes into a new RecordingSink.
struct Streaming {
  explicit Streaming(std::uint64_t max_bytes) : cap(max_bytes) {}
  std::uint64_t cap;
  std::mutex mutex;
  std::vector<std::shared_ptr<RecordingSink>> sinks;
  HttpHeaderCheck Check() {
    return [this](const HttpRequest& request) {
      HttpHeaderDecision decision;
      if (request.method != "POST") return decision;
      auto sink = std::make_shared<RecordingSink>();
      std::lock_guard lock(mutex);
      sinks.push_back(sink);
      decision.body_sink = sink;
      decision.max_body_bytes = cap;
      return decision;
    };
  }
};

// A streamed body may be larger than the server's in-memory limit; it reaches the sink whole,
// plain or chunked, and the sink answers.
TEST(HttpServer, StreamedBodiesReachTheSinkWhole) {
  Echo echo;
  Streaming streaming(8u << 20);
  RunningServer server(echo.Dispatcher(), streaming.Check());
  const std::string body = clearbox::testing::PseudoRandomBytes(11, 3u << 20);  // > 1 MiB
  const std::string plain =
      Exchange(server.port(), "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(StatusOf(plain), 201) << plain.substr(0, 200);
  std::string chunked = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t at = 0; at < body.size(); at += 100'000) {
    const std::string piece = body.substr(at, 100'000);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    chunked += size + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  EXPECT_EQ(StatusOf(Exchange(server.port(), chunked)), 201);
  ASSERT_EQ(streaming.sinks.size(), 2u);
  for (const auto& sink : streaming.sinks) {
    EXPECT_EQ(sink->bytes == body, true) << sink->bytes.size();
    EXPECT_EQ(sink->finished, 1);
    EXPECT_EQ(sink->aborted, 0);
  }
  EXPECT_EQ(echo.calls, 0) << "a streamed request is answered by its sink";
}

// Past the cap (declared or while chunked), a stalled body and a trickle: the sink is aborted
// and never finished.
TEST(HttpServer, StreamedBodiesPastTheCapOrTooSlowAreAborted) {
  Echo echo;
  Streaming streaming(1u << 20);
  HttpServerLimits limits;
  limits.body_timeout = std::chrono::milliseconds(1000);
  RunningServer server(echo.Dispatcher(), streaming.Check(), limits);
  EXPECT_EQ(StatusOf(Exchange(server.port(),
                              "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")),
            413);
  std::string chunked = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 40; ++i) chunked += "8000\r\n" + std::string(0x8000, 'c') + "\r\n";
  EXPECT_EQ(StatusOf(Exchange(server.port(), chunked)), 413);
  // Stalled: the header and a few bytes, then nothing.
  const int stalled = Connect(server.port());
  ASSERT_TRUE(SendAll(stalled, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"));
  EXPECT_TRUE(ClosedByServer(stalled, std::chrono::milliseconds(5000)));
  ::close(stalled);
  // A trickle: a byte every 200 ms never times out a single read, but misses the minimum rate.
  const int trickle = Connect(server.port());
  ASSERT_TRUE(SendAll(trickle, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  bool dropped = false;
  const auto start = Clock::now();
  for (int i = 0; i < 50 && !dropped; ++i) {
    dropped = !SendAll(trickle, "t") || ClosedByServer(trickle, std::chrono::milliseconds(200));
  }
  ::close(trickle);
  EXPECT_TRUE(dropped);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(5000));
  // Wait for the server to finish with the last connection.
  for (int i = 0; i < 50; ++i) {
    std::lock_guard lock(streaming.mutex);
    if (std::all_of(streaming.sinks.begin(), streaming.sinks.end(),
                    [](const auto& s) { return s->aborted.load() == 1; })) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::lock_guard lock(streaming.mutex);
  ASSERT_EQ(streaming.sinks.size(), 4u);
  for (const auto& sink : streaming.sinks) {
    EXPECT_EQ(sink->finished, 0);
    EXPECT_EQ(sink->aborted, 1);
  }
  EXPECT_EQ(echo.calls, 0);
}

}  // namespace
}  // namespace clearbox::portal
