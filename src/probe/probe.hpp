// The device probe: a connect scan of one host, a protocol check per open port (SSH, TLS,
// HTTP(S), telnet, FTP, chosen by what the port answers first, then by its number), and
// findings with rule ids of the rule catalogue. probe.json is documented in
// docs/probe-schema.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "core/severity.hpp"
#include "probe/http.hpp"
#include "probe/mqtt.hpp"
#include "probe/net.hpp"
#include "probe/ssh.hpp"
#include "probe/tls.hpp"
#include "rules/rule_catalogue.hpp"

namespace clearbox::probe {

// The ports scanned when none are given: the usual services of embedded devices (FTP, SSH,
// telnet, DNS, HTTP, HTTPS, RTSP, MQTT, UPnP, TR-069, alternative HTTP(S), MQTT over TLS).
inline constexpr std::uint16_t kDefaultPorts[] = {21,   22,   23,   53,   80,   81,   443,
                                                  554,  1883, 1900, 2323, 5000, 7547, 8000,
                                                  8080, 8081, 8443, 8883, 9000, 49152};
// Bytes of the first answer kept from a port that speaks first.
inline constexpr std::size_t kBannerBytes = 1024;
// How long to wait for a port to speak first before sending anything.
inline constexpr std::chrono::milliseconds kMaxBannerWait{1500};
// Evidence strings are cut to this many bytes of input.
inline constexpr std::size_t kEvidenceBytes = 256;

// The host and ports of `HOST[:PORTS]`; "[v6]:PORTS" for an IPv6 address with ports, a bare
// IPv6 address without. PORTS: "22,80,8000-8100". kInvalidArgument on anything else.
struct Target {
  std::string host;
  std::vector<std::uint16_t> ports;  // sorted, unique
  bool default_ports = false;
};
Result<Target> ParseTarget(const std::string& text);

struct ProbeOptions {
  Target target;
  std::chrono::milliseconds timeout{3000};  // per connection / handshake / check
  int concurrency = 32;
  std::filesystem::path data_dir;  // probe/ssh-algorithms.json and rules/catalogue.json
};

struct Finding {
  std::string rule;
  Severity severity = Severity::kInfo;
  std::uint16_t port = 0;
  std::string service;
  std::string message;
  std::string evidence;  // bytes received, escaped and bounded
};

// What one open port answered.
struct ServiceResult {
  std::uint16_t port = 0;
  std::string service;  // "ssh", "tls", "https", "http", "telnet", "ftp", "mqtt", "unknown"
  std::string banner;   // escaped first bytes when the port spoke first
  std::optional<SshResult> ssh;
  std::optional<TlsResult> tls;
  std::optional<HttpResult> http;
  std::optional<MqttResult> mqtt;
  std::vector<std::string> problems;
  std::chrono::milliseconds duration{0};
};

struct ProbeResult {
  std::string host;
  std::string address;
  bool default_ports = false;
  std::map<std::uint16_t, PortState> ports;
  std::vector<ServiceResult> services;  // by port
  std::vector<Finding> findings;        // by port, rule, message
  std::string started_at;               // UTC, ISO 8601
  std::chrono::milliseconds scan_duration{0}, total_duration{0};
};

// Scans and checks the target. kInvalidArgument when the host does not resolve or the data
// files do not load.
Result<ProbeResult> RunProbe(const ProbeOptions& options);
// Raises the findings of the checks (severities from `catalogue`; a rule it lacks is an
// internal error).
Result<std::vector<Finding>> RaiseFindings(const ProbeResult& result, const SshPolicy& policy,
                                           const rules::RuleCatalogue& catalogue);
// probe.json (docs/probe-schema.md).
nlohmann::json ProbeToJson(const ProbeResult& result, const ProbeOptions& options,
                           const rules::RuleCatalogue& catalogue);

}  // namespace clearbox::probe
