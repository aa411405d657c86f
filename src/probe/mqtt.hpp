// MQTT: a CONNECT without credentials (MQTT 3.1.1) and the broker's CONNACK. A return code
// of 0 means the broker lets anyone in. The CONNACK parser takes untrusted bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "probe/net.hpp"

namespace clearbox::probe {

// A CONNACK is 4 bytes; we read at most this many.
inline constexpr std::size_t kMaxMqttAnswerBytes = 64;

// The CONNECT packet (clean session, no user name or password) for `client_id`.
std::string MqttConnectPacket(std::string_view client_id);
// The return code of a CONNACK at the start of `received`: kTruncated when incomplete,
// kNotThisFormat when the bytes are not a CONNACK.
Result<std::uint8_t> ParseMqttConnack(std::string_view received);

struct MqttResult {
  bool answered = false;  // a CONNACK came back
  int return_code = -1;   // 0 accepted, 4 bad credentials, 5 not authorised, ...
  std::string evidence;   // the bytes received, escaped
  std::vector<std::string> problems;
};

// Connects, sends CONNECT without credentials and reads the CONNACK, by the deadline.
MqttResult CheckMqtt(const Address& address, std::uint16_t port, Clock::time_point deadline);

}  // namespace clearbox::probe
