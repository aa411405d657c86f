// Argon2id hashes in PHC form with the named parameters, verification of right and wrong
// passwords and of malformed hashes, random secrets and their stored hash.
#include "portal/credentials.hpp"

#include <gtest/gtest.h>

#include <set>

namespace clearbox::portal {
namespace {

TEST(Credentials, Argon2idPhcStringWithTheNamedParameters) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.has_value()) << hash.error().message;
  const std::string expected_prefix = "$argon2id$v=19$m=" + std::to_string(kArgon2MemoryKiB) +
                                      ",t=" + std::to_string(kArgon2Passes) +
                                      ",p=" + std::to_string(kArgon2Lanes) + "$";
  EXPECT_EQ(hash->substr(0, expected_prefix.size()), expected_prefix) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  // A fresh salt each time.
  EXPECT_NE(*hash, *HashPassword("correct horse battery staple"));
}

TEST(Credentials, MalformedOrForeignHashesNeverVerify) {
  for (const char* bad : {"", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA", "$argon2id$",
                          "$argon2id$v=19$m=1,t=1,p=1$$", "plain text",
                          "$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g"}) {
    EXPECT_FALSE(VerifyPassword(bad, "password")) << bad;
  }
  EXPECT_FALSE(VerifyPassword(std::string(10000, '$'), "x"));
  EXPECT_FALSE(HashPassword(std::string(kMaxPasswordBytes + 1, 'a')).has_value());
}

TEST(Credentials, SecretsAreRandomAndStoredHashed) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto secret = RandomHex(kSecretBytes);
    ASSERT_TRUE(secret.has_value());
    EXPECT_EQ(secret->size(), 2 * kSecretBytes);
    EXPECT_TRUE(seen.insert(*secret).second);
  }
  EXPECT_EQ(SecretHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto password = GeneratePassword();
  ASSERT_TRUE(password.has_value());
  EXPECT_EQ(password->size(), 20u);
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace clearbox::portal
