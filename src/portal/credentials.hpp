// Secrets of the portal: Argon2id password hashes (PHC strings), random session ids, CSRF and
// API tokens, and the SHA-256 under which session ids and tokens are stored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox::portal {

// Argon2id cost (RFC 9106 / OWASP: at least 19 MiB, 2 passes, 1 lane).
inline constexpr std::uint32_t kArgon2MemoryKiB = 19 * 1024;
inline constexpr std::uint32_t kArgon2Passes = 2;
inline constexpr std::uint32_t kArgon2Lanes = 1;
inline constexpr std::size_t kArgon2SaltBytes = 16;
inline constexpr std::size_t kArgon2HashBytes = 32;
// Passwords shorter than this are refused when set; longer than the maximum are refused always
// (bounds the hashing work an attacker can ask for).
inline constexpr std::size_t kMinPasswordBytes = 12;
inline constexpr std::size_t kMaxPasswordBytes = 1024;
// Random bytes in a session id, a CSRF token and an API token secret (256 bits).
inline constexpr std::size_t kSecretBytes = 32;
// Prefix of API token secrets, so leaked ones are recognisable (e.g. by secret scanners).
inline constexpr std::string_view kApiTokenPrefix = "cbx_";

// The Argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash) of `password` with a
// fresh random salt; kInvalidArgument for a password over kMaxPasswordBytes, kInternal if the
// library fails.
Result<std::string> HashPassword(std::string_view password);

// True when `password` matches the PHC string `encoded` (false for any malformed string).
bool VerifyPassword(std::string_view encoded, std::string_view password);

// `bytes` random bytes from the operating system's CSPRNG, as lower-case hex; kInternal if it
// fails.
Result<std::string> RandomHex(std::size_t bytes);

// A password of 20 random characters from an unambiguous alphabet (for --init-admin).
Result<std::string> GeneratePassword();

// Lower-case hex SHA-256 of a secret: how session ids and API tokens are stored.
std::string SecretHash(std::string_view secret);

// True when the two strings are equal, in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace clearbox::portal
