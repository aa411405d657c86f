// Certificates and keys for the join (see image_keys.hpp).
#include "probe/image_keys.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "core/hashing.hpp"

namespace clearbox::probe {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// The password callback: never a password, so an encrypted key fails to decode.
int NoPassword(char*, int, int, void*) {
  return -1;
}

std::string SubjectOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

void AddCertificate(X509* cert, std::vector<TlsKeyInFile>& out) {
  std::string spki = SpkiSha256Hex(X509_get0_pubkey(cert));
  if (!spki.empty()) out.push_back({"certificate", std::move(spki), SubjectOf(cert)});
}

void AddKey(EVP_PKEY* key, std::vector<TlsKeyInFile>& out) {
  std::string spki = SpkiSha256Hex(key);
  if (!spki.empty()) out.push_back({"private-key", std::move(spki), ""});
}

BioPtr MemoryBio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), BIO_free);
}

}  // namespace

std::string SpkiSha256Hex(EVP_PKEY* key) {
  if (key == nullptr) return {};
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) return {};
  std::string hex = Sha256Hex(ByteView(der, static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return hex;
}

Result<std::vector<TlsKeyInFile>> TlsKeysFromFile(std::string_view bytes) {
  std::vector<TlsKeyInFile> out;
  if (bytes.find("-----BEGIN ") != std::string_view::npos) {
    // Each PEM block on its own: certificates, then private keys, skipping what fails.
    std::size_t at = 0;
    while (out.size() < kMaxTlsKeysPerFile) {
      const std::size_t begin = bytes.find("-----BEGIN ", at);
      if (begin == std::string_view::npos) break;
      const std::size_t end_marker = bytes.find("-----END ", begin);
      if (end_marker == std::string_view::npos) break;
      const std::size_t line_end = bytes.find('\n', end_marker);
      const std::size_t end = line_end == std::string_view::npos ? bytes.size() : line_end + 1;
      const std::string_view block = bytes.substr(begin, end - begin);
      at = end;
      const std::string_view label = block.substr(11, block.find("-----", 11) - 11);
      auto bio = MemoryBio(block);
      if (!bio) break;
      if (label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE") {
        X509Ptr cert(PEM_read_bio_X509_AUX(bio.get(), nullptr, NoPassword, nullptr), X509_free);
        if (cert) AddCertificate(cert.get(), out);
      } else if (label.ends_with("PRIVATE KEY") && label != "ENCRYPTED PRIVATE KEY") {
        PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr),
                    EVP_PKEY_free);
        if (key) AddKey(key.get(), out);
      }
    }
  } else if (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x30) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())), X509_free);
    if (cert) {
      AddCertificate(cert.get(), out);
    } else {
      p = reinterpret_cast<const unsigned char*>(bytes.data());
      PkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(bytes.size())), EVP_PKEY_free);
      if (key) AddKey(key.get(), out);
    }
  }
  ERR_clear_error();
  if (out.empty()) return Fail(ErrorCode::kNotThisFormat, "no certificate or private key");
  return out;
}

}  // namespace clearbox::probe
