#include "core/build_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "core/read_file.hpp"

namespace clearbox {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// "<kind>-<key>" when both are plain names (no separators that could leave the directory).
std::optional<fs::path> EntryPath(std::string_view kind, std::string_view key) {
  const auto plain = [](std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    for (char ch : s) {
      const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
      if (!ok) return false;
    }
    return true;
  };
  if (!plain(kind) || !plain(key)) return std::nullopt;
  auto dir = CacheDir();
  if (!dir) return std::nullopt;
  return *dir / (std::string(kind) + "-" + std::string(key));
}

}  // namespace

std::optional<fs::path> CacheDir() {
  if (Env("CLEARBOX_NO_CACHE")) return std::nullopt;
  if (auto dir = Env("CLEARBOX_CACHE_DIR")) return fs::path(*dir);
  if (auto xdg = Env("XDG_CACHE_HOME")) return fs::path(*xdg) / "clearbox";
  if (auto home = Env("HOME")) return fs::path(*home) / ".cache" / "clearbox";
  return std::nullopt;
}

std::optional<std::string> ReadCacheEntry(std::string_view kind, std::string_view key) {
  const auto path = EntryPath(kind, key);
  if (!path) return std::nullopt;
  auto bytes = ReadFileCapped(*path, kMaxCacheEntryBytes);
  if (!bytes) return std::nullopt;
  return std::move(*bytes);
}

void WriteCacheEntry(std::string_view kind, std::string_view key, std::string_view bytes) {
  const auto path = EntryPath(kind, key);
  if (!path) return;
  std::error_code ec;
  fs::create_directories(path->parent_path(), ec);
  ::chmod(path->parent_path().c_str(), 0700);
  const fs::path temp = path->string() + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool closed = ::close(fd) == 0;
  const bool complete = closed && done == bytes.size();
  if (!complete || ::rename(temp.c_str(), path->c_str()) != 0) ::unlink(temp.c_str());
}

}  // namespace clearbox
