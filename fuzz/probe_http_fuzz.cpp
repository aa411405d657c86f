// libFuzzer target: the probe's HTTP response head parser (status line and headers from a
// hostile web server), and the MQTT CONNACK parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probe/http.hpp"
#include "probe/mqtt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto head = clearbox::probe::ParseHttpResponseHead(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (head) (void)head->Find("www-authenticate");
  (void)clearbox::probe::ParseMqttConnack(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
