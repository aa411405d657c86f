// FTP replies and the anonymous login (see ftp.hpp).
#include "probe/ftp.hpp"

#include <cctype>

namespace clearbox::probe {
namespace {

constexpr int kFtpLoggedIn = 230;
constexpr int kFtpNeedPassword = 331;
// Bytes of the replies kept as evidence.
constexpr std::size_t kFtpEvidenceBytes = 512;

bool StartsWithCode(std::string_view line) {
  return line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
         std::isdigit(static_cast<unsigned char>(line[1])) &&
         std::isdigit(static_cast<unsigned char>(line[2]));
}

// Reads until one reply is complete.
Result<FtpReply> ReadReply(Connection& connection, std::string& pending,
                           std::chrono::milliseconds timeout) {
  for (;;) {
    std::size_t consumed = 0;
    auto reply = ParseFtpReply(pending, &consumed);
    if (reply) {
      pending.erase(0, consumed);
      return reply;
    }
    if (reply.error().code != ErrorCode::kTruncated) return reply;
    if (pending.size() >= kMaxFtpReplyBytes) {
      return Fail(ErrorCode::kMalformed, "reply longer than 4 KiB");
    }
    auto n = connection.ReadSome(pending, kMaxFtpReplyBytes - pending.size(), timeout);
    if (!n) return Forward(n);
    if (*n == 0) return Fail(ErrorCode::kTruncated, "connection closed inside a reply");
  }
}

}  // namespace

Result<FtpReply> ParseFtpReply(std::string_view received, std::size_t* consumed) {
  received = received.substr(0, kMaxFtpReplyBytes);
  std::size_t at = 0;
  std::string code;
  while (at < received.size()) {
    const std::size_t newline = received.find('\n', at);
    if (newline == std::string_view::npos) break;
    const std::string_view line = received.substr(at, newline - at);
    at = newline + 1;
    if (code.empty()) {
      if (!StartsWithCode(line)) return Fail(ErrorCode::kMalformed, "reply without a code");
      code = std::string(line.substr(0, 3));
      if (line.size() == 3 || line[3] != '-') {  // one line reply
        *consumed = at;
        return FtpReply{std::stoi(code), std::string(received.substr(0, at))};
      }
      continue;
    }
    // A multi-line reply ends with the same code followed by a space (RFC 959 4.2).
    if (line.size() >= 4 && line.substr(0, 3) == code && line[3] == ' ') {
      *consumed = at;
      return FtpReply{std::stoi(code), std::string(received.substr(0, at))};
    }
  }
  return Fail(ErrorCode::kTruncated, "reply not complete");
}

FtpLoginResult TryAnonymousFtp(const Address& address, std::uint16_t port,
                               std::chrono::milliseconds timeout) {
  FtpLoginResult result;
  result.attempted = true;
  std::string transcript;
  auto finish = [&](std::string problem) {
    if (!problem.empty()) result.problems.push_back("anonymous FTP: " + problem);
    result.evidence = EscapeEvidence(transcript, kFtpEvidenceBytes);
    return result;
  };
  auto connection = Connection::Open(address, port, Clock::now() + timeout);
  if (!connection) return finish("connect: " + connection.error().message);
  std::string pending;
  auto greeting = ReadReply(*connection, pending, timeout);
  if (!greeting) return finish("greeting: " + greeting.error().message);
  transcript += greeting->text;
  if (greeting->code / 100 != 2) return finish("greeting " + std::to_string(greeting->code));
  if (auto sent = connection->WriteAll("USER anonymous\r\n"); !sent) {
    return finish("USER: " + sent.error().message);
  }
  auto user = ReadReply(*connection, pending, timeout);
  if (!user) return finish("USER: " + user.error().message);
  transcript += "> USER anonymous\n" + user->text;
  result.user_reply = user->code;
  if (user->code == kFtpNeedPassword) {
    const std::string pass = "PASS " + std::string(kAnonymousFtpPassword) + "\r\n";
    if (auto sent = connection->WriteAll(pass); !sent) {
      return finish("PASS: " + sent.error().message);
    }
    auto reply = ReadReply(*connection, pending, timeout);
    if (!reply) return finish("PASS: " + reply.error().message);
    transcript += "> PASS " + std::string(kAnonymousFtpPassword) + "\n" + reply->text;
    result.pass_reply = reply->code;
    result.accepted = reply->code == kFtpLoggedIn;
  } else {
    result.accepted = user->code == kFtpLoggedIn;
  }
  (void)connection->WriteAll("QUIT\r\n");
  return finish("");
}

}  // namespace clearbox::probe
