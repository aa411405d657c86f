// The join of a probe with the firmware report of the device's image (`probe --report`):
// SSH host keys seen on the wire against the host keys shipped in the image, banner
// versions against the identified components, and services the image does not explain.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "probe/probe.hpp"

namespace clearbox::probe {

// report.json is read whole; a large image's report lists every file.
inline constexpr std::uint64_t kMaxJoinReportBytes = std::uint64_t{1} << 30;
// A host key file in the image larger than this is not a host key.
inline constexpr std::uint64_t kMaxHostKeyFileBytes = 64 << 10;
// A certificate or key file in the image larger than this is not read (a CA bundle is ~200 KiB).
inline constexpr std::uint64_t kMaxTlsKeyFileBytes = 512 << 10;
// Certificates and keys read from one image at most.
inline constexpr std::size_t kMaxImageTlsKeys = 4096;

// A host key shipped in the image: its path (relative to the unpacked tree) and fingerprint.
struct ImageHostKey {
  std::string path;
  HostKey key;
};
// A certificate or private key shipped in the image (read from a PEM/DER file).
struct ImageTlsKey {
  std::string path;
  std::string kind;  // "certificate" or "private-key"
  std::string spki_sha256;
  std::string subject;
};
struct ImageComponent {
  std::string name;
  std::string version;
};
// What the join needs from the firmware report.
struct ImageFacts {
  std::string report;  // the report's path as given
  std::vector<ImageHostKey> host_keys;
  std::vector<ImageTlsKey> tls_keys;
  std::vector<ImageComponent> components;
  std::vector<std::string> problems;  // host key files that could not be read or parsed
};

// Reads report.json and the SSH host keys (OpenSSH *.pub and openssh-key-v1 private keys,
// dropbear host keys) and the TLS certificates and keys (files named *.pem, *.crt, *.cer,
// *.key, *.der or under an ssl/ or certs/ directory) from the unpacked tree beside it
// (REPORT's directory/unpacked).
Result<ImageFacts> LoadImageFacts(const std::filesystem::path& report);

// The public key blob of one host key file's bytes (OpenSSH public line, openssh-key-v1
// private key, dropbear private key); kNotThisFormat for anything else.
Result<std::string> HostKeyBlobFromFile(std::string_view bytes);

// The software and version a banner names ("OpenSSH_9.2p1" -> openssh 9.2p1,
// "dropbear_2022.83", "lighttpd/1.4.69"); empty name when it names none.
ImageComponent SoftwareOfBanner(std::string_view banner);

// Adds the join's findings to result.findings (severities from `catalogue`) and returns the
// join's section of probe.json.
Result<nlohmann::json> JoinWithImage(ProbeResult& result, const ImageFacts& image,
                                     const rules::RuleCatalogue& catalogue);

}  // namespace clearbox::probe
