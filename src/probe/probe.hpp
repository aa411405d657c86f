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
#include "probe/default_pages.hpp"
#include "probe/ftp.hpp"
#include "probe/http.hpp"
#include "probe/mqtt.hpp"
#include "probe/net.hpp"
#include "probe/snmp.hpp"
#include "probe/ssdp.hpp"
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
  std::filesystem::path data_dir;  // probe/*.json and rules/catalogue.json
  // Active checks, each off unless asked for (they log in or send to UDP ports):
  bool try_anonymous_ftp = false;  // USER anonymous on each FTP port
  bool snmp = false;               // GetRequest with "public"/"private" to UDP snmp_port
  bool ssdp = false;               // one unicast M-SEARCH to UDP ssdp_port of the host
  std::uint16_t snmp_port = 161;
  std::uint16_t ssdp_port = kSsdpPort;
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
  std::string transport = "tcp";  // "udp" for the SNMP and SSDP checks
  std::string service;            // "ssh", "tls", "https", "http", "telnet", "ftp", "mqtt", "snmp",
                                  // "upnp", "unknown"
  std::string banner;             // escaped first bytes when the port spoke first
  std::optional<SshResult> ssh;
  std::optional<TlsResult> tls;
  std::optional<HttpResult> http;
  std::optional<MqttResult> mqtt;
  std::optional<DefaultPageMatch> default_page;  // of the HTTP(S) answer
  std::optional<FtpLoginResult> ftp_login;       // --try-anonymous-ftp
  std::optional<SnmpResult> snmp;                // --snmp
  std::optional<SsdpResult> ssdp;                // --ssdp
  std::vector<std::string> problems;
  std::chrono::milliseconds duration{0};
};

struct ProbeResult {
  std::string host;
  std::string address;
  bool default_ports = false;
  std::map<std::uint16_t, PortState> ports;
  std::vector<ServiceResult> services;  // by port (TCP), then the UDP checks asked for
  std::vector<Finding> findings;        // by port, rule, message
  std::string started_at;               // UTC, ISO 8601
  std::chrono::milliseconds scan_duration{0}, total_duration{0};
};

// Scans and checks the target (and runs the active checks `options` asks for).
// kInvalidArgument when the host does not resolve or the data files do not load.
Result<ProbeResult> RunProbe(const ProbeOptions& options);
// Raises the findings of the checks (severities from `catalogue`; a rule it lacks is an
// internal error).
Result<std::vector<Finding>> RaiseFindings(const ProbeResult& result, const SshPolicy& policy,
                                           const rules::RuleCatalogue& catalogue);
// probe.json (docs/probe-schema.md).
nlohmann::json ProbeToJson(const ProbeResult& result, const ProbeOptions& options,
                           const rules::RuleCatalogue& catalogue);

}  // namespace clearbox::probe
