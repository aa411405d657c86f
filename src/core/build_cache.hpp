// BuildCache: a per-user cache of things that are slow to build from data files and cheap to
// reload (compiled pattern databases). Entries are keyed by a digest of everything they are
// built from; a missing, unreadable or stale entry only costs a rebuild, never an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace clearbox {

// Largest entry read back; anything bigger is treated as missing.
inline constexpr std::uint64_t kMaxCacheEntryBytes = 256ULL << 20;

// The cache directory: $CLEARBOX_CACHE_DIR when set and non-empty, else
// $XDG_CACHE_HOME/clearbox, else $HOME/.cache/clearbox; nullopt when caching is off
// ($CLEARBOX_NO_CACHE set and non-empty, or no directory can be named).
std::optional<std::filesystem::path> CacheDir();

// The entry `kind`-`key` (key: a hex digest of the inputs), or nullopt when absent,
// unreadable, oversized or caching is off.
std::optional<std::string> ReadCacheEntry(std::string_view kind, std::string_view key);

// Stores an entry atomically (a temporary file renamed over the name), creating the directory
// (mode 0700) when needed; failures are ignored: the caller rebuilds next time.
void WriteCacheEntry(std::string_view kind, std::string_view key, std::string_view bytes);

}  // namespace clearbox
