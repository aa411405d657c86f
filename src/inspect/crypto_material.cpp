#include "inspect/crypto_material.hpp"

#include "inspect/rule_ids.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <vector>

#include "core/hex.hpp"

namespace clearbox::inspect {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct SigFree {
  void operator()(X509_SIG* s) const { X509_SIG_free(s); }
};
struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};

std::string Truncate(std::string s, std::size_t max = 240) {
  if (s.size() > max) {
    s.resize(max);
    s += "...";
  }
  return s;
}

// Describes a key as "RSA 2048 bits", "EC 256 bits", "ED25519 256 bits".
std::string DescribeKey(const EVP_PKEY* key, bool* weak) {
  const int id = EVP_PKEY_get_base_id(key);
  const int bits = EVP_PKEY_get_bits(key);
  const char* name = OBJ_nid2sn(id);
  std::string text = name ? name : "unknown";
  if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) text = "RSA";
  if (id == EVP_PKEY_DSA) text = "DSA";
  if (id == EVP_PKEY_EC) text = "EC";
  text += " " + std::to_string(bits) + " bits";
  if (weak) {
    *weak =
        (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS || id == EVP_PKEY_DSA) && bits < kMinRsaBits;
  }
  return text;
}

void AddKeyFindings(const CryptoContext& ctx, std::uint64_t offset, const std::string& format,
                    const std::string& description, bool encrypted, bool weak,
                    std::vector<Finding>& out, const EVP_PKEY* key = nullptr) {
  Finding f;
  f.path = std::string(ctx.path);
  f.offset = offset;
  f.evidence = Truncate(format + ": " + description);
  const std::string fingerprint = key ? PublicKeyFingerprint(key) : std::string();
  if (!fingerprint.empty() && ctx.keys) {
    ctx.keys->push_back(
        {fingerprint, false, false, false, std::string(ctx.path), offset, description, ""});
  }
  if (!fingerprint.empty() && ctx.known_keys) {
    auto it = ctx.known_keys->find(fingerprint);
    if (it != ctx.known_keys->end()) {
      // A published key protects nothing, but it is no leak of this product's secret.
      const KnownKey& known = *it->second;
      const bool test = known.status == KnownKeyStatus::kTest;
      f.rule = test ? kRuleKnownTestKey : kRuleKnownCompromisedKey;
      f.message = (test ? "Private key is a well-known public test key: "
                        : "Private key is a publicly leaked (compromised) key: ") +
                  known.source + ".";
      f.evidence = Truncate(format + ": " + description + "; " + fingerprint.substr(0, 23));
      out.push_back(f);
      return;
    }
  }
  if (encrypted) {
    f.rule = kRulePrivateKeyEncrypted;
    f.message = "Passphrase-protected private key (" + format + ") is stored in the image.";
  } else {
    f.rule = kRulePrivateKey;
    f.message = "Unencrypted private key (" + format + ") is stored in the image.";
  }
  out.push_back(f);
  if (weak) {
    Finding w = f;
    w.rule = kRuleWeakPrivateKey;
    w.message = "Private key is shorter than " + std::to_string(kMinRsaBits) + " bits (" +
                description + ").";
    out.push_back(w);
  }
}

std::string NameText(const X509_NAME* name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || !name) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return Truncate(len > 0 ? std::string(data, static_cast<std::size_t>(len)) : "", 160);
}

std::string TimeText(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

void InspectCertificate(X509* cert, const CryptoContext& ctx, std::uint64_t offset,
                        const std::string& format, std::vector<Finding>& out) {
  const std::string subject = NameText(X509_get_subject_name(cert));
  if (ctx.keys) {
    const EVP_PKEY* key = X509_get0_pubkey(cert);
    std::string fingerprint = key ? PublicKeyFingerprint(key) : std::string();
    ctx.keys->push_back({std::move(fingerprint), true, X509_check_ca(cert) >= 1,
                         ctx.trust_store != TrustStoreKind::kNone, std::string(ctx.path), offset,
                         subject, NameText(X509_get_issuer_name(cert))});
  }
  // A trust-store directory holds CA roots; a server's own (leaf or v1) certificate put
  // there is still the device's certificate and is judged.
  if (ctx.trust_store == TrustStoreKind::kBundle) return;
  if (ctx.trust_store == TrustStoreKind::kDirectory && X509_check_ca(cert) >= 1) return;
  const std::string not_after = TimeText(X509_get0_notAfter(cert));
  const int sig_nid = X509_get_signature_nid(cert);
  int md_nid = NID_undef, pk_nid = NID_undef;
  if (sig_nid != NID_undef) OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid);
  const char* sig_name = sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : nullptr;
  std::string key_text = "unknown key";
  bool weak_key = false;
  if (EVP_PKEY* key = X509_get0_pubkey(cert)) key_text = DescribeKey(key, &weak_key);
  const std::string evidence =
      Truncate(format + ": subject=" + subject + "; notAfter=" + not_after +
               "; signature=" + (sig_name ? sig_name : "unknown") + "; key=" + key_text);
  auto add = [&](std::string_view rule, const std::string& message,
                 std::string_view condition = {}) {
    out.push_back({std::string(rule), kRatedByCatalogue, std::string(ctx.path), message, evidence,
                   offset, std::string(condition)});
  };
  const std::string who = subject.empty() ? "(empty subject)" : subject;
  const time_t now = static_cast<time_t>(ctx.now_unix);
  const ASN1_TIME* na = X509_get0_notAfter(cert);
  if (na && ASN1_TIME_cmp_time_t(na, now) < 0 && ASN1_TIME_cmp_time_t(na, now) != -2) {
    add(kRuleCertExpired, "Certificate " + who + " expired on " + not_after + ".");
  }
  if (X509_self_signed(cert, 0) == 1) {
    if (ctx.in_binary && offset > 0) {
      // Compiled into a program, a kernel or a module, or carried by a signature: a key the
      // device verifies with (module signing, regulatory database), self-signed by design.
      add(kRuleCertTrustAnchor, "Certificate " + who + std::string(kTrustAnchorSuffix));
    } else {
      add(kRuleCertSelfSigned, X509_check_ca(cert) >= 1
                                   ? "Certificate " + who + std::string(kSelfSignedCaSuffix)
                                   : "Certificate " + who + " is self-signed.");
    }
  }
  if (weak_key) {
    add(kRuleCertWeakKey, "Certificate " + who + " has a weak key (" + key_text + ").");
  }
  if (md_nid == NID_md5 || md_nid == NID_md4 || md_nid == NID_md2) {
    add(kRuleCertWeakSignature,
        "Certificate " + who + " is signed with " + OBJ_nid2sn(md_nid) + ".");
  } else if (md_nid == NID_sha1) {
    add(kRuleCertWeakSignature, "Certificate " + who + " is signed with SHA-1.", kWhenSha1);
  }
}

// Describes an EncryptedPrivateKeyInfo's algorithm; false when it is not one.
bool DescribeEncryptedPkcs8(const unsigned char* der, long len, std::string* description) {
  const unsigned char* p = der;
  std::unique_ptr<X509_SIG, SigFree> sig(d2i_X509_SIG(nullptr, &p, len));
  if (!sig || p != der + len) return false;
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* digest = nullptr;
  X509_SIG_get0(sig.get(), &alg, &digest);
  if (!alg || !digest || ASN1_STRING_length(digest) < 16) return false;
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  char text[128] = {0};
  OBJ_obj2txt(text, sizeof text, oid, 1);
  const std::string dotted = text;
  // PKCS#5 (1.2.840.113549.1.5.*) and PKCS#12 PBE (1.2.840.113549.1.12.1.*) schemes.
  if (dotted.rfind("1.2.840.113549.1.5.", 0) != 0 &&
      dotted.rfind("1.2.840.113549.1.12.1.", 0) != 0) {
    return false;
  }
  const int nid = OBJ_obj2nid(oid);
  *description = nid != NID_undef ? OBJ_nid2ln(nid) : dotted;
  return true;
}

// Parses an unencrypted private key (PKCS#8 or traditional); nullptr when it is not one.
std::unique_ptr<EVP_PKEY, PkeyFree> ParsePrivateKeyDer(const unsigned char* der, long len) {
  const unsigned char* p = der;
  std::unique_ptr<EVP_PKEY, PkeyFree> key(d2i_AutoPrivateKey(nullptr, &p, len));
  if (!key || p != der + len) return nullptr;
  return key;
}

// Length of the DER TLV at data[offset] (a SEQUENCE), or 0.
std::size_t DerObjectLength(ByteView data, std::uint64_t offset) {
  if (offset >= data.size() || data.size() - offset < 2) return 0;
  const std::uint8_t* p = data.data() + offset;
  const std::size_t avail = data.size() - offset;
  if (p[0] != 0x30) return 0;
  std::size_t header = 2, length = 0;
  if (p[1] < 0x80) {
    length = p[1];
  } else {
    const std::size_t count = p[1] & 0x7f;
    if (count == 0 || count > 3 || avail < 2 + count) return 0;
    for (std::size_t i = 0; i < count; ++i) length = (length << 8) | p[2 + i];
    header += count;
  }
  const std::size_t total = header + length;
  if (total > avail || total > kMaxDerObjectBytes) return 0;
  return total;
}

// Reads an SSH wire string (uint32 length + bytes).
Result<ByteView> SshString(ByteReader& reader) {
  auto length = reader.U32();
  if (!length) return Forward(length);
  return reader.Bytes(*length);
}

std::string AsString(ByteView bytes) {
  return std::string(AsText(bytes));
}

int MpintBits(ByteView mpint) {
  std::size_t i = 0;
  while (i < mpint.size() && mpint[i] == 0) ++i;
  if (i == mpint.size()) return 0;
  int bits = static_cast<int>((mpint.size() - i) * 8);
  for (std::uint8_t top = mpint[i]; (top & 0x80) == 0; top = static_cast<std::uint8_t>(top << 1)) {
    --bits;
  }
  return bits;
}

}  // namespace

std::string NormalizePemBlock(std::string_view block) {
  struct Escape {
    std::string_view from, to;
  };
  // JSON/C escapes and XML character references of line breaks, and JSON's "\/".
  static constexpr Escape kEscapes[] = {
      {"\\r\\n", "\n"}, {"\\n", "\n"},    {"\\r", ""},    {"\\/", "/"},  {"&#10;", "\n"},
      {"&#xA;", "\n"},  {"&#xa;", "\n"},  {"&#13;", ""},  {"&#xD;", ""}, {"&#xd;", ""},
      {"&#x0A;", "\n"}, {"&#x0a;", "\n"}, {"&#x0D;", ""}, {"&#x0d;", ""}};
  std::string unescaped;
  unescaped.reserve(block.size());
  for (std::size_t i = 0; i < block.size();) {
    bool replaced = false;
    if (block[i] == '\\' || block[i] == '&') {
      for (const Escape& e : kEscapes) {
        if (block.substr(i).starts_with(e.from)) {
          unescaped += e.to;
          i += e.from.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) unescaped += block[i++];
  }
  // Indented lines (XML, YAML, source) and CR line ends: each line trimmed.
  std::string out;
  out.reserve(unescaped.size());
  std::size_t pos = 0;
  while (pos < unescaped.size()) {
    std::size_t end = unescaped.find('\n', pos);
    if (end == std::string::npos) end = unescaped.size();
    std::string_view line = std::string_view(unescaped).substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    out += line;  // empty lines kept: one ends the headers of an encrypted PEM key
    out += '\n';
  }
  return out;
}

std::string PublicKeyFingerprint(const EVP_PKEY* key) {
  unsigned char* der_raw = nullptr;
  const int len = i2d_PUBKEY(key, &der_raw);
  if (len <= 0 || !der_raw) return "";
  std::unique_ptr<unsigned char, OpenSslFree> der(der_raw);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(der.get(), static_cast<std::size_t>(len), md, &md_len, EVP_sha256(), nullptr) !=
      1) {
    return "";
  }
  return "sha256:" + HexEncode(ByteView(md, md_len));
}

Result<OpenSshKeyInfo> ParseOpenSshKey(ByteView blob) {
  static constexpr std::string_view kMagic("openssh-key-v1\0", 15);
  if (!HasBytesAt(blob, 0, kMagic)) return Fail(ErrorCode::kNotThisFormat, "no openssh magic");
  ByteReader reader(blob.subspan(kMagic.size()), Endian::kBig);
  OpenSshKeyInfo info;
  auto cipher = SshString(reader);
  if (!cipher) return Forward(cipher);
  auto kdf = SshString(reader);
  if (!kdf) return Forward(kdf);
  auto kdf_options = SshString(reader);
  if (!kdf_options) return Forward(kdf_options);
  auto count = reader.U32();
  if (!count) return Forward(count);
  if (*count == 0 || *count > kMaxOpenSshKeys) {
    return Fail(ErrorCode::kMalformed, "implausible openssh key count");
  }
  info.cipher = AsString(*cipher);
  info.kdf = AsString(*kdf);
  info.keys = *count;
  if (info.cipher.empty() || info.cipher.size() > 64 || info.kdf.size() > 64) {
    return Fail(ErrorCode::kMalformed, "implausible openssh cipher name");
  }
  auto public_key = SshString(reader);
  if (!public_key) return Forward(public_key);
  ByteReader pub(*public_key, Endian::kBig);
  auto type = SshString(pub);
  if (!type) return Forward(type);
  info.key_type = AsString(*type);
  if (info.key_type.empty() || info.key_type.size() > 64) {
    return Fail(ErrorCode::kMalformed, "implausible openssh key type");
  }
  if (info.key_type == "ssh-rsa") {
    auto e = SshString(pub);
    auto n = e ? SshString(pub) : Result<ByteView>(Unexpected(e.error()));
    if (n) info.bits = MpintBits(*n);
  } else if (info.key_type == "ssh-dss") {
    auto p = SshString(pub);
    if (p) info.bits = MpintBits(*p);
  } else if (info.key_type == "ssh-ed25519" || info.key_type == "sk-ssh-ed25519@openssh.com") {
    info.bits = 256;
  } else if (info.key_type.rfind("ecdsa-sha2-nistp", 0) == 0) {
    info.bits = std::atoi(info.key_type.c_str() + 16);
  }
  return info;
}

Result<DropbearKeyInfo> ParseDropbearKey(ByteView file) {
  ByteReader reader(file, Endian::kBig);
  auto type = SshString(reader);
  if (!type) return Forward(type);
  DropbearKeyInfo info;
  info.key_type = AsString(*type);
  std::size_t parts = 0;  // SSH strings/mpints that follow the type
  if (info.key_type == "ssh-rsa") {
    parts = 5;  // e, n, d, p, q
  } else if (info.key_type == "ssh-dss") {
    parts = 5;  // p, q, g, y, x
  } else if (info.key_type == "ssh-ed25519") {
    parts = 1;  // 32-byte seed + 32-byte public key
  } else if (info.key_type.starts_with("ecdsa-sha2-nistp")) {
    parts = 3;  // curve name, public point, private scalar
  } else {
    return Fail(ErrorCode::kNotThisFormat, "not a dropbear key type");
  }
  std::vector<ByteView> values;
  for (std::size_t i = 0; i < parts; ++i) {
    auto value = SshString(reader);
    if (!value) return Forward(value);
    if (value->empty()) return Fail(ErrorCode::kMalformed, "empty dropbear key part");
    values.push_back(*value);
  }
  if (reader.Remaining() != 0) return Fail(ErrorCode::kMalformed, "bytes after dropbear key");
  if (info.key_type == "ssh-rsa") {
    info.bits = MpintBits(values[1]);
  } else if (info.key_type == "ssh-dss") {
    info.bits = MpintBits(values[0]);
  } else if (info.key_type == "ssh-ed25519") {
    if (values[0].size() != 64) return Fail(ErrorCode::kMalformed, "bad ed25519 key size");
    info.bits = 256;
  } else {
    const std::string curve = AsString(values[0]);
    if (info.key_type != "ecdsa-sha2-" + curve) {
      return Fail(ErrorCode::kMalformed, "ecdsa curve name mismatch");
    }
    info.bits = std::atoi(curve.c_str() + 5);
  }
  if (info.bits <= 0) return Fail(ErrorCode::kMalformed, "implausible dropbear key size");
  return info;
}

std::uint64_t InspectDropbearKey(ByteView data, const CryptoContext& ctx,
                                 std::vector<Finding>& out) {
  if (data.size() < 16 || data.size() > kMaxDropbearKeyBytes || data[0] != 0 || data[1] != 0 ||
      data[2] != 0) {
    return 0;
  }
  auto info = ParseDropbearKey(data);
  if (!info) return 0;
  const bool weak =
      (info->key_type == "ssh-rsa" || info->key_type == "ssh-dss") && info->bits < kMinRsaBits;
  AddKeyFindings(ctx, 0, "dropbear", info->key_type + " " + std::to_string(info->bits) + " bits",
                 false, weak, out);
  return data.size();
}

TrustStoreKind ClassifyTrustStorePath(std::string_view path) {
  std::string p = "/" + std::string(path);
  const std::size_t slash = p.rfind('/');
  const std::string_view base = std::string_view(p).substr(slash + 1);
  if (base == "ca-certificates.crt" || base == "ca-bundle.crt" || base == "cacert.pem" ||
      base == "ca-bundle.pem" || base == "tls-ca-bundle.pem" || base == "ca-root-nss.crt" ||
      base.starts_with("libnssckbi.")) {  // NSS's built-in root store, compiled in
    return TrustStoreKind::kBundle;
  }
  for (std::string_view dir :
       {"/etc/ssl/certs/", "/usr/share/ca-certificates/", "/etc/pki/ca-trust/",
        "/etc/pki/tls/certs/", "/usr/local/share/ca-certificates/", "/etc/ca-certificates/"}) {
    if (p.find(dir) != std::string::npos) return TrustStoreKind::kDirectory;
  }
  return TrustStoreKind::kNone;
}

std::uint64_t InspectPem(ByteView data, std::uint64_t offset, const CryptoContext& ctx,
                         std::vector<Finding>& out) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  if (!HasBytesAt(data, offset, kBegin)) return 0;
  const std::string_view text = AsText(data).substr(offset);
  const std::size_t label_end = text.find("-----", kBegin.size());
  if (label_end == std::string_view::npos || label_end - kBegin.size() > 64) return 0;
  const std::string label(text.substr(kBegin.size(), label_end - kBegin.size()));
  const std::string end_marker = "-----END " + label + "-----";
  const std::string_view window = text.substr(0, std::min(text.size(), kMaxPemBlockBytes));
  const std::size_t end_pos = window.find(end_marker);
  if (end_pos == std::string_view::npos) return 0;
  const std::size_t block_len = end_pos + end_marker.size();
  const std::string header_line = "-----BEGIN " + label + "-----";

  if (label == "PGP PRIVATE KEY BLOCK") {
    if (block_len < 200) return 0;
    AddKeyFindings(ctx, offset, "PGP", "OpenPGP secret key block", false, false, out);
    return block_len;
  }

  // Blocks quoted in JSON, XML or source text are unescaped first.
  const std::string normalized = NormalizePemBlock(text.substr(0, block_len));
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(normalized.data(), static_cast<int>(normalized.size())));
  if (!bio) return 0;
  char* name_raw = nullptr;
  char* header_raw = nullptr;
  unsigned char* der_raw = nullptr;
  long der_len = 0;
  if (PEM_read_bio(bio.get(), &name_raw, &header_raw, &der_raw, &der_len) != 1) return 0;
  std::unique_ptr<char, OpenSslFree> name(name_raw);
  std::unique_ptr<char, OpenSslFree> header(header_raw);
  std::unique_ptr<unsigned char, OpenSslFree> der(der_raw);
  if (der_len <= 0) return 0;
  const std::string headers = header_raw ? header_raw : "";

  if (label == "OPENSSH PRIVATE KEY") {
    auto info = ParseOpenSshKey(ByteView(der.get(), static_cast<std::size_t>(der_len)));
    if (!info) return 0;
    std::string description = info->key_type;
    if (info->bits > 0) description += " " + std::to_string(info->bits) + " bits";
    if (info->encrypted()) description += ", cipher " + info->cipher + ", kdf " + info->kdf;
    const bool weak = (info->key_type == "ssh-rsa" || info->key_type == "ssh-dss") &&
                      info->bits > 0 && info->bits < kMinRsaBits;
    AddKeyFindings(ctx, offset, "OpenSSH", description, info->encrypted(), weak, out);
    return block_len;
  }
  if (label == "ENCRYPTED PRIVATE KEY") {
    std::string description;
    if (!DescribeEncryptedPkcs8(der.get(), der_len, &description)) return 0;
    AddKeyFindings(ctx, offset, "PEM PKCS#8", "encrypted with " + description, true, false, out);
    return block_len;
  }
  if (label == "PRIVATE KEY" || label == "RSA PRIVATE KEY" || label == "EC PRIVATE KEY" ||
      label == "DSA PRIVATE KEY") {
    const std::string format = label == "PRIVATE KEY" ? "PEM PKCS#8" : "PEM " + label;
    if (headers.find("ENCRYPTED") != std::string::npos) {
      std::string cipher = "unknown cipher";
      const std::size_t dek = headers.find("DEK-Info:");
      if (dek != std::string::npos) {
        std::size_t from = dek + 9;
        while (from < headers.size() && headers[from] == ' ') ++from;
        const std::size_t comma = headers.find_first_of(",\n", from);
        cipher =
            headers.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
      }
      if (der_len < 32) return 0;
      AddKeyFindings(ctx, offset, format, "encrypted with " + Truncate(cipher, 40), true, false,
                     out);
      return block_len;
    }
    auto key = ParsePrivateKeyDer(der.get(), der_len);
    if (!key) return 0;
    bool weak = false;
    const std::string description = DescribeKey(key.get(), &weak);
    AddKeyFindings(ctx, offset, format, description, false, weak, out, key.get());
    return block_len;
  }
  if (label == "CERTIFICATE" || label == "X509 CERTIFICATE" || label == "TRUSTED CERTIFICATE") {
    const unsigned char* p = der.get();
    std::unique_ptr<X509, X509Free> cert(label == "TRUSTED CERTIFICATE"
                                             ? d2i_X509_AUX(nullptr, &p, der_len)
                                             : d2i_X509(nullptr, &p, der_len));
    if (!cert) return 0;
    InspectCertificate(cert.get(), ctx, offset, "PEM certificate", out);
    return block_len;
  }
  (void)header_line;
  return 0;
}

std::uint64_t InspectDer(ByteView data, std::uint64_t offset, DerHint hint,
                         const CryptoContext& ctx, std::vector<Finding>& out) {
  const std::size_t total = DerObjectLength(data, offset);
  if (total < 32) return 0;
  const unsigned char* der = data.data() + offset;
  const long len = static_cast<long>(total);
  switch (hint) {
    case DerHint::kCertificate: {
      const unsigned char* p = der;
      std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, len));
      if (!cert || p != der + len) return 0;
      InspectCertificate(cert.get(), ctx, offset, "DER certificate", out);
      return total;
    }
    case DerHint::kPrivateKey: {
      auto key = ParsePrivateKeyDer(der, len);
      if (!key) return 0;
      bool weak = false;
      const std::string description = DescribeKey(key.get(), &weak);
      AddKeyFindings(ctx, offset, "DER", description, false, weak, out, key.get());
      return total;
    }
    case DerHint::kEncryptedPrivateKey: {
      std::string description;
      if (!DescribeEncryptedPkcs8(der, len, &description)) return 0;
      AddKeyFindings(ctx, offset, "DER PKCS#8", "encrypted with " + description, true, false, out);
      return total;
    }
  }
  return 0;
}

bool LooksBinary(ByteView data) {
  if (data.size() >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F') {
    return true;
  }
  const std::size_t n = std::min<std::size_t>(data.size(), 64 * 1024);
  for (std::size_t i = 0; i < n; ++i) {
    if (data[i] == 0) return true;
  }
  return false;
}

}  // namespace clearbox::inspect
