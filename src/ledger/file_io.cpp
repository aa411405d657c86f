// File helpers: bounded reads and temp-file + fsync + rename writes.
#include "ledger/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace clearbox::ledger {
namespace fs = std::filesystem;

Result<std::string> ReadSmallFile(const fs::path& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument, path.string() + " is not a regular file");
  }
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Fail(ErrorCode::kIo, "cannot read " + path.string() + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return Fail(ErrorCode::kInvalidArgument,
                  path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

Result<void> WriteFileAtomically(const fs::path& path, std::string_view content, unsigned mode,
                                 bool exclusive) {
  std::error_code ec;
  if (exclusive && fs::exists(fs::symlink_status(path, ec))) {
    return Fail(ErrorCode::kInvalidArgument, path.string() + " already exists");
  }
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot create " + tmp.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  bool ok = true;
  while (ok && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      ok = false;
    else
      done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (ok && exclusive) {
    // link() fails if the target appeared meanwhile; rename() would overwrite it.
    ok = ::link(tmp.c_str(), path.c_str()) == 0;
    ::unlink(tmp.c_str());
  } else if (ok) {
    ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  }
  if (!ok) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Fail(ErrorCode::kIo, "cannot write " + path.string() + ": " + why);
  }
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<std::string> ReadKeyArgument(const std::string& arg) {
  std::error_code ec;
  if (arg.find('+') == std::string::npos || fs::is_regular_file(arg, ec)) {
    auto text = ReadSmallFile(arg, 4096);
    if (!text) return text;
    const auto nl = text->find('\n');
    if (nl != std::string::npos) {
      if (nl + 1 != text->size()) {
        return Fail(ErrorCode::kInvalidArgument, arg + ": key file must hold one line");
      }
      text->resize(nl);
    }
    return text;
  }
  return arg;
}

}  // namespace clearbox::ledger
