// The MQTT check (see mqtt.hpp).
#include "probe/mqtt.hpp"

namespace clearbox::probe {
namespace {

constexpr std::uint8_t kConnect = 0x10;
constexpr std::uint8_t kConnack = 0x20;
constexpr std::uint8_t kProtocolLevel311 = 4;
constexpr std::uint8_t kCleanSession = 0x02;
constexpr std::uint16_t kKeepAliveSeconds = 30;

void AppendMqttString(std::string& out, std::string_view text) {
  out += static_cast<char>((text.size() >> 8) & 0xff);
  out += static_cast<char>(text.size() & 0xff);
  out += text;
}

}  // namespace

std::string MqttConnectPacket(std::string_view client_id) {
  std::string body;
  AppendMqttString(body, "MQTT");
  body += static_cast<char>(kProtocolLevel311);
  body += static_cast<char>(kCleanSession);
  body += static_cast<char>(kKeepAliveSeconds >> 8);
  body += static_cast<char>(kKeepAliveSeconds & 0xff);
  AppendMqttString(body, client_id);
  std::string packet(1, static_cast<char>(kConnect));
  packet += static_cast<char>(body.size());  // < 128: one byte of remaining length
  return packet + body;
}

Result<std::uint8_t> ParseMqttConnack(std::string_view received) {
  if (received.empty()) return Fail(ErrorCode::kTruncated, "no CONNACK yet");
  if (static_cast<std::uint8_t>(received[0]) != kConnack) {
    return Fail(ErrorCode::kNotThisFormat, "not a CONNACK");
  }
  if (received.size() < 4) return Fail(ErrorCode::kTruncated, "CONNACK incomplete");
  if (received[1] != 2) return Fail(ErrorCode::kNotThisFormat, "CONNACK length is not 2");
  return static_cast<std::uint8_t>(received[3]);
}

MqttResult CheckMqtt(const Address& address, std::uint16_t port, Clock::time_point deadline) {
  MqttResult result;
  auto connection = Connection::Open(address, port, deadline);
  if (!connection) {
    result.problems.push_back("connect: " + connection.error().message);
    return result;
  }
  if (auto sent = connection->WriteAll(MqttConnectPacket("clearbox-probe")); !sent) {
    result.problems.push_back("send CONNECT: " + sent.error().message);
    return result;
  }
  std::string received;
  Result<std::uint8_t> code = Fail(ErrorCode::kTruncated, "nothing received");
  while (received.size() < kMaxMqttAnswerBytes) {
    auto n = connection->ReadSome(received, kMaxMqttAnswerBytes - received.size(),
                                  std::chrono::milliseconds(MillisecondsLeft(deadline)));
    if (!n || *n == 0) {
      if (!n) code = Forward(n);
      break;
    }
    code = ParseMqttConnack(received);
    if (code || code.error().code != ErrorCode::kTruncated) break;
  }
  result.evidence = EscapeEvidence(received, kMaxMqttAnswerBytes);
  if (!code) {
    result.problems.push_back("CONNACK: " + code.error().message);
    return result;
  }
  result.answered = true;
  result.return_code = *code;
  return result;
}

}  // namespace clearbox::probe
