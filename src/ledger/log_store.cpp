// tlog-tiles storage with a crash-safe append: data, then tiles, then the checkpoint, each
// made durable (fsync of files and directories) before the next step starts.
#include "ledger/log_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "ledger/encoding.hpp"

namespace clearbox::ledger {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kKeyFile = "key";
constexpr std::string_view kLockFile = "lock";
constexpr std::string_view kPendingCheckpoint = "checkpoint.next";
constexpr std::string_view kCheckpointFile = "checkpoint";

Unexpected IoError(const std::string& what, const fs::path& path) {
  return Fail(ErrorCode::kIo, what + " " + path.string() + ": " + std::strerror(errno));
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Fail(ErrorCode::kInvalidArgument, "missing " + path.string());
    return IoError("cannot open", path);
  }
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return IoError("cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<void> WriteDurable(const fs::path& path, std::string_view content, mode_t mode = 0644) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return IoError("cannot create", path);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return IoError("cannot write", path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return IoError("cannot fsync", path);
  }
  if (::close(fd) != 0) return IoError("cannot close", path);
  return {};
}

Result<void> FsyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync directory", dir);
  return {};
}

// Creates missing directories down to `dir`; records each parent whose entries changed.
Result<void> MakeDirs(const fs::path& root, const fs::path& relative, std::set<fs::path>* dirty) {
  fs::path current = root;
  for (const auto& part : relative) {
    const fs::path next = current / part;
    if (::mkdir(next.c_str(), 0755) == 0) {
      dirty->insert(current);
    } else if (errno != EEXIST) {
      return IoError("cannot create directory", next);
    }
    current = next;
  }
  return {};
}

std::string Be16(std::size_t n) {
  std::string s(2, '\0');
  s[0] = static_cast<char>((n >> 8) & 0xff);
  s[1] = static_cast<char>(n & 0xff);
  return s;
}

Hash ReduceToRoot(std::vector<Hash> level) {
  while (level.size() > 1) {
    for (std::size_t i = 0; i < level.size() / 2; ++i) {
      level[i] = HashChildren(level[2 * i], level[2 * i + 1]);
    }
    level.resize(level.size() / 2);
  }
  return level[0];
}

std::string HashesToBytes(const std::vector<Hash>& hashes, std::size_t begin, std::size_t end) {
  std::string out;
  out.reserve((end - begin) * 32);
  for (std::size_t i = begin; i < end; ++i) {
    out.append(reinterpret_cast<const char*>(hashes[i].data()), 32);
  }
  return out;
}

std::vector<Hash> BytesToHashes(std::string_view bytes) {
  std::vector<Hash> out(bytes.size() / 32);
  for (std::size_t i = 0; i < out.size(); ++i)
    std::memcpy(out[i].data(), bytes.data() + i * 32, 32);
  return out;
}

std::uint64_t CountAtLevel(std::uint64_t size, unsigned level) {
  return level >= 8 ? 0 : size >> (8 * level);
}

}  // namespace

std::string TileIndexPath(std::uint64_t n) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03u", static_cast<unsigned>(n % 1000));
  std::string out = buf;
  n /= 1000;
  while (n > 0) {
    std::snprintf(buf, sizeof buf, "x%03u/", static_cast<unsigned>(n % 1000));
    out = buf + out;
    n /= 1000;
  }
  return out;
}

std::string HashTilePath(unsigned level, std::uint64_t n, std::uint64_t width) {
  std::string out = "tile/" + std::to_string(level) + "/" + TileIndexPath(n);
  if (width < kTileWidth) out += ".p/" + std::to_string(width);
  return out;
}

std::string EntryBundlePath(std::uint64_t n, std::uint64_t width) {
  std::string out = "tile/entries/" + TileIndexPath(n);
  if (width < kTileWidth) out += ".p/" + std::to_string(width);
  return out;
}

Result<std::vector<std::string>> ParseEntryBundle(std::string_view bytes) {
  std::vector<std::string> out;
  while (!bytes.empty()) {
    if (bytes.size() < 2) return Fail(ErrorCode::kMalformed, "entry bundle truncated");
    const std::size_t len = (std::size_t{static_cast<std::uint8_t>(bytes[0])} << 8) |
                            static_cast<std::uint8_t>(bytes[1]);
    if (bytes.size() - 2 < len) return Fail(ErrorCode::kMalformed, "entry bundle truncated");
    out.emplace_back(bytes.substr(2, len));
    bytes.remove_prefix(2 + len);
  }
  return out;
}

Result<std::vector<Hash>> TileHashSource::LevelHashes(unsigned level, std::uint64_t begin,
                                                      std::uint64_t end) {
  const std::uint64_t count = CountAtLevel(size_, level);
  if (begin > end || end > count) return Fail(ErrorCode::kInternal, "tile hashes beyond tree");
  std::vector<Hash> out;
  out.reserve(end - begin);
  std::uint64_t i = begin;
  while (i < end) {
    const std::uint64_t tile = i / kTileWidth;
    const std::uint64_t lo = tile * kTileWidth;
    const std::uint64_t width = std::min(kTileWidth, count - lo);
    const std::string path = HashTilePath(level, tile, width);
    auto it = cache_.find(path);
    if (it == cache_.end()) {
      auto bytes = read_(path);
      if (!bytes && width < kTileWidth) {
        // The partial tile may have been deleted once its full tile existed (tlog-tiles);
        // the full tile starts with the same hashes.
        auto full = read_(HashTilePath(level, tile, kTileWidth));
        if (full && full->size() == kTileWidth * 32) bytes = full->substr(0, width * 32);
      }
      if (!bytes) return Forward(bytes);
      if (bytes->size() != width * 32) {
        return Fail(ErrorCode::kMalformed, "tile " + path + " has the wrong size");
      }
      if (cache_.size() > 64) cache_.clear();
      it = cache_.emplace(path, std::move(*bytes)).first;
    }
    const std::uint64_t stop = std::min(end, lo + width);
    for (; i < stop; ++i) {
      Hash h{};
      std::memcpy(h.data(), it->second.data() + (i - lo) * 32, 32);
      out.push_back(h);
    }
  }
  return out;
}

PerfectHashSource TileHashSource::Source() {
  return [this](unsigned height, std::uint64_t index) -> Result<Hash> {
    const unsigned level = height / 8;
    const unsigned rest = height % 8;
    auto hashes = LevelHashes(level, index << rest, (index + 1) << rest);
    if (!hashes) return Forward(hashes);
    return ReduceToRoot(std::move(*hashes));
  };
}

LogStore::~LogStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<void> LogStore::Init(const fs::path& dir, std::string_view origin, const SignerKey& key) {
  if (origin.empty() || origin.find('\n') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "invalid origin");
  }
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec)) {
      return Fail(ErrorCode::kInvalidArgument, dir.string() + " exists and is not empty");
    }
  } else if (::mkdir(dir.c_str(), 0755) != 0) {
    return IoError("cannot create", dir);
  }
  const fs::path priv = dir / kPrivateDirName;
  if (::mkdir(priv.c_str(), 0700) != 0) return IoError("cannot create", priv);
  CLEARBOX_TRY(WriteDurable(priv / kKeyFile, FormatSignerKey(key) + "\n", 0600));
  CLEARBOX_TRY(WriteDurable(priv / kLockFile, ""));
  Checkpoint cp{std::string(origin), 0, EmptyRoot(), {}};
  auto signed_cp = SignNote(FormatCheckpoint(cp), {key});
  if (!signed_cp) return Fail(ErrorCode::kInvalidArgument, "origin is not valid note text");
  CLEARBOX_TRY(WriteDurable(dir / kCheckpointFile, *signed_cp));
  CLEARBOX_TRY(FsyncDir(priv));
  CLEARBOX_TRY(FsyncDir(dir));
  if (dir.has_parent_path()) CLEARBOX_TRY(FsyncDir(dir.parent_path()));
  return {};
}

Result<std::string> LogStore::ReadFile(const std::string& relative) const {
  return ReadWholeFile(dir_ / relative);
}

Result<std::unique_ptr<LogStore>> LogStore::OpenForReading(const fs::path& dir) {
  return Open(dir, false);
}

Result<std::unique_ptr<LogStore>> LogStore::OpenForAppend(const fs::path& dir) {
  return Open(dir, true);
}

Result<std::unique_ptr<LogStore>> LogStore::Open(const fs::path& dir, bool for_append) {
  std::unique_ptr<LogStore> store(new LogStore());
  store->dir_ = dir;
  const fs::path priv = dir / kPrivateDirName;
  auto key_text = ReadWholeFile(priv / kKeyFile);
  if (!key_text) return Fail(ErrorCode::kInvalidArgument, dir.string() + " is not a clearbox log");
  std::string_view key_line = *key_text;
  if (key_line.ends_with('\n')) key_line.remove_suffix(1);
  auto signer = ParseSignerKey(key_line);
  if (!signer) return Fail(ErrorCode::kMalformed, "log key is damaged: " + signer.error().message);
  store->signer_ = *signer;
  store->have_signer_ = true;
  store->verifier_ = PublicKeyOf(*signer);
  if (for_append) {
    const fs::path lock = priv / kLockFile;
    store->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (store->lock_fd_ < 0) return IoError("cannot open", lock);
    if (::flock(store->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return Fail(ErrorCode::kIo, "another process is appending to " + dir.string());
    }
  }
  auto signed_cp = store->ReadFile(std::string(kCheckpointFile));
  if (!signed_cp) return Forward(signed_cp);
  auto opened = OpenNote(*signed_cp, {store->verifier_});
  if (!opened) return Fail(ErrorCode::kMalformed, "checkpoint: " + opened.error().message);
  auto cp = ParseCheckpoint(opened->text);
  if (!cp) return Forward(cp);
  store->checkpoint_ = std::move(*cp);
  store->signed_checkpoint_ = std::move(*signed_cp);
  if (for_append) {
    CLEARBOX_TRY(store->RecoverPendingCheckpoint());
    auto root = store->RootAt(store->checkpoint_.size);
    if (!root) return Fail(root.error().code, "tiles unreadable: " + root.error().message);
    if (*root != store->checkpoint_.root) {
      return Fail(ErrorCode::kMalformed, "tiles do not reproduce the checkpoint root");
    }
  }
  return store;
}

Result<void> LogStore::RecoverPendingCheckpoint() {
  const fs::path priv = dir_ / kPrivateDirName;
  const fs::path pending = priv / kPendingCheckpoint;
  auto text = ReadWholeFile(pending);
  if (!text) return {};  // nothing pending
  // A pending checkpoint was signed only after its data and tiles were durable. Adopting it
  // when it verifies and matches the tiles means we never sign a different tree of its size.
  bool adopt = false;
  Checkpoint cp;
  if (auto opened = OpenNote(*text, {verifier_})) {
    if (auto parsed = ParseCheckpoint(opened->text)) {
      cp = *parsed;
      if (cp.origin == checkpoint_.origin && cp.size >= checkpoint_.size) {
        auto root = RootAt(cp.size);
        adopt = root && *root == cp.root;
      }
    }
  }
  if (adopt) {
    if (::rename(pending.c_str(), (dir_ / kCheckpointFile).c_str()) != 0) {
      return IoError("cannot rename", pending);
    }
    CLEARBOX_TRY(FsyncDir(dir_));
    CLEARBOX_TRY(FsyncDir(priv));
    checkpoint_ = std::move(cp);
    signed_checkpoint_ = std::move(*text);
    return {};
  }
  if (::unlink(pending.c_str()) != 0) return IoError("cannot remove", pending);
  return FsyncDir(priv);
}

Result<Hash> LogStore::RootAt(std::uint64_t size) {
  // Tiles of the larger tree hold every hash of the smaller one (partial tiles are prefixes).
  TileHashSource tiles(std::max(size, checkpoint_.size),
                       [this](const std::string& p) { return ReadFile(p); });
  return SubtreeHash(0, size, tiles.Source());
}

Result<std::vector<Hash>> LogStore::Inclusion(std::uint64_t index) {
  if (index >= checkpoint_.size) {
    return Fail(ErrorCode::kInvalidArgument, "index " + std::to_string(index) +
                                                 " is not in the tree of size " +
                                                 std::to_string(checkpoint_.size));
  }
  TileHashSource tiles(checkpoint_.size, [this](const std::string& p) { return ReadFile(p); });
  return InclusionProof(index, checkpoint_.size, tiles.Source());
}

Result<std::vector<Hash>> LogStore::Consistency(std::uint64_t old_size) {
  TileHashSource tiles(checkpoint_.size, [this](const std::string& p) { return ReadFile(p); });
  return ConsistencyProof(old_size, checkpoint_.size, tiles.Source());
}

Result<std::string> LogStore::ReadEntry(std::uint64_t index) {
  if (index >= checkpoint_.size) return Fail(ErrorCode::kInvalidArgument, "index beyond tree");
  const std::uint64_t bundle = index / kTileWidth;
  const std::uint64_t width = std::min(kTileWidth, checkpoint_.size - bundle * kTileWidth);
  auto bytes = ReadFile(EntryBundlePath(bundle, width));
  if (!bytes) return Forward(bytes);
  auto entries = ParseEntryBundle(*bytes);
  if (!entries) return Forward(entries);
  if (entries->size() != width) return Fail(ErrorCode::kMalformed, "entry bundle has wrong count");
  return (*entries)[index % kTileWidth];
}

Result<void> LogStore::CheckAll() {
  const std::uint64_t size = checkpoint_.size;
  TileHashSource tiles(size, [this](const std::string& p) { return ReadFile(p); });
  for (std::uint64_t bundle = 0; bundle * kTileWidth < size; ++bundle) {
    const std::uint64_t lo = bundle * kTileWidth;
    const std::uint64_t width = std::min(kTileWidth, size - lo);
    auto bytes = ReadFile(EntryBundlePath(bundle, width));
    if (!bytes) return Forward(bytes);
    auto entries = ParseEntryBundle(*bytes);
    if (!entries) return Forward(entries);
    if (entries->size() != width)
      return Fail(ErrorCode::kMalformed, "entry bundle has wrong count");
    auto leaves = tiles.LevelHashes(0, lo, lo + width);
    if (!leaves) return Forward(leaves);
    for (std::uint64_t i = 0; i < width; ++i) {
      if (HashLeaf((*entries)[i]) != (*leaves)[i]) {
        return Fail(ErrorCode::kMalformed, "leaf hash mismatch at index " + std::to_string(lo + i));
      }
    }
  }
  for (unsigned level = 1; CountAtLevel(size, level) > 0; ++level) {
    const std::uint64_t count = CountAtLevel(size, level);
    for (std::uint64_t j = 0; j < count; ++j) {
      auto below = tiles.LevelHashes(level - 1, j * kTileWidth, (j + 1) * kTileWidth);
      if (!below) return Forward(below);
      auto here = tiles.LevelHashes(level, j, j + 1);
      if (!here) return Forward(here);
      if (ReduceToRoot(std::move(*below)) != (*here)[0]) {
        return Fail(ErrorCode::kMalformed, "tile hash mismatch at level " + std::to_string(level));
      }
    }
  }
  auto root = RootAt(size);
  if (!root) return Forward(root);
  if (*root != checkpoint_.root) return Fail(ErrorCode::kMalformed, "root mismatch");
  return {};
}

Result<std::uint64_t> LogStore::Append(const std::vector<std::string>& entries) {
  if (lock_fd_ < 0 || !have_signer_) return Fail(ErrorCode::kInternal, "log not open for append");
  if (entries.empty()) return checkpoint_.size;
  for (const auto& e : entries) {
    if (e.size() > kMaxEntryBytes) {
      return Fail(ErrorCode::kInvalidArgument, "entry larger than 65535 bytes");
    }
  }
  const std::uint64_t old_size = checkpoint_.size;
  const std::uint64_t new_size = old_size + entries.size();
  std::map<std::string, std::string> bundles;
  std::map<std::string, std::string> tile_files;

  // Entry bundles: the old partial bundle (if any) is extended into a new path.
  for (std::uint64_t b = old_size / kTileWidth; b * kTileWidth < new_size; ++b) {
    const std::uint64_t lo = b * kTileWidth;
    std::string content;
    if (lo < old_size) {
      auto old = ReadFile(EntryBundlePath(b, old_size - lo));
      if (!old) return Forward(old);
      auto parsed = ParseEntryBundle(*old);
      if (!parsed || parsed->size() != old_size - lo) {
        return Fail(ErrorCode::kMalformed, "partial entry bundle damaged");
      }
      content = std::move(*old);
    }
    for (std::uint64_t i = std::max(lo, old_size); i < std::min(lo + kTileWidth, new_size); ++i) {
      const auto& e = entries[i - old_size];
      content += Be16(e.size());
      content += e;
    }
    bundles[EntryBundlePath(b, std::min(kTileWidth, new_size - lo))] = std::move(content);
  }

  // Hash tiles, level by level: each newly completed tile adds one hash to the level above.
  std::vector<Hash> fresh;
  fresh.reserve(entries.size());
  for (const auto& e : entries) fresh.push_back(HashLeaf(e));
  std::uint64_t count_old = old_size;
  std::uint64_t count_new = new_size;
  for (unsigned level = 0; count_new > count_old; ++level) {
    std::vector<Hash> completed;
    for (std::uint64_t t = count_old / kTileWidth; t * kTileWidth < count_new; ++t) {
      const std::uint64_t lo = t * kTileWidth;
      std::vector<Hash> hashes;
      if (lo < count_old) {
        auto old = ReadFile(HashTilePath(level, t, count_old - lo));
        if (!old) return Forward(old);
        if (old->size() != (count_old - lo) * 32) {
          return Fail(ErrorCode::kMalformed, "partial tile damaged");
        }
        hashes = BytesToHashes(*old);
      }
      for (std::uint64_t i = std::max(lo, count_old); i < std::min(lo + kTileWidth, count_new);
           ++i) {
        hashes.push_back(fresh[i - count_old]);
      }
      tile_files[HashTilePath(level, t, hashes.size())] = HashesToBytes(hashes, 0, hashes.size());
      if (hashes.size() == kTileWidth) completed.push_back(ReduceToRoot(std::move(hashes)));
    }
    fresh = std::move(completed);
    count_old /= kTileWidth;
    count_new /= kTileWidth;
  }

  // The new root, from the tiles about to be written (overlay) and those already on disk.
  auto overlay_reader = [&](const std::string& p) -> Result<std::string> {
    if (auto it = tile_files.find(p); it != tile_files.end()) return it->second;
    return ReadFile(p);
  };
  TileHashSource tiles(new_size, overlay_reader);
  auto root = SubtreeHash(0, new_size, tiles.Source());
  if (!root) return Forward(root);

  // Durability order: entry bundles, then tiles, then the checkpoint.
  auto write_all = [&](const std::map<std::string, std::string>& files) -> Result<void> {
    std::set<fs::path> dirty;
    for (const auto& [rel, content] : files) {
      const fs::path path = dir_ / rel;
      CLEARBOX_TRY(MakeDirs(dir_, fs::path(rel).parent_path(), &dirty));
      CLEARBOX_TRY(WriteDurable(path, content));
      dirty.insert(path.parent_path());
    }
    for (const auto& d : dirty) CLEARBOX_TRY(FsyncDir(d));
    return {};
  };
  CLEARBOX_TRY(write_all(bundles));
  CLEARBOX_TRY(write_all(tile_files));

  Checkpoint cp{checkpoint_.origin, new_size, *root, {}};
  auto signed_cp = SignNote(FormatCheckpoint(cp), {signer_});
  if (!signed_cp) return Forward(signed_cp);
  const fs::path priv = dir_ / kPrivateDirName;
  const fs::path pending = priv / kPendingCheckpoint;
  CLEARBOX_TRY(WriteDurable(pending, *signed_cp));
  if (::rename(pending.c_str(), (dir_ / kCheckpointFile).c_str()) != 0) {
    return IoError("cannot rename", pending);
  }
  CLEARBOX_TRY(FsyncDir(dir_));
  CLEARBOX_TRY(FsyncDir(priv));
  checkpoint_ = std::move(cp);
  signed_checkpoint_ = std::move(*signed_cp);
  PruneCompletedPartials(old_size, new_size);
  return old_size;
}

void LogStore::PruneCompletedPartials(std::uint64_t old_size, std::uint64_t new_size) {
  // tlog-tiles: a log MAY delete any partial tile once the corresponding full tile is
  // available. Best effort: a leftover partial is harmless, so errors are ignored.
  auto prune = [this](const std::string& full_path) {
    const fs::path partials = dir_ / (full_path + ".p");
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(partials, ec))) return;
    fs::remove_all(partials, ec);
  };
  for (unsigned level = 0; level < 8; ++level) {
    const std::uint64_t old_count = CountAtLevel(old_size, level);
    const std::uint64_t new_count = CountAtLevel(new_size, level);
    if (new_count < kTileWidth) break;
    for (std::uint64_t t = old_count / kTileWidth; t < new_count / kTileWidth; ++t) {
      prune(HashTilePath(level, t, kTileWidth));
      if (level == 0) prune(EntryBundlePath(t, kTileWidth));
    }
  }
}

}  // namespace clearbox::ledger
