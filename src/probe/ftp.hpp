// FTP anonymous login (opt-in, `--try-anonymous-ftp`): USER anonymous, PASS a fixed address;
// reply 230 means the server lets anyone in. The reply parser reads untrusted bytes bounded.
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

// The password sent with USER anonymous (RFC 1635 asks for an e-mail address; this one is
// reserved by RFC 2606 and names the tool).
inline constexpr std::string_view kAnonymousFtpPassword = "clearbox-probe@example.invalid";
// Bytes of one reply (all its lines) read at most.
inline constexpr std::size_t kMaxFtpReplyBytes = 4096;

// One complete reply: its code and text (RFC 959 4.2, multi-line "123-" ... "123 ").
struct FtpReply {
  int code = 0;
  std::string text;  // all lines, as received
};

// Parses the first complete reply in `received`: kTruncated when its last line has not yet
// arrived, kMalformed when a line does not start with three digits.
Result<FtpReply> ParseFtpReply(std::string_view received, std::size_t* consumed);

struct FtpLoginResult {
  bool attempted = false;
  bool accepted = false;  // 230 after USER anonymous (and PASS)
  int user_reply = 0, pass_reply = 0;
  std::string evidence;  // the replies, escaped and bounded
  std::vector<std::string> problems;
};

// Logs in as anonymous on a new connection to address:port, each step by the deadline.
FtpLoginResult TryAnonymousFtp(const Address& address, std::uint16_t port,
                               std::chrono::milliseconds timeout);

}  // namespace clearbox::probe
