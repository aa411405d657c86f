// Tests of the SSH check past the host key: the parsers of ssh_transport on hand-made bytes,
// an in-test SSH server (a real curve25519 exchange with an Ed25519 key made here) that
// corrupts its signature, sends garbage after NEWKEYS or lets anyone in, and real sshd and
// dropbear servers with each host key type and password authentication on and off.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "probe/probe.hpp"
#include "probe/probe_test_support.hpp"
#include "probe/ssh.hpp"
#include "probe/ssh_transport.hpp"

namespace clearbox::probe {
namespace {

// Per-check timeout of the SSH server tests (a key exchange under ASan takes longer than a banner).
constexpr milliseconds kSshTestTimeout{2000};

ByteView View(const std::string& bytes) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}
void AppendU32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
}
std::string SshString(std::string_view text) {
  std::string out;
  AppendU32(out, static_cast<std::uint32_t>(text.size()));
  out += text;
  return out;
}
// An unencrypted binary packet around `payload`.
std::string Frame(const std::string& payload) {
  std::size_t padding = 8 - ((payload.size() + 5) % 8);
  if (padding < 4) padding += 8;
  std::string packet;
  AppendU32(packet, static_cast<std::uint32_t>(1 + payload.size() + padding));
  packet += static_cast<char>(padding);
  packet += payload + std::string(padding, '\0');
  return packet;
}

TEST(SshTransportParsers, Mpint) {
  EXPECT_EQ(EncodeMpint(View(std::string("\x00\x00\x7f", 3))), std::string("\0\0\0\x01\x7f", 5));
  EXPECT_EQ(EncodeMpint(View(std::string("\x80\x01", 2))),
            std::string("\0\0\0\x03\x00\x80\x01", 7));
  EXPECT_EQ(EncodeMpint(View(std::string(4, '\0'))), std::string(4, '\0'));
}

TEST(SshTransportParsers, EcdhReplySignatureAndUserauthFailure) {
  const std::string key = SshString("ssh-ed25519") + SshString(std::string(32, 'k'));
  const std::string signature = SshString("ssh-ed25519") + SshString(std::string(64, 's'));
  const std::string reply = std::string(1, '\x1f') + SshString(key) +
                            SshString(std::string(32, 'q')) + SshString(signature);
  auto parsed = ParseEcdhReply(View(reply));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->host_key.size(), key.size());
  EXPECT_EQ(parsed->server_public.size(), 32u);
  auto sig = ParseSshSignature(parsed->signature);
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->algorithm, "ssh-ed25519");
  EXPECT_EQ(sig->blob.size(), 64u);
  // Q_S of 31 bytes, a truncated signature, a signature length over the cap.
  EXPECT_FALSE(ParseEcdhReply(View(std::string(1, '\x1f') + SshString(key) +
                                   SshString(std::string(31, 'q')) + SshString(signature))));
  EXPECT_EQ(ParseEcdhReply(View(reply.substr(0, reply.size() - 1))).error().code,
            ErrorCode::kTruncated);
  EXPECT_EQ(
      ParseSshSignature(View(SshString("x") + std::string("\xff\xff\xff\xff", 4))).error().code,
      ErrorCode::kMalformed);

  auto failure = ParseUserauthFailure(
      View(std::string(1, '\x33') + SshString("publickey,password") + std::string(1, '\0')));
  ASSERT_TRUE(failure) << failure.error().message;
  EXPECT_EQ(failure->methods, (std::vector<std::string>{"publickey", "password"}));
  EXPECT_FALSE(failure->partial_success);
  EXPECT_FALSE(ParseUserauthFailure(View(std::string(1, '\x34'))));
  EXPECT_FALSE(ParseUserauthFailure(View(std::string(1, '\x33') + SshString("publickey"))));
}

TEST(SshTransportParsers, SealedPacketOpensOnlyWithItsMac) {
  const std::string k = EncodeMpint(View(std::string(32, '\x42')));
  const std::string h(32, 'h');
  for (std::string_view cipher : kTransportCiphers) {
    for (std::string_view mac : kTransportMacs) {
      auto sealer = SshPacketCipher::Create(cipher, mac, k, h, false, true, 3);
      auto opener = SshPacketCipher::Create(cipher, mac, k, h, false, false, 3);
      ASSERT_TRUE(sealer && opener);
      auto first = sealer->Seal("\x06hello");
      auto second = sealer->Seal(std::string(100, 'x'));
      ASSERT_TRUE(first && second);
      std::string wire = *first + second->substr(0, 10);
      auto opened = opener->Open(wire);
      ASSERT_TRUE(opened) << cipher << " " << mac << ": " << opened.error().message;
      EXPECT_EQ(*opened, "\x06hello");
      EXPECT_EQ(opener->Open(wire).error().code, ErrorCode::kTruncated);
      wire += second->substr(10);
      wire.back() ^= 1;  // the last MAC byte
      EXPECT_EQ(opener->Open(wire).error().code, ErrorCode::kMalformed) << cipher << " " << mac;
    }
  }
  // A packet sealed for the other direction does not open (other keys).
  auto sealer = SshPacketCipher::Create("aes128-ctr", "hmac-sha2-256", k, h, true, true, 3);
  auto opener = SshPacketCipher::Create("aes128-ctr", "hmac-sha2-256", k, h, false, false, 3);
  ASSERT_TRUE(sealer && opener);
  std::string wire = *sealer->Seal("\x06hello");
  EXPECT_EQ(opener->Open(wire).error().code, ErrorCode::kMalformed);
}

// ---- an in-test SSH server ----

enum class AfterExchange : std::uint8_t {
  kStop,         // send the reply and wait
  kBadMac,       // NEWKEYS, then a sealed SERVICE_ACCEPT whose MAC is flipped
  kAcceptNone,   // NEWKEYS, SERVICE_ACCEPT, USERAUTH_SUCCESS for method none
  kListMethods,  // NEWKEYS, SERVICE_ACCEPT, USERAUTH_FAILURE "publickey,keyboard-interactive"
};

// Runs the server side of curve25519-sha256 with ssh-ed25519 and aes128-ctr + hmac-sha2-256
// on each accepted connection (one at a time) in a thread.
class FakeSshServer {
 public:
  FakeSshServer(bool corrupt_signature, AfterExchange after)
      : corrupt_signature_(corrupt_signature), after_(after) {
    EVP_PKEY* key = nullptr;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), &EVP_PKEY_CTX_free);
    EVP_PKEY_keygen_init(context.get());
    EVP_PKEY_keygen(context.get(), &key);
    host_key_.reset(key);
    std::array<unsigned char, 32> point{};
    std::size_t size = point.size();
    EVP_PKEY_get_raw_public_key(key, point.data(), &size);
    host_key_blob_ = SshString("ssh-ed25519") +
                     SshString(std::string(reinterpret_cast<char*>(point.data()), size));
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    ::listen(listener_, 16);
    socklen_t length = sizeof sin;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&sin), &length);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeSshServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      Serve(fd);
      ::close(fd);
    }
  }
  bool Send(int fd, const std::string& bytes) {
    return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Appends what arrives to `buffer`; false when the peer closed or the server stops.
  bool Receive(int fd, std::string& buffer) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }
  bool ReadPlain(int fd, std::string& buffer, std::string& payload) {
    for (;;) {
      std::size_t consumed = 0;
      if (auto p = ParseSshPacket(View(buffer), &consumed)) {
        payload = std::string(AsText(*p));
        buffer.erase(0, consumed);
        return true;
      }
      if (!Receive(fd, buffer)) return false;
    }
  }
  bool ReadSealed(int fd, std::string& buffer, SshPacketCipher& cipher, std::string& payload) {
    for (;;) {
      auto p = cipher.Open(buffer);
      if (p) {
        payload = *p;
        return true;
      }
      if (p.error().code != ErrorCode::kTruncated || !Receive(fd, buffer)) return false;
    }
  }

  void Serve(int fd) {
    const std::string ident = "SSH-2.0-FakeSsh_1.0";
    std::string kexinit(1, static_cast<char>(kSshMsgKexinit));
    kexinit += std::string(16, 'c');
    for (const char* list : {"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes128-ctr",
                             "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""}) {
      kexinit += SshString(list);
    }
    kexinit += std::string(5, '\0');
    if (!Send(fd, ident + "\r\n" + Frame(kexinit))) return;
    std::string buffer, client_kexinit, init;
    while (buffer.find('\n') == std::string::npos) {
      if (!Receive(fd, buffer)) return;
    }
    std::string client_ident = buffer.substr(0, buffer.find('\n'));
    if (!client_ident.empty() && client_ident.back() == '\r') client_ident.pop_back();
    buffer.erase(0, buffer.find('\n') + 1);
    if (!ReadPlain(fd, buffer, client_kexinit) || !ReadPlain(fd, buffer, init)) return;
    if (init.size() != 1 + 4 + 32) return;
    const std::string client_public = init.substr(5);

    EVP_PKEY* ephemeral = nullptr;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> keygen(
        EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr), &EVP_PKEY_CTX_free);
    EVP_PKEY_keygen_init(keygen.get());
    EVP_PKEY_keygen(keygen.get(), &ephemeral);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> mine(ephemeral, &EVP_PKEY_free);
    std::array<unsigned char, 32> server_public{}, shared{};
    std::size_t size = 32;
    EVP_PKEY_get_raw_public_key(ephemeral, server_public.data(), &size);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> peer(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr,
                                    reinterpret_cast<const unsigned char*>(client_public.data()),
                                    32),
        &EVP_PKEY_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> derive(
        EVP_PKEY_CTX_new(ephemeral, nullptr), &EVP_PKEY_CTX_free);
    EVP_PKEY_derive_init(derive.get());
    EVP_PKEY_derive_set_peer(derive.get(), peer.get());
    EVP_PKEY_derive(derive.get(), shared.data(), &size);
    const std::string k = EncodeMpint(ByteView(shared.data(), 32));
    ExchangeHashInput input;
    input.client_identification = client_ident;
    input.server_identification = ident;
    input.client_kexinit = client_kexinit;
    input.server_kexinit = kexinit;
    input.host_key = View(host_key_blob_);
    input.client_public = View(client_public);
    input.server_public = ByteView(server_public.data(), 32);
    input.shared_secret_mpint = k;
    const std::string h = ExchangeHash(input);

    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sign(EVP_MD_CTX_new(),
                                                                 &EVP_MD_CTX_free);
    std::array<unsigned char, 64> signature{};
    std::size_t signature_size = signature.size();
    EVP_DigestSignInit(sign.get(), nullptr, nullptr, nullptr, host_key_.get());
    EVP_DigestSign(sign.get(), signature.data(), &signature_size,
                   reinterpret_cast<const unsigned char*>(h.data()), h.size());
    if (corrupt_signature_) signature[10] ^= 0x01;
    const std::string reply =
        std::string(1, static_cast<char>(kSshMsgKexEcdhReply)) + SshString(host_key_blob_) +
        SshString(std::string(reinterpret_cast<char*>(server_public.data()), 32)) +
        SshString(SshString("ssh-ed25519") +
                  SshString(std::string(reinterpret_cast<char*>(signature.data()), 64)));
    if (!Send(fd, Frame(reply))) return;
    std::string message;
    if (after_ != AfterExchange::kStop) {
      if (!Send(fd, Frame(std::string(1, static_cast<char>(kSshMsgNewkeys))))) return;
      if (!ReadPlain(fd, buffer, message)) return;
    }
    if (after_ == AfterExchange::kBadMac) {
      auto to_client = SshPacketCipher::Create("aes128-ctr", "hmac-sha2-256", k, h, false, true, 3);
      if (!to_client) return;
      std::string sealed = *to_client->Seal(
          std::string(1, static_cast<char>(kSshMsgServiceAccept)) + SshString("ssh-userauth"));
      sealed.back() ^= 0x01;
      (void)Send(fd, sealed);
    } else if (after_ != AfterExchange::kStop) {
      auto to_client = SshPacketCipher::Create("aes128-ctr", "hmac-sha2-256", k, h, false, true, 3);
      auto from_client =
          SshPacketCipher::Create("aes128-ctr", "hmac-sha2-256", k, h, true, false, 3);
      if (!to_client || !from_client) return;
      if (!ReadSealed(fd, buffer, *from_client, message)) return;
      // A banner before the answer, as servers send: the client skips it.
      (void)Send(fd, *to_client->Seal(std::string(1, static_cast<char>(kSshMsgServiceAccept)) +
                                      SshString("ssh-userauth")));
      if (!ReadSealed(fd, buffer, *from_client, message)) return;
      (void)Send(fd, *to_client->Seal(std::string(1, static_cast<char>(kSshMsgUserauthBanner)) +
                                      SshString("welcome\n") + SshString("")));
      const std::string answer = after_ == AfterExchange::kAcceptNone
                                     ? std::string(1, static_cast<char>(kSshMsgUserauthSuccess))
                                     : std::string(1, static_cast<char>(kSshMsgUserauthFailure)) +
                                           SshString("publickey,keyboard-interactive") +
                                           std::string(1, '\0');
      (void)Send(fd, *to_client->Seal(answer));
    }
    while (Receive(fd, buffer)) {
    }
  }

  bool corrupt_signature_;
  AfterExchange after_;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> host_key_{nullptr, &EVP_PKEY_free};
  std::string host_key_blob_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The rules of the findings on `port`.
std::vector<std::string> RulesOn(const ProbeResult& result, std::uint16_t port) {
  std::vector<std::string> rules;
  for (const auto& f : result.findings) {
    if (f.port == port) rules.push_back(f.rule);
  }
  return rules;
}
bool Has(const std::vector<std::string>& rules, const std::string& rule) {
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

const SshResult& SshOn(const ProbeResult& result, std::uint16_t port) {
  for (const auto& s : result.services) {
    if (s.port == port && s.ssh) return *s.ssh;
  }
  static const SshResult none;
  ADD_FAILURE() << "no SSH result on port " << port;
  return none;
}

TEST(SshHostile, CorruptedSignatureIsAFindingAndStopsTheCheck) {
  FakeSshServer server(true, AfterExchange::kListMethods);
  const auto started = std::chrono::steady_clock::now();
  const ProbeResult result = Probe({server.port()}, kSshTestTimeout);
  const auto took = std::chrono::steady_clock::now() - started;
  const SshResult& ssh = SshOn(result, server.port());
  ASSERT_TRUE(ssh.have_host_key) << ::testing::PrintToString(ssh.problems);
  EXPECT_TRUE(ssh.signature_checked);
  EXPECT_FALSE(ssh.signature_verified);
  EXPECT_EQ(ssh.signature_problem, "Ed25519 signature does not verify");
  EXPECT_FALSE(ssh.have_auth_methods);
  EXPECT_TRUE(Has(RulesOn(result, server.port()), "net.ssh-host-key-signature-invalid"));
  EXPECT_LT(took, 2 * kSshTestTimeout);
}

TEST(SshHostile, GoodSignatureThenBadMacEndsWithAProblem) {
  FakeSshServer server(false, AfterExchange::kBadMac);
  const auto started = std::chrono::steady_clock::now();
  const ProbeResult result = Probe({server.port()}, kSshTestTimeout);
  const auto took = std::chrono::steady_clock::now() - started;
  const SshResult& ssh = SshOn(result, server.port());
  EXPECT_TRUE(ssh.signature_verified) << ssh.signature_problem;
  EXPECT_FALSE(ssh.have_auth_methods);
  ASSERT_FALSE(ssh.problems.empty());
  EXPECT_NE(ssh.problems.back().find("authentication methods: MAC of packet 3 does not verify"),
            std::string::npos)
      << ssh.problems.back();
  EXPECT_FALSE(Has(RulesOn(result, server.port()), "net.ssh-host-key-signature-invalid"));
  EXPECT_LT(took, 3 * kSshTestTimeout);
  std::printf("bad MAC after NEWKEYS: %s (%lld ms)\n", ssh.problems.back().c_str(),
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(took).count()));
}

TEST(SshHostile, UserauthSuccessForNoneIsCritical) {
  FakeSshServer server(false, AfterExchange::kAcceptNone);
  const ProbeResult result = Probe({server.port()}, kSshTestTimeout);
  const SshResult& ssh = SshOn(result, server.port());
  EXPECT_TRUE(ssh.signature_verified) << ssh.signature_problem;
  EXPECT_EQ(ssh.transport, "aes128-ctr hmac-sha2-256");
  EXPECT_TRUE(ssh.have_auth_methods) << ::testing::PrintToString(ssh.problems);
  EXPECT_TRUE(ssh.auth_none_accepted);
  EXPECT_TRUE(Has(RulesOn(result, server.port()), "net.ssh-no-authentication"));
}

TEST(SshHostile, KeyboardInteractiveListedIsAPasswordFinding) {
  FakeSshServer server(false, AfterExchange::kListMethods);
  const ProbeResult result = Probe({server.port()}, kSshTestTimeout);
  const SshResult& ssh = SshOn(result, server.port());
  EXPECT_TRUE(ssh.signature_verified) << ssh.signature_problem;
  ASSERT_TRUE(ssh.have_auth_methods) << ::testing::PrintToString(ssh.problems);
  EXPECT_EQ(ssh.auth_methods, (std::vector<std::string>{"publickey", "keyboard-interactive"}));
  EXPECT_FALSE(ssh.auth_none_accepted);
  EXPECT_TRUE(Has(RulesOn(result, server.port()), "net.ssh-password-auth"));
  EXPECT_FALSE(Has(RulesOn(result, server.port()), "net.ssh-no-authentication"));
}

// ---- real servers ----

// One sshd configuration: host key made by ssh-keygen, the config's extra lines, and what
// the probe must see.
struct SshdCase {
  std::string keygen;  // ssh-keygen options
  std::string config;
  std::string signature_algorithm;
  std::vector<std::string> methods;
  bool password_finding;
  std::string transport = "aes128-ctr hmac-sha2-256-etm@openssh.com";
};

TEST(SshServers, SshdSignaturesAndAuthenticationMethods) {
  if (!fs::exists("/usr/sbin/sshd") || Shell("command -v ssh-keygen") != 0) {
    GTEST_SKIP() << "openssh-server not installed (scripts/deps/probe.txt)";
  }
  std::error_code ec;
  fs::create_directories("/run/sshd", ec);  // sshd's privilege separation directory
  ScratchDir dir;
  const std::string common = "PidFile none\nUsePAM no\nListenAddress 127.0.0.1\n";
  const std::vector<SshdCase> cases = {
      {"-t ed25519",
       "PasswordAuthentication yes\nKbdInteractiveAuthentication no\n",
       "ssh-ed25519",
       {"publickey", "password"},
       true},
      {"-t rsa -b 2048",
       "PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
       "rsa-sha2-512",
       {"publickey"},
       false},
      {"-t rsa -b 2048",
       "PasswordAuthentication no\nKbdInteractiveAuthentication no\nHostKeyAlgorithms "
       "rsa-sha2-256\n",
       "rsa-sha2-256",
       {"publickey"},
       false},
      // Only SHA-1 RSA signatures: verified, and recorded as ssh-rsa.
      {"-t rsa -b 2048",
       "PasswordAuthentication no\nKbdInteractiveAuthentication no\nHostKeyAlgorithms ssh-rsa\n",
       "ssh-rsa",
       {"publickey"},
       false},
      {"-t ecdsa -b 256",
       "PasswordAuthentication yes\nKbdInteractiveAuthentication no\n",
       "ecdsa-sha2-nistp256",
       {"publickey", "password"},
       true},
      {"-t ecdsa -b 384",
       "PasswordAuthentication no\nKbdInteractiveAuthentication yes\n",
       "ecdsa-sha2-nistp384",
       {"publickey", "keyboard-interactive"},
       true},
      {"-t ecdsa -b 521",
       "PasswordAuthentication no\nKbdInteractiveAuthentication no\nCiphers aes256-ctr\nMACs "
       "hmac-sha2-512\n",
       "ecdsa-sha2-nistp521",
       {"publickey"},
       false,
       "aes256-ctr hmac-sha2-512"},
      {"-t ed25519",
       "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nMACs "
       "hmac-sha1-etm@openssh.com\n",
       "ssh-ed25519",
       {"publickey", "password"},
       true,
       "aes128-ctr hmac-sha1-etm@openssh.com"},
      // No CTR cipher: AES-GCM, which negotiates no MAC.
      {"-t ed25519",
       "PasswordAuthentication no\nKbdInteractiveAuthentication no\nCiphers "
       "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com\n",
       "ssh-ed25519",
       {"publickey"},
       false,
       "aes256-gcm@openssh.com"},
      {"-t ed25519",
       "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nCiphers "
       "chacha20-poly1305@openssh.com\n",
       "ssh-ed25519",
       {"publickey", "password"},
       true,
       "chacha20-poly1305@openssh.com"},
  };
  std::vector<std::unique_ptr<Server>> servers;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const fs::path key = dir.path() / ("key" + std::to_string(i));
    const fs::path config = dir.path() / ("sshd" + std::to_string(i) + ".conf");
    ASSERT_EQ(Shell("ssh-keygen -q " + cases[i].keygen + " -N '' -f " + key.string()), 0);
    std::ofstream(config) << common << cases[i].config;
    const std::uint16_t port = FreePort();
    servers.push_back(std::make_unique<Server>(
        std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f", config.string(), "-p",
                                 std::to_string(port), "-h", key.string()},
        dir.path() / ("sshd" + std::to_string(i) + ".log"), port));
    ASSERT_TRUE(servers.back()->Up()) << cases[i].config;
    ports.push_back(port);
  }
  const ProbeResult result = Probe(ports, kSshTestTimeout);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].keygen + " " + cases[i].config);
    const SshResult& ssh = SshOn(result, ports[i]);
    EXPECT_TRUE(ssh.signature_checked) << ::testing::PrintToString(ssh.problems);
    EXPECT_TRUE(ssh.signature_verified) << ssh.signature_problem;
    EXPECT_EQ(ssh.signature_algorithm, cases[i].signature_algorithm);
    EXPECT_EQ(ssh.transport, cases[i].transport);
    ASSERT_TRUE(ssh.have_auth_methods) << ::testing::PrintToString(ssh.problems);
    EXPECT_EQ(ssh.auth_methods, cases[i].methods);
    EXPECT_FALSE(ssh.auth_none_accepted);
    const auto rules = RulesOn(result, ports[i]);
    EXPECT_EQ(Has(rules, "net.ssh-password-auth"), cases[i].password_finding);
    EXPECT_FALSE(Has(rules, "net.ssh-host-key-signature-invalid"));
    EXPECT_FALSE(Has(rules, "net.ssh-no-authentication"));
  }
}

TEST(SshServers, SshdWith1024BitRsaKeyIsASmallKeyFinding) {
  if (!fs::exists("/usr/sbin/sshd") || Shell("command -v ssh-keygen") != 0) {
    GTEST_SKIP() << "openssh-server not installed (scripts/deps/probe.txt)";
  }
  std::error_code ec;
  fs::create_directories("/run/sshd", ec);
  ScratchDir dir;
  const fs::path key = dir.path() / "rsa1024";
  ASSERT_EQ(Shell("ssh-keygen -q -t rsa -b 1024 -N '' -f " + key.string()), 0);
  std::ofstream(dir.path() / "sshd.conf")
      << "PidFile none\nUsePAM no\nListenAddress 127.0.0.1\nPasswordAuthentication no\n"
         "KbdInteractiveAuthentication no\n";
  const std::uint16_t port = FreePort();
  Server sshd({"/usr/sbin/sshd", "-D", "-e", "-f", (dir.path() / "sshd.conf").string(), "-p",
               std::to_string(port), "-h", key.string()},
              dir.path() / "sshd.log", port);
  ASSERT_TRUE(sshd.Up());
  const ProbeResult result = Probe({port}, kSshTestTimeout);
  const SshResult& ssh = SshOn(result, port);
  EXPECT_EQ(ssh.host_key.bits, 1024u);
  EXPECT_TRUE(ssh.signature_verified) << ssh.signature_problem;
  const auto rules = RulesOn(result, port);
  EXPECT_TRUE(Has(rules, "net.ssh-small-host-key"));
  EXPECT_FALSE(Has(rules, "net.ssh-password-auth"));
}

TEST(SshServers, DropbearKeysAndPasswordOnAndOff) {
  if (!fs::exists("/usr/sbin/dropbear") || Shell("command -v dropbearkey") != 0) {
    GTEST_SKIP() << "dropbear-bin not installed (scripts/deps/probe.txt)";
  }
  ScratchDir dir;
  struct Case {
    std::string type;
    bool password_disabled;
    std::string signature_algorithm;
  };
  const std::vector<Case> cases = {{"ed25519", false, "ssh-ed25519"},
                                   {"ed25519", true, "ssh-ed25519"},
                                   {"rsa", true, "rsa-sha2-256"},
                                   {"ecdsa", false, "ecdsa-sha2-nistp256"}};
  std::vector<std::unique_ptr<Server>> servers;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const fs::path key = dir.path() / ("key" + std::to_string(i));
    ASSERT_EQ(Shell("dropbearkey -t " + cases[i].type + " -f " + key.string()), 0);
    const std::uint16_t port = FreePort();
    std::vector<std::string> argv = {
        "/usr/sbin/dropbear", "-F", "-E", "-p", "127.0.0.1:" + std::to_string(port), "-r",
        key.string()};
    if (cases[i].password_disabled) argv.push_back("-s");
    servers.push_back(std::make_unique<Server>(
        argv, dir.path() / ("dropbear" + std::to_string(i) + ".log"), port));
    ASSERT_TRUE(servers.back()->Up());
    ports.push_back(port);
  }
  const ProbeResult result = Probe(ports, kSshTestTimeout);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].type + (cases[i].password_disabled ? " -s" : ""));
    const SshResult& ssh = SshOn(result, ports[i]);
    EXPECT_TRUE(ssh.signature_verified) << ssh.signature_problem;
    EXPECT_EQ(ssh.signature_algorithm, cases[i].signature_algorithm);
    EXPECT_EQ(ssh.transport, "aes128-ctr hmac-sha2-256");  // dropbear has no -etm MACs
    ASSERT_TRUE(ssh.have_auth_methods) << ::testing::PrintToString(ssh.problems);
    const std::vector<std::string> expected =
        cases[i].password_disabled ? std::vector<std::string>{"publickey"}
                                   : std::vector<std::string>{"publickey", "password"};
    EXPECT_EQ(ssh.auth_methods, expected);
    EXPECT_EQ(Has(RulesOn(result, ports[i]), "net.ssh-password-auth"), !cases[i].password_disabled);
  }
}

}  // namespace
}  // namespace clearbox::probe
