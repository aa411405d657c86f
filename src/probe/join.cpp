// The join of a probe with a firmware report (see join.hpp).
#include "probe/join.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "core/hashing.hpp"
#include "core/read_file.hpp"
#include "probe/image_keys.hpp"

namespace clearbox::probe {
namespace {

constexpr std::string_view kOpensshPrivateBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpensshPrivateEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpensshKeyMagic{"openssh-key-v1\0", 15};
constexpr std::uint32_t kMaxKeyFieldBytes = 16384;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string clean;
  for (const char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  }
  if (clean.empty() || clean.size() % 4 != 0) return Fail(ErrorCode::kMalformed, "bad base64");
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return Fail(ErrorCode::kMalformed, "bad base64");
  std::size_t size = static_cast<std::size_t>(n);
  for (std::size_t i = clean.size(); i > 0 && clean[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

// Reads one SSH string field and returns its bytes.
Result<std::string_view> Field(ByteReader& reader) {
  auto length = reader.U32();
  if (!length) return Forward(length);
  if (*length > kMaxKeyFieldBytes) return Fail(ErrorCode::kMalformed, "key field too long");
  auto bytes = reader.Bytes(*length);
  if (!bytes) return Forward(bytes);
  return AsText(*bytes);
}

ByteView ViewOf(std::string_view text) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

// The public blob of a dropbear private key: the type and the public fields copied.
Result<std::string> DropbearPublicBlob(std::string_view bytes) {
  ByteReader reader(ViewOf(bytes), Endian::kBig);
  auto type = Field(reader);
  if (!type) return Forward(type);
  const std::size_t after_type = reader.Position();
  if (*type == "ssh-ed25519") {
    auto both = Field(reader);
    if (!both) return Forward(both);
    if (both->size() != 64) return Fail(ErrorCode::kMalformed, "dropbear Ed25519 key size");
    std::string blob(bytes.substr(0, after_type));
    blob += std::string("\0\0\0\x20", 4);
    blob += both->substr(32);
    return blob;
  }
  int public_fields = 0;
  if (*type == "ssh-rsa" || type->starts_with("ecdsa-sha2-")) public_fields = 2;
  if (*type == "ssh-dss") public_fields = 4;
  if (public_fields == 0) return Fail(ErrorCode::kNotThisFormat, "not a dropbear host key");
  for (int i = 0; i < public_fields; ++i) {
    if (auto f = Field(reader); !f) return Forward(f);
  }
  return std::string(bytes.substr(0, reader.Position()));
}

// A file that may hold a TLS certificate or key: by extension or directory; CA bundles are
// skipped (they hold other parties' certificates).
bool MayHoldTlsKey(std::string_view path) {
  const std::string lower = Lower(path);
  const std::string_view name = std::string_view(lower).substr(lower.rfind('/') + 1);
  if (name.find("ca-certificates") != std::string::npos ||
      name.find("ca-bundle") != std::string::npos ||
      lower.find("/ca-certificates/") != std::string::npos) {
    return false;
  }
  for (std::string_view extension : {".pem", ".crt", ".cer", ".key", ".der"}) {
    if (name.ends_with(extension)) return true;
  }
  return lower.find("/ssl/") != std::string::npos || lower.starts_with("ssl/");
}

// The findings a join raises, rated by the catalogue; a rule the catalogue lacks is kept
// to fail the join.
struct JoinFindings {
  const rules::RuleCatalogue& catalogue;
  std::vector<Finding> added;
  std::string missing_rule;

  void Raise(std::string_view rule, const ServiceResult& s, std::string message,
             std::string evidence) {
    auto severity = catalogue.SeverityOf(rule);
    if (!severity) {
      missing_rule = rule;
      return;
    }
    added.push_back({std::string(rule), *severity, s.port, s.service, std::move(message),
                     EscapeEvidence(evidence, kEvidenceBytes)});
  }
};

// The software a banner names against the image's components.
void JoinSoftware(const ServiceResult& s, const ImageFacts& image, nlohmann::json& entry,
                  JoinFindings& sink) {
  std::string banner;
  if (s.ssh) banner = s.ssh->identification.software_version;
  if (s.http && s.http->head.Find("server")) banner = *s.http->head.Find("server");
  const ImageComponent software = SoftwareOfBanner(banner);
  if (!software.name.empty()) {
    entry["software"] = {{"name", software.name}, {"version", software.version}};
    std::vector<std::string> versions;
    for (const auto& c : image.components) {
      if (c.name == software.name) versions.push_back(c.version);
    }
    entry["image_versions"] = versions;
    if (versions.empty()) {
      sink.Raise("net.service-unexplained", s,
                 software.name + " answers but the image's components do not include it", banner);
    } else if (std::find(versions.begin(), versions.end(), software.version) == versions.end()) {
      sink.Raise(
          "net.banner-version-mismatch", s,
          software.name + " " + software.version + " answers; the image has " + versions.front(),
          banner);
    }
  }
}

// The SSH host key on the wire against the image's host keys.
void JoinSshHostKey(const ServiceResult& s, const ImageFacts& image, nlohmann::json& entry,
                    JoinFindings& sink) {
  if (s.ssh && s.ssh->have_host_key) {
    std::vector<std::string> matches;
    for (const auto& k : image.host_keys) {
      if (k.key.fingerprint == s.ssh->host_key.fingerprint) matches.push_back(k.path);
    }
    entry["host_key_in_image"] = matches;
    if (!matches.empty()) {
      sink.Raise("net.ssh-host-key-from-image", s,
                 "the host key " + s.ssh->host_key.fingerprint + " is shipped in the image at " +
                     matches.front(),
                 s.ssh->host_key.fingerprint);
    } else if (!image.host_keys.empty()) {
      sink.Raise(
          "net.ssh-host-key-mismatch", s,
          "the host key " + s.ssh->host_key.fingerprint + " is none of the image's host keys",
          s.ssh->host_key.fingerprint);
    }
  }
}

// The TLS certificate key on the wire against the image's certificates and private keys.
void JoinTlsKey(const ServiceResult& s, const ImageFacts& image, nlohmann::json& entry,
                JoinFindings& sink) {
  if (s.tls && !s.tls->chain.empty() && !s.tls->chain.front().spki_sha256.empty()) {
    const std::string& spki = s.tls->chain.front().spki_sha256;
    std::vector<std::string> certificates, keys;
    bool image_has_private_key = false;
    for (const auto& k : image.tls_keys) {
      image_has_private_key |= k.kind == "private-key";
      if (k.spki_sha256 != spki) continue;
      (k.kind == "private-key" ? keys : certificates).push_back(k.path);
    }
    entry["certificate_in_image"] = certificates;
    entry["private_key_in_image"] = keys;
    if (!certificates.empty() || !keys.empty()) {
      sink.Raise("net.tls-key-from-image", s,
                 "the certificate key on the wire (SPKI SHA-256 " + spki.substr(0, 16) +
                     "...) is shipped in the image" +
                     (keys.empty() ? " as a certificate at " + certificates.front()
                                   : " with its private key at " + keys.front()),
                 "spki_sha256 " + spki + ", subject " + s.tls->chain.front().subject);
    } else if (image_has_private_key) {
      sink.Raise("net.tls-certificate-mismatch", s,
                 "the certificate key on the wire is none of the image's private keys or "
                 "certificates",
                 "spki_sha256 " + spki);
    }
  }
}

}  // namespace

Result<std::string> HostKeyBlobFromFile(std::string_view bytes) {
  if (const std::size_t begin = bytes.find(kOpensshPrivateBegin); begin != std::string_view::npos) {
    const std::size_t body = begin + kOpensshPrivateBegin.size();
    const std::size_t end = bytes.find(kOpensshPrivateEnd, body);
    if (end == std::string_view::npos) return Fail(ErrorCode::kMalformed, "unterminated key");
    auto decoded = Base64Decode(bytes.substr(body, end - body));
    if (!decoded) return Forward(decoded);
    if (!decoded->starts_with(kOpensshKeyMagic)) {
      return Fail(ErrorCode::kMalformed, "not openssh-key-v1");
    }
    ByteReader reader(ViewOf(*decoded), Endian::kBig);
    if (auto skipped = reader.Skip(kOpensshKeyMagic.size()); !skipped) return Forward(skipped);
    for (int i = 0; i < 3; ++i) {  // cipher, kdf, kdf options
      if (auto f = Field(reader); !f) return Forward(f);
    }
    auto count = reader.U32();
    if (!count) return Forward(count);
    auto blob = Field(reader);
    if (!blob) return Forward(blob);
    return std::string(*blob);
  }
  for (std::string_view prefix : {"ssh-", "ecdsa-sha2-"}) {
    if (!bytes.starts_with(prefix)) continue;
    const std::size_t space = bytes.find(' ');
    if (space == std::string_view::npos) break;
    std::string_view rest = bytes.substr(space + 1);
    rest = rest.substr(0, rest.find_first_of(" \r\n"));
    return Base64Decode(rest);
  }
  if (bytes.size() > 4 && bytes[0] == '\0') return DropbearPublicBlob(bytes);
  return Fail(ErrorCode::kNotThisFormat, "not a host key");
}

ImageComponent SoftwareOfBanner(std::string_view banner) {
  banner = banner.substr(0, banner.find(' '));
  for (const char separator : {'_', '/'}) {
    const std::size_t at = banner.find(separator);
    if (at == std::string_view::npos || at == 0 || at + 1 >= banner.size()) continue;
    const std::string_view version = banner.substr(at + 1);
    if (!std::isdigit(static_cast<unsigned char>(version[0]))) continue;
    return {Lower(banner.substr(0, at)), std::string(version)};
  }
  return {};
}

Result<ImageFacts> LoadImageFacts(const std::filesystem::path& report) {
  auto text = ReadFileCapped(report, kMaxJoinReportBytes);
  if (!text) return Forward(text);
  ImageFacts facts;
  facts.report = report.string();
  const std::filesystem::path tree = report.parent_path() / "unpacked";
  try {
    const auto json = nlohmann::json::parse(*text);
    for (const auto& c : json.value("components", nlohmann::json::array())) {
      facts.components.push_back(
          {Lower(c.value("name", std::string())), c.value("version", std::string())});
    }
    for (const auto& f : json.value("files", nlohmann::json::array())) {
      const std::string path = f.value("path", std::string());
      const std::string type = f.value("type", std::string());
      const std::string name = path.substr(path.rfind('/') + 1);
      const bool host_key =
          (name.starts_with("ssh_host_") && name.find("_key") != std::string::npos) ||
          (name.starts_with("dropbear_") && name.ends_with("_host_key"));
      if (type == "symlink" || type == "directory" || path.find("..") != std::string::npos) {
        continue;
      }
      if (!host_key && MayHoldTlsKey(path) && facts.tls_keys.size() < kMaxImageTlsKeys) {
        auto bytes = ReadFileCapped(tree / path, kMaxTlsKeyFileBytes);
        auto keys = bytes ? TlsKeysFromFile(*bytes) : Forward(bytes);
        if (keys) {
          for (auto& k : *keys) {
            if (facts.tls_keys.size() >= kMaxImageTlsKeys) break;
            facts.tls_keys.push_back({path, k.kind, k.spki_sha256, k.subject});
          }
        } else if (keys.error().code != ErrorCode::kNotThisFormat) {
          facts.problems.push_back(path + ": " + keys.error().message);
        }
        continue;
      }
      if (!host_key) continue;
      auto bytes = ReadFileCapped(tree / path, kMaxHostKeyFileBytes);
      auto blob = bytes ? HostKeyBlobFromFile(*bytes) : Forward(bytes);
      auto key = blob ? ParseHostKey(ViewOf(*blob)) : Forward(blob);
      if (!key) {
        facts.problems.push_back(path + ": " + key.error().message);
        continue;
      }
      facts.host_keys.push_back({path, std::move(*key)});
    }
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, report.string() + ": " + e.what());
  }
  return facts;
}

Result<nlohmann::json> JoinWithImage(ProbeResult& result, const ImageFacts& image,
                                     const rules::RuleCatalogue& catalogue) {
  nlohmann::json services = nlohmann::json::array();
  JoinFindings sink{catalogue, {}, {}};
  for (const ServiceResult& s : result.services) {
    nlohmann::json entry = {{"port", s.port}, {"service", s.service}};
    JoinSoftware(s, image, entry, sink);
    JoinSshHostKey(s, image, entry, sink);
    JoinTlsKey(s, image, entry, sink);
    services.push_back(std::move(entry));
  }
  if (!sink.missing_rule.empty()) {
    return Fail(ErrorCode::kInternal, "the rule catalogue lacks " + sink.missing_rule);
  }
  result.findings.insert(result.findings.end(), sink.added.begin(), sink.added.end());
  std::sort(result.findings.begin(), result.findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.port, a.rule, a.message) < std::tie(b.port, b.rule, b.message);
  });
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : image.host_keys) {
    keys.push_back({{"path", k.path},
                    {"type", k.key.type},
                    {"bits", k.key.bits},
                    {"fingerprint", k.key.fingerprint}});
  }
  nlohmann::json tls_keys = nlohmann::json::array();
  for (const auto& k : image.tls_keys) {
    tls_keys.push_back({{"path", k.path},
                        {"kind", k.kind},
                        {"spki_sha256", k.spki_sha256},
                        {"subject", k.subject}});
  }
  return nlohmann::json{{"report", image.report},
                        {"image_host_keys", keys},
                        {"image_tls_keys", tls_keys},
                        {"services", services},
                        {"problems", image.problems}};
}

}  // namespace clearbox::probe
