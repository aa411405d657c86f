#include "portal/credentials.hpp"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <vector>

#include "core/hashing.hpp"
#include "core/hex.hpp"

namespace clearbox::portal {
namespace {

// Longest PHC string we accept from the database before handing it to libargon2.
constexpr std::size_t kMaxEncodedHashBytes = 512;

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return Fail(ErrorCode::kInvalidArgument, "password longer than the maximum");
  }
  std::vector<std::uint8_t> salt(kArgon2SaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Fail(ErrorCode::kInternal, "no random bytes for a password salt");
  }
  const std::size_t length = argon2_encodedlen(kArgon2Passes, kArgon2MemoryKiB, kArgon2Lanes,
                                               kArgon2SaltBytes, kArgon2HashBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc = argon2id_hash_encoded(kArgon2Passes, kArgon2MemoryKiB, kArgon2Lanes,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kArgon2HashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Fail(ErrorCode::kInternal, std::string("argon2: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  if (password.size() > kMaxPasswordBytes || encoded.size() > kMaxEncodedHashBytes ||
      !encoded.starts_with("$argon2id$")) {
    return false;
  }
  const std::string terminated(encoded);  // libargon2 wants a C string
  return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
}

Result<std::string> RandomHex(std::size_t bytes) {
  std::vector<std::uint8_t> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    return Fail(ErrorCode::kInternal, "the system random generator failed");
  }
  return HexEncode(ByteView(buffer.data(), buffer.size()));
}

Result<std::string> GeneratePassword() {
  // No 0/O, 1/l/I: read aloud or copied by hand once.
  constexpr std::string_view kAlphabet =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  constexpr std::size_t kLength = 20;
  std::string password;
  while (password.size() < kLength) {
    std::uint8_t byte = 0;
    if (RAND_bytes(&byte, 1) != 1) return Fail(ErrorCode::kInternal, "no random bytes");
    // Rejection sampling keeps every character equally likely.
    if (byte >= 256 - 256 % kAlphabet.size()) continue;
    password.push_back(kAlphabet[byte % kAlphabet.size()]);
  }
  return password;
}

std::string SecretHash(std::string_view secret) {
  return Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace clearbox::portal
