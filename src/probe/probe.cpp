// The probe's orchestration, findings and probe.json (see probe.hpp).
#include "probe/probe.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <set>

#include "core/version.hpp"

namespace clearbox::probe {
namespace {

// Ports where TLS is tried before plain HTTP (a silent port elsewhere gets HTTP first).
constexpr std::uint16_t kTlsPorts[] = {443, 465, 636, 853, 993, 995, 4433, 5986, 8443, 8883};
// Ports where a silent service is asked for MQTT even after a timeout.
constexpr std::uint16_t kMqttPorts[] = {1883};
// Ports where a silent service is most likely telnet.
constexpr std::uint16_t kTelnetPorts[] = {23, 2323};
constexpr std::uint8_t kTelnetIac = 0xff;

bool Contains(std::span<const std::uint16_t> ports, std::uint16_t port) {
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

Result<std::uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return Fail(ErrorCode::kInvalidArgument, "bad port '" + std::string(text) + "'");
  }
  return static_cast<std::uint16_t>(value);
}

Result<std::vector<std::uint16_t>> ParsePorts(std::string_view text) {
  std::set<std::uint16_t> ports;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const std::size_t dash = item.find('-');
    auto first = ParsePort(item.substr(0, dash));
    if (!first) return Forward(first);
    auto last = dash == std::string_view::npos ? first : ParsePort(item.substr(dash + 1));
    if (!last) return Forward(last);
    if (*last < *first) return Fail(ErrorCode::kInvalidArgument, "empty port range");
    for (unsigned p = *first; p <= *last; ++p) ports.insert(static_cast<std::uint16_t>(p));
  }
  if (ports.empty()) return Fail(ErrorCode::kInvalidArgument, "no ports");
  return std::vector<std::uint16_t>(ports.begin(), ports.end());
}

std::string NowUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32] = {};
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Reads what the port says by itself within the banner wait.
std::string ReadBanner(const Address& address, std::uint16_t port,
                       std::chrono::milliseconds timeout, std::vector<std::string>& problems) {
  const auto wait = std::min(timeout, kMaxBannerWait);
  auto connection = Connection::Open(address, port, Clock::now() + timeout);
  if (!connection) {
    problems.push_back("connect: " + connection.error().message);
    return {};
  }
  std::string received;
  auto n = connection->ReadSome(received, kBannerBytes, wait);
  if (n && *n > 0 && received.find('\n') == std::string::npos &&
      static_cast<std::uint8_t>(received[0]) != kTelnetIac) {
    // A banner may arrive in pieces; one more short read completes a first line.
    (void)connection->ReadSome(received, kBannerBytes - received.size(), wait / 3);
  }
  return received;
}

void CheckPlainHttp(const Address& address, std::uint16_t port, const std::string& host,
                    std::chrono::milliseconds timeout, ServiceResult& service) {
  auto connection = Connection::Open(address, port, Clock::now() + timeout);
  if (!connection) {
    service.problems.push_back("HTTP connect: " + connection.error().message);
    return;
  }
  auto send = [&](std::string_view bytes) { return connection->WriteAll(bytes); };
  auto receive = [&](std::string& out, std::size_t max) {
    return connection->ReadSome(out, max, timeout);
  };
  HttpResult http = CheckHttp(host, send, receive);
  if (http.answered) service.service = "http";
  service.http = std::move(http);
}

// Chooses and runs the checks of one open port.
ServiceResult CheckPort(const Address& address, std::uint16_t port, const ProbeOptions& options,
                        const std::vector<DefaultPage>& pages) {
  const std::string& host = options.target.host;
  const std::chrono::milliseconds timeout = options.timeout;
  const auto started = Clock::now();
  ServiceResult service;
  service.port = port;
  service.service = "unknown";
  const std::string banner = ReadBanner(address, port, timeout, service.problems);
  service.banner = EscapeEvidence(banner, kBannerBytes);
  if (banner.starts_with("SSH-")) {
    service.service = "ssh";
    service.ssh = CheckSsh(address, port, Clock::now() + timeout);
  } else if ((!banner.empty() && static_cast<std::uint8_t>(banner[0]) == kTelnetIac) ||
             (banner.empty() && Contains(kTelnetPorts, port))) {
    service.service = "telnet";
  } else if (banner.starts_with("220")) {
    service.service = "ftp";
    if (options.try_anonymous_ftp) service.ftp_login = TryAnonymousFtp(address, port, timeout);
  } else if (banner.empty()) {
    const bool tls_first = Contains(kTlsPorts, port);
    if (!tls_first) CheckPlainHttp(address, port, host, timeout, service);
    if (service.service == "unknown") {
      TlsResult tls = CheckTls(address, port, host, timeout);
      if (tls.handshake) {
        service.service = "tls";
        if (port != 8883) {
          HttpResult https = CheckHttps(address, port, host, timeout);
          if (https.answered) {
            service.service = "https";
            service.http = std::move(https);
          }
        }
      }
      const bool tls_timed_out = !tls.problems.empty();  // a handshake timed out: stopped
      service.tls = std::move(tls);
      if (tls_first && service.service == "unknown") {
        CheckPlainHttp(address, port, host, timeout, service);
      }
      // MQTT brokers close on HTTP and TLS; a port that stayed silent is not asked again.
      if (service.service == "unknown" && (Contains(kMqttPorts, port) || !tls_timed_out)) {
        MqttResult mqtt = CheckMqtt(address, port, Clock::now() + timeout);
        if (mqtt.answered) service.service = "mqtt";
        service.mqtt = std::move(mqtt);
      }
    }
  } else if (banner.starts_with("HTTP/")) {
    service.service = "http";
  }
  if (service.http) service.default_page = MatchDefaultPage(pages, *service.http);
  service.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return service;
}

// The opt-in UDP checks: one entry each, "unknown" when nothing answered.
void CheckUdp(const Address& address, const ProbeOptions& options,
              std::vector<ServiceResult>& services) {
  if (options.snmp) {
    const auto started = Clock::now();
    ServiceResult service;
    service.port = options.snmp_port;
    service.transport = "udp";
    service.snmp = CheckSnmp(address, options.snmp_port, options.timeout);
    service.service = service.snmp->answers.empty() ? "unknown" : "snmp";
    service.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    services.push_back(std::move(service));
  }
  if (options.ssdp) {
    const auto started = Clock::now();
    ServiceResult service;
    service.port = options.ssdp_port;
    service.transport = "udp";
    service.ssdp = CheckSsdp(address, options.ssdp_port, options.target.host, options.timeout);
    service.service = service.ssdp->responses.empty() ? "unknown" : "upnp";
    service.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    services.push_back(std::move(service));
  }
}

nlohmann::json Strings(const std::vector<std::string>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(item);
  return out;
}

nlohmann::json JudgedList(const SshPolicy& policy, std::string_view kind,
                          const std::vector<std::string>& names) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : names) {
    const AlgorithmVerdict verdict = JudgeAlgorithm(policy, kind, name);
    out.push_back({{"name", name}, {"verdict", verdict.verdict}});
  }
  return out;
}

nlohmann::json SshToJson(const SshResult& ssh, const SshPolicy& policy) {
  nlohmann::json out = {{"identification", ssh.identification.line},
                        {"protocol_version", ssh.identification.proto_version},
                        {"software_version", ssh.identification.software_version},
                        {"comments", ssh.identification.comments},
                        {"pre_banner_lines", Strings(ssh.identification.pre_banner_lines)},
                        {"evidence", ssh.evidence},
                        {"problems", Strings(ssh.problems)}};
  if (ssh.have_kexinit) {
    const KexInit& k = ssh.kexinit;
    out["algorithms"] = {{"kex", JudgedList(policy, "kex", k.kex)},
                         {"host_key", JudgedList(policy, "host_key", k.host_key)},
                         {"cipher_client_to_server", JudgedList(policy, "cipher", k.cipher_c2s)},
                         {"cipher_server_to_client", JudgedList(policy, "cipher", k.cipher_s2c)},
                         {"mac_client_to_server", JudgedList(policy, "mac", k.mac_c2s)},
                         {"mac_server_to_client", JudgedList(policy, "mac", k.mac_s2c)},
                         {"compression_client_to_server", Strings(k.compression_c2s)},
                         {"compression_server_to_client", Strings(k.compression_s2c)}};
  }
  if (ssh.have_host_key) {
    out["host_key"] = {{"algorithm", ssh.host_key_algorithm},
                       {"type", ssh.host_key.type},
                       {"bits", ssh.host_key.bits},
                       {"fingerprint", ssh.host_key.fingerprint},
                       {"signature_checked", ssh.signature_checked},
                       {"signature_verified", ssh.signature_verified},
                       {"signature_algorithm", ssh.signature_algorithm},
                       {"signature_problem", ssh.signature_problem}};
  }
  if (!ssh.transport.empty()) out["transport"] = ssh.transport;
  if (ssh.have_auth_methods) {
    out["auth_user"] = kAuthProbeUser;
    out["auth_methods"] = Strings(ssh.auth_methods);
    out["auth_none_accepted"] = ssh.auth_none_accepted;
  }
  return out;
}

nlohmann::json TlsToJson(const TlsResult& tls) {
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& v : tls.versions) {
    versions.push_back({{"version", v.version},
                        {"accepted", v.accepted},
                        {"testable", v.testable},
                        {"cipher", v.cipher},
                        {"problem", v.problem}});
  }
  nlohmann::json ciphers = nlohmann::json::array();
  for (const auto& c : tls.ciphers) {
    ciphers.push_back({{"version", c.version}, {"name", c.name}, {"strength", c.strength}});
  }
  nlohmann::json chain = nlohmann::json::array();
  for (const auto& c : tls.chain) {
    chain.push_back({{"subject", c.subject},
                     {"issuer", c.issuer},
                     {"self_signed", c.self_signed},
                     {"key_type", c.key_type},
                     {"key_bits", c.key_bits},
                     {"signature_algorithm", c.signature_algorithm},
                     {"not_before", c.not_before},
                     {"not_after", c.not_after},
                     {"expired", c.expired},
                     {"not_yet_valid", c.not_yet_valid},
                     {"subject_alt_names", Strings(c.subject_alt_names)},
                     {"matches_host", c.matches_host},
                     {"spki_sha256", c.spki_sha256}});
  }
  return {{"handshake", tls.handshake},
          {"versions", versions},
          {"ciphers", ciphers},
          {"chain", chain},
          {"compression", tls.compression},
          {"secure_renegotiation", tls.secure_renegotiation},
          {"problems", Strings(tls.problems)}};
}

nlohmann::json HttpToJson(const HttpResult& http) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : http.head.headers) headers.push_back({name, value});
  return {{"answered", http.answered},
          {"status", http.head.status},
          {"server", http.head.Find("server") ? *http.head.Find("server") : ""},
          {"www_authenticate",
           http.head.Find("www-authenticate") ? *http.head.Find("www-authenticate") : ""},
          {"headers", headers},
          {"evidence", http.evidence},
          {"problems", Strings(http.problems)}};
}

// The default-page match and the opt-in checks of one service, when present.
void AddActiveChecksJson(const ServiceResult& s, nlohmann::json& j) {
  if (s.default_page) {
    j["default_page"] = {{"id", s.default_page->id},
                         {"product", s.default_page->product},
                         {"marker", s.default_page->marker}};
  }
  if (s.ftp_login) {
    j["ftp_anonymous"] = {{"accepted", s.ftp_login->accepted},
                          {"user_reply", s.ftp_login->user_reply},
                          {"pass_reply", s.ftp_login->pass_reply},
                          {"evidence", s.ftp_login->evidence},
                          {"problems", Strings(s.ftp_login->problems)}};
  }
  if (s.snmp) {
    nlohmann::json answers = nlohmann::json::array();
    for (const auto& a : s.snmp->answers) {
      answers.push_back({{"version", a.version},
                         {"community", a.community},
                         {"error_status", a.error_status},
                         {"sys_descr", a.sys_descr}});
    }
    j["snmp"] = {{"answers", answers},
                 {"evidence", s.snmp->evidence},
                 {"problems", Strings(s.snmp->problems)}};
  }
  if (s.ssdp) {
    nlohmann::json responses = nlohmann::json::array();
    for (const auto& r : s.ssdp->responses) {
      responses.push_back({{"status", r.status},
                           {"server", r.server},
                           {"location", r.location},
                           {"st", r.st},
                           {"usn", r.usn}});
    }
    j["ssdp"] = {{"responses", responses},
                 {"evidence", s.ssdp->evidence},
                 {"problems", Strings(s.ssdp->problems)}};
  }
}

}  // namespace

Result<Target> ParseTarget(const std::string& text) {
  Target target;
  std::string ports;
  if (text.starts_with("[")) {
    const std::size_t close = text.find(']');
    if (close == std::string::npos) return Fail(ErrorCode::kInvalidArgument, "unclosed '['");
    target.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':')
        return Fail(ErrorCode::kInvalidArgument, "expected ':' after ']'");
      ports = text.substr(close + 2);
      if (ports.empty()) return Fail(ErrorCode::kInvalidArgument, "no ports after ':'");
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    target.host = text;  // a bare IPv6 address
  } else {
    const std::size_t colon = text.find(':');
    target.host = text.substr(0, colon);
    if (colon != std::string::npos) {
      ports = text.substr(colon + 1);
      if (ports.empty()) return Fail(ErrorCode::kInvalidArgument, "no ports after ':'");
    }
  }
  if (target.host.empty()) return Fail(ErrorCode::kInvalidArgument, "no host");
  if (target.host.find_first_of("/*, ") != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "'" + target.host + "' is not one host (never a range)");
  }
  if (ports.empty()) {
    target.default_ports = true;
    target.ports.assign(std::begin(kDefaultPorts), std::end(kDefaultPorts));
    return target;
  }
  auto parsed = ParsePorts(ports);
  if (!parsed) return Forward(parsed);
  target.ports = std::move(*parsed);
  return target;
}

Result<ProbeResult> RunProbe(const ProbeOptions& options) {
  const auto started = Clock::now();
  ProbeResult result;
  result.started_at = NowUtc();
  result.host = options.target.host;
  result.default_ports = options.target.default_ports;
  auto address = ResolveHost(options.target.host);
  if (!address) return Forward(address);
  auto pages = LoadDefaultPages(options.data_dir / "probe" / "http-default-pages.json");
  if (!pages) return Fail(ErrorCode::kInvalidArgument, pages.error().message);
  result.address = address->text;
  std::vector<std::uint16_t> ports = options.target.ports;
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  const auto states = ConnectScan(*address, ports, options.timeout, options.concurrency);
  result.scan_duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  for (std::size_t i = 0; i < states.size(); ++i) {
    result.ports[ports[i]] = states[i];
    if (states[i] != PortState::kOpen) continue;
    result.services.push_back(CheckPort(*address, ports[i], options, *pages));
  }
  CheckUdp(*address, options, result.services);
  result.total_duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

nlohmann::json ProbeToJson(const ProbeResult& result, const ProbeOptions& options,
                           const rules::RuleCatalogue& catalogue) {
  nlohmann::json open = nlohmann::json::array(), closed = nlohmann::json::array(),
                 filtered = nlohmann::json::array();
  for (const auto& [port, state] : result.ports) {
    (state == PortState::kOpen     ? open
     : state == PortState::kClosed ? closed
                                   : filtered)
        .push_back(port);
  }
  auto policy = LoadSshPolicy(options.data_dir / "probe" / "ssh-algorithms.json");
  const SshPolicy empty_policy;
  nlohmann::json services = nlohmann::json::array();
  nlohmann::json check_times = nlohmann::json::object();
  for (const auto& s : result.services) {
    nlohmann::json j = {{"port", s.port},
                        {"transport", s.transport},
                        {"service", s.service},
                        {"banner", s.banner},
                        {"problems", Strings(s.problems)}};
    if (s.ssh) j["ssh"] = SshToJson(*s.ssh, policy ? *policy : empty_policy);
    if (s.tls) j["tls"] = TlsToJson(*s.tls);
    if (s.http) j["http"] = HttpToJson(*s.http);
    if (s.mqtt) {
      j["mqtt"] = {{"answered", s.mqtt->answered},
                   {"return_code", s.mqtt->return_code},
                   {"evidence", s.mqtt->evidence},
                   {"problems", Strings(s.mqtt->problems)}};
    }
    AddActiveChecksJson(s, j);
    services.push_back(std::move(j));
    check_times[(s.transport == "udp" ? "udp/" : "") + std::to_string(s.port)] = s.duration.count();
  }
  nlohmann::json findings = nlohmann::json::array();
  std::map<std::string, int> by_severity;
  for (const auto& f : result.findings) {
    nlohmann::json clauses = nlohmann::json::array();
    if (const rules::Rule* rule = catalogue.Find(f.rule)) {
      for (const auto& c : rule->clauses) {
        clauses.push_back({{"standard", c.standard}, {"clause", c.clause}});
      }
    }
    findings.push_back({{"rule", f.rule},
                        {"severity", std::string(ToString(f.severity))},
                        {"port", f.port},
                        {"service", f.service},
                        {"message", f.message},
                        {"evidence", f.evidence},
                        {"clauses", clauses}});
    ++by_severity[std::string(ToString(f.severity))];
  }
  return {
      {"format", "clearbox-probe"},
      {"format_version", 1},
      {"tool", std::string("clearbox ") + kClearboxVersion},
      {"target",
       {{"host", result.host},
        {"address", result.address},
        {"default_ports", result.default_ports},
        {"ports_scanned", result.ports.size()}}},
      {"settings",
       {{"timeout_ms", options.timeout.count()},
        {"concurrency", options.concurrency},
        {"active_checks",
         {{"try_anonymous_ftp", options.try_anonymous_ftp},
          {"snmp", options.snmp ? nlohmann::json(options.snmp_port) : nlohmann::json(nullptr)},
          {"ssdp", options.ssdp ? nlohmann::json(options.ssdp_port) : nlohmann::json(nullptr)}}}}},
      {"ports", {{"open", open}, {"closed", closed}, {"filtered", filtered}}},
      {"services", services},
      {"findings", findings},
      {"summary",
       {{"open", open.size()}, {"findings", findings.size()}, {"by_severity", by_severity}}},
      {"timing",
       {{"started_at", result.started_at},
        {"scan_ms", result.scan_duration.count()},
        {"total_ms", result.total_duration.count()},
        {"check_ms", check_times}}}};
}

}  // namespace clearbox::probe
