// tlog-tiles over HTTP. Paths are parsed strictly and rebuilt canonically before any file is
// opened, so nothing outside checkpoint and tile/ (e.g. .clearbox-log/) can ever be named.
#include "portal/log_routes.hpp"

#include <openssl/crypto.h>

#include "ledger/checkpoint.hpp"
#include "ledger/file_io.hpp"
#include "ledger/note.hpp"

namespace clearbox::portal {
namespace {

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kOctetStream = "application/octet-stream";
// Largest file served: a full entry bundle of maximal entries.
constexpr std::size_t kMaxServedBytes = ledger::kTileWidth * (2 + ledger::kMaxEntryBytes);

HttpResponse Text(int status, std::string body) {
  return HttpResponse{status, std::string(kTextPlain), std::move(body), {}};
}

// A decimal of 1..max_digits digits without leading zeros (a lone "0" allowed if zero_ok).
bool ParseSmallDecimal(std::string_view s, std::size_t max_digits, bool zero_ok,
                       std::uint64_t* out) {
  if (s.empty() || s.size() > max_digits) return false;
  if (s[0] == '0' && (s.size() > 1 || !zero_ok)) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<TilePath> ParseTilePath(std::string_view path) {
  auto bad = [] { return Fail(ErrorCode::kMalformed, "not a tlog-tiles path"); };
  if (path.size() > kMaxTilePathBytes || !path.starts_with("tile/")) return bad();
  path.remove_prefix(5);
  TilePath tile;
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return bad();
  const std::string_view first = path.substr(0, slash);
  if (first == "entries") {
    tile.entries = true;
  } else {
    std::uint64_t level = 0;
    if (!ParseSmallDecimal(first, 2, true, &level) || level > 63) return bad();
    tile.level = static_cast<unsigned>(level);
  }
  path.remove_prefix(slash + 1);
  // Optional ".p/<W>" suffix.
  if (const auto dot = path.find(".p/"); dot != std::string_view::npos) {
    std::uint64_t width = 0;
    if (!ParseSmallDecimal(path.substr(dot + 3), 3, false, &width) || width >= ledger::kTileWidth) {
      return bad();
    }
    tile.width = width;
    path = path.substr(0, dot);
  }
  // N: "x" groups then a last plain group, each exactly three digits.
  std::uint64_t n = 0;
  std::size_t groups = 0;
  while (true) {
    const auto next = path.find('/');
    std::string_view group = path.substr(0, next);
    const bool last = next == std::string_view::npos;
    if (!last) {
      if (!group.starts_with('x')) return bad();
      group.remove_prefix(1);
    }
    if (group.size() != 3 || ++groups > kMaxTileIndexGroups) return bad();
    for (char c : group) {
      if (c < '0' || c > '9') return bad();
    }
    n = n * 1000 + static_cast<std::uint64_t>((group[0] - '0') * 100 + (group[1] - '0') * 10 +
                                              (group[2] - '0'));
    if (last) break;
    path.remove_prefix(next + 1);
  }
  tile.index = n;
  // Exactly one spelling per tile: "x000/001" for 1 is not it.
  if (ledger::TileIndexPath(n).size() != groups * 5 - 2) return bad();
  return tile;
}

std::string FormatTilePath(const TilePath& tile) {
  return tile.entries ? ledger::EntryBundlePath(tile.index, tile.width)
                      : ledger::HashTilePath(tile.level, tile.index, tile.width);
}

bool TileCoveredBySize(const TilePath& tile, std::uint64_t size) {
  // Entries (or level-L hashes) up to the tile's end, in leaves: (N*256 + W) * 256^L; any
  // overflow is past every size.
  constexpr std::uint64_t kWidth = ledger::kTileWidth;
  std::uint64_t end = 0;
  if (__builtin_mul_overflow(tile.index, kWidth, &end) ||
      __builtin_add_overflow(end, tile.width, &end)) {
    return false;
  }
  for (unsigned l = 0; l < (tile.entries ? 0u : tile.level); ++l) {
    if (end > size || __builtin_mul_overflow(end, kWidth, &end)) return false;
  }
  return end <= size;
}

LogService::LogService(std::filesystem::path dir, std::string token)
    : dir_(std::move(dir)), token_(std::move(token)) {}

HttpResponse LogService::ServeFile(const std::string& relative, std::string_view content_type,
                                   std::string_view cache, bool head) {
  auto bytes = ledger::ReadSmallFile(dir_ / relative, kMaxServedBytes);
  if (!bytes) return Text(404, "not found\n");
  // For HEAD the body stays: the HTTP layer sends its length but not the bytes.
  (void)head;
  return HttpResponse{
      200, std::string(content_type), std::move(*bytes), {{"Cache-Control", std::string(cache)}}};
}

Result<std::uint64_t> LogService::SignedSize() const {
  auto text = ledger::ReadSmallFile(dir_ / "checkpoint", kMaxServedBytes);
  if (!text) return Forward(text);
  auto note = ledger::ParseNote(*text);
  if (!note) return Forward(note);
  auto cp = ledger::ParseCheckpoint(note->text);
  if (!cp) return Forward(cp);
  return cp->size;
}

std::optional<HttpResponse> LogService::Unauthorized(const HttpRequest& request) const {
  const std::string auth = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth.starts_with(kBearer)) {
    auto r = Text(401, "bearer token required\n");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  const std::string_view given = std::string_view(auth).substr(kBearer.size());
  if (token_.empty() || given.size() != token_.size() ||
      CRYPTO_memcmp(given.data(), token_.data(), token_.size()) != 0) {
    return Text(403, "appends refused\n");
  }
  return std::nullopt;
}

HttpHeaderDecision LogService::CheckHeaders(const HttpRequest& request) {
  if (request.path == "/add" && request.method == "POST") {
    if (auto refused = Unauthorized(request)) return HttpHeaderDecision{std::move(refused), 0};
    return HttpHeaderDecision{std::nullopt, ledger::kMaxEntryBytes};
  }
  if (request.method == "GET" || request.method == "HEAD") {
    return HttpHeaderDecision{std::nullopt, 0};
  }
  // Every other request is a 405 (or 404) that needs no body.
  return HttpHeaderDecision{Handle(request), 0};
}

HttpResponse LogService::Handle(const HttpRequest& request) {
  const std::string& path = request.path;
  if (path == "/add") {
    if (request.method != "POST") {
      auto r = Text(405, "use POST\n");
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    return Append(request);
  }
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    auto r = Text(405, "read-only resource\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/checkpoint") return ServeFile("checkpoint", kTextPlain, kCheckpointCache, head);
  if (path.starts_with("/tile/")) {
    auto tile = ParseTilePath(std::string_view(path).substr(1));
    if (!tile) return Text(400, "not a tlog-tiles path\n");
    // Only what the served checkpoint covers: a tile past it may be half-written, or rewritten
    // by the next append, so it must never reach a client (least of all as immutable).
    auto size = SignedSize();
    if (!size) return Text(503, "checkpoint unavailable\n");
    if (!TileCoveredBySize(*tile, *size)) {
      auto r = Text(404, "not covered by the checkpoint\n");
      r.headers.emplace_back("Cache-Control", std::string(kUncoveredCache));
      return r;
    }
    if (tile->width == ledger::kTileWidth) {
      return ServeFile(FormatTilePath(*tile), kOctetStream, kImmutableCache, head);
    }
    auto response = ServeFile(FormatTilePath(*tile), kOctetStream, kPartialCache, head);
    if (response.status == 404) return ServePrunedPartial(*tile);
    return response;
  }
  return Text(404, "not found\n");
}

HttpResponse LogService::ServePrunedPartial(const TilePath& tile) {
  // The log deletes partial tiles once the full tile exists; their bytes are the full tile's
  // first W hashes (or entries), so serve those.
  TilePath full = tile;
  full.width = ledger::kTileWidth;
  auto bytes = ledger::ReadSmallFile(dir_ / FormatTilePath(full), kMaxServedBytes);
  if (!bytes) return Text(404, "not found\n");
  std::string body;
  if (!tile.entries) {
    if (bytes->size() != ledger::kTileWidth * 32) return Text(500, "damaged tile\n");
    body = bytes->substr(0, tile.width * 32);
  } else {
    std::string_view rest = *bytes;
    for (std::uint64_t i = 0; i < tile.width; ++i) {
      if (rest.size() < 2) return Text(500, "damaged entry bundle\n");
      const std::size_t len = (std::size_t{static_cast<std::uint8_t>(rest[0])} << 8) |
                              static_cast<std::uint8_t>(rest[1]);
      if (rest.size() - 2 < len) return Text(500, "damaged entry bundle\n");
      rest.remove_prefix(2 + len);
    }
    body = bytes->substr(0, bytes->size() - rest.size());
  }
  return HttpResponse{200,
                      std::string(kOctetStream),
                      std::move(body),
                      {{"Cache-Control", std::string(kImmutableCache)}}};
}

HttpResponse LogService::Append(const HttpRequest& request) {
  // Checked again: Handle may be called without the header phase (tests, other servers).
  if (auto refused = Unauthorized(request)) return std::move(*refused);
  if (request.body.size() > ledger::kMaxEntryBytes) return Text(413, "entry too large\n");
  std::lock_guard<std::mutex> lock(append_mutex_);
  auto store = ledger::LogStore::OpenForAppend(dir_);
  if (!store) {
    return Text(store.error().code == ErrorCode::kIo ? 503 : 500,
                "log unavailable: " + store.error().message + "\n");
  }
  auto index = (*store)->Append({request.body});
  if (!index) return Text(500, "append failed: " + index.error().message + "\n");
  return Text(200, std::to_string(*index) + "\n");
}

}  // namespace clearbox::portal
