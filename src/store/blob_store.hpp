// Content-addressed blobs (uploaded firmware images and SBOMs) under one directory:
// ROOT/sha256/ab/<62 more hex digits>. Writers stream into a 0600 temporary file under ROOT/tmp
// while hashing, then fsync and link it into place; an existing blob with the same digest is
// kept. Readers verify the digest before they trust a blob (a shared directory may be damaged).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/hashing.hpp"
#include "core/result.hpp"

namespace clearbox::store {

// What a committed blob is.
struct BlobInfo {
  std::string sha256;  // lower-case hex
  std::uint64_t size = 0;
};

// One blob being written; dropped (its temporary file removed) unless committed.
class BlobWriter {
 public:
  BlobWriter(std::filesystem::path root, std::filesystem::path temp, int fd, std::uint64_t cap);
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Appends bytes; kLimitExceeded past the cap (the writer is then useless), kIo on a write error.
  [[nodiscard]] Result<void> Write(std::string_view bytes);
  // Makes the blob durable under its digest and returns it; the writer is done afterwards.
  [[nodiscard]] Result<BlobInfo> Commit();
  // Removes the temporary file; safe to call twice.
  void Abort();
  std::uint64_t size() const { return size_; }

 private:
  std::filesystem::path root_;
  std::filesystem::path temp_;
  int fd_;
  std::uint64_t cap_;
  std::uint64_t size_ = 0;
  Sha256 hash_;
};

// The blob directory.
class BlobStore {
 public:
  // Creates ROOT (0700) with sha256/ and tmp/ if missing and removes temporary files a crashed
  // writer left; kIo if it cannot.
  [[nodiscard]] static Result<BlobStore> Open(const std::filesystem::path& root);

  // A writer whose blob may hold at most `cap` bytes.
  [[nodiscard]] Result<std::unique_ptr<BlobWriter>> NewWriter(std::uint64_t cap) const;
  // Where the blob `sha256` lives (whether or not it exists); "" for a malformed digest.
  std::filesystem::path PathOf(std::string_view sha256) const;
  // The blob's path after re-hashing it: kInvalidArgument if absent, kMalformed if its bytes
  // no longer hash to `sha256`.
  [[nodiscard]] Result<std::filesystem::path> Verified(std::string_view sha256) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  explicit BlobStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

// True for 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);

}  // namespace clearbox::store
