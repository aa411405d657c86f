// libFuzzer target: the probe's SNMP BER decoder (a hostile agent's datagram); a decoded
// message's community and OIDs must re-encode as a GetRequest without failing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "probe/snmp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto message = clearbox::probe::ParseSnmpMessage(clearbox::ByteView(data, size));
  if (!message) return 0;
  for (const auto& varbind : message->varbinds) {
    if (varbind.value.size() > clearbox::probe::kMaxSnmpValueBytes) std::abort();
    auto again = clearbox::probe::EncodeSnmpGet(clearbox::probe::SnmpVersion::kV2c,
                                                message->community, 1, varbind.oid);
    if (!again) continue;  // an OID whose first arcs BER allows but dotted form rejects
    auto parsed = clearbox::probe::ParseSnmpMessage(
        clearbox::ByteView(reinterpret_cast<const uint8_t*>(again->data()), again->size()));
    if (!parsed || parsed->varbinds.size() != 1 || parsed->varbinds[0].oid != varbind.oid ||
        parsed->community != message->community) {
      std::abort();
    }
  }
  return 0;
}
