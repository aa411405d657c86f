// `clearbox probe HOST[:PORTS] -o OUT`: the services a running device exposes, checked
// (SSH, TLS, HTTP(S), telnet, FTP) and judged with rules of the catalogue (src/probe).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "core/data_dir.hpp"
#include "core/exit_codes.hpp"
#include "html/report_page.hpp"
#include "probe/join.hpp"
#include "probe/probe.hpp"

namespace clearbox::cli {
namespace {

namespace fs = std::filesystem;

// --timeout bounds (milliseconds) and --concurrency bounds.
constexpr int kMinTimeoutMs = 50;
constexpr int kMaxTimeoutMs = 120000;

struct ProbeArgs {
  std::string target;
  std::string output;
  std::string report;
  std::string data_dir;
  int timeout_ms = 3000;
  int concurrency = 32;
  bool try_anonymous_ftp = false;
  bool snmp = false;
  bool ssdp = false;
  int snmp_port = 161;
  int ssdp_port = probe::kSsdpPort;
};

void PrintSummary(const probe::ProbeResult& result) {
  std::size_t open = 0;
  for (const auto& [port, state] : result.ports) open += state == probe::PortState::kOpen;
  std::printf("probe %s (%s): %zu port(s) scanned, %zu open\n", result.host.c_str(),
              result.address.c_str(), result.ports.size(), open);
  for (const auto& s : result.services) {
    std::string detail;
    if (s.ssh) detail = s.ssh->identification.line;
    if (s.ssh && s.ssh->have_host_key) {
      detail += " " + s.ssh->host_key.type + "/" + std::to_string(s.ssh->host_key.bits) + " " +
                s.ssh->host_key.fingerprint;
    }
    if (s.tls) {
      for (const auto& v : s.tls->versions) {
        if (v.accepted) detail += " " + v.version;
      }
    }
    if (s.http && s.http->answered) {
      const std::string* server = s.http->head.Find("server");
      detail += " HTTP " + std::to_string(s.http->head.status) + (server ? " " + *server : "");
    }
    if (s.default_page) detail += " stock page: " + s.default_page->product;
    if (s.ftp_login) detail += s.ftp_login->accepted ? " anonymous login accepted" : "";
    if (s.snmp) {
      for (const auto& a : s.snmp->answers) detail += " " + a.version + "/" + a.community;
    }
    if (s.ssdp && !s.ssdp->responses.empty()) detail += " " + s.ssdp->responses.front().server;
    std::printf("  %5u/%s %-7s %s\n", s.port, s.transport.c_str(), s.service.c_str(),
                detail.c_str());
  }
  for (const auto& f : result.findings) {
    std::printf("  [%s] %s port %u: %s\n", std::string(ToString(f.severity)).c_str(),
                f.rule.c_str(), f.port, f.message.c_str());
  }
  std::printf("%zu finding(s)\n", result.findings.size());
}

int RunProbeCommand(const ProbeArgs& args) {
  auto target = probe::ParseTarget(args.target);
  if (!target) {
    std::fprintf(stderr, "clearbox probe: %s\n", target.error().message.c_str());
    return kExitUsage;
  }
  auto data_dir = FindDataDir(args.data_dir);
  if (!data_dir) {
    std::fprintf(stderr, "clearbox probe: %s\n", data_dir.error().message.c_str());
    return kExitUnusableInput;
  }
  auto catalogue = rules::RuleCatalogue::LoadFromDataDir(*data_dir);
  auto policy = probe::LoadSshPolicy(*data_dir / "probe" / "ssh-algorithms.json");
  if (!catalogue || !policy) {
    std::fprintf(stderr, "clearbox probe: %s\n",
                 (catalogue ? policy.error() : catalogue.error()).message.c_str());
    return kExitUnusableInput;
  }
  std::optional<probe::ImageFacts> image;
  if (!args.report.empty()) {
    auto facts = probe::LoadImageFacts(args.report);
    if (!facts) {
      std::fprintf(stderr, "clearbox probe: --report: %s\n", facts.error().message.c_str());
      return kExitUnusableInput;
    }
    image = std::move(*facts);
  }
  std::error_code ec;
  fs::create_directories(args.output, ec);
  if (ec || !fs::is_directory(args.output) || !fs::is_empty(args.output, ec)) {
    std::fprintf(stderr, "clearbox probe: output directory %s is not an empty directory\n",
                 args.output.c_str());
    return kExitUnusableInput;
  }
  probe::ProbeOptions options;
  options.target = std::move(*target);
  options.timeout = std::chrono::milliseconds(args.timeout_ms);
  options.concurrency = args.concurrency;
  options.data_dir = *data_dir;
  options.try_anonymous_ftp = args.try_anonymous_ftp;
  options.snmp = args.snmp;
  options.ssdp = args.ssdp;
  options.snmp_port = static_cast<std::uint16_t>(args.snmp_port);
  options.ssdp_port = static_cast<std::uint16_t>(args.ssdp_port);
  auto result = probe::RunProbe(options);
  if (!result) {
    std::fprintf(stderr, "clearbox probe: %s\n", result.error().message.c_str());
    return kExitUnusableInput;
  }
  auto findings = probe::RaiseFindings(*result, *policy, *catalogue);
  if (!findings) {
    std::fprintf(stderr, "clearbox probe: %s\n", findings.error().message.c_str());
    return kExitInternal;
  }
  result->findings = std::move(*findings);
  nlohmann::json join;
  if (image) {
    auto joined = probe::JoinWithImage(*result, *image, *catalogue);
    if (!joined) {
      std::fprintf(stderr, "clearbox probe: %s\n", joined.error().message.c_str());
      return kExitInternal;
    }
    join = std::move(*joined);
  }
  nlohmann::json document = probe::ProbeToJson(*result, options, *catalogue);
  if (image) document["join"] = std::move(join);
  std::ofstream out(fs::path(args.output) / "probe.json");
  out << document.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  out.close();
  if (!out) {
    std::fprintf(stderr, "clearbox probe: cannot write probe.json\n");
    return kExitUnusableInput;
  }
  if (image) {
    // OUT/report.html: the scan's page (with its compliance.json when beside it) and a
    // "Device probe" section from probe.json.
    std::error_code exists_error;
    const fs::path compliance = fs::path(args.report).parent_path() / "compliance.json";
    auto page = html::WriteReportHtmlFile(
        args.report, fs::exists(compliance, exists_error) ? compliance : fs::path(),
        fs::path(args.output) / "report.html", fs::path(args.output) / "probe.json");
    if (!page) {
      std::fprintf(stderr, "clearbox probe: report.html: %s\n", page.error().message.c_str());
      return kExitUnusableInput;
    }
  }
  PrintSummary(*result);
  return result->findings.empty() ? kExitOk : kExitFindings;
}

}  // namespace

void RegisterProbeCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<ProbeArgs>();
  auto* cmd = app.add_subcommand("probe", "Check the network services of a running device");
  cmd->footer(
      "HOST is one host name or IPv4/IPv6 address (never a range); PORTS a list of ports and\n"
      "ranges (22,80,8000-8100); [v6]:PORTS for an IPv6 address with ports. Without PORTS the\n"
      "usual embedded-device ports are scanned: 21,22,23,53,80,81,443,554,1883,1900,2323,\n"
      "5000,7547,8000,8080,8081,8443,8883,9000,49152. Each open port is checked by what it\n"
      "answers: SSH (algorithms, host key), TLS (versions, cipher suites, certificate),\n"
      "HTTP(S) (authentication, security headers, stock default pages), telnet, FTP, MQTT.\n"
      "No password is tried and no UDP is sent unless asked: --try-anonymous-ftp logs in as\n"
      "anonymous on FTP ports; --snmp asks UDP --snmp-port (161) for sysDescr.0 with the\n"
      "communities public and private (v1, v2c); --ssdp sends one unicast M-SEARCH to UDP\n"
      "--ssdp-port (1900) of HOST only, never to the multicast group.\n"
      "Writes OUT/probe.json (docs/probe-schema.md) and prints a summary. --report joins the\n"
      "result with a `clearbox scan` report: SSH host keys and TLS certificate keys on the wire\n"
      "against those in REPORT's unpacked/ tree, banner versions against its components,\n"
      "unexplained services; it also writes OUT/report.html, the scan's page with a Device\n"
      "probe section (`clearbox report REPORT --probe OUT/probe.json` renders the same).\n\n"
      "Exit codes: 0 no findings; 5 findings; 2 usage; 4 host unresolvable, data files or\n"
      "REPORT unreadable, or OUT not an empty directory.");
  cmd->add_option("target", args->target, "HOST[:PORTS]")->required();
  cmd->add_option("-o,--output", args->output, "Output directory (created; must be empty)")
      ->required();
  cmd->add_option("--report", args->report,
                  "report.json of a scan of the device's firmware (the join)");
  cmd->add_option("--timeout", args->timeout_ms, "Milliseconds per connection and check")
      ->check(CLI::Range(kMinTimeoutMs, kMaxTimeoutMs));
  cmd->add_option("--concurrency", args->concurrency, "Connection attempts in flight at once")
      ->check(CLI::Range(1, probe::kMaxConcurrency));
  cmd->add_option("--data-dir", args->data_dir, "Data directory (rules, probe policy)");
  cmd->add_flag("--try-anonymous-ftp", args->try_anonymous_ftp,
                "Active: log in as anonymous on each FTP port (off by default)");
  cmd->add_flag("--snmp", args->snmp,
                "Active: SNMP GetRequest with communities public/private (off by default)");
  cmd->add_option("--snmp-port", args->snmp_port, "UDP port of --snmp")
      ->check(CLI::Range(1, 65535));
  cmd->add_flag("--ssdp", args->ssdp,
                "Active: one unicast SSDP M-SEARCH to HOST (off by default; never multicast)");
  cmd->add_option("--ssdp-port", args->ssdp_port, "UDP port of --ssdp")
      ->check(CLI::Range(1, 65535));
  cmd->callback([run, args] { *run = [args] { return RunProbeCommand(*args); }; });
}

}  // namespace clearbox::cli
