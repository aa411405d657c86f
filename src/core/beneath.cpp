#include "core/beneath.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace clearbox {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
// Directory levels RemoveTreeAt descends; deeper trees are left (the engine never nests
// deeper than this in the one case it removes a tree: a false candidate that wrote nothing).
constexpr int kMaxRemoveDepth = 1024;

std::string ErrnoText(const std::string& what, std::string_view path) {
  return what + " " + std::string(path) + ": " + std::strerror(errno);
}

void RemoveChildren(int dir_fd, int depth) {
  if (depth > kMaxRemoveDepth) return;
  const int dup_fd = ::dup(dir_fd);
  if (dup_fd < 0) return;
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    ::close(dup_fd);
    return;
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : names) {
    if (::unlinkat(dir_fd, name.c_str(), 0) == 0) continue;
    const int child = ::openat(dir_fd, name.c_str(), kDirFlags);
    if (child < 0) continue;
    RemoveChildren(child, depth + 1);
    ::close(child);
    ::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR);
  }
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Result<UniqueFd> OpenDirectoryBeneath(int root_fd, std::string_view rel_dir) {
  UniqueFd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current) return Fail(ErrorCode::kIo, ErrnoText("cannot duplicate descriptor for", "."));
  std::size_t start = 0;
  while (start < rel_dir.size()) {
    std::size_t end = rel_dir.find('/', start);
    if (end == std::string_view::npos) end = rel_dir.size();
    if (end > start) {
      const std::string name(rel_dir.substr(start, end - start));
      UniqueFd next(::openat(current.get(), name.c_str(), kDirFlags));
      if (!next) return Fail(ErrorCode::kIo, ErrnoText("cannot open directory", rel_dir));
      current = std::move(next);
    }
    start = end + 1;
  }
  return current;
}

Result<std::pair<UniqueFd, std::string>> OpenParentBeneath(int root_fd, std::string_view rel_path) {
  const auto slash = rel_path.rfind('/');
  const std::string_view dir = slash == std::string_view::npos ? "" : rel_path.substr(0, slash);
  const std::string leaf(slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1));
  if (leaf.empty()) return Fail(ErrorCode::kInvalidArgument, "empty path");
  auto parent = OpenDirectoryBeneath(root_fd, dir);
  if (!parent) return Forward(parent);
  return std::pair<UniqueFd, std::string>(std::move(*parent), leaf);
}

Result<MappedFile> MapFileBeneath(int root_fd, std::string_view rel_path) {
  auto parent = OpenParentBeneath(root_fd, rel_path);
  if (!parent) return Forward(parent);
  UniqueFd fd(
      ::openat(parent->first.get(), parent->second.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Fail(ErrorCode::kIo, ErrnoText("cannot open", rel_path));
  return MappedFile::FromFd(fd.get(), std::string(rel_path));
}

void RemoveTreeAt(int dir_fd, const std::string& name) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0) return;
  const int child = ::openat(dir_fd, name.c_str(), kDirFlags);
  if (child < 0) return;
  RemoveChildren(child, 0);
  ::close(child);
  ::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR);
}

}  // namespace clearbox
