// SNMP v1/v2c GetRequest and its BER (see snmp.hpp).
#include "probe/snmp.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

#include "probe/udp.hpp"

namespace clearbox::probe {
namespace {

constexpr std::uint8_t kTagInteger = 0x02;
constexpr std::uint8_t kTagOctetString = 0x04;
constexpr std::uint8_t kTagNull = 0x05;
constexpr std::uint8_t kTagOid = 0x06;
constexpr std::uint8_t kTagSequence = 0x30;
constexpr std::uint8_t kTagGetRequest = 0xA0;
constexpr std::uint8_t kTagGetResponse = 0xA2;
// Bytes of a BER INTEGER we decode (SNMP's are 32-bit; 8 keeps int64 exact).
constexpr std::size_t kMaxIntegerBytes = 8;
// Bytes of the first answer kept as evidence.
constexpr std::size_t kSnmpEvidenceBytes = 256;
// Request ids of our GetRequests: a fixed base plus the attempt's index.
constexpr std::int32_t kRequestIdBase = 0x43420000;  // "CB"

struct Tlv {
  std::uint8_t tag = 0;
  ByteView content;
};

Result<Tlv> ReadTlv(ByteReader& reader) {
  auto tag = reader.U8();
  if (!tag) return Forward(tag);
  if ((*tag & 0x1f) == 0x1f) return Fail(ErrorCode::kUnsupported, "multi-byte BER tag");
  auto first = reader.U8();
  if (!first) return Forward(first);
  std::size_t length = *first;
  if (*first == 0x80) return Fail(ErrorCode::kMalformed, "indefinite BER length");
  if (*first > 0x80) {
    const std::size_t count = *first & 0x7f;
    if (count > 3) return Fail(ErrorCode::kMalformed, "BER length of more than 3 bytes");
    length = 0;
    for (std::size_t i = 0; i < count; ++i) {
      auto byte = reader.U8();
      if (!byte) return Forward(byte);
      length = (length << 8) | *byte;
    }
  }
  if (length > kMaxBerLength) return Fail(ErrorCode::kMalformed, "BER length over the limit");
  auto content = reader.Bytes(length);
  if (!content) return Forward(content);
  return Tlv{*tag, *content};
}

Result<Tlv> ReadTagged(ByteReader& reader, std::uint8_t expected, std::string_view what) {
  auto tlv = ReadTlv(reader);
  if (!tlv) return Forward(tlv);
  if (tlv->tag != expected) {
    return Fail(ErrorCode::kMalformed, std::string(what) + ": unexpected BER tag");
  }
  return tlv;
}

Result<std::int64_t> DecodeInteger(ByteView content) {
  if (content.empty() || content.size() > kMaxIntegerBytes) {
    return Fail(ErrorCode::kMalformed, "BER INTEGER size");
  }
  std::uint64_t value = (content[0] & 0x80) ? ~std::uint64_t{0} : 0;
  for (const std::uint8_t byte : content) value = (value << 8) | byte;
  return static_cast<std::int64_t>(value);
}

Result<std::int64_t> ReadInteger(ByteReader& reader, std::string_view what) {
  auto tlv = ReadTagged(reader, kTagInteger, what);
  if (!tlv) return Forward(tlv);
  return DecodeInteger(tlv->content);
}

Result<std::string> DecodeOid(ByteView content) {
  if (content.empty()) return Fail(ErrorCode::kMalformed, "empty OID");
  std::string out;
  std::uint64_t arc = 0;
  std::size_t arcs = 0, arc_bytes = 0;
  for (const std::uint8_t byte : content) {
    if (++arc_bytes > 5) return Fail(ErrorCode::kMalformed, "OID arc too long");
    arc = (arc << 7) | (byte & 0x7f);
    if (byte & 0x80) continue;
    if (++arcs > kMaxOidArcs) return Fail(ErrorCode::kMalformed, "OID has too many arcs");
    if (out.empty()) {
      const std::uint64_t first = std::min<std::uint64_t>(arc / 40, 2);
      out = std::to_string(first) + "." + std::to_string(arc - first * 40);
    } else {
      out += "." + std::to_string(arc);
    }
    arc = 0;
    arc_bytes = 0;
  }
  if (arc_bytes != 0) return Fail(ErrorCode::kTruncated, "OID ends inside an arc");
  return out;
}

std::string EncodeLength(std::size_t length) {
  if (length < 0x80) return std::string(1, static_cast<char>(length));
  std::string bytes;
  for (std::size_t l = length; l > 0; l >>= 8) bytes.insert(bytes.begin(), static_cast<char>(l));
  return static_cast<char>(0x80 | bytes.size()) + bytes;
}

std::string Encode(std::uint8_t tag, std::string_view content) {
  return static_cast<char>(tag) + EncodeLength(content.size()) + std::string(content);
}

std::string EncodeInteger(std::int64_t value) {
  std::string bytes;
  for (int i = 7; i >= 0; --i) bytes += static_cast<char>((value >> (8 * i)) & 0xff);
  // Drop leading bytes that only repeat the sign.
  while (bytes.size() > 1 &&
         ((bytes[0] == 0 && !(bytes[1] & 0x80)) || (bytes[0] == '\xff' && (bytes[1] & 0x80)))) {
    bytes.erase(bytes.begin());
  }
  return Encode(kTagInteger, bytes);
}

Result<std::string> EncodeOid(std::string_view dotted) {
  std::vector<std::uint32_t> arcs;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view part = dotted.substr(0, dot);
    std::uint32_t arc = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), arc);
    if (error != std::errc() || end != part.data() + part.size() || arcs.size() >= kMaxOidArcs) {
      return Fail(ErrorCode::kInvalidArgument, "bad OID");
    }
    arcs.push_back(arc);
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40)) {
    return Fail(ErrorCode::kInvalidArgument, "bad OID");
  }
  std::string content;
  auto put = [&](std::uint64_t value) {
    std::string group(1, static_cast<char>(value & 0x7f));
    for (value >>= 7; value > 0; value >>= 7) {
      group.insert(group.begin(), static_cast<char>(0x80 | (value & 0x7f)));
    }
    content += group;
  };
  put(std::uint64_t{arcs[0]} * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) put(arcs[i]);
  return Encode(kTagOid, content);
}

}  // namespace

std::string_view ToString(SnmpVersion version) {
  return version == SnmpVersion::kV1 ? "v1" : "v2c";
}

Result<std::string> EncodeSnmpGet(SnmpVersion version, std::string_view community,
                                  std::int32_t request_id, std::string_view oid) {
  auto name = EncodeOid(oid);
  if (!name) return Forward(name);
  const std::string varbind = Encode(kTagSequence, *name + Encode(kTagNull, ""));
  const std::string pdu =
      Encode(kTagGetRequest, EncodeInteger(request_id) + EncodeInteger(0) + EncodeInteger(0) +
                                 Encode(kTagSequence, varbind));
  return Encode(kTagSequence, EncodeInteger(static_cast<std::int64_t>(version)) +
                                  Encode(kTagOctetString, community) + pdu);
}

Result<SnmpMessage> ParseSnmpMessage(ByteView datagram) {
  if (datagram.empty() || datagram[0] != kTagSequence) {
    return Fail(ErrorCode::kNotThisFormat, "not a BER SEQUENCE");
  }
  ByteReader outer(datagram, Endian::kBig);
  auto message = ReadTagged(outer, kTagSequence, "message");
  if (!message) return Forward(message);
  ByteReader reader(message->content, Endian::kBig);
  SnmpMessage out;
  auto version = ReadInteger(reader, "version");
  if (!version) return Forward(version);
  out.version = *version;
  auto community = ReadTagged(reader, kTagOctetString, "community");
  if (!community) return Forward(community);
  out.community = std::string(AsText(community->content));
  auto pdu = ReadTlv(reader);
  if (!pdu) return Forward(pdu);
  if ((pdu->tag & 0xE0) != 0xA0) return Fail(ErrorCode::kMalformed, "PDU: not a context tag");
  out.pdu_tag = pdu->tag;
  ByteReader fields(pdu->content, Endian::kBig);
  for (auto [target, what] :
       {std::tuple{&out.request_id, "request-id"}, std::tuple{&out.error_status, "error-status"},
        std::tuple{&out.error_index, "error-index"}}) {
    auto value = ReadInteger(fields, what);
    if (!value) return Forward(value);
    *target = *value;
  }
  auto list = ReadTagged(fields, kTagSequence, "variable-bindings");
  if (!list) return Forward(list);
  ByteReader bindings(list->content, Endian::kBig);
  while (bindings.Remaining() > 0 && out.varbinds.size() < kMaxSnmpVarbinds) {
    auto binding = ReadTagged(bindings, kTagSequence, "variable-binding");
    if (!binding) return Forward(binding);
    ByteReader parts(binding->content, Endian::kBig);
    auto name = ReadTagged(parts, kTagOid, "name");
    if (!name) return Forward(name);
    auto oid = DecodeOid(name->content);
    if (!oid) return Forward(oid);
    auto value = ReadTlv(parts);
    if (!value) return Forward(value);
    const std::size_t kept = std::min(value->content.size(), kMaxSnmpValueBytes);
    out.varbinds.push_back(
        {std::move(*oid), value->tag, std::string(AsText(value->content.first(kept)))});
  }
  return out;
}

SnmpResult CheckSnmp(const Address& address, std::uint16_t port,
                     std::chrono::milliseconds timeout) {
  SnmpResult result;
  result.attempted = true;
  auto socket = UdpSocket::Open(address, port);
  if (!socket) {
    result.problems.push_back("SNMP: " + socket.error().message);
    return result;
  }
  struct Attempt {
    SnmpVersion version;
    std::string_view community;
    bool answered = false;
  };
  std::vector<Attempt> attempts;
  for (const SnmpVersion version : {SnmpVersion::kV1, SnmpVersion::kV2c}) {
    for (const std::string_view community : kSnmpDefaultCommunities) {
      attempts.push_back({version, community});
    }
  }
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    auto request = EncodeSnmpGet(attempts[i].version, attempts[i].community,
                                 kRequestIdBase + static_cast<std::int32_t>(i), kSysDescrOid);
    auto sent = request ? socket->Send(*request) : Forward(request);
    if (!sent) {
      result.problems.push_back("SNMP send: " + sent.error().message);
      return result;
    }
  }
  const auto deadline = Clock::now() + timeout;
  std::size_t answered = 0;
  while (answered < attempts.size()) {
    auto datagram = socket->Receive(deadline);
    if (!datagram) {
      if (datagram.error().code != ErrorCode::kTimeout || answered == 0) {
        result.problems.push_back("SNMP: " + datagram.error().message);
      }
      break;
    }
    const ByteView bytes(reinterpret_cast<const std::uint8_t*>(datagram->data()), datagram->size());
    auto message = ParseSnmpMessage(bytes);
    if (!message) {
      result.problems.push_back("SNMP answer: " + message.error().message);
      continue;
    }
    const std::int64_t index = message->request_id - kRequestIdBase;
    if (message->pdu_tag != kTagGetResponse || index < 0 ||
        index >= static_cast<std::int64_t>(attempts.size()) ||
        attempts[static_cast<std::size_t>(index)].answered) {
      result.problems.push_back("SNMP answer: not a response to our request");
      continue;
    }
    Attempt& attempt = attempts[static_cast<std::size_t>(index)];
    attempt.answered = true;
    ++answered;
    SnmpAnswer answer{std::string(ToString(attempt.version)), std::string(attempt.community),
                      message->error_status, ""};
    for (const auto& v : message->varbinds) {
      if (v.oid == kSysDescrOid && v.tag == kTagOctetString) {
        answer.sys_descr = EscapeEvidence(v.value, kSnmpEvidenceBytes);
      }
    }
    if (result.evidence.empty()) {
      result.evidence = EscapeEvidence(*datagram, kSnmpEvidenceBytes);
    }
    result.answers.push_back(std::move(answer));
  }
  std::sort(result.answers.begin(), result.answers.end(),
            [](const SnmpAnswer& a, const SnmpAnswer& b) {
              return std::tie(a.version, a.community) < std::tie(b.version, b.community);
            });
  return result;
}

}  // namespace clearbox::probe
