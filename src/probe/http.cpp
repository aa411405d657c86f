// The HTTP check (see http.hpp).
#include "probe/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "probe/net.hpp"

namespace clearbox::probe {
namespace {

constexpr std::size_t kEvidenceBytes = 512;

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

const std::string* HttpResponseHead::Find(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

Result<HttpResponseHead> ParseHttpResponseHead(std::string_view received) {
  if (received.size() >= 5 && received.substr(0, 5) != "HTTP/") {
    return Fail(ErrorCode::kNotThisFormat, "not an HTTP response");
  }
  std::size_t end = received.find("\r\n\r\n");
  std::size_t end_length = 4;
  if (const std::size_t bare = received.find("\n\n"); bare < end) {
    end = bare;
    end_length = 2;
  }
  if (end == std::string_view::npos) {
    if (received.size() >= kMaxHttpHeadBytes) {
      return Fail(ErrorCode::kMalformed, "response head longer than 16 KiB");
    }
    return Fail(ErrorCode::kTruncated, "response head not complete");
  }
  (void)end_length;
  std::string_view head = received.substr(0, end);
  HttpResponseHead out;
  std::size_t newline = head.find('\n');
  std::string_view status_line = Trim(head.substr(0, newline));
  head = newline == std::string_view::npos ? std::string_view() : head.substr(newline + 1);
  const std::size_t space = status_line.find(' ');
  if (space == std::string_view::npos)
    return Fail(ErrorCode::kMalformed, "status line has no code");
  out.version = status_line.substr(0, space);
  std::string_view code = status_line.substr(space + 1);
  if (code.size() < 3 || !std::isdigit(static_cast<unsigned char>(code[0])) ||
      !std::isdigit(static_cast<unsigned char>(code[1])) ||
      !std::isdigit(static_cast<unsigned char>(code[2]))) {
    return Fail(ErrorCode::kMalformed, "status code is not three digits");
  }
  out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  out.reason = Trim(code.substr(3));
  while (!head.empty() && out.headers.size() < kMaxHttpHeaders) {
    newline = head.find('\n');
    const std::string_view line = head.substr(0, newline);
    head = newline == std::string_view::npos ? std::string_view() : head.substr(newline + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;  // not a header: skipped
    out.headers.emplace_back(Lower(Trim(line.substr(0, colon))), Trim(line.substr(colon + 1)));
  }
  return out;
}

HttpResult CheckHttp(const std::string& host, const SendBytes& send, const ReceiveBytes& receive) {
  HttpResult result;
  const std::string request = "GET / HTTP/1.0\r\nHost: " + host +
                              "\r\nUser-Agent: clearbox-probe\r\nAccept: */*\r\n"
                              "Connection: close\r\n\r\n";
  if (auto sent = send(request); !sent) {
    result.problems.push_back("send request: " + sent.error().message);
    return result;
  }
  std::string received;
  Result<HttpResponseHead> head = Fail(ErrorCode::kTruncated, "nothing received");
  while (received.size() < kMaxHttpHeadBytes) {
    auto n = receive(received, kMaxHttpHeadBytes - received.size());
    if (!n || *n == 0) {
      if (!n) head = Forward(n);
      break;
    }
    head = ParseHttpResponseHead(received);
    if (head || head.error().code != ErrorCode::kTruncated) break;
  }
  if (!head && head.error().code == ErrorCode::kTruncated && received.size() >= kMaxHttpHeadBytes) {
    head = ParseHttpResponseHead(received);
  }
  result.evidence = EscapeEvidence(received, kEvidenceBytes);
  if (!head) {
    result.problems.push_back("response: " + head.error().message);
    return result;
  }
  result.head = std::move(*head);
  result.answered = true;
  const std::size_t crlf = received.find("\r\n\r\n"), lf = received.find("\n\n");
  const std::size_t head_end = lf < crlf ? lf + 2 : crlf == std::string::npos ? 0 : crlf + 4;
  result.body = received.substr(std::min(head_end, received.size()));
  std::size_t expected = kMaxHttpBodyBytes;
  if (const std::string* length = result.head.Find("content-length")) {
    std::size_t value = 0;
    const auto [end, error] =
        std::from_chars(length->data(), length->data() + length->size(), value);
    if (error == std::errc() && end == length->data() + length->size()) {
      expected = std::min(value, kMaxHttpBodyBytes);
    }
  }
  while (result.body.size() < expected) {
    auto n = receive(result.body, expected - result.body.size());
    if (!n || *n == 0) break;  // the body is best effort: a stall or close ends it
  }
  if (result.body.size() > kMaxHttpBodyBytes) result.body.resize(kMaxHttpBodyBytes);
  return result;
}

}  // namespace clearbox::probe
