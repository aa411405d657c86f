// SNMP (opt-in, `--snmp`): GetRequest sysDescr.0 with the default communities "public" and
// "private" over SNMP v1 and v2c, our own bounded BER encoder and decoder (the decoder is
// fuzzed by fuzz/probe_snmp_fuzz.cpp). An answer means the community is accepted.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/result.hpp"
#include "probe/net.hpp"

namespace clearbox::probe {

// The communities tried: the defaults of most agents.
inline constexpr std::string_view kSnmpDefaultCommunities[] = {"public", "private"};
// The OID asked for: sysDescr.0 (RFC 3418).
inline constexpr std::string_view kSysDescrOid = "1.3.6.1.2.1.1.1.0";
// The largest BER length we accept, and the most OID arcs and bytes of one value we decode.
inline constexpr std::size_t kMaxBerLength = 65535;
inline constexpr std::size_t kMaxOidArcs = 128;
inline constexpr std::size_t kMaxSnmpValueBytes = 4096;
// Variable bindings decoded from one response.
inline constexpr std::size_t kMaxSnmpVarbinds = 16;

enum class SnmpVersion : std::uint8_t { kV1 = 0, kV2c = 1 };
std::string_view ToString(SnmpVersion version);

// The GetRequest datagram for `oid` (dotted) with `community` and `request_id`;
// kInvalidArgument for an OID that is not dotted decimal.
Result<std::string> EncodeSnmpGet(SnmpVersion version, std::string_view community,
                                  std::int32_t request_id, std::string_view oid);

struct SnmpVarbind {
  std::string oid;       // dotted
  std::uint8_t tag = 0;  // BER tag of the value (0x04 OCTET STRING, 0x80 noSuchObject, ...)
  std::string value;     // raw bytes of the value, at most kMaxSnmpValueBytes
};

// A decoded GetResponse (or any PDU: `pdu_tag` says which; 0xA2 is a response).
struct SnmpMessage {
  std::int64_t version = 0;
  std::string community;
  std::uint8_t pdu_tag = 0;
  std::int64_t request_id = 0;
  std::int64_t error_status = 0;
  std::int64_t error_index = 0;
  std::vector<SnmpVarbind> varbinds;
};

// Decodes an SNMP v1/v2c message from a datagram: kNotThisFormat when it is not a BER
// SEQUENCE, kMalformed / kTruncated for broken TLVs or lengths past the end.
Result<SnmpMessage> ParseSnmpMessage(ByteView datagram);

// One community that got an answer.
struct SnmpAnswer {
  std::string version;  // "v1", "v2c"
  std::string community;
  std::int64_t error_status = 0;
  std::string sys_descr;  // escaped and bounded
};

struct SnmpResult {
  bool attempted = false;
  std::vector<SnmpAnswer> answers;  // by version, then community
  std::string evidence;             // the first answer, escaped and bounded
  std::vector<std::string> problems;
};

// Sends the GetRequests (each version x community, all at once) to address:port over UDP and
// collects the answers until all came or `timeout` passed (one timeout in all).
SnmpResult CheckSnmp(const Address& address, std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace clearbox::probe
