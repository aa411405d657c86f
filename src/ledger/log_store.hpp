// A c2sp.org/tlog-tiles transparency log on local disk: entry bundles, hash tiles of height 8
// and a signed checkpoint, appended crash-safely by one writer at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "ledger/checkpoint.hpp"
#include "ledger/merkle.hpp"
#include "ledger/note.hpp"

namespace clearbox::ledger {

// Hashes per full tile (tile height 8).
inline constexpr std::uint64_t kTileWidth = 256;
// Largest entry an entry bundle can hold (big-endian uint16 length prefix).
inline constexpr std::size_t kMaxEntryBytes = 65535;
// Where the log keeps what is not public: signer key, lock, pending checkpoint.
inline constexpr std::string_view kPrivateDirName = ".clearbox-log";

// "x001/x234/067" for 1234067: the tlog-tiles N path element.
std::string TileIndexPath(std::uint64_t n);
// "tile/<level>/<N>[.p/<width>]" (width < 256 makes a partial tile).
std::string HashTilePath(unsigned level, std::uint64_t n, std::uint64_t width);
// "tile/entries/<N>[.p/<width>]".
std::string EntryBundlePath(std::uint64_t n, std::uint64_t width);

// Splits an entry bundle into its entries; kMalformed if the bytes are not exactly
// length-prefixed entries.
[[nodiscard]] Result<std::vector<std::string>> ParseEntryBundle(std::string_view bytes);

// Reads perfect-subtree hashes of a tree of `size` from tiles; `read` fetches a file by its
// path relative to the log root (so it can read a directory, an overlay or HTTP).
class TileHashSource {
 public:
  using Reader = std::function<Result<std::string>(const std::string& path)>;
  TileHashSource(std::uint64_t size, Reader read) : size_(size), read_(std::move(read)) {}
  // The PerfectHashSource view; valid while this object lives.
  PerfectHashSource Source();
  // Hashes stored at tile level `level`, indices [begin, end), for the tree size.
  [[nodiscard]] Result<std::vector<Hash>> LevelHashes(unsigned level, std::uint64_t begin,
                                                      std::uint64_t end);

 private:
  std::uint64_t size_;
  Reader read_;
  std::map<std::string, std::string> cache_;
};

// One open log directory.
class LogStore {
 public:
  // Creates a log in `dir` (absent or empty) with a signed checkpoint of size 0.
  [[nodiscard]] static Result<void> Init(const std::filesystem::path& dir, std::string_view origin,
                                         const SignerKey& key);
  // Opens for reading: reads and verifies the checkpoint with the log's own key.
  [[nodiscard]] static Result<std::unique_ptr<LogStore>> OpenForReading(
      const std::filesystem::path& dir);
  // Opens for appending: takes the writer lock (kIo if held), completes or discards a pending
  // checkpoint, and checks that the tiles reproduce the checkpoint's root.
  [[nodiscard]] static Result<std::unique_ptr<LogStore>> OpenForAppend(
      const std::filesystem::path& dir);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  const Checkpoint& checkpoint() const { return checkpoint_; }
  const std::string& signed_checkpoint() const { return signed_checkpoint_; }
  const VerifierKey& verifier() const { return verifier_; }

  // Appends entries (each at most kMaxEntryBytes); returns the index of the first. When it
  // returns, entries, tiles and the new signed checkpoint are durable (fsync'd in that order);
  // then the partial tiles and bundles of tiles it completed are deleted.
  [[nodiscard]] Result<std::uint64_t> Append(const std::vector<std::string>& entries);

  // Inclusion proof of `index` in the current checkpoint's tree.
  [[nodiscard]] Result<std::vector<Hash>> Inclusion(std::uint64_t index);
  // Consistency proof from `old_size` to the current checkpoint's tree.
  [[nodiscard]] Result<std::vector<Hash>> Consistency(std::uint64_t old_size);
  // The root of the tree of `size`, from the tiles of the checkpoint (or of `size` if larger).
  [[nodiscard]] Result<Hash> RootAt(std::uint64_t size);
  // The entry at `index`, from its bundle.
  [[nodiscard]] Result<std::string> ReadEntry(std::uint64_t index);
  // Full check: every entry bundle rehashed against the level-0 tiles, every higher tile
  // against the level below, and the root against the checkpoint.
  [[nodiscard]] Result<void> CheckAll();

 private:
  LogStore() = default;
  [[nodiscard]] static Result<std::unique_ptr<LogStore>> Open(const std::filesystem::path& dir,
                                                              bool for_append);
  [[nodiscard]] Result<std::string> ReadFile(const std::string& relative) const;
  [[nodiscard]] Result<void> RecoverPendingCheckpoint();
  // Deletes the partial tiles and bundles of tiles an append from `old_size` completed.
  void PruneCompletedPartials(std::uint64_t old_size, std::uint64_t new_size);

  std::filesystem::path dir_;
  int lock_fd_ = -1;
  bool have_signer_ = false;
  SignerKey signer_;
  VerifierKey verifier_;
  Checkpoint checkpoint_;
  std::string signed_checkpoint_;
};

}  // namespace clearbox::ledger
