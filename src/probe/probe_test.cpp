// Tests of the device probe: the parsers on hand-made bytes, then real servers from Debian
// packages (sshd, dropbear, lighttpd, busybox telnetd) and hostile responders on 127.0.0.1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "probe/http.hpp"
#include "probe/join.hpp"
#include "probe/probe.hpp"
#include "probe/probe_test_support.hpp"
#include "probe/ssh.hpp"

namespace clearbox::probe {
namespace {

ByteView View(const std::string& bytes) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

TEST(ProbeParsers, SshIdentificationWithPreBannerLines) {
  auto id = ParseSshIdentification("hello\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2\r\nrest");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->software_version, "OpenSSH_9.2p1");
  EXPECT_EQ(id->comments, "Debian-2");
  ASSERT_EQ(id->pre_banner_lines.size(), 1u);
  EXPECT_EQ(ParseSshIdentification("SSH-2.0-x").error().code, ErrorCode::kTruncated);
  EXPECT_EQ(ParseSshIdentification(std::string(300, 'a')).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(ParseSshIdentification("SSH-1.5-old\n").error().code, ErrorCode::kMalformed);
}

TEST(ProbeParsers, SshPacketLengthIsCapped) {
  std::string packet("\xff\xff\xff\xff\x04", 5);
  std::size_t consumed = 0;
  EXPECT_EQ(ParseSshPacket(View(packet), &consumed).error().code, ErrorCode::kMalformed);
}

TEST(ProbeParsers, TargetsAndPorts) {
  auto t = ParseTarget("example.org:22,80-82");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "example.org");
  EXPECT_EQ(t->ports, (std::vector<std::uint16_t>{22, 80, 81, 82}));
  auto v6 = ParseTarget("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  auto bare = ParseTarget("::1");
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->default_ports);
  EXPECT_FALSE(ParseTarget("host:0"));
  EXPECT_FALSE(ParseTarget("host:90-80"));
  EXPECT_FALSE(ParseTarget(":22"));
  EXPECT_FALSE(ParseTarget("10.0.0.0/24"));
  EXPECT_FALSE(ParseTarget("10.0.0.*:22"));
}

TEST(ProbeParsers, HttpResponseHead) {
  auto head = ParseHttpResponseHead(
      "HTTP/1.1 401 Unauthorized\r\nServer: lighttpd/1.4.69\r\nWWW-Authenticate: Basic "
      "realm=\"x\"\r\n\r\nbody");
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->status, 401);
  ASSERT_NE(head->Find("server"), nullptr);
  EXPECT_EQ(*head->Find("server"), "lighttpd/1.4.69");
  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 200 OK\r\n").error().code, ErrorCode::kTruncated);
  EXPECT_EQ(ParseHttpResponseHead("SSH-2.0-x\r\n").error().code, ErrorCode::kNotThisFormat);
  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 abc\r\n\r\n").error().code, ErrorCode::kMalformed);
}

// ssh-keygen's "SHA256:..." fingerprint of a public key file.
std::string KeygenFingerprint(const fs::path& public_key) {
  std::string out;
  Shell("ssh-keygen -lf " + public_key.string(), &out);
  std::istringstream words(out);
  std::string bits, fingerprint;
  words >> bits >> fingerprint;
  return fingerprint;
}

TEST(ProbeServers, SshdWeakAndModernConfigurations) {
  if (!fs::exists("/usr/sbin/sshd") || Shell("command -v ssh-keygen") != 0) {
    GTEST_SKIP() << "openssh-server not installed (scripts/deps/probe.txt)";
  }
  std::error_code ec;
  fs::create_directories("/run/sshd", ec);  // sshd's privilege separation directory
  ScratchDir dir;
  const fs::path weak_key = dir.path() / "rsa1024", modern_key = dir.path() / "ed25519";
  ASSERT_EQ(Shell("ssh-keygen -q -t rsa -b 1024 -N '' -f " + weak_key.string()), 0);
  ASSERT_EQ(Shell("ssh-keygen -q -t ed25519 -N '' -f " + modern_key.string()), 0);
  const std::string common = "PidFile none\nUsePAM no\nListenAddress 127.0.0.1\n";
  WriteText(dir.path() / "weak.conf",
            common +
                "KexAlgorithms curve25519-sha256,diffie-hellman-group1-sha1,"
                "diffie-hellman-group14-sha1\nCiphers aes128-ctr,3des-cbc,aes128-cbc\n"
                "MACs hmac-sha2-256-etm@openssh.com,hmac-md5,hmac-sha1\n"
                "HostKeyAlgorithms rsa-sha2-256,ssh-rsa\nPasswordAuthentication yes\n");
  WriteText(dir.path() / "modern.conf",
            common +
                "KexAlgorithms curve25519-sha256\nCiphers chacha20-poly1305@openssh.com,"
                "aes256-gcm@openssh.com\nMACs hmac-sha2-256-etm@openssh.com\n"
                "HostKeyAlgorithms ssh-ed25519\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication no\n");
  const std::uint16_t weak_port = FreePort(), modern_port = FreePort();
  Server weak({"/usr/sbin/sshd", "-D", "-e", "-f", (dir.path() / "weak.conf").string(), "-p",
               std::to_string(weak_port), "-h", weak_key.string()},
              dir.path() / "weak.log", weak_port);
  Server modern({"/usr/sbin/sshd", "-D", "-e", "-f", (dir.path() / "modern.conf").string(), "-p",
                 std::to_string(modern_port), "-h", modern_key.string()},
                dir.path() / "modern.log", modern_port);
  ASSERT_TRUE(weak.Up() && modern.Up());

  const ProbeResult result = Probe({weak_port, modern_port});
  ASSERT_EQ(result.services.size(), 2u);
  const ServiceResult& w = result.services[result.services[0].port == weak_port ? 0 : 1];
  const ServiceResult& m = result.services[result.services[0].port == weak_port ? 1 : 0];
  ASSERT_EQ(w.port, weak_port);
  ASSERT_EQ(m.port, modern_port);
  ASSERT_TRUE(w.ssh && m.ssh);
  EXPECT_TRUE(w.ssh->identification.software_version.starts_with("OpenSSH_"));
  ASSERT_TRUE(w.ssh->have_host_key) << ::testing::PrintToString(w.ssh->problems);
  EXPECT_EQ(w.ssh->host_key.type, "ssh-rsa");
  EXPECT_EQ(w.ssh->host_key.bits, 1024u);
  EXPECT_EQ(w.ssh->host_key.fingerprint, KeygenFingerprint(weak_key.string() + ".pub"));
  ASSERT_TRUE(m.ssh->have_host_key) << ::testing::PrintToString(m.ssh->problems);
  EXPECT_EQ(m.ssh->host_key.type, "ssh-ed25519");
  EXPECT_EQ(m.ssh->host_key.fingerprint, KeygenFingerprint(modern_key.string() + ".pub"));

  auto on_port = [&](std::uint16_t port) {
    ProbeResult only = result;
    std::erase_if(only.findings, [&](const Finding& f) { return f.port != port; });
    return only;
  };
  const ProbeResult weak_findings = on_port(weak_port);
  EXPECT_TRUE(HasRule(weak_findings, "net.ssh-small-host-key"));
  EXPECT_TRUE(HasFinding(weak_findings, "net.ssh-weak-algorithm", "diffie-hellman-group1-sha1"));
  EXPECT_TRUE(HasFinding(weak_findings, "net.ssh-weak-algorithm", "3des-cbc"));
  EXPECT_TRUE(HasFinding(weak_findings, "net.ssh-weak-algorithm", "hmac-md5"));
  EXPECT_TRUE(HasFinding(weak_findings, "net.ssh-weak-algorithm", "ssh-rsa"));
  EXPECT_TRUE(on_port(modern_port).findings.empty())
      << ::testing::PrintToString(RulesOf(on_port(modern_port)));
}

TEST(ProbeServers, Dropbear) {
  if (!fs::exists("/usr/sbin/dropbear") || Shell("command -v dropbearkey") != 0) {
    GTEST_SKIP() << "dropbear-bin not installed (scripts/deps/probe.txt)";
  }
  ScratchDir dir;
  const fs::path key = dir.path() / "ed25519";
  ASSERT_EQ(Shell("dropbearkey -t ed25519 -f " + key.string()), 0);
  std::string public_key;
  ASSERT_EQ(Shell("dropbearkey -y -f " + key.string() + " | grep '^ssh-'", &public_key), 0);
  WriteText(dir.path() / "ed25519.pub", public_key);
  const std::uint16_t port = FreePort();
  Server server({"/usr/sbin/dropbear", "-F", "-E", "-p", "127.0.0.1:" + std::to_string(port), "-r",
                 key.string()},
                dir.path() / "dropbear.log", port);
  ASSERT_TRUE(server.Up());
  const ProbeResult result = Probe({port});
  ASSERT_EQ(result.services.size(), 1u);
  const auto& ssh = result.services[0].ssh;
  ASSERT_TRUE(ssh);
  EXPECT_TRUE(ssh->identification.software_version.starts_with("dropbear_"));
  ASSERT_TRUE(ssh->have_host_key) << ::testing::PrintToString(ssh->problems);
  EXPECT_EQ(ssh->host_key.type, "ssh-ed25519");
  EXPECT_EQ(ssh->host_key.fingerprint, KeygenFingerprint(dir.path() / "ed25519.pub"));
  EXPECT_FALSE(HasRule(result, "net.ssh-small-host-key"));
}

TEST(ProbeServers, LighttpdTlsModernAndLegacy) {
  if (!fs::exists("/usr/sbin/lighttpd") || !fs::exists("/usr/lib/lighttpd/mod_openssl.so")) {
    GTEST_SKIP() << "lighttpd / lighttpd-mod-openssl not installed (scripts/deps/probe.txt)";
  }
  ScratchDir dir;
  fs::create_directories(dir.path() / "www");
  WriteText(dir.path() / "www" / "index.html", "device\n");
  ASSERT_EQ(
      Shell("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=device.test -keyout " +
            (dir.path() / "key.pem").string() + " -out " + (dir.path() / "cert.pem").string()),
      0);
  const std::string tls =
      "server.modules += (\"mod_openssl\")\nssl.engine = \"enable\"\n"
      "ssl.pemfile = \"" +
      (dir.path() / "cert.pem").string() + "\"\nssl.privkey = \"" +
      (dir.path() / "key.pem").string() + "\"\n";
  const std::uint16_t modern_port = FreePort(), legacy_port = FreePort();
  WriteText(dir.path() / "modern.conf",
            LighttpdConfig(dir.path(), modern_port, tls) +
                "ssl.openssl.ssl-conf-cmd = (\"MinProtocol\" => \"TLSv1.2\")\n");
  WriteText(dir.path() / "legacy.conf",
            LighttpdConfig(dir.path(), legacy_port, tls) +
                "ssl.openssl.ssl-conf-cmd = (\"MinProtocol\" => \"TLSv1\", \"CipherString\" => "
                "\"ALL:@SECLEVEL=0\")\n");
  Server modern({"/usr/sbin/lighttpd", "-D", "-f", (dir.path() / "modern.conf").string()},
                dir.path() / "modern.log", modern_port);
  Server legacy({"/usr/sbin/lighttpd", "-D", "-f", (dir.path() / "legacy.conf").string()},
                dir.path() / "legacy.log", legacy_port);
  ASSERT_TRUE(modern.Up() && legacy.Up());

  const ProbeResult m = Probe({modern_port});
  ASSERT_EQ(m.services.size(), 1u);
  EXPECT_EQ(m.services[0].service, "https");
  ASSERT_TRUE(m.services[0].tls);
  const TlsResult& mt = *m.services[0].tls;
  for (const auto& v : mt.versions) {
    EXPECT_EQ(v.accepted, v.version == "TLSv1.2" || v.version == "TLSv1.3") << v.version;
  }
  ASSERT_FALSE(mt.chain.empty());
  EXPECT_TRUE(mt.chain[0].self_signed);
  EXPECT_EQ(mt.chain[0].key_type, "RSA");
  EXPECT_EQ(mt.chain[0].key_bits, 2048);
  EXPECT_EQ(mt.chain[0].subject, "CN=device.test");
  EXPECT_FALSE(mt.chain[0].expired);
  EXPECT_TRUE(mt.secure_renegotiation);
  EXPECT_FALSE(HasRule(m, "net.tls-legacy-version"));
  EXPECT_TRUE(HasRule(m, "net.tls-self-signed"));
  ASSERT_TRUE(m.services[0].http);
  EXPECT_EQ(m.services[0].http->head.status, 200);
  EXPECT_TRUE(HasFinding(m, "net.http-missing-security-headers", "Strict-Transport-Security"));

  const ProbeResult l = Probe({legacy_port});
  ASSERT_EQ(l.services.size(), 1u);
  EXPECT_TRUE(HasFinding(l, "net.tls-legacy-version", "TLSv1 accepted"));
  EXPECT_TRUE(HasFinding(l, "net.tls-legacy-version", "TLSv1.1 accepted"));
  EXPECT_TRUE(HasFinding(l, "net.tls-weak-cipher", "cbc-sha1"));
  std::size_t strong = 0;
  for (const auto& c : l.services[0].tls->ciphers) strong += c.strength == "strong";
  EXPECT_GT(strong, 0u);
}

TEST(ProbeServers, LighttpdBasicAuthOverPlainHttp) {
  if (!fs::exists("/usr/sbin/lighttpd")) GTEST_SKIP() << "lighttpd not installed";
  ScratchDir dir;
  fs::create_directories(dir.path() / "www");
  WriteText(dir.path() / "www" / "index.html", "device\n");
  WriteText(dir.path() / "users", "admin:admin\n");
  const std::uint16_t port = FreePort();
  WriteText(dir.path() / "auth.conf",
            LighttpdConfig(dir.path(), port,
                           "server.modules += (\"mod_auth\", \"mod_authn_file\")\n"
                           "auth.backend = \"plain\"\nauth.backend.plain.userfile = \"" +
                               (dir.path() / "users").string() +
                               "\"\nauth.require = (\"/\" => (\"method\" => \"basic\", \"realm\" "
                               "=> \"device\", \"require\" => \"valid-user\"))\n"));
  Server server({"/usr/sbin/lighttpd", "-D", "-f", (dir.path() / "auth.conf").string()},
                dir.path() / "auth.log", port);
  ASSERT_TRUE(server.Up());
  const ProbeResult result = Probe({port});
  ASSERT_EQ(result.services.size(), 1u);
  EXPECT_EQ(result.services[0].service, "http");
  ASSERT_TRUE(result.services[0].http);
  EXPECT_EQ(result.services[0].http->head.status, 401);
  EXPECT_TRUE(HasRule(result, "net.http-basic-auth-cleartext"));
  EXPECT_FALSE(HasRule(result, "net.tls-self-signed"));
}

std::vector<std::string> AllProblems(const ServiceResult& s) {
  std::vector<std::string> problems = s.problems;
  if (s.ssh) problems.insert(problems.end(), s.ssh->problems.begin(), s.ssh->problems.end());
  if (s.tls) {
    problems.insert(problems.end(), s.tls->problems.begin(), s.tls->problems.end());
    for (const auto& v : s.tls->versions) {
      if (!v.problem.empty()) problems.push_back(v.version + ": " + v.problem);
    }
  }
  if (s.http) problems.insert(problems.end(), s.http->problems.begin(), s.http->problems.end());
  return problems;
}

// A busybox with the telnetd applet: $CLEARBOX_TEST_BUSYBOX, else busybox on PATH if its
// build has telnetd (Debian's busybox does not; busybox-static does but conflicts with it).
std::string BusyboxWithTelnetd() {
  std::vector<std::string> candidates;
  if (const char* chosen = std::getenv("CLEARBOX_TEST_BUSYBOX")) candidates.push_back(chosen);
  candidates.push_back("/bin/busybox");
  for (const auto& c : candidates) {
    if (fs::exists(c) && Shell(c + " telnetd --help") != 127 &&
        Shell(c + " --list | grep -qx telnetd") == 0) {
      return c;
    }
  }
  return {};
}

// A real telnetd: GNU inetutils' telnetd (an inetd service: it speaks on its stdin socket),
// started per connection by socat on a loopback port (`nofork`: telnetd gets the TCP socket
// itself), with /bin/cat instead of login. Preferred over busybox and the stand-in.
bool HaveInetutilsTelnetd() {
  return fs::exists("/usr/sbin/telnetd") && Shell("command -v socat") == 0 &&
         Shell("/usr/sbin/telnetd --version | grep -q inetutils") == 0;
}

TEST(ProbeServers, TelnetOpenAndClosedPort) {
  ScratchDir dir;
  const bool inetutils = HaveInetutilsTelnetd();
  const std::string busybox = inetutils ? std::string() : BusyboxWithTelnetd();
  const std::uint16_t port = FreePort();
  std::unique_ptr<Server> telnetd;
  std::unique_ptr<TinyServer> stand_in;
  if (inetutils) {
    std::string socat;
    ASSERT_EQ(Shell("command -v socat", &socat), 0);
    socat.erase(socat.find_last_not_of("\n") + 1);
    telnetd = std::make_unique<Server>(
        std::vector<std::string>{
            socat, "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork",
            "EXEC:/usr/sbin/telnetd -E /bin/cat,nofork"},
        dir.path() / "telnetd.log", port);
    ASSERT_TRUE(telnetd->Up());
  } else if (!busybox.empty()) {
    telnetd = std::make_unique<Server>(
        std::vector<std::string>{busybox, "telnetd", "-F", "-b",
                                 "127.0.0.1:" + std::to_string(port), "-l", "/bin/sh"},
        dir.path() / "telnetd.log", port);
    ASSERT_TRUE(telnetd->Up());
  } else {
    // What a telnetd says first: option negotiation (IAC DO/WILL), then a prompt.
    stand_in = std::make_unique<TinyServer>([](int fd, const TinyServer* server) {
      if (SendOrStop(fd, std::string("\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03login: "),
                     server)) {
        WaitForPeer(fd, server, false);
      }
    });
  }
  const std::uint16_t telnet_port = stand_in ? stand_in->port() : port;
  const std::uint16_t closed_port = FreePort();
  // busybox telnetd listens with a backlog of 1: a connection right after the scan's may
  // wait for the kernel's SYN retry (1 s), so this test uses the default timeout.
  const ProbeResult result = Probe({telnet_port, closed_port}, milliseconds(3000));
  EXPECT_EQ(result.ports.at(closed_port), PortState::kClosed);
  ASSERT_EQ(result.services.size(), 1u);
  EXPECT_EQ(result.services[0].service, "telnet")
      << result.services[0].banner << " "
      << ::testing::PrintToString(AllProblems(result.services[0]));
  EXPECT_TRUE(result.services[0].banner.starts_with("\\xff")) << result.services[0].banner;
  EXPECT_TRUE(HasRule(result, "net.telnet-open"));
  std::printf("telnet server: %s\n", inetutils          ? "inetutils telnetd via socat"
                                     : !busybox.empty() ? busybox.c_str()
                                                        : "in-test stand-in");
}

// One hostile responder: the probe's check of it must end within a few timeouts with a
// recorded problem.
struct Hostile {
  const char* name;
  std::function<void(int fd, const TinyServer* server)> serve;
};

TEST(ProbeHostile, EachCheckEndsWithinItsTimeoutWithAProblem) {
  const std::string ident = "SSH-2.0-hostile\r\n";
  const std::vector<Hostile> cases = {
      {"endless banner without newline",
       [](int fd, const TinyServer* s) {
         const std::string chunk(4096, 'A');
         if (!SendOrStop(fd, "SSH-2.0-", s)) return;
         while (SendOrStop(fd, chunk, s)) {
         }
       }},
      {"16 MiB line",
       [](int fd, const TinyServer* s) {
         (void)SendOrStop(fd, "SSH-2.0-" + std::string(16 << 20, 'B') + "\r\n", s);
       }},
      {"garbage instead of KEXINIT",
       [&](int fd, const TinyServer* s) {
         std::string garbage = ident;
         for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) & 0xff);
         if (SendOrStop(fd, garbage, s)) WaitForPeer(fd, s, false);
       }},
      {"SSH packet_length 0xFFFFFFFF",
       [&](int fd, const TinyServer* s) {
         if (SendOrStop(fd, ident + std::string("\xff\xff\xff\xff\x04\x14", 6), s)) {
           WaitForPeer(fd, s, false);
         }
       }},
      {"TLS record claiming 16 MiB",
       [](int fd, const TinyServer* s) {
         WaitForPeer(fd, s, true);
         // A handshake record whose ServerHello claims 16 MiB, then filler.
         std::string record("\x16\x03\x03\x40\x00\x02\xff\xff\xff", 9);
         record += std::string(0x4000 - 4, 'C');
         for (int i = 0; i < 64 && SendOrStop(fd, record, s); ++i) {
         }
         WaitForPeer(fd, s, false);
       }},
      {"accepts and never answers", [](int fd, const TinyServer* s) { WaitForPeer(fd, s, false); }},
  };
  for (const Hostile& hostile : cases) {
    TinyServer server(hostile.serve);
    const auto started = std::chrono::steady_clock::now();
    const ProbeResult result = Probe({server.port()});
    const auto took =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
    ASSERT_EQ(result.services.size(), 1u) << hostile.name;
    const auto problems = AllProblems(result.services[0]);
    EXPECT_FALSE(problems.empty()) << hostile.name;
    // Banner wait, then at most one timeout per check (HTTP, then TLS), plus slack for ASan.
    EXPECT_LT(took, 4 * kTestTimeout + milliseconds(2000)) << hostile.name;
    std::printf("%-32s %5lld ms  service=%s  first problem: %s\n", hostile.name,
                static_cast<long long>(took.count()), result.services[0].service.c_str(),
                problems.empty() ? "-" : problems[0].c_str());
  }
}

TEST(ProbeServers, MosquittoAnonymousAndAuthenticated) {
  if (!fs::exists("/usr/sbin/mosquitto")) GTEST_SKIP() << "mosquitto not installed";
  ScratchDir dir;
  const std::uint16_t open_port = FreePort(), closed_port = FreePort();
  WriteText(dir.path() / "open.conf", "listener " + std::to_string(open_port) +
                                          " 127.0.0.1\nallow_anonymous true\npersistence false\n");
  WriteText(dir.path() / "closed.conf",
            "listener " + std::to_string(closed_port) +
                " 127.0.0.1\nallow_anonymous false\npersistence false\n");
  Server open({"/usr/sbin/mosquitto", "-c", (dir.path() / "open.conf").string()},
              dir.path() / "open.log", open_port);
  Server closed({"/usr/sbin/mosquitto", "-c", (dir.path() / "closed.conf").string()},
                dir.path() / "closed.log", closed_port);
  ASSERT_TRUE(open.Up() && closed.Up());
  const ProbeResult result = Probe({open_port, closed_port});
  ASSERT_EQ(result.services.size(), 2u);
  for (const auto& s : result.services) {
    EXPECT_EQ(s.service, "mqtt");
    ASSERT_TRUE(s.mqtt);
    EXPECT_EQ(s.mqtt->return_code, s.port == open_port ? 0 : 5);
  }
  ASSERT_TRUE(HasRule(result, "net.mqtt-anonymous"));
  for (const auto& f : result.findings) EXPECT_EQ(f.port, open_port) << f.rule;
}

TEST(ProbeJoin, BannersAgainstComponents) {
  EXPECT_EQ(SoftwareOfBanner("OpenSSH_9.2p1").name, "openssh");
  EXPECT_EQ(SoftwareOfBanner("OpenSSH_9.2p1").version, "9.2p1");
  EXPECT_EQ(SoftwareOfBanner("dropbear_2022.83").name, "dropbear");
  EXPECT_EQ(SoftwareOfBanner("lighttpd/1.4.69").version, "1.4.69");
  EXPECT_TRUE(SoftwareOfBanner("Apache").name.empty());

  ProbeResult result;
  ServiceResult ssh;
  ssh.port = 22;
  ssh.service = "ssh";
  ssh.ssh.emplace();
  ssh.ssh->identification.software_version = "OpenSSH_9.2p1";
  ServiceResult web;
  web.port = 80;
  web.service = "http";
  web.http.emplace();
  web.http->answered = true;
  web.http->head.headers.push_back({"server", "lighttpd/1.4.69"});
  result.services = {ssh, web};
  ImageFacts image;
  image.components = {{"openssh", "9.1p1"}, {"busybox", "1.35.0"}};
  auto catalogue = rules::RuleCatalogue::LoadFromDataDir(DataDir());
  ASSERT_TRUE(catalogue);
  auto join = JoinWithImage(result, image, *catalogue);
  ASSERT_TRUE(join) << join.error().message;
  EXPECT_TRUE(HasFinding(result, "net.banner-version-mismatch", "openssh 9.2p1 answers"));
  EXPECT_TRUE(HasFinding(result, "net.service-unexplained", "lighttpd"));
}

TEST(ProbeJoin, DropbearHostKeyFileMatchesItsPublicKey) {
  if (Shell("command -v dropbearkey") != 0 || Shell("command -v ssh-keygen") != 0) {
    GTEST_SKIP() << "dropbear-bin / openssh-client not installed";
  }
  ScratchDir dir;
  for (const std::string type : {"ed25519", "rsa", "ecdsa"}) {
    const fs::path key = dir.path() / ("dropbear_" + type + "_host_key");
    ASSERT_EQ(Shell("dropbearkey -t " + type + " -f " + key.string()), 0);
    std::string public_key;
    ASSERT_EQ(
        Shell("dropbearkey -y -f " + key.string() + " | grep -E '^(ssh|ecdsa)-'", &public_key), 0);
    WriteText(key.string() + ".pub", public_key);
    std::ifstream in(key, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto blob = HostKeyBlobFromFile(bytes);
    ASSERT_TRUE(blob) << type << ": " << blob.error().message;
    auto parsed = ParseHostKey(View(*blob));
    ASSERT_TRUE(parsed) << type;
    EXPECT_EQ(parsed->fingerprint, KeygenFingerprint(key.string() + ".pub")) << type;
  }
}

// The join end to end: a rootfs with a known sshd host key, scanned by `clearbox scan`, then
// served by a real sshd with that key (matched) and by one with another key (mismatch).
TEST(ProbeJoin, HostKeyOnTheWireAgainstTheScannedImage) {
  const char* clearbox = std::getenv("CLEARBOX_BIN");
  if (clearbox == nullptr || !fs::exists("/usr/sbin/sshd")) {
    GTEST_SKIP() << "needs CLEARBOX_BIN (set by CTest) and openssh-server";
  }
  std::error_code ec;
  fs::create_directories("/run/sshd", ec);
  ScratchDir dir;
  const fs::path rootfs = dir.path() / "rootfs";
  fs::create_directories(rootfs / "etc" / "ssh");
  fs::create_directories(rootfs / "usr" / "sbin");
  const fs::path image_key = rootfs / "etc" / "ssh" / "ssh_host_ed25519_key";
  ASSERT_EQ(Shell("ssh-keygen -q -t ed25519 -N '' -f " + image_key.string()), 0);
  fs::copy_file("/usr/sbin/sshd", rootfs / "usr" / "sbin" / "sshd");
  WriteText(rootfs / "etc" / "ssh" / "sshd_config", "HostKey /etc/ssh/ssh_host_ed25519_key\n");
  const fs::path other_key = dir.path() / "other_key";
  ASSERT_EQ(Shell("ssh-keygen -q -t ed25519 -N '' -f " + other_key.string()), 0);
  ASSERT_EQ(
      Shell("tar -C " + rootfs.string() + " -cf " + (dir.path() / "rootfs.tar").string() + " ."),
      0);
  std::string scan_output;
  ASSERT_EQ(Shell(std::string(clearbox) + " scan " + (dir.path() / "rootfs.tar").string() + " -o " +
                      (dir.path() / "scan").string() + " --no-vuln",
                  &scan_output),
            0)
      << scan_output;
  auto image = LoadImageFacts(dir.path() / "scan" / "report.json");
  ASSERT_TRUE(image) << image.error().message;
  ASSERT_FALSE(image->host_keys.empty()) << ::testing::PrintToString(image->problems);

  WriteText(dir.path() / "sshd.conf", "PidFile none\nUsePAM no\nListenAddress 127.0.0.1\n");
  const std::uint16_t same_port = FreePort(), other_port = FreePort();
  Server same({"/usr/sbin/sshd", "-D", "-e", "-f", (dir.path() / "sshd.conf").string(), "-p",
               std::to_string(same_port), "-h", image_key.string()},
              dir.path() / "same.log", same_port);
  Server other({"/usr/sbin/sshd", "-D", "-e", "-f", (dir.path() / "sshd.conf").string(), "-p",
                std::to_string(other_port), "-h", other_key.string()},
               dir.path() / "other.log", other_port);
  ASSERT_TRUE(same.Up() && other.Up());
  ProbeResult result = Probe({same_port, other_port});
  auto catalogue = rules::RuleCatalogue::LoadFromDataDir(DataDir());
  ASSERT_TRUE(catalogue);
  auto join = JoinWithImage(result, *image, *catalogue);
  ASSERT_TRUE(join) << join.error().message;
  bool matched = false, mismatched = false;
  for (const auto& f : result.findings) {
    matched |= f.rule == "net.ssh-host-key-from-image" && f.port == same_port;
    mismatched |= f.rule == "net.ssh-host-key-mismatch" && f.port == other_port;
    EXPECT_NE(f.rule, "net.service-unexplained") << f.message;  // openssh is identified
  }
  EXPECT_TRUE(matched);
  EXPECT_TRUE(mismatched);
}

}  // namespace
}  // namespace clearbox::probe
