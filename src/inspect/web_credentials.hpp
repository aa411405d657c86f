// Web-server credential files: Apache htpasswd/htdigest, lighttpd plain/htpasswd/htdigest
// user files, boa's password file, busybox/uhttpd httpd.conf "/path:user:password" lines;
// and the web-only hash schemes ($apr1$, {SHA}, htdigest MD5) computed with OpenSSL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clearbox::inspect {

// The line format of a web credential file.
enum class WebCredentialFormat : std::uint8_t {
  kHtpasswd,      // "user:hash" (Apache htpasswd, lighttpd-htpasswd.user): crypt(3), $apr1$, {SHA}
  kUserPlain,     // "user:password" in clear (lighttpd's plain backend: lighttpd.user)
  kUserSecret,    // "user:secret" whose scheme the name does not tell (boa_passwd, lighttpd *.user)
  kHtdigest,      // "user:realm:md5hex" (htdigest, lighttpd-htdigest.user)
  kBusyboxHttpd,  // busybox/uhttpd httpd.conf: "/path:user:secret" (other lines ignored)
};

// True when the format stores hashes, so that a bare traditional crypt(3) value (13 DES
// characters, or BSDi's "_" and 19) is one; elsewhere such a value is a password in clear.
bool HoldsCryptHashes(WebCredentialFormat format);

// The format a path selects (relative, '/'-separated), or nullopt when it is none of them.
std::optional<WebCredentialFormat> ClassifyWebCredentialPath(std::string_view path);

// One credential line.
struct WebCredential {
  std::string user;
  std::string realm;   // kHtdigest only
  std::string secret;  // as stored: a hash or a plain password
  std::uint64_t offset = 0;
};

// Credentials read from one file, at most.
inline constexpr std::size_t kMaxWebCredentials = 4096;

// Parses the credential lines of `text`; comments, blank, overlong and malformed lines are
// skipped (never fails).
std::vector<WebCredential> ParseWebCredentials(std::string_view text, WebCredentialFormat format);

// Apache's MD5-crypt variant: "$apr1$<salt>$<22 chars>" of `password` with the salt of
// `setting` (up to 8 characters after "$apr1$"); "" when `setting` is not "$apr1$...".
std::string Apr1Crypt(std::string_view password, std::string_view setting);

// Apache's unsalted "{SHA}" + base64(SHA-1(password)).
std::string HtpasswdSha1(std::string_view password);

// htdigest's hex MD5 of "user:realm:password".
std::string HtdigestHash(std::string_view user, std::string_view realm, std::string_view password);

}  // namespace clearbox::inspect
