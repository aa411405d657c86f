#include "inspect/web_credentials.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

#include "core/hex.hpp"
#include "core/text_lines.hpp"

namespace clearbox::inspect {
namespace {

constexpr std::size_t kMaxLineBytes = 4096;

std::string_view Basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool PlausibleName(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f && c != ':';
  });
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

using Digest = std::array<unsigned char, EVP_MAX_MD_SIZE>;

// One digest over the concatenation of `parts`; false when OpenSSL fails.
bool DigestOf(const EVP_MD* md, std::initializer_list<std::string_view> parts, Digest& out,
              unsigned int* length) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return false;
  for (std::string_view p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return false;
  }
  return EVP_DigestFinal_ex(ctx.get(), out.data(), length) == 1;
}

std::string_view View(const Digest& d, std::size_t n) {
  return {reinterpret_cast<const char*>(d.data()), n};
}

}  // namespace

std::optional<WebCredentialFormat> ClassifyWebCredentialPath(std::string_view path) {
  const std::string p = "/" + std::string(path);
  const std::string_view base = Basename(p);
  if (base == ".htdigest" || base == "htdigest" || base.ends_with(".htdigest") ||
      base == "lighttpd-htdigest.user" || base == "lighttpd.htdigest") {
    return WebCredentialFormat::kHtdigest;
  }
  if (base == "htpasswd" || base.ends_with(".htpasswd") || base == "lighttpd-htpasswd.user") {
    return WebCredentialFormat::kHtpasswd;
  }
  // lighttpd's plain backend names its file lighttpd.user (Debian's conf-available/
  // 05-auth.conf: auth.backend.plain.userfile = "lighttpd.user").
  if (base == "lighttpd.user" || base == "lighttpd-plain.user") {
    return WebCredentialFormat::kUserPlain;
  }
  if (base == "boa_passwd" || base == "boa.passwd" ||
      (p.find("/lighttpd/") != std::string::npos && base.ends_with(".user"))) {
    return WebCredentialFormat::kUserSecret;
  }
  if (base == "httpd.conf" || base == "httpd.conf.default")
    return WebCredentialFormat::kBusyboxHttpd;
  return std::nullopt;
}

bool HoldsCryptHashes(WebCredentialFormat format) {
  return format == WebCredentialFormat::kHtpasswd;
}

std::vector<WebCredential> ParseWebCredentials(std::string_view text, WebCredentialFormat format) {
  std::vector<WebCredential> out;
  LineReader lines(text);
  while (out.size() < kMaxWebCredentials) {
    const auto next = lines.Next();
    if (!next) break;
    std::string_view line = next->text;
    const std::uint64_t offset = next->offset;
    if (line.empty() || line.size() > kMaxLineBytes || line.front() == '#') continue;
    WebCredential c;
    c.offset = offset;
    if (format == WebCredentialFormat::kBusyboxHttpd) {
      // "/cgi-bin:admin:secret"; "A:", "D:", "H:", ".ext:type", "*.php:..." are other rules.
      if (line.front() != '/') continue;
      const std::size_t first = line.find(':');
      if (first == std::string_view::npos) continue;
      line.remove_prefix(first + 1);
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    c.user = std::string(line.substr(0, colon));
    std::string_view rest = line.substr(colon + 1);
    if (format == WebCredentialFormat::kHtdigest) {
      const std::size_t realm_end = rest.find(':');
      if (realm_end == std::string_view::npos) continue;
      c.realm = std::string(rest.substr(0, realm_end));
      rest.remove_prefix(realm_end + 1);
      if (rest.size() != 32 ||
          rest.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
        continue;
      }
    }
    if (!PlausibleName(c.user)) continue;
    c.secret = std::string(rest);
    out.push_back(std::move(c));
  }
  return out;
}

std::string Apr1Crypt(std::string_view password, std::string_view setting) {
  static constexpr std::string_view kMagic = "$apr1$";
  if (!setting.starts_with(kMagic)) return "";
  std::string_view salt = setting.substr(kMagic.size());
  salt = salt.substr(0, std::min<std::size_t>(salt.find('$'), 8));
  const EVP_MD* md5 = EVP_md5();
  Digest alt{}, final{};
  unsigned int n = 0;
  if (!md5 || !DigestOf(md5, {password, salt, password}, alt, &n) || n != 16) return "";
  // The initial digest: password, magic, salt, then the alternate digest and bit-driven bytes.
  std::string start(password);
  start += kMagic;
  start += salt;
  for (std::size_t left = password.size(); left > 0; left -= std::min<std::size_t>(left, 16)) {
    start += View(alt, std::min<std::size_t>(left, 16));
  }
  for (std::size_t i = password.size(); i != 0; i >>= 1) {
    start += (i & 1) ? '\0' : (password.empty() ? '\0' : password[0]);
  }
  if (!DigestOf(md5, {start}, final, &n)) return "";
  for (int i = 0; i < 1000; ++i) {
    const std::string_view f = View(final, 16);
    const std::string_view a = (i & 1) ? password : f;
    const std::string_view b = (i % 3) ? salt : std::string_view();
    const std::string_view c = (i % 7) ? password : std::string_view();
    const std::string_view d = (i & 1) ? f : password;
    Digest next{};
    if (!DigestOf(md5, {a, b, c, d}, next, &n)) return "";
    final = next;
  }
  static constexpr char kItoa64[] =
      "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(kMagic);
  out += salt;
  out += '$';
  auto to64 = [&](unsigned long v, int count) {
    while (count-- > 0) {
      out += kItoa64[v & 0x3f];
      v >>= 6;
    }
  };
  static constexpr int kGroups[5][3] = {{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}};
  for (const auto& g : kGroups) {
    to64((static_cast<unsigned long>(final[g[0]]) << 16) |
             (static_cast<unsigned long>(final[g[1]]) << 8) | final[g[2]],
         4);
  }
  to64(final[11], 2);
  return out;
}

std::string HtpasswdSha1(std::string_view password) {
  Digest d{};
  unsigned int n = 0;
  if (!DigestOf(EVP_sha1(), {password}, d, &n) || n != 20) return "";
  unsigned char b64[32] = {0};
  const int len = EVP_EncodeBlock(b64, d.data(), 20);
  return "{SHA}" + std::string(reinterpret_cast<const char*>(b64), static_cast<std::size_t>(len));
}

std::string HtdigestHash(std::string_view user, std::string_view realm, std::string_view password) {
  Digest d{};
  unsigned int n = 0;
  if (!DigestOf(EVP_md5(), {user, ":", realm, ":", password}, d, &n) || n != 16) return "";
  return HexEncode(ByteView(d.data(), n));
}

}  // namespace clearbox::inspect
