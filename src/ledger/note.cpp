// Signed notes as specified by c2sp.org/signed-note and implemented by golang.org/x/mod/sumdb/note.
#include "ledger/note.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "ledger/encoding.hpp"
#include "ledger/merkle.hpp"

namespace clearbox::ledger {
namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

Unexpected MalformedNote() {
  return Fail(ErrorCode::kMalformed, "malformed note");
}

// Decodes one UTF-8 rune at `i`; returns false for invalid or overlong sequences.
bool NextRune(std::string_view s, std::size_t* i, std::uint32_t* rune) {
  const auto b0 = static_cast<std::uint8_t>(s[*i]);
  if (b0 < 0x80) {
    *rune = b0;
    *i += 1;
    return true;
  }
  std::size_t len = 0;
  std::uint32_t r = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, r = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, r = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, r = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (*i + len > s.size()) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<std::uint8_t>(s[*i + k]);
    if ((b & 0xC0) != 0x80) return false;
    r = (r << 6) | (b & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return false;
  *rune = r;
  *i += len;
  return true;
}

bool IsUnicodeSpace(std::uint32_t r) {
  return r == ' ' || (r >= 0x09 && r <= 0x0D) || r == 0x85 || r == 0xA0 || r == 0x1680 ||
         (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F ||
         r == 0x3000;
}

// Go's rule for note text: valid UTF-8, no U+FFFD, no ASCII control bytes except '\n'.
bool IsValidNoteText(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint32_t r = 0;
    if (!NextRune(s, &i, &r)) return false;
    if ((r < 0x20 && r != '\n') || r == 0x7F || r == 0xFFFD) return false;
  }
  return true;
}

Result<std::uint32_t> ParseKeyIdHex(std::string_view hex) {
  if (hex.size() != 8) return Fail(ErrorCode::kMalformed, "key ID must be 8 hex digits");
  std::uint32_t id = 0;
  for (char c : hex) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (v < 0) return Fail(ErrorCode::kMalformed, "key ID must be lower-case hex");
    id = (id << 4) | static_cast<std::uint32_t>(v);
  }
  return id;
}

std::string KeyIdHex(std::uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

std::string_view Chop(std::string_view* s, char sep) {
  const auto pos = s->find(sep);
  if (pos == std::string_view::npos) {
    auto all = *s;
    *s = {};
    return all;
  }
  auto head = s->substr(0, pos);
  s->remove_prefix(pos + 1);
  return head;
}

std::uint32_t LoadBe32(std::string_view s) {
  return (std::uint32_t{static_cast<std::uint8_t>(s[0])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(s[1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(s[2])} << 8) |
         std::uint32_t{static_cast<std::uint8_t>(s[3])};
}

std::string StoreBe32(std::uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty() || name.find('+') != std::string_view::npos) return false;
  std::size_t i = 0;
  while (i < name.size()) {
    std::uint32_t r = 0;
    if (!NextRune(name, &i, &r)) return false;
    if (IsUnicodeSpace(r) || r < 0x20 || r == 0x7F || r == 0xFFFD) return false;
  }
  return true;
}

std::uint32_t Ed25519KeyId(std::string_view name, const std::array<std::uint8_t, 32>& public_key) {
  return NoteKeyId(name, kAlgEd25519, public_key);
}

std::uint32_t NoteKeyId(std::string_view name, std::uint8_t algorithm,
                        const std::array<std::uint8_t, 32>& public_key) {
  std::string buf(name);
  buf.push_back('\n');
  buf.push_back(static_cast<char>(algorithm));
  buf.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  const Hash h = Sha256Of(buf);
  return LoadBe32(std::string_view(reinterpret_cast<const char*>(h.data()), 4));
}

Result<VerifierKey> ParseVerifierKey(std::string_view vkey) {
  std::string_view rest = vkey;
  const auto name = Chop(&rest, '+');
  const auto hex = Chop(&rest, '+');
  if (!IsValidKeyName(name)) return Fail(ErrorCode::kMalformed, "invalid verifier key name");
  auto id = ParseKeyIdHex(hex);
  if (!id) return Forward(id);
  auto key = Base64Decode(rest);
  if (!key || key->empty()) return Fail(ErrorCode::kMalformed, "invalid verifier key encoding");
  const auto alg = static_cast<std::uint8_t>((*key)[0]);
  if (alg != kAlgEd25519 && alg != kAlgCosignatureV1) {
    return Fail(ErrorCode::kUnsupported, "unknown verifier key algorithm");
  }
  if (key->size() != 33) return Fail(ErrorCode::kMalformed, "Ed25519 public key is not 32 bytes");
  VerifierKey out;
  out.name = std::string(name);
  out.key_id = *id;
  out.algorithm = alg;
  std::memcpy(out.public_key.data(), key->data() + 1, 32);
  if (NoteKeyId(out.name, alg, out.public_key) != out.key_id) {
    return Fail(ErrorCode::kMalformed, "verifier key ID does not match the key");
  }
  return out;
}

Result<SignerKey> ParseSignerKey(std::string_view skey) {
  std::string_view rest = skey;
  const auto priv = Chop(&rest, '+');
  const auto kind = Chop(&rest, '+');
  const auto name = Chop(&rest, '+');
  const auto hex = Chop(&rest, '+');
  if (priv != "PRIVATE" || kind != "KEY") return Fail(ErrorCode::kMalformed, "not a signer key");
  if (!IsValidKeyName(name)) return Fail(ErrorCode::kMalformed, "invalid signer key name");
  auto id = ParseKeyIdHex(hex);
  if (!id) return Forward(id);
  auto key = Base64Decode(rest);
  if (!key || key->empty()) return Fail(ErrorCode::kMalformed, "invalid signer key encoding");
  const auto alg = static_cast<std::uint8_t>((*key)[0]);
  if (alg != kAlgEd25519 && alg != kAlgCosignatureV1) {
    return Fail(ErrorCode::kUnsupported, "unknown signer key algorithm");
  }
  if (key->size() != 33) return Fail(ErrorCode::kMalformed, "Ed25519 seed is not 32 bytes");
  std::array<std::uint8_t, 32> seed{};
  std::memcpy(seed.data(), key->data() + 1, 32);
  auto out = SignerKeyFromSeed(name, seed);
  if (!out) return out;
  if (alg == kAlgCosignatureV1) *out = AsCosignerKey(*out);
  if (out->key_id != *id)
    return Fail(ErrorCode::kMalformed, "signer key ID does not match the key");
  return out;
}

std::string FormatVerifierKey(const VerifierKey& key) {
  std::string raw(1, static_cast<char>(key.algorithm));
  raw.append(reinterpret_cast<const char*>(key.public_key.data()), 32);
  return key.name + "+" + KeyIdHex(key.key_id) + "+" + Base64Encode(raw);
}

std::string FormatSignerKey(const SignerKey& key) {
  std::string raw(1, static_cast<char>(key.algorithm));
  raw.append(reinterpret_cast<const char*>(key.seed.data()), 32);
  return "PRIVATE+KEY+" + key.name + "+" + KeyIdHex(key.key_id) + "+" + Base64Encode(raw);
}

VerifierKey PublicKeyOf(const SignerKey& key) {
  return VerifierKey{key.name, key.key_id, key.public_key, key.algorithm};
}

VerifierKey AsCosignerKey(const VerifierKey& key) {
  VerifierKey out = key;
  out.algorithm = kAlgCosignatureV1;
  out.key_id = NoteKeyId(out.name, kAlgCosignatureV1, out.public_key);
  return out;
}

SignerKey AsCosignerKey(const SignerKey& key) {
  SignerKey out = key;
  out.algorithm = kAlgCosignatureV1;
  out.key_id = NoteKeyId(out.name, kAlgCosignatureV1, out.public_key);
  return out;
}

Result<SignerKey> SignerKeyFromSeed(std::string_view name,
                                    const std::array<std::uint8_t, 32>& seed) {
  if (!IsValidKeyName(name)) return Fail(ErrorCode::kInvalidArgument, "invalid key name");
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!pkey) return Fail(ErrorCode::kInternal, "OpenSSL refused the Ed25519 seed");
  SignerKey out;
  out.name = std::string(name);
  out.seed = seed;
  std::size_t len = 32;
  if (EVP_PKEY_get_raw_public_key(pkey.get(), out.public_key.data(), &len) != 1 || len != 32) {
    return Fail(ErrorCode::kInternal, "OpenSSL could not derive the Ed25519 public key");
  }
  out.key_id = Ed25519KeyId(out.name, out.public_key);
  return out;
}

Result<SignerKey> GenerateSignerKey(std::string_view name) {
  std::array<std::uint8_t, 32> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return Fail(ErrorCode::kInternal, "no randomness for a new key");
  }
  return SignerKeyFromSeed(name, seed);
}

Result<std::string> Ed25519Sign(const SignerKey& key, std::string_view message) {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.seed.data(), key.seed.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return Fail(ErrorCode::kInternal, "OpenSSL Ed25519 signing setup failed");
  }
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != 64) {
    return Fail(ErrorCode::kInternal, "OpenSSL Ed25519 signing failed");
  }
  return sig;
}

bool Ed25519Verify(const std::array<std::uint8_t, 32>& public_key, std::string_view message,
                   std::string_view signature) {
  if (signature.size() != 64) return false;
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Result<Note> ParseNote(std::string_view message) {
  if (!IsValidNoteText(message)) return MalformedNote();
  const auto split = message.rfind("\n\n");
  if (split == std::string_view::npos) return MalformedNote();
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  std::string_view sigs = message.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return MalformedNote();
  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!line.starts_with(kEmDashSpace)) return MalformedNote();
    line.remove_prefix(kEmDashSpace.size());
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return MalformedNote();
    const auto name = line.substr(0, sp);
    const auto b64 = line.substr(sp + 1);
    if (!IsValidKeyName(name)) return MalformedNote();
    auto raw = Base64Decode(b64);
    if (!raw || raw->size() < 5) return MalformedNote();
    if (note.signatures.size() == kMaxNoteSignatures) return MalformedNote();
    note.signatures.push_back(
        NoteSignature{std::string(name), LoadBe32(*raw), raw->substr(4), std::string(b64)});
  }
  return note;
}

namespace {

std::uint64_t LoadBe64(std::string_view s) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[i]);
  return v;
}

std::string StoreBe64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

// A plain Ed25519 signature of the text, or (type 0x04) timestamp || Ed25519 signature of
// the cosignature/v1 message.
bool VerifySignatureBytes(const VerifierKey& key, std::string_view text, std::string_view sig) {
  if (key.algorithm != kAlgCosignatureV1) return Ed25519Verify(key.public_key, text, sig);
  if (sig.size() != 8 + 64) return false;
  const std::uint64_t timestamp = LoadBe64(sig);
  if (timestamp > kMaxCosignatureTime) return false;
  return Ed25519Verify(key.public_key, CosignatureMessage(text, timestamp), sig.substr(8));
}

}  // namespace

std::string CosignatureMessage(std::string_view note_text, std::uint64_t timestamp) {
  std::string out(kCosignatureHeader);
  out += "\ntime " + std::to_string(timestamp) + "\n";
  out += note_text;
  return out;
}

Result<std::uint64_t> CosignatureTime(const NoteSignature& signature) {
  if (signature.signature.size() != 8 + 64) {
    return Fail(ErrorCode::kMalformed, "not an Ed25519 cosignature/v1 signature");
  }
  return LoadBe64(signature.signature);
}

Result<std::string> CosignNote(std::string_view signed_note, const SignerKey& cosigner,
                               std::uint64_t timestamp) {
  if (cosigner.algorithm != kAlgCosignatureV1) {
    return Fail(ErrorCode::kInvalidArgument, "not a cosigner key (type 0x04)");
  }
  if (timestamp > kMaxCosignatureTime) {
    return Fail(ErrorCode::kInvalidArgument, "cosignature timestamp above 2^63-1");
  }
  auto note = ParseNote(signed_note);
  if (!note) return Forward(note);
  auto sig = Ed25519Sign(cosigner, CosignatureMessage(note->text, timestamp));
  if (!sig) return Forward(sig);
  std::string out = note->text + "\n";
  std::size_t kept = 0;
  for (const auto& s : note->signatures) {
    if (s.name == cosigner.name && s.key_id == cosigner.key_id) continue;  // replaced below
    out += std::string(kEmDashSpace) + s.name + " " + s.base64 + "\n";
    ++kept;
  }
  if (kept >= kMaxNoteSignatures) {
    return Fail(ErrorCode::kInvalidArgument, "note already has the maximum of signatures");
  }
  out += std::string(kEmDashSpace) + cosigner.name + " " +
         Base64Encode(StoreBe32(cosigner.key_id) + StoreBe64(timestamp) + *sig) + "\n";
  return out;
}

Result<OpenedNote> OpenNote(std::string_view message, const std::vector<VerifierKey>& known) {
  auto note = ParseNote(message);
  if (!note) return Forward(note);
  OpenedNote out;
  out.text = note->text;
  std::set<std::pair<std::string, std::uint32_t>> seen;
  std::set<std::string> seen_unverified;
  for (auto& sig : note->signatures) {
    const VerifierKey* match = nullptr;
    int matches = 0;
    for (const auto& k : known) {
      if (k.name == sig.name && k.key_id == sig.key_id) {
        match = &k;
        ++matches;
      }
    }
    const std::string label = sig.name + "+" + KeyIdHex(sig.key_id);
    if (matches == 0) {
      if (seen_unverified.insert(label + " " + sig.base64).second) {
        out.unverified.push_back(sig);
      }
      continue;
    }
    if (matches > 1) return Fail(ErrorCode::kMalformed, "ambiguous key " + label);
    if (!seen.insert({sig.name, sig.key_id}).second) continue;
    if (!VerifySignatureBytes(*match, note->text, sig.signature)) {
      return Fail(ErrorCode::kMalformed, "invalid signature for key " + label);
    }
    out.verified.push_back(sig);
  }
  if (out.verified.empty()) return Fail(ErrorCode::kMalformed, "note has no verifiable signatures");
  return out;
}

Result<std::string> SignNote(std::string_view text, const std::vector<SignerKey>& signers) {
  if (text.empty() || text.back() != '\n' || !IsValidNoteText(text)) return MalformedNote();
  std::string out(text);
  out.push_back('\n');
  for (const auto& key : signers) {
    if (!IsValidKeyName(key.name)) return MalformedNote();
    if (key.algorithm != kAlgEd25519) {
      return Fail(ErrorCode::kInvalidArgument, "a cosigner key cannot sign plain notes");
    }
    auto sig = Ed25519Sign(key, text);
    if (!sig) return Forward(sig);
    out += kEmDashSpace;
    out += key.name;
    out += ' ';
    out += Base64Encode(StoreBe32(key.key_id) + *sig);
    out += '\n';
  }
  return out;
}

}  // namespace clearbox::ledger
