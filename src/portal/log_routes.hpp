// The HTTP face of a clearbox log: c2sp.org/tlog-tiles read endpoints (checkpoint, hash
// tiles, entry bundles) straight from the log directory, and bearer-token appends.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "ledger/log_store.hpp"
#include "portal/http_server.hpp"

namespace clearbox::portal {

// Longest tile path we parse ("tile/entries/" + 6 groups + ".p/255" is far shorter).
inline constexpr std::size_t kMaxTilePathBytes = 96;
// At most 6 three-digit groups in N (10^18 > 2^64 / 256).
inline constexpr std::size_t kMaxTileIndexGroups = 6;
// Cache-Control of full tiles and entry bundles (their bytes never change).
inline constexpr std::string_view kImmutableCache = "public, max-age=31536000, immutable";
// Cache-Control of partial tiles (immutable too, but the log may delete them once full).
inline constexpr std::string_view kPartialCache = "public, max-age=3600";
// Cache-Control of the checkpoint (replaced by every append).
inline constexpr std::string_view kCheckpointCache = "no-cache";
// Cache-Control of a refused tile the current checkpoint does not cover (it may appear later).
inline constexpr std::string_view kUncoveredCache = "no-store";

// One tlog-tiles resource: a hash tile (level, index) or an entry bundle (index), and its
// width (kTileWidth for a full tile, 1..255 for a partial one).
struct TilePath {
  bool entries = false;
  unsigned level = 0;
  std::uint64_t index = 0;
  std::uint64_t width = ledger::kTileWidth;
};

// Parses "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" exactly as c2sp.org/tlog-tiles
// writes them: L 0..63 and W 1..255 without leading zeros, N as 3-digit groups with every group
// but the last prefixed by 'x' and no leading zero group; anything else (.., //, %, other
// spellings of the same N) is kMalformed.
[[nodiscard]] Result<TilePath> ParseTilePath(std::string_view path);

// The canonical relative path of a tile resource (ParseTilePath's inverse).
std::string FormatTilePath(const TilePath& tile);

// True if a tree of `size` entries contains all of `tile` (its width included), i.e. a
// checkpoint of that size covers it (c2sp.org/tlog-tiles).
bool TileCoveredBySize(const TilePath& tile, std::uint64_t size);

// Serves one log directory. GET/HEAD /checkpoint, /tile/<L>/<N>[.p/<W>],
// /tile/entries/<N>[.p/<W>]; POST /add with the entry as the body and
// "Authorization: Bearer <token>" appends it (200 with "<index>\n" once durable; 401 without
// a bearer token, 403 with a wrong one or when no token is configured, 413 if too large).
// A partial tile the log has pruned (its full tile exists) is served as the full tile's
// first W hashes or entries. Tiles the current checkpoint does not cover (written by an append
// in progress or one that failed) are 404 with kUncoveredCache, never immutable.
class LogService {
 public:
  // `token` empty: appends are refused.
  LogService(std::filesystem::path dir, std::string token);

  // The header phase (HttpHeaderCheck): POST /add is authorized here, before its body is
  // read (401/403; at most kMaxEntryBytes of body); GET/HEAD may not send a body; any other
  // method is answered (405) at once.
  HttpHeaderDecision CheckHeaders(const HttpRequest& request);

  // Answers one request; never throws for bad input.
  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse ServeFile(const std::string& relative, std::string_view content_type,
                         std::string_view cache, bool head);
  HttpResponse ServePrunedPartial(const TilePath& tile);
  HttpResponse Append(const HttpRequest& request);
  // 401/403 unless `request` carries our bearer token.
  std::optional<HttpResponse> Unauthorized(const HttpRequest& request) const;
  // The size of the checkpoint being served.
  Result<std::uint64_t> SignedSize() const;

  std::filesystem::path dir_;
  std::string token_;
  std::mutex append_mutex_;  // one appender per process (the log's flock is per open file)
};

}  // namespace clearbox::portal
