// SHA-256 of byte streams (OpenSSL), as lower-case hex.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/byte_reader.hpp"

namespace clearbox {

// Incremental SHA-256; Update any number of times, then Finish once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(ByteView bytes);
  // Returns the 32-byte digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> Finish();
  // Returns the digest as 64 lower-case hex characters.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// SHA-256 of a whole view as hex.
std::string Sha256Hex(ByteView bytes);

// "0x" followed by at least 8 hex digits: the offset notation of names and manifests.
std::string HexOffset(std::uint64_t offset);

}  // namespace clearbox
