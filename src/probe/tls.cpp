// The TLS check (see tls.hpp).
#include "probe/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <array>
#include <ctime>
#include <memory>

#include "probe/image_keys.hpp"

namespace clearbox::probe {
namespace {

using SslCtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using SslPtr = std::unique_ptr<SSL, decltype(&SSL_free)>;

// Every suite OpenSSL has, at security level 0 (so the weak ones are offered too).
constexpr const char* kAllCiphers = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
constexpr std::array<const char*, 5> kTls13Suites = {
    "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"};
struct VersionSpec {
  int version;
  const char* name;
};
constexpr std::array<VersionSpec, 4> kVersions = {{{TLS1_3_VERSION, "TLSv1.3"},
                                                   {TLS1_2_VERSION, "TLSv1.2"},
                                                   {TLS1_1_VERSION, "TLSv1.1"},
                                                   {TLS1_VERSION, "TLSv1"}}};

bool IsIpAddress(const std::string& host) {
  std::array<unsigned char, 16> buffer{};
  return ::inet_pton(AF_INET, host.c_str(), buffer.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer.data()) == 1;
}

std::string LastSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "handshake failed";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

// A client context pinned to `version` (0 = any), offering `ciphers` (TLS <= 1.2) and
// `suites` (TLS 1.3), verifying nothing (we record, we do not trust).
SslCtxPtr MakeContext(int version, const std::string& ciphers, const std::string& suites) {
  SslCtxPtr context(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (!context) return context;
  SSL_CTX_set_security_level(context.get(), 0);
  SSL_CTX_set_min_proto_version(context.get(), version);
  SSL_CTX_set_max_proto_version(context.get(), version);
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(context.get(), SSL_OP_LEGACY_SERVER_CONNECT);
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(context.get(), ciphers.c_str()) != 1) {
    return SslCtxPtr(nullptr, &SSL_CTX_free);
  }
  if (!suites.empty() && SSL_CTX_set_ciphersuites(context.get(), suites.c_str()) != 1) {
    return SslCtxPtr(nullptr, &SSL_CTX_free);
  }
  return context;
}

// Waits for the socket as OpenSSL asks after `rc`; false on a hard error or the deadline.
Result<void> WaitForSsl(SSL* ssl, int rc, const Connection& connection) {
  const int error = SSL_get_error(ssl, rc);
  short events = 0;
  if (error == SSL_ERROR_WANT_READ) {
    events = POLLIN;
  } else if (error == SSL_ERROR_WANT_WRITE) {
    events = POLLOUT;
  } else if (error == SSL_ERROR_ZERO_RETURN) {
    return Fail(ErrorCode::kTruncated, "peer closed the TLS session");
  } else {
    return Fail(ErrorCode::kMalformed, LastSslError());
  }
  pollfd p{connection.fd(), events, 0};
  const int ready = ::poll(&p, 1, MillisecondsLeft(connection.deadline()));
  if (ready <= 0) return Fail(ErrorCode::kTimeout, "TLS timed out");
  return {};
}

// One TLS session over its own connection.
struct Session {
  Connection connection;
  SslCtxPtr context;
  SslPtr ssl;
};

Result<Session> Handshake(const Address& address, std::uint16_t port, const std::string& host,
                          SslCtxPtr context, std::chrono::milliseconds timeout) {
  if (!context) return Fail(ErrorCode::kUnsupported, "our OpenSSL cannot offer this");
  auto connection = Connection::Open(address, port, Clock::now() + timeout);
  if (!connection) return Forward(connection);
  SslPtr ssl(SSL_new(context.get()), &SSL_free);
  if (!ssl) return Fail(ErrorCode::kInternal, "SSL_new failed");
  SSL_set_fd(ssl.get(), connection->fd());
  if (!IsIpAddress(host)) SSL_set_tlsext_host_name(ssl.get(), host.c_str());
  ERR_clear_error();
  for (;;) {
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    if (auto waited = WaitForSsl(ssl.get(), rc, *connection); !waited) return Forward(waited);
  }
  return Session{std::move(*connection), std::move(context), std::move(ssl)};
}

std::string Strength(const SSL_CIPHER* cipher) {
  const std::string name = SSL_CIPHER_get_name(cipher);
  const int cipher_nid = SSL_CIPHER_get_cipher_nid(cipher);
  if (cipher_nid == NID_undef) return "null";
  if (SSL_CIPHER_get_auth_nid(cipher) == NID_auth_null) return "anonymous";
  if (name.find("EXP") != std::string::npos) return "export";
  if (cipher_nid == NID_rc4 || cipher_nid == NID_rc4_40) return "rc4";
  if (cipher_nid == NID_des_cbc) return "des";
  if (cipher_nid == NID_des_ede3_cbc) return "3des";
  const bool aead = SSL_CIPHER_is_aead(cipher) != 0;
  if (!aead && SSL_CIPHER_get_digest_nid(cipher) == NID_sha1) return "cbc-sha1";
  const int kx = SSL_CIPHER_get_kx_nid(cipher);
  const bool forward_secret = kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_any ||
                              kx == NID_kx_ecdhe_psk || kx == NID_kx_dhe_psk;
  return aead && forward_secret ? "strong" : "medium";
}

std::string NameOf(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string TimeOf(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return "";
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text.data();
}

TlsCertificateResult DescribeCertificate(X509* cert, const std::string& host) {
  TlsCertificateResult out;
  out.subject = NameOf(X509_get_subject_name(cert));
  out.issuer = NameOf(X509_get_issuer_name(cert));
  out.self_signed = X509_check_issued(cert, cert) == X509_V_OK;
  if (EVP_PKEY* key = X509_get0_pubkey(cert)) {
    const char* type_name = EVP_PKEY_get0_type_name(key);
    out.key_type = type_name != nullptr ? type_name : "unknown";
    out.key_bits = EVP_PKEY_get_bits(key);
    out.spki_sha256 = SpkiSha256Hex(key);
  }
  const char* signature = OBJ_nid2ln(X509_get_signature_nid(cert));
  out.signature_algorithm = signature != nullptr ? signature : "unknown";
  out.not_before = TimeOf(X509_get0_notBefore(cert));
  out.not_after = TimeOf(X509_get0_notAfter(cert));
  out.expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
  out.not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(cert)) > 0;
  if (auto* names = static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && i < 64; ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) {
        const auto* text = ASN1_STRING_get0_data(name->d.dNSName);
        out.subject_alt_names.push_back(
            "DNS:" + std::string(reinterpret_cast<const char*>(text),
                                 static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName))));
      } else if (name->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = name->d.iPAddress;
        std::array<char, 64> text{};
        const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
        ::inet_ntop(family, ASN1_STRING_get0_data(ip), text.data(), text.size());
        out.subject_alt_names.push_back(std::string("IP:") + text.data());
      }
    }
    GENERAL_NAMES_free(names);
  }
  out.matches_host = IsIpAddress(host) ? X509_check_ip_asc(cert, host.c_str(), 0) == 1
                                       : X509_check_host(cert, host.c_str(), 0, 0, nullptr) == 1;
  return out;
}

// Enumerates the suites `version` accepts: offer all, note the one chosen, offer all but
// the ones seen, until the server refuses.
void EnumerateCiphers(const Address& address, std::uint16_t port, const std::string& host,
                      const VersionSpec& spec, std::chrono::milliseconds timeout,
                      TlsResult& result) {
  std::string excluded;
  std::vector<std::string> remaining_suites(kTls13Suites.begin(), kTls13Suites.end());
  for (int round = 0; round < kMaxCipherHandshakesPerVersion; ++round) {
    SslCtxPtr context(nullptr, &SSL_CTX_free);
    if (spec.version == TLS1_3_VERSION) {
      if (remaining_suites.empty()) return;
      std::string suites;
      for (const auto& s : remaining_suites) suites += (suites.empty() ? "" : ":") + s;
      context = MakeContext(spec.version, "", suites);
    } else {
      context = MakeContext(spec.version, kAllCiphers + excluded, "");
    }
    auto session = Handshake(address, port, host, std::move(context), timeout);
    if (!session) return;
    const SSL_CIPHER* cipher = SSL_get_current_cipher(session->ssl.get());
    if (cipher == nullptr) return;
    const std::string name = SSL_CIPHER_get_name(cipher);
    result.ciphers.push_back({spec.name, name, Strength(cipher)});
    if (spec.version == TLS1_3_VERSION) {
      const std::string standard = SSL_CIPHER_standard_name(cipher);
      std::erase(remaining_suites, standard);
      std::erase(remaining_suites, name);
    } else {
      excluded += ":!" + name;
    }
  }
}

}  // namespace

TlsResult CheckTls(const Address& address, std::uint16_t port, const std::string& host,
                   std::chrono::milliseconds timeout) {
  TlsResult result;
  for (const auto& spec : kVersions) {
    TlsVersionResult version;
    version.version = spec.name;
    auto context = MakeContext(spec.version, kAllCiphers, "");
    if (!context) {
      version.testable = false;
      version.problem = "our OpenSSL cannot offer " + std::string(spec.name);
      result.versions.push_back(version);
      continue;
    }
    auto session = Handshake(address, port, host, std::move(context), timeout);
    if (!session) {
      version.problem = session.error().message;
      result.versions.push_back(version);
      if (session.error().code == ErrorCode::kTimeout || session.error().code == ErrorCode::kIo) {
        result.problems.push_back(std::string(spec.name) + ": " + session.error().message +
                                  "; TLS check stopped");
        break;
      }
      continue;
    }
    version.accepted = true;
    SSL* ssl = session->ssl.get();
    version.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
    if (!result.handshake) {
      result.handshake = true;
      if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
        for (int i = 0; i < sk_X509_num(chain) && result.chain.size() < kMaxChainCertificates;
             ++i) {
          result.chain.push_back(DescribeCertificate(sk_X509_value(chain, i), host));
        }
      }
    }
    if (spec.version != TLS1_3_VERSION) {
      if (SSL_get_secure_renegotiation_support(ssl) != 0) result.secure_renegotiation = true;
      if (const COMP_METHOD* compression = SSL_get_current_compression(ssl)) {
        result.compression = SSL_COMP_get_name(compression);
      }
    }
    result.versions.push_back(version);
    EnumerateCiphers(address, port, host, spec, timeout, result);
  }
  return result;
}

HttpResult CheckHttps(const Address& address, std::uint16_t port, const std::string& host,
                      std::chrono::milliseconds timeout) {
  auto session = Handshake(address, port, host, MakeContext(0, kAllCiphers, ""), timeout);
  if (!session) {
    HttpResult failed;
    failed.problems.push_back("TLS: " + session.error().message);
    return failed;
  }
  SSL* ssl = session->ssl.get();
  const Connection& connection = session->connection;
  auto send = [&](std::string_view bytes) -> Result<void> {
    std::size_t done = 0;
    while (done < bytes.size()) {
      std::size_t written = 0;
      const int rc = SSL_write_ex(ssl, bytes.data() + done, bytes.size() - done, &written);
      if (rc == 1) {
        done += written;
        continue;
      }
      if (auto waited = WaitForSsl(ssl, rc, connection); !waited) return Forward(waited);
    }
    return {};
  };
  auto receive = [&](std::string& out, std::size_t max) -> Result<std::size_t> {
    const std::size_t old_size = out.size();
    out.resize(old_size + max);
    for (;;) {
      std::size_t got = 0;
      const int rc = SSL_read_ex(ssl, out.data() + old_size, max, &got);
      if (rc == 1) {
        out.resize(old_size + got);
        return got;
      }
      if (SSL_get_error(ssl, rc) == SSL_ERROR_ZERO_RETURN) {
        out.resize(old_size);
        return std::size_t{0};
      }
      if (auto waited = WaitForSsl(ssl, rc, connection); !waited) {
        out.resize(old_size);
        return Forward(waited);
      }
    }
  };
  return CheckHttp(host, send, receive);
}

}  // namespace clearbox::probe
