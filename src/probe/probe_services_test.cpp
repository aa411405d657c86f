// Tests of the probe's opt-in active checks (anonymous FTP, SNMP, SSDP), the stock-page
// markers and the TLS join: BER and HTTPU on hand-made bytes, then real servers from Debian
// packages (vsftpd, snmpd, lighttpd, busybox httpd) and an in-test SSDP responder on 127.0.0.1.
#include <arpa/inet.h>

#include <map>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "probe/default_pages.hpp"
#include "probe/image_keys.hpp"
#include "probe/join.hpp"
#include "probe/probe_test_support.hpp"
#include "probe/snmp.hpp"
#include "probe/ssdp.hpp"

namespace clearbox::probe {
namespace {

ByteView Bytes(const std::string& text) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::vector<const Finding*> FindingsOf(const ProbeResult& result, const std::string& rule) {
  std::vector<const Finding*> out;
  for (const auto& f : result.findings) {
    if (f.rule == rule) out.push_back(&f);
  }
  return out;
}

// A loopback UDP port nobody listens on right now.
std::uint16_t FreeUdpPort() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t length = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &length);
  ::close(fd);
  return ntohs(sin.sin_port);
}

TEST(ProbeSnmpBer, GetRequestRoundTripsAndMatchesNetSnmpBytes) {
  auto request = EncodeSnmpGet(SnmpVersion::kV2c, "public", 0x1234, kSysDescrOid);
  ASSERT_TRUE(request) << request.error().message;
  // The layout net-snmp 5.9's snmpget sends for `-v2c -c public 1.3.6.1.2.1.1.1.0` (captured
  // here: 3029020101040670...a01c0204<4-byte id>0201000201003 00e300c06082b0601020101010005 00);
  // with the 2-byte request-id 0x1234 both lengths shrink by 2.
  const std::string expected(
      "\x30\x27\x02\x01\x01\x04\x06public\xa0\x1a\x02\x02\x12\x34\x02\x01\x00\x02\x01\x00\x30"
      "\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00",
      41);
  EXPECT_EQ(*request, expected);
  auto parsed = ParseSnmpMessage(Bytes(*request));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->version, 1);
  EXPECT_EQ(parsed->community, "public");
  EXPECT_EQ(parsed->pdu_tag, 0xA0);
  EXPECT_EQ(parsed->request_id, 0x1234);
  ASSERT_EQ(parsed->varbinds.size(), 1u);
  EXPECT_EQ(parsed->varbinds[0].oid, "1.3.6.1.2.1.1.1.0");
  EXPECT_EQ(parsed->varbinds[0].tag, 0x05);
  auto negative = EncodeSnmpGet(SnmpVersion::kV1, "private", -2, "1.3.6.1");
  ASSERT_TRUE(negative);
  EXPECT_EQ(ParseSnmpMessage(Bytes(*negative))->request_id, -2);
  EXPECT_FALSE(EncodeSnmpGet(SnmpVersion::kV1, "x", 1, "1.x.3"));
}

TEST(ProbeSnmpBer, HostileMessagesFailCleanly) {
  const std::string good = *EncodeSnmpGet(SnmpVersion::kV1, "public", 7, kSysDescrOid);
  EXPECT_EQ(ParseSnmpMessage(Bytes("")).error().code, ErrorCode::kNotThisFormat);
  EXPECT_EQ(ParseSnmpMessage(Bytes("HTTP/1.1 200")).error().code, ErrorCode::kNotThisFormat);
  // Indefinite length, a length past the end, a 4-byte length, every truncation.
  EXPECT_EQ(ParseSnmpMessage(Bytes(std::string("\x30\x80\x02\x01\x00", 5))).error().code,
            ErrorCode::kMalformed);
  EXPECT_FALSE(ParseSnmpMessage(Bytes(std::string("\x30\x7f\x02\x01\x00", 5))));
  EXPECT_EQ(ParseSnmpMessage(Bytes(std::string("\x30\x84\xff\xff\xff\xff", 6))).error().code,
            ErrorCode::kMalformed);
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseSnmpMessage(Bytes(good.substr(0, n)))) << n;
  }
  // An OID arc of more than 5 bytes, an INTEGER of 9 bytes.
  std::string long_arc = good;
  const std::size_t oid = long_arc.find(std::string("\x06\x08\x2b", 3));
  ASSERT_NE(oid, std::string::npos);
  for (std::size_t i = oid + 3; i < oid + 10; ++i) long_arc[i] = '\x81';
  EXPECT_FALSE(ParseSnmpMessage(Bytes(long_arc)));
}

TEST(ProbeSsdp, ResponseHeadParsing) {
  auto r = ParseSsdpResponse(
      "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\nUSN: "
      "uuid:1::upnp:rootdevice\r\nEXT:\r\nSERVER: Linux/4.14 UPnP/1.1 MiniUPnPd/2.2.1\r\n"
      "LOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->server, "Linux/4.14 UPnP/1.1 MiniUPnPd/2.2.1");
  EXPECT_EQ(r->location, "http://192.0.2.1:5000/rootDesc.xml");
  EXPECT_EQ(r->st, "upnp:rootdevice");
  // Without the final empty line (a datagram is the whole message), LF only.
  EXPECT_TRUE(ParseSsdpResponse("HTTP/1.1 200 OK\nSERVER: x\n"));
  EXPECT_EQ(ParseSsdpResponse("NOTIFY * HTTP/1.1\r\n\r\n").error().code, ErrorCode::kNotThisFormat);
  EXPECT_FALSE(ParseSsdpResponse("HTTP/1.1 2x\r\n\r\n"));
  auto bidi = ParseSsdpResponse("HTTP/1.1 200 OK\r\nSERVER: a\x1b[31m\xe2\x80\xae" +
                                std::string(100000, 'z') + "\r\n\r\n");
  ASSERT_TRUE(bidi);
  EXPECT_LE(bidi->server.size(), 300u);
  EXPECT_EQ(bidi->server.find('\x1b'), std::string::npos);
  const std::string request = SsdpSearchRequest("192.0.2.1", 1900);
  EXPECT_TRUE(request.starts_with("M-SEARCH * HTTP/1.1\r\nHOST: 192.0.2.1:1900\r\n"));
  EXPECT_NE(request.find("MAN: \"ssdp:discover\""), std::string::npos);
}

// A UDP responder on 127.0.0.1 (Debian packages no simple SSDP server: miniupnpd needs a
// real WAN interface and firewall), answering each datagram with `answer(datagram)`.
class UdpResponder {
 public:
  explicit UdpResponder(std::function<std::vector<std::string>(const std::string&)> answer)
      : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t length = sizeof sin;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &length);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~UdpResponder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      std::string datagram(65536, '\0');
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(fd_, datagram.data(), datagram.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &length);
      if (n < 0) continue;
      datagram.resize(static_cast<std::size_t>(n));
      {
        std::lock_guard lock(mutex_);
        received_.push_back(datagram);
      }
      for (const auto& reply : answer_(datagram)) {
        ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
      }
    }
  }
  std::function<std::vector<std::string>(const std::string&)> answer_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> received_;
  std::thread thread_;
};

TEST(ProbeSsdp, UnicastSearchOnlyWhenAskedAndTheAnswerIsAFinding) {
  const std::string answer =
      "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
      "LOCATION: http://127.0.0.1:49152/rootDesc.xml\r\n"
      "SERVER: Linux/4.14 UPnP/1.1 MiniUPnPd/2.2.1\r\nST: upnp:rootdevice\r\n"
      "USN: uuid:00000000-0000-0000-0000-000000000001::upnp:rootdevice\r\n\r\n";
  UdpResponder responder([&](const std::string& request) {
    if (!request.starts_with("M-SEARCH * HTTP/1.1\r\n")) return std::vector<std::string>{};
    return std::vector<std::string>{answer, "garbage \xff\x00 not HTTP"};
  });
  const std::uint16_t closed = FreePort();
  ProbeOptions options = LoopbackOptions({closed});
  // Off by default: nothing is sent.
  ProbeResult quiet = ProbeWith(options);
  EXPECT_TRUE(responder.received().empty());
  EXPECT_TRUE(quiet.services.empty());

  options.ssdp = true;
  options.ssdp_port = responder.port();
  const auto started = std::chrono::steady_clock::now();
  ProbeResult result = ProbeWith(options);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(responder.received().size(), 1u);
  EXPECT_NE(responder.received()[0].find("HOST: 127.0.0.1:" + std::to_string(responder.port())),
            std::string::npos);
  ASSERT_EQ(result.services.size(), 1u);
  const ServiceResult& s = result.services[0];
  EXPECT_EQ(s.transport, "udp");
  EXPECT_EQ(s.service, "upnp");
  ASSERT_TRUE(s.ssdp);
  ASSERT_EQ(s.ssdp->responses.size(), 1u);
  EXPECT_EQ(s.ssdp->problems.size(), 1u);  // the garbage datagram, recorded
  const auto upnp = FindingsOf(result, "net.upnp-exposed");
  ASSERT_EQ(upnp.size(), 1u);
  EXPECT_NE(upnp[0]->evidence.find("MiniUPnPd/2.2.1"), std::string::npos);
  EXPECT_NE(upnp[0]->evidence.find("rootDesc.xml"), std::string::npos);
  EXPECT_LT(took, kTestTimeout + milliseconds(1500));

  // Nobody on the port: no finding, the ICMP refusal recorded.
  options.ssdp_port = FreeUdpPort();
  ProbeResult none = ProbeWith(options);
  ASSERT_EQ(none.services.size(), 1u);
  EXPECT_EQ(none.services[0].service, "unknown");
  EXPECT_TRUE(FindingsOf(none, "net.upnp-exposed").empty());
  EXPECT_FALSE(none.services[0].ssdp->problems.empty());
}

// snmpd (net-snmp) in the foreground on 127.0.0.1:port with `config` only (-C), its state
// kept in `dir`.
std::unique_ptr<Server> StartSnmpd(const fs::path& dir, const std::string& name, std::uint16_t port,
                                   const std::string& config) {
  WriteText(dir / (name + ".conf"), config);
  fs::create_directories(dir / (name + "-state"));
  return std::make_unique<Server>(
      std::vector<std::string>{
          "/usr/bin/env", "SNMP_PERSISTENT_DIR=" + (dir / (name + "-state")).string(),
          "MIBS=", "/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", (dir / (name + ".conf")).string(),
          "-p", (dir / (name + ".pid")).string(), "udp:127.0.0.1:" + std::to_string(port)},
      dir / (name + ".log"), 0);
}

// Waits until snmpget gets an answer with `community` (net-snmp's own client, as a cross-check).
bool SnmpAnswers(std::uint16_t port, const std::string& community, std::string* value) {
  for (int i = 0; i < 50; ++i) {
    if (Shell("MIBS= snmpget -On -Oqv -v2c -c " + community +
                  " -t 0.2 -r 0 127.0.0.1:" + std::to_string(port) + " 1.3.6.1.2.1.1.1.0",
              value) == 0) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return false;
}

TEST(ProbeServers, SnmpdWithAndWithoutTheDefaultCommunity) {
  if (!fs::exists("/usr/sbin/snmpd") || Shell("command -v snmpget") != 0) {
    GTEST_SKIP() << "snmpd / snmp not installed (scripts/deps/probe.txt)";
  }
  ScratchDir dir;
  const std::uint16_t open_port = FreeUdpPort(), closed_port = FreeUdpPort();
  auto open = StartSnmpd(dir.path(), "open", open_port,
                         "rocommunity public 127.0.0.1\nsysDescr clearbox-test <agent> \"v1\"\n");
  auto closed = StartSnmpd(dir.path(), "closed", closed_port,
                           "rocommunity cb-lab-secret-7 127.0.0.1\nsysDescr not-default\n");
  std::string descr;
  ASSERT_TRUE(SnmpAnswers(open_port, "public", &descr));
  EXPECT_NE(descr.find("clearbox-test"), std::string::npos) << descr;
  ASSERT_TRUE(SnmpAnswers(closed_port, "cb-lab-secret-7", &descr));

  const std::uint16_t tcp_closed = FreePort();
  ProbeOptions options = LoopbackOptions({tcp_closed});
  ProbeResult off = ProbeWith(options);
  EXPECT_TRUE(off.services.empty());  // --snmp not given: nothing sent

  options.snmp = true;
  options.snmp_port = open_port;
  ProbeResult weak = ProbeWith(options);
  ASSERT_EQ(weak.services.size(), 1u);
  EXPECT_EQ(weak.services[0].service, "snmp");
  EXPECT_EQ(weak.services[0].transport, "udp");
  const auto found = FindingsOf(weak, "net.snmp-default-community");
  ASSERT_EQ(found.size(), 2u);  // v1 and v2c, community public; private is refused
  for (const Finding* f : found) {
    EXPECT_NE(f->message.find("'public'"), std::string::npos) << f->message;
    EXPECT_NE(f->evidence.find("sysDescr: clearbox-test <agent>"), std::string::npos)
        << f->evidence;
  }
  EXPECT_NE(found[0]->message.find("v1"), std::string::npos);
  EXPECT_NE(found[1]->message.find("v2c"), std::string::npos);

  options.snmp_port = closed_port;
  ProbeResult strong = ProbeWith(options);
  ASSERT_EQ(strong.services.size(), 1u);
  EXPECT_EQ(strong.services[0].service, "unknown");
  EXPECT_TRUE(FindingsOf(strong, "net.snmp-default-community").empty());
}

// vsftpd in the foreground on 127.0.0.1:port; `anonymous` allows anonymous logins.
std::unique_ptr<Server> StartVsftpd(const fs::path& dir, const std::string& name,
                                    std::uint16_t port, bool anonymous) {
  fs::create_directories(dir / "anon");
  fs::create_directories(dir / "empty");
  fs::permissions(dir / "anon", fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
  WriteText(dir / (name + ".conf"),
            "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port=" +
                std::to_string(port) + "\nbackground=NO\nseccomp_sandbox=NO\n" +
                "secure_chroot_dir=" + (dir / "empty").string() +
                "\nanon_root=" + (dir / "anon").string() +
                (anonymous ? "\nanonymous_enable=YES\nlocal_enable=NO\n"
                           : "\nanonymous_enable=NO\nlocal_enable=YES\n"
                             "pam_service_name=vsftpd\n"));
  return std::make_unique<Server>(
      std::vector<std::string>{"/usr/sbin/vsftpd", (dir / (name + ".conf")).string()},
      dir / (name + ".log"), port);
}

TEST(ProbeServers, VsftpdAnonymousLoginOnlyWhenAsked) {
  if (!fs::exists("/usr/sbin/vsftpd")) GTEST_SKIP() << "vsftpd not installed";
  ScratchDir dir;
  const std::uint16_t open_port = FreePort(), closed_port = FreePort();
  auto open = StartVsftpd(dir.path(), "open", open_port, true);
  auto closed = StartVsftpd(dir.path(), "closed", closed_port, false);
  ASSERT_TRUE(open->Up() && closed->Up());

  ProbeResult passive = Probe({open_port});
  ASSERT_EQ(passive.services.size(), 1u);
  EXPECT_EQ(passive.services[0].service, "ftp");
  EXPECT_FALSE(passive.services[0].ftp_login);  // no login without --try-anonymous-ftp
  EXPECT_TRUE(HasRule(passive, "net.ftp-cleartext"));
  EXPECT_FALSE(HasRule(passive, "net.ftp-anonymous"));

  ProbeOptions options = LoopbackOptions({open_port, closed_port});
  options.try_anonymous_ftp = true;
  ProbeResult active = ProbeWith(options);
  ASSERT_EQ(active.services.size(), 2u);
  for (const auto& s : active.services) {
    ASSERT_TRUE(s.ftp_login) << s.port;
    EXPECT_EQ(s.ftp_login->accepted, s.port == open_port) << s.ftp_login->evidence;
  }
  const auto anonymous = FindingsOf(active, "net.ftp-anonymous");
  ASSERT_EQ(anonymous.size(), 1u);
  EXPECT_EQ(anonymous[0]->port, open_port);
  EXPECT_NE(anonymous[0]->evidence.find("230"), std::string::npos) << anonymous[0]->evidence;
}

TEST(ProbeParsers, FtpReplies) {
  std::size_t consumed = 0;
  auto one = ParseFtpReply("230 Login successful.\r\nrest", &consumed);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->code, 230);
  EXPECT_EQ(consumed, 23u);
  auto multi = ParseFtpReply("220-Welcome\r\n220-more\r\n220 ready\r\n", &consumed);
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->code, 220);
  EXPECT_EQ(ParseFtpReply("220-Welcome\r\n", &consumed).error().code, ErrorCode::kTruncated);
  EXPECT_EQ(ParseFtpReply("hello\r\n", &consumed).error().code, ErrorCode::kMalformed);
}

TEST(ProbeDefaultPages, DataFileLoadsAndMarkersMatch) {
  auto pages = LoadDefaultPages(DataDir() / "probe" / "http-default-pages.json");
  ASSERT_TRUE(pages) << pages.error().message;
  EXPECT_GE(pages->size(), 10u);
  EXPECT_EQ(HtmlTitle("<html><TITLE lang=en>\n Welcome to nginx! </title>"), "Welcome to nginx!");
  HttpResult http;
  http.answered = true;
  http.body = "<html><head><title>Welcome to nginx!</title></head></html>";
  auto nginx = MatchDefaultPage(*pages, http);
  ASSERT_TRUE(nginx);
  EXPECT_EQ(nginx->id, "nginx-welcome");
  http.body = "<title>My router</title>";
  EXPECT_FALSE(MatchDefaultPage(*pages, http));
  http.head.headers.push_back({"server", "GoAhead-Webs"});
  http.body = "<title>GoAhead</title>";
  EXPECT_EQ(MatchDefaultPage(*pages, http)->id, "goahead-default");
}

TEST(ProbeServers, LighttpdDebianPlaceholderAndBusyboxEmptyHttpd) {
  if (!fs::exists("/usr/sbin/lighttpd") || !fs::exists("/usr/share/lighttpd/index.html")) {
    GTEST_SKIP() << "lighttpd not installed";
  }
  ScratchDir dir;
  fs::create_directories(dir.path() / "www");
  fs::copy_file("/usr/share/lighttpd/index.html", dir.path() / "www" / "index.html");
  fs::create_directories(dir.path() / "own" / "www");
  WriteText(dir.path() / "own" / "www" / "index.html", "<title>Router</title>device\n");
  fs::create_directories(dir.path() / "empty");
  const std::uint16_t stock_port = FreePort(), own_port = FreePort(), busybox_port = FreePort();
  WriteText(dir.path() / "stock.conf", LighttpdConfig(dir.path(), stock_port, ""));
  WriteText(dir.path() / "own.conf", LighttpdConfig(dir.path() / "own", own_port, ""));
  Server stock({"/usr/sbin/lighttpd", "-D", "-f", (dir.path() / "stock.conf").string()},
               dir.path() / "stock.log", stock_port);
  Server own({"/usr/sbin/lighttpd", "-D", "-f", (dir.path() / "own.conf").string()},
             dir.path() / "own.log", own_port);
  std::unique_ptr<Server> busybox;
  if (fs::exists("/bin/busybox")) {
    busybox = std::make_unique<Server>(
        std::vector<std::string>{"/bin/busybox", "httpd", "-f", "-p",
                                 "127.0.0.1:" + std::to_string(busybox_port), "-h",
                                 (dir.path() / "empty").string()},
        dir.path() / "busybox.log", busybox_port);
  }
  ASSERT_TRUE(stock.Up() && own.Up());
  std::vector<std::uint16_t> ports = {stock_port, own_port};
  if (busybox) ports.push_back(busybox_port);
  const ProbeResult result = Probe(ports);
  const auto stock_pages = FindingsOf(result, "net.http-default-page");
  std::map<std::uint16_t, const Finding*> by_port;
  for (const Finding* f : stock_pages) by_port[f->port] = f;
  ASSERT_TRUE(by_port.count(stock_port));
  EXPECT_NE(by_port[stock_port]->message.find("lighttpd-debian-placeholder"), std::string::npos);
  EXPECT_NE(by_port[stock_port]->evidence.find("placeholder page installed by the Debian"),
            std::string::npos)
      << by_port[stock_port]->evidence;
  EXPECT_FALSE(by_port.count(own_port));
  if (busybox) {
    ASSERT_TRUE(by_port.count(busybox_port));
    EXPECT_NE(by_port[busybox_port]->message.find("busybox-httpd-empty"), std::string::npos);
  }
}

TEST(ProbeJoin, TlsKeysFromPemAndDerFiles) {
  ScratchDir dir;
  const fs::path key = dir.path() / "key.pem", cert = dir.path() / "cert.pem";
  ASSERT_EQ(Shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
                  "-subj /CN=image.test -keyout " +
                  key.string() + " -out " + cert.string()),
            0);
  ASSERT_EQ(Shell("openssl x509 -in " + cert.string() + " -outform DER -out " +
                  (dir.path() / "cert.der").string()),
            0);
  ASSERT_EQ(Shell("openssl pkey -in " + key.string() + " -aes128 -passout pass:x -out " +
                  (dir.path() / "enc.pem").string()),
            0);
  std::string spki;
  ASSERT_EQ(Shell("openssl x509 -in " + cert.string() +
                      " -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64",
                  &spki),
            0);
  spki.erase(spki.find_last_not_of("\n") + 1);
  auto read = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto both = TlsKeysFromFile(read(cert) + read(key));
  ASSERT_TRUE(both) << both.error().message;
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].kind, "certificate");
  EXPECT_EQ((*both)[0].subject, "CN=image.test");
  EXPECT_EQ((*both)[1].kind, "private-key");
  EXPECT_EQ((*both)[0].spki_sha256, spki);
  EXPECT_EQ((*both)[1].spki_sha256, spki);
  auto der = TlsKeysFromFile(read(dir.path() / "cert.der"));
  ASSERT_TRUE(der);
  EXPECT_EQ((*der)[0].spki_sha256, spki);
  EXPECT_EQ(TlsKeysFromFile(read(dir.path() / "enc.pem")).error().code, ErrorCode::kNotThisFormat);
  EXPECT_FALSE(TlsKeysFromFile("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
}

// The TLS join end to end: an image whose /etc/ssl holds the certificate and key a real
// lighttpd serves (shared key: a finding), and a lighttpd with another key (mismatch).
TEST(ProbeJoin, TlsCertificateOnTheWireAgainstTheScannedImage) {
  const char* clearbox = std::getenv("CLEARBOX_BIN");
  if (clearbox == nullptr || !fs::exists("/usr/lib/lighttpd/mod_openssl.so")) {
    GTEST_SKIP() << "needs CLEARBOX_BIN (set by CTest) and lighttpd-mod-openssl";
  }
  ScratchDir dir;
  const fs::path rootfs = dir.path() / "rootfs";
  fs::create_directories(rootfs / "etc" / "ssl" / "private");
  fs::create_directories(dir.path() / "www");
  WriteText(dir.path() / "www" / "index.html", "device\n");
  const fs::path image_cert = rootfs / "etc" / "ssl" / "device.crt";
  const fs::path image_key = rootfs / "etc" / "ssl" / "private" / "device.key";
  ASSERT_EQ(Shell("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=device.test "
                  "-keyout " +
                  image_key.string() + " -out " + image_cert.string()),
            0);
  const fs::path other_cert = dir.path() / "other.crt", other_key = dir.path() / "other.key";
  ASSERT_EQ(Shell("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other.test "
                  "-keyout " +
                  other_key.string() + " -out " + other_cert.string()),
            0);
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
  ASSERT_EQ(image->tls_keys.size(), 2u) << ::testing::PrintToString(image->problems);

  auto tls = [&](const fs::path& cert, const fs::path& key) {
    return "server.modules += (\"mod_openssl\")\nssl.engine = \"enable\"\nssl.pemfile = \"" +
           cert.string() + "\"\nssl.privkey = \"" + key.string() + "\"\n";
  };
  const std::uint16_t same_port = FreePort(), other_port = FreePort();
  WriteText(dir.path() / "same.conf",
            LighttpdConfig(dir.path(), same_port, tls(image_cert, image_key)));
  WriteText(dir.path() / "other.conf",
            LighttpdConfig(dir.path(), other_port, tls(other_cert, other_key)));
  Server same({"/usr/sbin/lighttpd", "-D", "-f", (dir.path() / "same.conf").string()},
              dir.path() / "same.log", same_port);
  Server other({"/usr/sbin/lighttpd", "-D", "-f", (dir.path() / "other.conf").string()},
               dir.path() / "other.log", other_port);
  ASSERT_TRUE(same.Up() && other.Up());
  ProbeResult result = Probe({same_port, other_port});
  auto catalogue = rules::RuleCatalogue::LoadFromDataDir(DataDir());
  ASSERT_TRUE(catalogue);
  auto join = JoinWithImage(result, *image, *catalogue);
  ASSERT_TRUE(join) << join.error().message;
  bool shared = false, mismatched = false;
  for (const auto& f : result.findings) {
    if (f.rule == "net.tls-key-from-image") {
      EXPECT_EQ(f.port, same_port);
      EXPECT_NE(f.message.find("etc/ssl/private/device.key"), std::string::npos) << f.message;
      shared = true;
    }
    if (f.rule == "net.tls-certificate-mismatch") {
      EXPECT_EQ(f.port, other_port);
      mismatched = true;
    }
  }
  EXPECT_TRUE(shared);
  EXPECT_TRUE(mismatched);
  const auto& services = (*join)["services"];
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0]["certificate_in_image"].size() + services[1]["certificate_in_image"].size(),
            1u);
}

// Hostile answers to the active checks: an FTP server whose reply to USER never ends, an
// SNMP "agent" answering with garbage and a 60 KB datagram; each check ends within its timeout
// with a recorded problem and no finding.
TEST(ProbeHostile, ActiveChecksEndWithAProblem) {
  TinyServer ftp([](int fd, const TinyServer* server) {
    if (!SendOrStop(fd, "220 hostile\r\n", server)) return;
    WaitForPeer(fd, server, true);
    const std::string line = "331-" + std::string(200, 'x') + "\r\n";
    while (SendOrStop(fd, line, server)) {
    }
  });
  UdpResponder snmp([](const std::string&) {
    return std::vector<std::string>{std::string("\x30\x84\xff\xff\xff\xff", 6),
                                    "\x30" + std::string(60000, '\x82')};
  });
  ProbeOptions options = LoopbackOptions({ftp.port()});
  options.try_anonymous_ftp = true;
  options.snmp = true;
  options.snmp_port = snmp.port();
  const auto started = std::chrono::steady_clock::now();
  const ProbeResult result = ProbeWith(options);
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
  ASSERT_EQ(result.services.size(), 2u);
  ASSERT_TRUE(result.services[0].ftp_login);
  EXPECT_FALSE(result.services[0].ftp_login->accepted);
  ASSERT_FALSE(result.services[0].ftp_login->problems.empty());
  EXPECT_NE(result.services[0].ftp_login->problems[0].find("4 KiB"), std::string::npos)
      << result.services[0].ftp_login->problems[0];
  ASSERT_TRUE(result.services[1].snmp);
  EXPECT_TRUE(result.services[1].snmp->answers.empty());
  EXPECT_GE(result.services[1].snmp->problems.size(), 2u);
  EXPECT_TRUE(FindingsOf(result, "net.ftp-anonymous").empty());
  EXPECT_TRUE(FindingsOf(result, "net.snmp-default-community").empty());
  EXPECT_LT(took, 4 * kTestTimeout + milliseconds(2000));
  std::printf("hostile FTP + SNMP: %lld ms\n", static_cast<long long>(took.count()));
}

// `clearbox probe --report` end to end: probe.json with the join, and OUT/report.html = the
// scan's page with a Device probe section in which a hostile Server header is text.
TEST(ProbeCli, ReportHtmlCarriesTheProbeSectionEscaped) {
  const char* clearbox = std::getenv("CLEARBOX_BIN");
  if (clearbox == nullptr) GTEST_SKIP() << "needs CLEARBOX_BIN (set by CTest)";
  ScratchDir dir;
  fs::create_directories(dir.path() / "rootfs" / "etc");
  WriteText(dir.path() / "rootfs" / "etc" / "hostname", "device\n");
  ASSERT_EQ(Shell("tar -C " + (dir.path() / "rootfs").string() + " -cf " +
                  (dir.path() / "rootfs.tar").string() + " ."),
            0);
  std::string output;
  ASSERT_EQ(Shell(std::string(clearbox) + " scan " + (dir.path() / "rootfs.tar").string() + " -o " +
                      (dir.path() / "scan").string() + " --no-vuln",
                  &output),
            0)
      << output;
  TinyServer web([](int fd, const TinyServer* server) {
    WaitForPeer(fd, server, true);
    (void)SendOrStop(fd,
                     "HTTP/1.0 200 OK\r\nServer: <script>alert(1)</script>\r\n"
                     "Content-Length: 37\r\n\r\n<title>Welcome to nginx!</title>\n....",
                     server);
  });
  const int status =
      Shell(std::string(clearbox) + " probe 127.0.0.1:" + std::to_string(web.port()) + " -o " +
                (dir.path() / "out").string() + " --timeout 1000 --report " +
                (dir.path() / "scan" / "report.json").string(),
            &output);
  EXPECT_EQ(status, 5) << output;  // findings
  std::ifstream probe_in(dir.path() / "out" / "probe.json");
  const auto probe = nlohmann::json::parse(probe_in, nullptr, false);
  ASSERT_FALSE(probe.is_discarded());
  EXPECT_TRUE(probe.contains("join"));
  EXPECT_EQ(probe["services"][0]["default_page"]["id"], "nginx-welcome");
  std::ifstream html_in(dir.path() / "out" / "report.html");
  const std::string page((std::istreambuf_iterator<char>(html_in)),
                         std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<section id=\"probe\" data-count=\""), std::string::npos);
  EXPECT_NE(page.find("<section id=\"findings\""), std::string::npos);  // the scan's page
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("net.http-default-page"), std::string::npos);
  std::size_t scripts = 0;
  for (auto at = page.find("<script"); at != std::string::npos; at = page.find("<script", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 1u);
  // The same page from `clearbox report --probe`.
  ASSERT_EQ(
      Shell(std::string(clearbox) + " report " + (dir.path() / "scan" / "report.json").string() +
            " --probe " + (dir.path() / "out" / "probe.json").string() + " -o " +
            (dir.path() / "again.html").string()),
      0);
  std::ifstream again_in(dir.path() / "again.html");
  const std::string again((std::istreambuf_iterator<char>(again_in)),
                          std::istreambuf_iterator<char>());
  EXPECT_EQ(again, page);
}

}  // namespace
}  // namespace clearbox::probe
