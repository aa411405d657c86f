// Encrypted firmware: OpenSSL `enc` data ("Salted__", recognised by its header and the
// entropy of what follows) and D-Link's MH01 images (the ciphertext is OpenSSL enc data,
// AES-128-CBC with a key derived from one of the public per-model passphrases, SHA-256, and
// the IV written in the header; decrypted when one of the known passphrases fits).
// D-Link's "encrpted_img" images (DIR-X series) are AES-256-CBC with one published key and IV,
// each 128 KiB block encrypted on its own, and decrypt to a UBI image.
// D-Link TLV images: a 0x74-byte header (model, board id, MD5 of the data TLV) and OpenSSL
// enc data, AES-256-CBC, MD5 key derivation, passphrase = hex(HMAC-SHA1(board id, model)).
// D-Link DLK images: two JBOOT AUH headers (signature, then ciphertext), AES-256-CBC per
// block with an MH01 passphrase as the key.
// D-Link SHRS images: a 0x6DC-byte header (size, IV) and AES-128-CBC data under a published
// key, decrypting to a uImage.
// Layouts: binwalk v3 src/structures/mh01.rs, dlink_tlv.rs, shrs.rs and src/signatures/openssl.rs;
// the passphrases, key derivation and the encrpted_img and SHRS keys: devttys0/delink
// src/mh01.rs, src/dlk.rs, src/tlv.rs, src/openssl.rs, src/encrpted.rs and src/shrs.rs.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>

#include "core/entropy.hpp"
#include "core/hex.hpp"
#include "unpack/handlers/firmware/vendor_header.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::string_view kSaltedMagic = "Salted__";
constexpr std::size_t kSaltedHeader = 16;  // magic + 8-byte salt
constexpr std::size_t kAesBlock = 16;

// Whether `salt` looks like a real one: binwalk v3 rejects salts whose every byte is NUL or
// printable ASCII (text that happens to say "Salted__", such as libcrypto's own strings).
bool PlausibleSalt(ByteView salt) {
  return std::any_of(salt.begin(), salt.end(),
                     [](std::uint8_t b) { return b != 0 && (b < 0x20 || b > 0x7e); });
}

// Whether the bytes after an OpenSSL header look like ciphertext: at least 256 bytes whose
// entropy (over the first 4 KiB) is near that of random data.
bool LooksEncrypted(ByteView ciphertext) {
  if (ciphertext.size() < 256) return false;
  const ByteView sample = ciphertext.subspan(0, std::min<std::size_t>(ciphertext.size(), 4096));
  return ShannonEntropy(sample) >= (sample.size() >= 1024 ? 7.5 : 6.9);
}

class OpensslEncHandler final : public Handler {
 public:
  std::string_view Name() const override { return "openssl-enc"; }
  std::string_view Description() const override {
    return "OpenSSL enc encrypted data (Salted__ header, ciphertext by entropy): recognised, "
           "salt recorded, not decrypted";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kSaltedMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (data.size() < kSaltedHeader || !HasBytesAt(data, 0, kSaltedMagic) ||
        !PlausibleSalt(data.subspan(8, 8)) || !LooksEncrypted(data.subspan(kSaltedHeader))) {
      return Fail(ErrorCode::kNotThisFormat, "no OpenSSL encrypted data");
    }
    return data.size();  // the ciphertext's end is not recorded: it runs to the container's end
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    CLEARBOX_TRY(Probe(data));
    ctx.SetMetadata("format", "OpenSSL enc");
    ctx.SetMetadata("salt", HexEncode(data.subspan(8, 8)));
    ctx.SetMetadata("ciphertext_bytes", std::to_string(data.size() - kSaltedHeader));
    return data.size();
  }
};

// D-Link MH01 header: eight little-endian u32 fields, then the IV as ASCII hex.
struct Mh01Layout {
  std::uint64_t iv_offset = 32;
  std::uint64_t iv_size = 0;
  std::uint64_t encrypted_offset = 0;
  std::uint64_t encrypted_size = 0;
  std::uint64_t signature_offset = 0;
  std::uint64_t signature_size = 0;
  std::uint64_t total = 0;
  std::array<std::uint8_t, kAesBlock> iv{};
};

Result<Mh01Layout> ParseMh01(ByteView data) {
  constexpr std::size_t kFixed = 32;
  if (data.size() < kFixed || !HasBytesAt(data, 0, "MH01") || !HasBytesAt(data, 16, "MH01")) {
    return Fail(ErrorCode::kNotThisFormat, "no MH01 header");
  }
  Mh01Layout l;
  l.signature_offset = 16 + std::uint64_t{LoadU32(data.data() + 4, Endian::kLittle)};
  l.signature_size = LoadU32(data.data() + 8, Endian::kLittle);
  l.iv_size = LoadU32(data.data() + 20, Endian::kLittle);
  l.encrypted_size = LoadU32(data.data() + 24, Endian::kLittle);
  // The IV: 32 hex digits (AES's 16 bytes), perhaps followed by a line end.
  if (l.iv_size < 2 * kAesBlock || l.iv_size > 64) {
    return Fail(ErrorCode::kNotThisFormat, "MH01 IV size");
  }
  if (data.size() < kFixed + 2 * kAesBlock) return Fail(ErrorCode::kTruncated, "MH01 header cut");
  const std::string_view iv_text(reinterpret_cast<const char*>(data.data() + kFixed),
                                 2 * kAesBlock);
  auto iv = HexDecode(iv_text);
  if (!iv || iv->size() != kAesBlock) return Fail(ErrorCode::kNotThisFormat, "MH01 IV not hex");
  std::copy(iv->begin(), iv->end(), l.iv.begin());
  l.encrypted_offset = kFixed + l.iv_size;
  l.total = std::max(l.signature_offset + l.signature_size, l.encrypted_offset + l.encrypted_size);
  if (l.encrypted_size < kSaltedHeader + kAesBlock || l.encrypted_size % kAesBlock != 0) {
    return Fail(ErrorCode::kMalformed, "MH01 encrypted data size " +
                                           std::to_string(l.encrypted_size) +
                                           " is not OpenSSL enc data");
  }
  if (l.total > data.size()) {
    return Fail(ErrorCode::kTruncated, "MH01 image of " + std::to_string(l.total) +
                                           " bytes, only " + std::to_string(data.size()) +
                                           " present");
  }
  if (!HasBytesAt(data, l.encrypted_offset, kSaltedMagic)) {
    return Fail(ErrorCode::kNotThisFormat, "MH01 data is not OpenSSL enc data");
  }
  return l;
}

// D-Link's published MH01 passphrases by model (delink src/mh01.rs).
struct KnownPassphrase {
  std::string_view passphrase;
  std::string_view models;
};
constexpr KnownPassphrase kMh01Passphrases[] = {
    {"044b4e59846ecee953662ff2238fcc23", "E15 v1.00 - v1.20"},
    {"927fc5786df1a9557524a0289e1e3f3b", "E15 > v1.20"},
    {"4d5ee2c8b5d0fdd9a9a2d351ba897752", "E30 v1.00 - v1.10"},
    {"238a29b9432f688e30b701548c753146", "E30 > v1.10"},
    {"a4f7c17c3e0aa4532c2024ce6ac5f17c", "R12 v1.00 - v1.10"},
    {"6b5a65dbc1ebc492ac6d8efbbb59ae09", "R12 > v1.10"},
    {"70070e579f97548a96a7794d4d779376", "R15 v1.00 - v1.20"},
    {"7b4df82f7f042b9d0b40971be0ff53c4", "R15 > v1.20"},
    {"6276ccf4c1d8d6f54b481095e78ff97f", "R18"},
    {"1ae6c79be7d069ca74df7670bdfc4952", "M18"},
    {"b4517d9b98e04d9f075f5e78c743e097", "M30 v1.02 - v1.10"},
    {"05c79b73cf88619d7b9725505cfd718f", "M30 > v1.10"},
    {"6b29f1d663a21b35fb45b69a42649f5e", "M32 v1.00 - 1.10"},
    {"1bfb1004e29f9eb76dbe26eb0dd87cd1", "M32 > v1.10"},
    {"c5f8a1e22f808abc84f2e4a6fa5f10bb", "M60 v1.10"},
    {"6420da70a975455e4ddd6b8fa5b652e7", "M60 > v1.10"},
};

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// The AES-128 key OpenSSL enc derives from `passphrase` and `salt` (EVP_BytesToKey, SHA-256,
// one round), as delink does.
std::optional<std::array<std::uint8_t, kAesBlock>> DeriveKey(std::string_view passphrase,
                                                             ByteView salt) {
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 16> iv{};
  const int n = EVP_BytesToKey(EVP_aes_128_cbc(), EVP_sha256(), salt.data(),
                               reinterpret_cast<const unsigned char*>(passphrase.data()),
                               static_cast<int>(passphrase.size()), 1, key.data(), iv.data());
  if (n != static_cast<int>(kAesBlock)) return std::nullopt;
  std::array<std::uint8_t, kAesBlock> out{};
  std::copy_n(key.begin(), kAesBlock, out.begin());
  return out;
}

// Key and IV OpenSSL enc (AES-256-CBC, MD5, one round: its pre-1.1 default) derives from
// `passphrase` and `salt`.
struct Aes256KeyIv {
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 16> iv{};
};
std::optional<Aes256KeyIv> DeriveAes256Md5(std::string_view passphrase, ByteView salt) {
  Aes256KeyIv out;
  const int n =
      EVP_BytesToKey(EVP_aes_256_cbc(), EVP_md5(), salt.data(),
                     reinterpret_cast<const unsigned char*>(passphrase.data()),
                     static_cast<int>(passphrase.size()), 1, out.key.data(), out.iv.data());
  if (n != 32) return std::nullopt;
  return out;
}

// AES-CBC decryption (`cipher`: EVP_aes_128_cbc or EVP_aes_256_cbc, `key` of its size) of
// `ciphertext` (a multiple of 16 bytes); `padded` strips and checks PKCS#7 padding. nullopt
// when OpenSSL refuses (bad padding).
std::optional<std::vector<std::uint8_t>> DecryptAesCbc(const EVP_CIPHER* cipher,
                                                       ByteView ciphertext, const std::uint8_t* key,
                                                       const std::uint8_t* iv, bool padded) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> c(EVP_CIPHER_CTX_new());
  if (!c || EVP_DecryptInit_ex(c.get(), cipher, nullptr, key, iv) != 1) return std::nullopt;
  EVP_CIPHER_CTX_set_padding(c.get(), padded ? 1 : 0);
  std::vector<std::uint8_t> out(ciphertext.size() + kAesBlock);
  std::size_t done = 0;
  constexpr std::size_t kStep = 1 << 20;  // EVP takes int lengths
  for (std::size_t at = 0; at < ciphertext.size(); at += kStep) {
    const std::size_t n = std::min(kStep, ciphertext.size() - at);
    int written = 0;
    if (EVP_DecryptUpdate(c.get(), out.data() + done, &written, ciphertext.data() + at,
                          static_cast<int>(n)) != 1) {
      return std::nullopt;
    }
    done += static_cast<std::size_t>(written);
  }
  int last = 0;
  if (EVP_DecryptFinal_ex(c.get(), out.data() + done, &last) != 1) return std::nullopt;
  out.resize(done + static_cast<std::size_t>(last));
  return out;
}

class Mh01Handler final : public Handler {
 public:
  std::string_view Name() const override { return "mh01"; }
  std::string_view Description() const override {
    return "D-Link MH01 encrypted firmware: decrypted with the public per-model passphrases "
           "(AES-128-CBC), else signature and ciphertext carved; IV and model recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"MH01", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseMh01(data);
    if (!layout) return Forward(layout);
    return layout->total;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto parsed = ParseMh01(data);
    if (!parsed) return Forward(parsed);
    const Mh01Layout& l = *parsed;
    const ByteView encrypted = data.subspan(l.encrypted_offset, l.encrypted_size);
    const ByteView salt = encrypted.subspan(8, 8);
    const ByteView ciphertext = encrypted.subspan(kSaltedHeader);
    ctx.SetMetadata("iv", HexEncode(ByteView(l.iv.data(), l.iv.size())));
    ctx.SetMetadata("encrypted_bytes", std::to_string(l.encrypted_size));
    ctx.SetMetadata("signature_bytes", std::to_string(l.signature_size));
    CLEARBOX_TRY(ctx.out().WriteFile("signature.bin",
                                     data.subspan(l.signature_offset, l.signature_size), 0644));
    // Each passphrase is tried on the first block alone (the plaintext starts with "MH01");
    // only the one that fits decrypts the whole image.
    for (const KnownPassphrase& known : kMh01Passphrases) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      auto key = DeriveKey(known.passphrase, salt);
      if (!key) continue;
      auto head = DecryptAesCbc(EVP_aes_128_cbc(), ciphertext.subspan(0, kAesBlock), key->data(),
                                l.iv.data(), false);
      if (!head || !HasBytesAt(*head, 0, "MH01")) continue;
      // The plaintext is held in memory before it is written (and charged): check first.
      if (ciphertext.size() > ctx.budget().RemainingOutput()) {
        return Fail(ErrorCode::kLimitExceeded, "MH01 plaintext of " +
                                                   std::to_string(ciphertext.size()) +
                                                   " bytes is over the output limit");
      }
      auto plain = DecryptAesCbc(EVP_aes_128_cbc(), ciphertext, key->data(), l.iv.data(), true);
      if (!plain) {
        ctx.ReportProblem(
            ErrorCode::kMalformed, "",
            "MH01 ciphertext of model " + std::string(known.models) + " decrypts to bad padding");
        break;
      }
      ctx.SetMetadata("model", known.models);
      ctx.SetMetadata("decrypted", "yes");
      CLEARBOX_TRY(ctx.out().WriteFile("decrypted.bin", *plain, 0644));
      return l.total;
    }
    ctx.SetMetadata("decrypted", "no: no known passphrase fits");
    CLEARBOX_TRY(ctx.out().WriteFile("encrypted.bin", encrypted, 0644));
    return l.total;
  }
};

// D-Link DLK images (delink src/dlk.rs): two 80-byte JBOOT AUH headers whose ROM id starts
// with "DLK" ("BH" at 64 in both). The first one's data (size at 44) is the signature; the
// second gives the block size (at 16) and the ciphertext size (at 44). The ciphertext is a
// run of blocks of block size + 32 bytes: a 16-byte IV, then AES-256-CBC (PKCS#7 padded)
// under one of the MH01 passphrases taken as the 32-byte key.
constexpr std::size_t kDlkHeader = 80;
constexpr std::size_t kDlkBlockOverhead = 32;
constexpr std::uint32_t kDlkMaxBlock = 64u << 20;

struct DlkLayout {
  std::uint64_t signature_size = 0;
  std::uint64_t cipher_offset = 0;
  std::uint64_t cipher_size = 0;
  std::uint64_t block = 0;  // bytes per encrypted block, IV included
  std::uint64_t total = 0;
};

bool IsDlkHeader(ByteView data, std::uint64_t at) {
  return data.size() >= kDlkHeader && at <= data.size() - kDlkHeader &&
         HasBytesAt(data, at, "DLK") && HasBytesAt(data, at + 64, "BH");
}

Result<DlkLayout> ParseDlk(ByteView data) {
  if (!IsDlkHeader(data, 0)) return Fail(ErrorCode::kNotThisFormat, "no DLK header");
  DlkLayout l;
  l.signature_size = LoadU32(data.data() + 44, Endian::kLittle);
  const std::uint64_t second = kDlkHeader + l.signature_size;
  if (!IsDlkHeader(data, second)) {
    return Fail(ErrorCode::kNotThisFormat, "no second DLK header after the signature");
  }
  const std::uint32_t block = LoadU32(data.data() + second + 16, Endian::kLittle);
  l.cipher_size = LoadU32(data.data() + second + 44, Endian::kLittle);
  l.cipher_offset = second + kDlkHeader;
  l.block = std::uint64_t{block} + kDlkBlockOverhead;
  if (block == 0 || block > kDlkMaxBlock || block % kAesBlock != 0 || l.cipher_size == 0) {
    return Fail(ErrorCode::kNotThisFormat, "DLK block or data size out of range");
  }
  if (l.cipher_size > data.size() - l.cipher_offset) {
    return Fail(ErrorCode::kTruncated, "DLK ciphertext of " + std::to_string(l.cipher_size) +
                                           " bytes runs past the end of the image");
  }
  l.total = l.cipher_offset + l.cipher_size;
  return l;
}

// Decrypts every block of `cipher` with `key`; nullopt when a block is malformed or its
// padding is wrong (the key does not fit). The caller has checked the output budget.
std::optional<std::vector<std::uint8_t>> DecryptDlkBlocks(ByteView cipher, std::uint64_t block,
                                                          const std::uint8_t* key) {
  std::vector<std::uint8_t> plain;
  for (std::uint64_t at = 0; at < cipher.size(); at += block) {
    const ByteView piece = cipher.subspan(at, std::min<std::uint64_t>(block, cipher.size() - at));
    if (piece.size() <= kAesBlock || (piece.size() - kAesBlock) % kAesBlock != 0) {
      return std::nullopt;
    }
    auto out = DecryptAesCbc(EVP_aes_256_cbc(), piece.subspan(kAesBlock), key, piece.data(), true);
    if (!out) return std::nullopt;
    plain.insert(plain.end(), out->begin(), out->end());
  }
  return plain;
}

class DlkHandler final : public Handler {
 public:
  std::string_view Name() const override { return "dlk"; }
  std::string_view Description() const override {
    return "D-Link DLK encrypted firmware (JBOOT headers): decrypted with the public MH01 "
           "passphrases (AES-256-CBC per block), else signature and ciphertext carved";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    // The AUH header id "BH", header version 0-4 and a zero word (as the jboot handler).
    using namespace std::string_view_literals;
    static constexpr Signature kSignatures[] = {{"BH\x00\x00\x00\x00"sv, 64},
                                                {"BH\x01\x00\x00\x00"sv, 64},
                                                {"BH\x02\x00\x00\x00"sv, 64},
                                                {"BH\x03\x00\x00\x00"sv, 64},
                                                {"BH\x04\x00\x00\x00"sv, 64}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseDlk(data);
    if (!layout) return Forward(layout);
    return layout->total;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto parsed = ParseDlk(data);
    if (!parsed) return Forward(parsed);
    const DlkLayout& l = *parsed;
    const ByteView cipher = data.subspan(l.cipher_offset, l.cipher_size);
    ctx.SetMetadata("rom_id", HeaderText(data.subspan(0, 12)));
    ctx.SetMetadata("block_size", std::to_string(l.block - kDlkBlockOverhead));
    ctx.SetMetadata("encrypted_bytes", std::to_string(l.cipher_size));
    ctx.SetMetadata("signature_bytes", std::to_string(l.signature_size));
    CLEARBOX_TRY(
        ctx.out().WriteFile("signature.bin", data.subspan(kDlkHeader, l.signature_size), 0644));
    // Each passphrase is tried on the first block alone; the one whose padding fits there
    // must then decrypt every block.
    const ByteView first = cipher.subspan(0, std::min<std::uint64_t>(l.block, cipher.size()));
    for (const KnownPassphrase& known : kMh01Passphrases) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      const auto* key = reinterpret_cast<const std::uint8_t*>(known.passphrase.data());
      if (!DecryptDlkBlocks(first, l.block, key)) continue;
      if (cipher.size() > ctx.budget().RemainingOutput()) {
        return Fail(ErrorCode::kLimitExceeded, "DLK plaintext of up to " +
                                                   std::to_string(cipher.size()) +
                                                   " bytes is over the output limit");
      }
      auto plain = DecryptDlkBlocks(cipher, l.block, key);
      if (!plain) continue;
      ctx.SetMetadata("model", known.models);
      ctx.SetMetadata("decrypted", "yes");
      CLEARBOX_TRY(ctx.out().WriteFile("decrypted.bin", *plain, 0644));
      return l.total;
    }
    ctx.SetMetadata("decrypted", "no: no known passphrase fits");
    CLEARBOX_TRY(ctx.out().WriteFile("encrypted.bin", cipher, 0644));
    return l.total;
  }
};

// D-Link encrpted_img: "encrpted_img" and 4 more header bytes, then the ciphertext to the end.
constexpr std::string_view kEncrptedMagic = "encrpted_img";
constexpr std::size_t kEncrptedHeader = 16;
constexpr std::size_t kEncrptedBlock = 128 * 1024;  // each block is CBC on its own, same IV
constexpr std::uint8_t kEncrptedKey[32] = {
    0x68, 0x65, 0x39, 0x2d, 0x34, 0x2b, 0x4d, 0x21, 0x29, 0x64, 0x36, 0x3d, 0x6d, 0x7e, 0x77, 0x65,
    0x31, 0x2c, 0x71, 0x32, 0x61, 0x33, 0x64, 0x31, 0x6e, 0x26, 0x32, 0x2a, 0x5a, 0x5e, 0x25, 0x38};
constexpr std::uint8_t kEncrptedIv[16] = {0x4a, 0x25, 0x31, 0x69, 0x51, 0x6c, 0x38, 0x24,
                                          0x3d, 0x6c, 0x6d, 0x2d, 0x3b, 0x38, 0x41, 0x45};

class EncrptedImgHandler final : public Handler {
 public:
  std::string_view Name() const override { return "encrpted-img"; }
  std::string_view Description() const override {
    return "D-Link encrpted_img firmware (DIR-X series): decrypted with the published "
           "AES-256-CBC key to its UBI image";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{kEncrptedMagic, 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!HasBytesAt(data, 0, kEncrptedMagic)) {
      return Fail(ErrorCode::kNotThisFormat, "no encrpted_img header");
    }
    if (data.size() < kEncrptedHeader + kAesBlock) {
      return Fail(ErrorCode::kTruncated, "encrpted_img without ciphertext");
    }
    return data.size();  // the ciphertext runs to the container's end
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    CLEARBOX_TRY(Probe(data));
    ByteView ciphertext = data.subspan(kEncrptedHeader);
    if (ciphertext.size() % kAesBlock != 0) {
      ctx.ReportProblem(ErrorCode::kTruncated, "",
                        "encrpted_img ciphertext of " + std::to_string(ciphertext.size()) +
                            " bytes is not whole AES blocks; the last " +
                            std::to_string(ciphertext.size() % kAesBlock) + " are left out");
      ciphertext = ciphertext.subspan(0, ciphertext.size() - ciphertext.size() % kAesBlock);
    }
    auto head = DecryptAesCbc(EVP_aes_256_cbc(), ciphertext.subspan(0, kAesBlock), kEncrptedKey,
                              kEncrptedIv, false);
    if (!head || !HasBytesAt(*head, 0, "UBI")) {
      ctx.SetMetadata("decrypted", "no: the published key does not give a UBI image");
      return data.size();
    }
    ctx.SetMetadata("decrypted", "yes");
    auto file = ctx.out().CreateFile("decrypted.ubi", 0644);
    if (!file) return Forward(file);
    for (std::size_t at = 0; at < ciphertext.size(); at += kEncrptedBlock) {
      CLEARBOX_TRY(ctx.budget().CheckDeadline());
      const ByteView block =
          ciphertext.subspan(at, std::min(kEncrptedBlock, ciphertext.size() - at));
      auto plain = DecryptAesCbc(EVP_aes_256_cbc(), block, kEncrptedKey, kEncrptedIv, false);
      if (!plain) return Fail(ErrorCode::kInternal, "AES-256-CBC decryption failed");
      CLEARBOX_TRY(file->Write(*plain));
    }
    CLEARBOX_TRY(file->Close());
    return data.size();
  }
};

// D-Link TLV header: magic, model name and board id (C strings of at most 32 bytes), the MD5
// (32 hex digits) of the data TLV, then the data TLV {type 1, length} at 0x6C (LE).
constexpr std::size_t kTlvHeader = 0x74;
struct TlvLayout {
  std::string model;
  std::string board;
  std::string md5;
  std::uint64_t data_size = 0;
};

std::string CString(ByteView field) {
  const auto end = std::find(field.begin(), field.end(), std::uint8_t{0});
  return std::string(field.begin(), end);
}

bool Printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

Result<TlvLayout> ParseTlv(ByteView data) {
  if (data.size() < kTlvHeader || !HasBytesAt(data, 0, "\x64\x80\x19\x40")) {
    return Fail(ErrorCode::kNotThisFormat, "no D-Link TLV header");
  }
  TlvLayout l;
  l.model = CString(data.subspan(4, 32));
  l.board = CString(data.subspan(0x24, 32));
  l.md5 = CString(data.subspan(0x4C, 32));
  if (l.model.empty() || l.board.empty() || !Printable(l.model) || !Printable(l.board) ||
      LoadU32(data.data() + 0x6C, Endian::kLittle) != 1) {
    return Fail(ErrorCode::kNotThisFormat, "no D-Link TLV header");
  }
  l.data_size = LoadU32(data.data() + 0x70, Endian::kLittle);
  if (kTlvHeader + l.data_size > data.size()) {
    return Fail(ErrorCode::kTruncated,
                "D-Link TLV data of " + std::to_string(l.data_size) + " bytes runs past the end");
  }
  return l;
}

class DlinkTlvHandler final : public Handler {
 public:
  std::string_view Name() const override { return "dlink-tlv"; }
  std::string_view Description() const override {
    return "D-Link TLV firmware: MD5 checked, decrypted (AES-256-CBC, key from the model and "
           "board id as delink derives it); model and board id recorded";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"\x64\x80\x19\x40", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto layout = ParseTlv(data);
    if (!layout) return Forward(layout);
    return kTlvHeader + layout->data_size;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto parsed = ParseTlv(data);
    if (!parsed) return Forward(parsed);
    const TlvLayout& l = *parsed;
    const std::uint64_t total = kTlvHeader + l.data_size;
    ctx.SetMetadata("model", l.model);
    ctx.SetMetadata("board_id", l.board);
    // The MD5 covers the data TLV: its 8-byte type/length and the data.
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_size = 0;
    const ByteView tlv = data.subspan(0x6C, 8 + l.data_size);
    if (EVP_Digest(tlv.data(), tlv.size(), md.data(), &md_size, EVP_md5(), nullptr) != 1) {
      return Fail(ErrorCode::kInternal, "MD5 failed");
    }
    const std::string md5 = HexEncode(ByteView(md.data(), md_size));
    if (!l.md5.empty() && l.md5 != md5) {
      ctx.ReportProblem(ErrorCode::kMalformed, "",
                        "D-Link TLV data MD5 is " + md5 + ", the header says " + l.md5);
    }
    const ByteView payload = data.subspan(kTlvHeader, l.data_size);
    if (payload.size() < kSaltedHeader + kAesBlock || !HasBytesAt(payload, 0, kSaltedMagic) ||
        (payload.size() - kSaltedHeader) % kAesBlock != 0) {
      ctx.SetMetadata("decrypted", "no: the data is not OpenSSL enc data");
      CLEARBOX_TRY(ctx.out().WriteFile("data.bin", payload, 0644));
      return total;
    }
    // Passphrase: hex(HMAC-SHA1(key = board id, message = model)).
    unsigned int mac_size = 0;
    if (HMAC(EVP_sha1(), l.board.data(), static_cast<int>(l.board.size()),
             reinterpret_cast<const unsigned char*>(l.model.data()), l.model.size(), md.data(),
             &mac_size) == nullptr) {
      return Fail(ErrorCode::kInternal, "HMAC-SHA1 failed");
    }
    const std::string passphrase = HexEncode(ByteView(md.data(), mac_size));
    auto key = DeriveAes256Md5(passphrase, payload.subspan(8, 8));
    if (!key) return Fail(ErrorCode::kInternal, "key derivation failed");
    const ByteView ciphertext = payload.subspan(kSaltedHeader);
    auto plain =
        DecryptAesCbc(EVP_aes_256_cbc(), ciphertext, key->key.data(), key->iv.data(), true);
    if (!plain) {
      ctx.SetMetadata("decrypted", "no: the derived key gives bad padding");
      CLEARBOX_TRY(ctx.out().WriteFile("encrypted.bin", payload, 0644));
      return total;
    }
    ctx.SetMetadata("decrypted", "yes");
    CLEARBOX_TRY(ctx.out().WriteFile("decrypted.bin", *plain, 0644));
    return total;
  }
};

// D-Link SHRS: "SHRS", unknown, encrypted size (BE), the IV at 12, the data at 0x6DC.
constexpr std::uint64_t kShrsHeader = 0x6DC;
constexpr std::uint8_t kShrsKey[16] = {0xC0, 0x5F, 0xBF, 0x19, 0x36, 0xC9, 0x94, 0x29,
                                       0xCE, 0x2A, 0x07, 0x81, 0xF0, 0x8D, 0x6A, 0xD8};

Result<std::uint64_t> ShrsDataSize(ByteView data) {
  if (data.size() < 28 || !HasBytesAt(data, 0, "SHRS")) {
    return Fail(ErrorCode::kNotThisFormat, "no SHRS header");
  }
  const std::uint64_t size = LoadU32(data.data() + 8, Endian::kBig);
  if (size == 0 || size % kAesBlock != 0) {
    return Fail(ErrorCode::kNotThisFormat, "SHRS encrypted size is not whole AES blocks");
  }
  if (kShrsHeader + size > data.size()) {
    return Fail(ErrorCode::kTruncated, "SHRS image of " + std::to_string(kShrsHeader + size) +
                                           " bytes, only " + std::to_string(data.size()) +
                                           " present");
  }
  return size;
}

class ShrsHandler final : public Handler {
 public:
  std::string_view Name() const override { return "shrs"; }
  std::string_view Description() const override {
    return "D-Link SHRS encrypted firmware: decrypted with the published AES-128-CBC key to "
           "its uImage";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{"SHRS", 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto size = ShrsDataSize(data);
    if (!size) return Forward(size);
    return kShrsHeader + *size;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto size = ShrsDataSize(data);
    if (!size) return Forward(size);
    const std::uint64_t total = kShrsHeader + *size;
    const std::uint8_t* iv = data.data() + 12;
    ctx.SetMetadata("iv", HexEncode(data.subspan(12, kAesBlock)));
    const ByteView ciphertext = data.subspan(kShrsHeader, *size);
    auto head =
        DecryptAesCbc(EVP_aes_128_cbc(), ciphertext.subspan(0, kAesBlock), kShrsKey, iv, false);
    if (!head || !HasBytesAt(*head, 0, "\x27\x05\x19\x56")) {
      ctx.SetMetadata("decrypted", "no: the published key does not give a uImage");
      CLEARBOX_TRY(ctx.out().WriteFile("encrypted.bin", ciphertext, 0644));
      return total;
    }
    if (ciphertext.size() > ctx.budget().RemainingOutput()) {
      return Fail(ErrorCode::kLimitExceeded, "SHRS plaintext of " +
                                                 std::to_string(ciphertext.size()) +
                                                 " bytes is over the output limit");
    }
    auto plain = DecryptAesCbc(EVP_aes_128_cbc(), ciphertext, kShrsKey, iv, false);
    if (!plain) return Fail(ErrorCode::kInternal, "AES-128-CBC decryption failed");
    ctx.SetMetadata("decrypted", "yes");
    CLEARBOX_TRY(ctx.out().WriteFile("decrypted.bin", *plain, 0644));
    return total;
  }
};

}  // namespace

const Handler& GetDlkHandler() {
  static const DlkHandler kHandler;
  return kHandler;
}

const Handler& GetShrsHandler() {
  static const ShrsHandler kHandler;
  return kHandler;
}

const Handler& GetDlinkTlvHandler() {
  static const DlinkTlvHandler kHandler;
  return kHandler;
}

const Handler& GetEncrptedImgHandler() {
  static const EncrptedImgHandler kHandler;
  return kHandler;
}

const Handler& GetOpensslEncHandler() {
  static const OpensslEncHandler kHandler;
  return kHandler;
}

const Handler& GetMh01Handler() {
  static const Mh01Handler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
