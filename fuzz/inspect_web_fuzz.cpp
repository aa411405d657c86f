// libFuzzer target for src/inspect/web_credentials: the input is parsed as every web
// credential format; each secret is classified and, for the OpenSSL-computed schemes,
// hashed once (apr1 with the input's own setting), so bounds and salt handling are exercised.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inspect/accounts.hpp"
#include "inspect/web_credentials.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox::inspect;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const WebCredentialFormat format :
       {WebCredentialFormat::kUserSecret, WebCredentialFormat::kHtdigest,
        WebCredentialFormat::kBusyboxHttpd}) {
    for (const WebCredential& c : ParseWebCredentials(text, format)) {
      if (c.user.empty() || c.user.find(':') != std::string_view::npos) __builtin_trap();
      if (format == WebCredentialFormat::kHtdigest && c.secret.size() != 32) __builtin_trap();
      std::string scheme;
      if (ClassifyPasswordField(c.secret, &scheme) == HashState::kHash && scheme == "apr1-md5") {
        const std::string again = Apr1Crypt("admin", c.secret);
        if (again.empty() || !again.starts_with("$apr1$")) __builtin_trap();
      }
      (void)HtdigestHash(c.user, c.realm, c.secret);
    }
  }
  if (size <= 4096) {
    (void)Apr1Crypt(text, text);
    (void)HtpasswdSha1(text);
  }
  return 0;
}
