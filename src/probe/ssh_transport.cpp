// SSH signature verification, key derivation and the encrypted packet (see ssh_transport.hpp).
#include "probe/ssh_transport.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

namespace clearbox::probe {
namespace {

// The AES block: the packet length must be a multiple of it (RFC 4253 6).
constexpr std::size_t kCipherBlockBytes = 16;
// RFC 5647 7.3: the authentication tag of AES-GCM.
constexpr std::size_t kGcmTagBytes = 16;
// chacha20-poly1305@openssh.com (OpenSSH's PROTOCOL.chacha20poly1305): two 256-bit ChaCha20
// keys, an 8-byte block and a 16-byte Poly1305 tag.
constexpr std::size_t kChaChaKeyBytes = 32;
constexpr std::size_t kChaChaBlockBytes = 8;
constexpr std::size_t kPoly1305TagBytes = 16;
// The shortest packet_length of any form (1 byte of padding_length, payload, 4 of padding).
constexpr std::uint32_t kMinEncryptedPacketLength = 8;
// RFC 4253 6: at least 4 bytes of padding.
constexpr std::size_t kMinPaddingBytes = 4;
// An RSA modulus or ECDSA scalar larger than this is refused (RSA-16384 is 2 KiB).
constexpr std::uint32_t kMaxMpintBytes = 2049;

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

ByteView ViewOf(std::string_view text) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

void AppendU32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
}
void AppendString(std::string& out, std::string_view text) {
  AppendU32(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

// The magnitude of a positive mpint (no sign byte); kMalformed for a negative one.
Result<ByteView> ReadPositiveMpint(ByteReader& reader, const char* what) {
  auto bytes = ReadSshString(reader, kMaxMpintBytes, what);
  if (!bytes) return Forward(bytes);
  ByteView view = ViewOf(*bytes);
  if (!view.empty() && (view[0] & 0x80) != 0) {
    return Fail(ErrorCode::kMalformed, std::string(what) + " is negative");
  }
  while (!view.empty() && view[0] == 0) view = view.subspan(1);
  return view;
}

BnPtr ToBignum(ByteView magnitude) {
  return BnPtr(BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr), &BN_free);
}

// An EVP_PKEY from OSSL parameters (`type` "RSA" or "EC"); nullptr when OpenSSL refuses them.
PkeyPtr KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  PkeyPtr none(nullptr, &EVP_PKEY_free);
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(builder),
                                                                 &OSSL_PARAM_free);
  PkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), &EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return none;
  }
  return PkeyPtr(key, &EVP_PKEY_free);
}

// One-shot EVP_DigestVerify of `signature` over `message` (`digest` nullptr for Ed25519).
bool DigestVerify(EVP_PKEY* key, const EVP_MD* digest, ByteView signature, ByteView message) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  return context && EVP_DigestVerifyInit(context.get(), nullptr, digest, nullptr, key) > 0 &&
         EVP_DigestVerify(context.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

SignatureCheck NotVerified(std::string algorithm, std::string detail) {
  return {std::move(algorithm), false, std::move(detail)};
}

// ssh-rsa keys: e, n; signatures rsa-sha2-256, rsa-sha2-512 or ssh-rsa (SHA-1), PKCS#1 v1.5.
SignatureCheck VerifyRsa(ByteReader& key_reader, const SshSignature& signature, ByteView hash) {
  const EVP_MD* digest = signature.algorithm == "rsa-sha2-512"   ? EVP_sha512()
                         : signature.algorithm == "rsa-sha2-256" ? EVP_sha256()
                         : signature.algorithm == "ssh-rsa"      ? EVP_sha1()
                                                                 : nullptr;
  if (digest == nullptr) {
    return NotVerified(signature.algorithm, "signature type does not fit an RSA key");
  }
  auto exponent = ReadPositiveMpint(key_reader, "RSA exponent");
  auto modulus = exponent ? ReadPositiveMpint(key_reader, "RSA modulus") : exponent;
  if (!modulus) return NotVerified(signature.algorithm, "host key: " + modulus.error().message);
  BnPtr n = ToBignum(*modulus), e = ToBignum(*exponent);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          &OSSL_PARAM_BLD_free);
  if (!n || !e || !builder ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return NotVerified(signature.algorithm, "RSA key not accepted by OpenSSL");
  }
  PkeyPtr key = KeyFromParams("RSA", builder.get());
  if (!key) return NotVerified(signature.algorithm, "RSA key not accepted by OpenSSL");
  // RFC 8332 3: the signature is as long as the modulus; shorter ones are left-padded.
  if (signature.blob.size() > modulus->size()) {
    return NotVerified(signature.algorithm, "RSA signature longer than the modulus");
  }
  std::vector<std::uint8_t> padded(modulus->size() - signature.blob.size(), 0);
  padded.insert(padded.end(), signature.blob.begin(), signature.blob.end());
  if (!DigestVerify(key.get(), digest, ByteView(padded.data(), padded.size()), hash)) {
    return NotVerified(signature.algorithm, "RSA signature does not verify");
  }
  return {signature.algorithm, true, ""};
}

// ecdsa-sha2-nistpN keys: curve name, point; signature blob: mpint r, mpint s (RFC 5656 3.1).
SignatureCheck VerifyEcdsa(std::string_view key_type, ByteReader& key_reader,
                           const SshSignature& signature, ByteView hash) {
  const std::string_view curve = key_type.substr(std::string_view("ecdsa-sha2-").size());
  const char* group = curve == "nistp256"   ? "P-256"
                      : curve == "nistp384" ? "P-384"
                      : curve == "nistp521" ? "P-521"
                                            : nullptr;
  const EVP_MD* digest = curve == "nistp256"   ? EVP_sha256()
                         : curve == "nistp384" ? EVP_sha384()
                                               : EVP_sha512();
  if (group == nullptr) return NotVerified(signature.algorithm, "unknown ECDSA curve");
  if (signature.algorithm != key_type) {
    return NotVerified(signature.algorithm,
                       "signature type does not fit the " + std::string(key_type) + " key");
  }
  auto key_curve = ReadSshString(key_reader, kMaxAlgorithmNameBytes, "curve name");
  auto point = key_curve ? ReadSshString(key_reader, kMaxMpintBytes, "ECDSA point") : key_curve;
  if (!point) return NotVerified(signature.algorithm, "host key: " + point.error().message);
  if (*key_curve != curve) return NotVerified(signature.algorithm, "key curve differs from type");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                          &OSSL_PARAM_BLD_free);
  if (!builder ||
      !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point->data(),
                                        point->size())) {
    return NotVerified(signature.algorithm, "ECDSA key not accepted by OpenSSL");
  }
  PkeyPtr key = KeyFromParams("EC", builder.get());
  if (!key) return NotVerified(signature.algorithm, "ECDSA key not accepted by OpenSSL");
  ByteReader blob(signature.blob, Endian::kBig);
  auto r = ReadPositiveMpint(blob, "ECDSA r");
  auto s = r ? ReadPositiveMpint(blob, "ECDSA s") : r;
  if (!s) return NotVerified(signature.algorithm, "signature: " + s.error().message);
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
  BnPtr r_bn = ToBignum(*r), s_bn = ToBignum(*s);
  if (!sig || !r_bn || !s_bn || ECDSA_SIG_set0(sig.get(), r_bn.get(), s_bn.get()) != 1) {
    return NotVerified(signature.algorithm, "ECDSA signature not accepted by OpenSSL");
  }
  (void)r_bn.release();  // owned by sig now
  (void)s_bn.release();
  unsigned char* der = nullptr;
  const int der_size = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_size <= 0) return NotVerified(signature.algorithm, "ECDSA signature not encodable");
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* p) { OPENSSL_free(p); });
  if (!DigestVerify(key.get(), digest, ByteView(der, static_cast<std::size_t>(der_size)), hash)) {
    return NotVerified(signature.algorithm, "ECDSA signature does not verify");
  }
  return {signature.algorithm, true, ""};
}

// ssh-ed25519 keys: 32-byte point; signature blob: 64 bytes (RFC 8709 6).
SignatureCheck VerifyEd25519(ByteReader& key_reader, const SshSignature& signature, ByteView hash) {
  if (signature.algorithm != "ssh-ed25519") {
    return NotVerified(signature.algorithm, "signature type does not fit an Ed25519 key");
  }
  auto point = ReadSshString(key_reader, kMaxAlgorithmNameBytes, "Ed25519 key");
  if (!point || point->size() != 32) {
    return NotVerified(signature.algorithm, "host key: Ed25519 key is not 32 bytes");
  }
  if (signature.blob.size() != 64) {
    return NotVerified(signature.algorithm, "Ed25519 signature is not 64 bytes");
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(point->data()),
                                          point->size()),
              &EVP_PKEY_free);
  if (!key) return NotVerified(signature.algorithm, "Ed25519 key not accepted by OpenSSL");
  if (!DigestVerify(key.get(), nullptr, signature.blob, hash)) {
    return NotVerified(signature.algorithm, "Ed25519 signature does not verify");
  }
  return {signature.algorithm, true, ""};
}

}  // namespace

Result<std::string_view> ReadSshString(ByteReader& reader, std::uint32_t cap, const char* what) {
  auto length = reader.U32();
  if (!length) return Forward(length);
  if (*length > cap) {
    return Fail(ErrorCode::kMalformed, std::string(what) + " longer than " + std::to_string(cap));
  }
  auto bytes = reader.Bytes(*length);
  if (!bytes) return Forward(bytes);
  return AsText(*bytes);
}

Result<std::vector<std::string>> ReadNameList(ByteReader& reader) {
  auto text = ReadSshString(reader, kMaxNameListBytes, "name-list");
  if (!text) return Forward(text);
  std::vector<std::string> names;
  std::string_view rest = *text;
  while (!rest.empty() && names.size() < kMaxNamesPerList) {
    const std::size_t comma = rest.find(',');
    names.emplace_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return names;
}

Result<EcdhReply> ParseEcdhReply(ByteView payload) {
  ByteReader reader(payload, Endian::kBig);
  auto type = reader.U8();
  if (!type) return Forward(type);
  if (*type != kSshMsgKexEcdhReply) {
    return Fail(ErrorCode::kMalformed,
                "message " + std::to_string(*type) + " is not KEX_ECDH_REPLY");
  }
  auto host_key = ReadSshString(reader, kMaxHostKeyBlobBytes, "host key");
  if (!host_key) return Forward(host_key);
  auto server_public = ReadSshString(reader, kCurve25519Bytes, "server public value");
  if (!server_public) return Forward(server_public);
  if (server_public->size() != kCurve25519Bytes) {
    return Fail(ErrorCode::kMalformed, "server public value is not 32 bytes");
  }
  auto signature = ReadSshString(reader, kMaxSignatureBytes, "signature");
  if (!signature) return Forward(signature);
  return EcdhReply{ViewOf(*host_key), ViewOf(*server_public), ViewOf(*signature)};
}

Result<SshSignature> ParseSshSignature(ByteView signature) {
  ByteReader reader(signature, Endian::kBig);
  auto algorithm = ReadSshString(reader, kMaxAlgorithmNameBytes, "signature algorithm");
  if (!algorithm) return Forward(algorithm);
  auto blob = ReadSshString(reader, kMaxSignatureBytes, "signature blob");
  if (!blob) return Forward(blob);
  return SshSignature{std::string(*algorithm), ViewOf(*blob)};
}

std::string EncodeMpint(ByteView magnitude) {
  while (!magnitude.empty() && magnitude[0] == 0) magnitude = magnitude.subspan(1);
  std::string body;
  if (!magnitude.empty() && (magnitude[0] & 0x80) != 0) body += '\0';
  body.append(reinterpret_cast<const char*>(magnitude.data()), magnitude.size());
  std::string out;
  AppendString(out, body);
  return out;
}

std::string ExchangeHash(const ExchangeHashInput& input) {
  std::string data;
  for (std::string_view part : {input.client_identification, input.server_identification,
                                input.client_kexinit, input.server_kexinit, AsText(input.host_key),
                                AsText(input.client_public), AsText(input.server_public)}) {
    AppendString(data, part);
  }
  data += input.shared_secret_mpint;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), size);
}

Result<SignatureCheck> VerifyHostKeySignature(ByteView host_key_blob, ByteView signature,
                                              std::string_view hash,
                                              std::string_view negotiated_algorithm) {
  ByteReader key_reader(host_key_blob, Endian::kBig);
  auto key_type = ReadSshString(key_reader, kMaxAlgorithmNameBytes, "host key type");
  if (!key_type) return NotVerified("", "host key: " + key_type.error().message);
  auto parsed = ParseSshSignature(signature);
  if (!parsed) return NotVerified("", "signature: " + parsed.error().message);
  if (parsed->algorithm != negotiated_algorithm) {
    return NotVerified(parsed->algorithm, "signature type differs from the negotiated " +
                                              std::string(negotiated_algorithm));
  }
  const ByteView message = ViewOf(hash);
  if (*key_type == "ssh-rsa") return VerifyRsa(key_reader, *parsed, message);
  if (key_type->starts_with("ecdsa-sha2-")) {
    return VerifyEcdsa(*key_type, key_reader, *parsed, message);
  }
  if (*key_type == "ssh-ed25519") return VerifyEd25519(key_reader, *parsed, message);
  return Fail(ErrorCode::kUnsupported,
              "cannot verify signatures of " + std::string(*key_type) + " host keys");
}

std::string DeriveKey(std::string_view shared_secret_mpint, std::string_view hash,
                      std::string_view session_id, char letter, std::size_t size) {
  std::string key;
  std::string input =
      std::string(shared_secret_mpint) + std::string(hash) + letter + std::string(session_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  while (key.size() < size) {
    unsigned int digest_size = 0;
    EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha256(), nullptr);
    key.append(reinterpret_cast<const char*>(digest.data()), digest_size);
    // RFC 4253 7.2: K2 = HASH(K || H || K1), K3 = HASH(K || H || K1 || K2), ...
    input = std::string(shared_secret_mpint) + std::string(hash) + key;
  }
  key.resize(size);
  return key;
}

Result<SshPacketCipher> SshPacketCipher::Create(std::string_view cipher, std::string_view mac,
                                                std::string_view shared_secret_mpint,
                                                std::string_view hash, bool client_to_server,
                                                bool sealing, std::uint32_t sequence) {
  const EVP_CIPHER* evp_cipher = cipher == "aes128-ctr"               ? EVP_aes_128_ctr()
                                 : cipher == "aes256-ctr"             ? EVP_aes_256_ctr()
                                 : cipher == "aes128-gcm@openssh.com" ? EVP_aes_128_gcm()
                                 : cipher == "aes256-gcm@openssh.com" ? EVP_aes_256_gcm()
                                                                      : nullptr;
  const bool gcm = cipher.ends_with("-gcm@openssh.com");
  const bool chacha = cipher == "chacha20-poly1305@openssh.com";
  // OpenSSH's encrypt-then-MAC variants: the same HMACs over the encrypted packet.
  constexpr std::string_view kEtmSuffix = "-etm@openssh.com";
  const bool etm = mac.ends_with(kEtmSuffix);
  const std::string_view hmac = etm ? mac.substr(0, mac.size() - kEtmSuffix.size()) : mac;
  const EVP_MD* digest = hmac == "hmac-sha2-256"   ? EVP_sha256()
                         : hmac == "hmac-sha2-512" ? EVP_sha512()
                         : hmac == "hmac-sha1"     ? EVP_sha1()
                                                   : nullptr;
  if ((evp_cipher == nullptr && !chacha) || (digest == nullptr && !gcm && !chacha)) {
    return Fail(ErrorCode::kUnsupported,
                "transport " + std::string(cipher) + " with " + std::string(mac));
  }
  // The first exchange's H is the session id (RFC 4253 7.2).
  const std::string_view session_id = hash;
  const char iv_letter = client_to_server ? 'A' : 'B';
  SshPacketCipher out;
  out.sequence_ = sequence;
  out.sealing_ = sealing;
  if (chacha) {
    out.chacha_ = true;
    out.block_ = kChaChaBlockBytes;
    out.chacha_keys_ = DeriveKey(shared_secret_mpint, hash, session_id,
                                 static_cast<char>(iv_letter + 2), 2 * kChaChaKeyBytes);
    return out;
  }
  out.gcm_ = gcm;
  out.iv_ = DeriveKey(shared_secret_mpint, hash, session_id, iv_letter,
                      static_cast<std::size_t>(EVP_CIPHER_get_iv_length(evp_cipher)));
  const std::string key =
      DeriveKey(shared_secret_mpint, hash, session_id, static_cast<char>(iv_letter + 2),
                static_cast<std::size_t>(EVP_CIPHER_get_key_length(evp_cipher)));
  if (!gcm) {
    out.mac_digest_ = digest;
    out.encrypt_then_mac_ = etm;
    out.mac_key_ =
        DeriveKey(shared_secret_mpint, hash, session_id, static_cast<char>(iv_letter + 4),
                  static_cast<std::size_t>(EVP_MD_get_size(digest)));
  }
  out.context_.reset(EVP_CIPHER_CTX_new());
  if (!out.context_ || EVP_CipherInit_ex(out.context_.get(), evp_cipher, nullptr,
                                         reinterpret_cast<const unsigned char*>(key.data()),
                                         reinterpret_cast<const unsigned char*>(out.iv_.data()),
                                         sealing ? 1 : 0) != 1) {
    return Fail(ErrorCode::kInternal, "cipher initialisation failed");
  }
  return out;
}

Result<std::string> SshPacketCipher::GcmCrypt(std::string_view length, std::string_view body,
                                              std::string& out, std::string_view tag) {
  int written = 0;
  const std::size_t start = out.size();
  out.resize(start + body.size());
  bool ok = EVP_CipherInit_ex(context_.get(), nullptr, nullptr, nullptr,
                              reinterpret_cast<const unsigned char*>(iv_.data()),
                              sealing_ ? 1 : 0) == 1 &&
            EVP_CipherUpdate(context_.get(), nullptr, &written,
                             reinterpret_cast<const unsigned char*>(length.data()),
                             static_cast<int>(length.size())) == 1 &&
            EVP_CipherUpdate(context_.get(), reinterpret_cast<unsigned char*>(out.data() + start),
                             &written, reinterpret_cast<const unsigned char*>(body.data()),
                             static_cast<int>(body.size())) == 1;
  if (ok && !sealing_) {
    ok = EVP_CIPHER_CTX_ctrl(context_.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                             const_cast<char*>(tag.data())) == 1;
  }
  std::array<unsigned char, 16> final_block{};
  const bool authentic =
      ok && EVP_CipherFinal_ex(context_.get(), final_block.data(), &written) == 1;
  // RFC 5647 7.1: the invocation counter (the IV's last 8 bytes) counts packets.
  for (std::size_t i = iv_.size(); i-- > iv_.size() - 8;) {
    if (++iv_[i] != '\0') break;
  }
  if (!authentic) {
    return Fail(ErrorCode::kMalformed,
                "GCM tag of packet " + std::to_string(sequence_) + " does not verify");
  }
  std::string out_tag(kGcmTagBytes, '\0');
  if (sealing_ && EVP_CIPHER_CTX_ctrl(context_.get(), EVP_CTRL_GCM_GET_TAG,
                                      static_cast<int>(kGcmTagBytes), out_tag.data()) != 1) {
    return Fail(ErrorCode::kInternal, "GCM tag unavailable");
  }
  return out_tag;
}

Result<std::string> SshPacketCipher::Mac(std::string_view packet) const {
  std::string input;
  AppendU32(input, sequence_);
  input += packet;
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  if (HMAC(mac_digest_, mac_key_.data(), static_cast<int>(mac_key_.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(),
           &size) == nullptr) {
    return Fail(ErrorCode::kInternal, "HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

bool SshPacketCipher::Crypt(std::string_view in, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + in.size());
  int written = 0;
  return EVP_CipherUpdate(context_.get(), reinterpret_cast<unsigned char*>(out.data() + start),
                          &written, reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size())) == 1;
}

Result<std::string> SshPacketCipher::ChaCha(bool header, std::uint64_t counter,
                                            std::string_view in) const {
  // OpenSSH's ChaCha20 has a 64-bit counter and a 64-bit nonce (the sequence number); in
  // OpenSSL's 16-byte IV they are the little-endian counter, then the big-endian nonce.
  std::array<unsigned char, 16> iv{};
  for (std::size_t i = 0; i < 8; ++i) {
    iv[i] = static_cast<unsigned char>(counter >> (8 * i));
    iv[15 - i] = static_cast<unsigned char>(static_cast<std::uint64_t>(sequence_) >> (8 * i));
  }
  const auto* key =
      reinterpret_cast<const unsigned char*>(chacha_keys_.data()) + (header ? kChaChaKeyBytes : 0);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> context(EVP_CIPHER_CTX_new(),
                                                                          &EVP_CIPHER_CTX_free);
  std::string out(in.size(), '\0');
  int written = 0;
  if (!context || EVP_EncryptInit_ex(context.get(), EVP_chacha20(), nullptr, key, iv.data()) != 1 ||
      EVP_EncryptUpdate(context.get(), reinterpret_cast<unsigned char*>(out.data()), &written,
                        reinterpret_cast<const unsigned char*>(in.data()),
                        static_cast<int>(in.size())) != 1) {
    return Fail(ErrorCode::kInternal, "ChaCha20 failed");
  }
  return out;
}

Result<std::string> SshPacketCipher::Poly1305(std::string_view data) const {
  auto key = ChaCha(false, 0, std::string(kChaChaKeyBytes, '\0'));
  if (!key) return Forward(key);
  std::array<unsigned char, kPoly1305TagBytes> tag{};
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "POLY1305", nullptr, nullptr, nullptr,
                reinterpret_cast<const unsigned char*>(key->data()), key->size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), tag.data(),
                tag.size(), &size) == nullptr) {
    return Fail(ErrorCode::kInternal, "Poly1305 failed");
  }
  return std::string(reinterpret_cast<const char*>(tag.data()), size);
}

Result<std::string> SshPacketCipher::Seal(std::string_view payload) {
  // The encrypted part (with packet_length unless encrypt-then-MAC) is a block multiple.
  const std::size_t clear = encrypt_then_mac_ || gcm_ || chacha_ ? 1 : 5;
  std::size_t padding = block_ - ((payload.size() + clear) % block_);
  if (padding < kMinPaddingBytes) padding += block_;
  std::string packet;
  AppendU32(packet, static_cast<std::uint32_t>(1 + payload.size() + padding));
  packet += static_cast<char>(padding);
  packet += payload;
  std::string random(padding, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(padding));
  packet += random;
  std::string out;
  if (chacha_) {
    auto length = ChaCha(true, 0, std::string_view(packet).substr(0, 4));
    auto body = length ? ChaCha(false, 1, std::string_view(packet).substr(4)) : length;
    if (!body) return Forward(body);
    out = *length + *body;
    auto tag = Poly1305(out);
    if (!tag) return Forward(tag);
    out += *tag;
  } else if (gcm_) {
    out = packet.substr(0, 4);
    auto tag = GcmCrypt(std::string_view(packet).substr(0, 4), std::string_view(packet).substr(4),
                        out, "");
    if (!tag) return Forward(tag);
    out += *tag;
  } else if (encrypt_then_mac_) {
    out = packet.substr(0, 4);
    if (!Crypt(std::string_view(packet).substr(4), out)) {
      return Fail(ErrorCode::kInternal, "encryption failed");
    }
    auto mac = Mac(out);
    if (!mac) return Forward(mac);
    out += *mac;
  } else {
    auto mac = Mac(packet);
    if (!mac) return Forward(mac);
    if (!Crypt(packet, out)) return Fail(ErrorCode::kInternal, "encryption failed");
    out += *mac;
  }
  ++sequence_;
  return out;
}

Result<std::string> SshPacketCipher::Open(std::string& buffer) {
  // packet_length: in clear for encrypt-then-MAC, else in the first decrypted block.
  const bool length_in_clear = encrypt_then_mac_ || gcm_;
  const std::size_t first = length_in_clear || chacha_ ? 4 : kCipherBlockBytes;
  if (header_.empty()) {
    if (buffer.size() < first) {
      return Fail(ErrorCode::kTruncated, "encrypted packet not complete yet");
    }
    if (length_in_clear) {
      header_ = buffer.substr(0, first);
    } else if (chacha_) {
      auto length = ChaCha(true, 0, std::string_view(buffer).substr(0, first));
      if (!length) return Forward(length);
      header_ = *length;
    } else if (!Crypt(std::string_view(buffer).substr(0, first), header_)) {
      return Fail(ErrorCode::kInternal, "decryption failed");
    }
  }
  auto length = ReadU32At(ViewOf(header_), 0, Endian::kBig);
  if (!length) return Forward(length);
  const std::size_t encrypted = length_in_clear || chacha_ ? *length : 4 + *length;
  if (*length > kMaxSshPacketBytes || *length < kMinEncryptedPacketLength ||
      encrypted % block_ != 0) {
    return Fail(ErrorCode::kMalformed, "encrypted packet_length " + std::to_string(*length) +
                                           " outside 8.." + std::to_string(kMaxSshPacketBytes) +
                                           " or not a multiple of the block size");
  }
  const std::size_t mac_size = gcm_      ? kGcmTagBytes
                               : chacha_ ? kPoly1305TagBytes
                                         : static_cast<std::size_t>(EVP_MD_get_size(mac_digest_));
  const std::size_t wire_size = 4 + *length + mac_size;
  if (buffer.size() < wire_size) {
    return Fail(ErrorCode::kTruncated, "encrypted packet not complete yet");
  }
  const std::string_view received(buffer.data() + 4 + *length, mac_size);
  std::string packet = std::move(header_);
  header_.clear();
  auto bad_mac = [&] {
    return Fail(ErrorCode::kMalformed,
                "MAC of packet " + std::to_string(sequence_) + " does not verify");
  };
  if (chacha_) {
    auto tag = Poly1305(std::string_view(buffer).substr(0, 4 + *length));
    if (!tag) return Forward(tag);
    if (CRYPTO_memcmp(tag->data(), received.data(), mac_size) != 0) return bad_mac();
    auto body = ChaCha(false, 1, std::string_view(buffer).substr(4, *length));
    if (!body) return Forward(body);
    packet += *body;
  } else if (gcm_) {
    auto opened = GcmCrypt(std::string_view(buffer).substr(0, 4),
                           std::string_view(buffer).substr(4, *length), packet, received);
    if (!opened) return Forward(opened);
  } else if (encrypt_then_mac_) {
    auto mac = Mac(std::string_view(buffer).substr(0, 4 + *length));
    if (!mac) return Forward(mac);
    if (CRYPTO_memcmp(mac->data(), received.data(), mac_size) != 0) return bad_mac();
    if (!Crypt(std::string_view(buffer).substr(4, *length), packet)) {
      return Fail(ErrorCode::kInternal, "decryption failed");
    }
  } else {
    if (!Crypt(std::string_view(buffer).substr(first, 4 + *length - first), packet)) {
      return Fail(ErrorCode::kInternal, "decryption failed");
    }
    auto mac = Mac(packet);
    if (!mac) return Forward(mac);
    if (CRYPTO_memcmp(mac->data(), received.data(), mac_size) != 0) return bad_mac();
  }
  ++sequence_;
  buffer.erase(0, wire_size);
  const auto padding = static_cast<std::uint8_t>(packet[4]);
  if (padding < kMinPaddingBytes || padding + 1u >= *length) {
    return Fail(ErrorCode::kMalformed, "padding_length does not fit the encrypted packet");
  }
  return packet.substr(5, *length - 1 - padding);
}

Result<UserauthFailure> ParseUserauthFailure(ByteView payload) {
  ByteReader reader(payload, Endian::kBig);
  auto type = reader.U8();
  if (!type) return Forward(type);
  if (*type != kSshMsgUserauthFailure) {
    return Fail(ErrorCode::kMalformed,
                "message " + std::to_string(*type) + " is not USERAUTH_FAILURE");
  }
  auto methods = ReadNameList(reader);
  if (!methods) return Forward(methods);
  auto partial = reader.U8();
  if (!partial) return Forward(partial);
  return UserauthFailure{std::move(*methods), *partial != 0};
}

}  // namespace clearbox::probe
