#include "core/read_file.hpp"

#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/beneath.hpp"

namespace clearbox {

Result<std::string> ReadFileCapped(int fd, std::uint64_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Fail(ErrorCode::kIo, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Fail(ErrorCode::kIo, "not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return Fail(ErrorCode::kLimitExceeded,
                "file larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorCode::kIo, std::strerror(errno));
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      return Fail(ErrorCode::kLimitExceeded,
                  "file larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return out;
}

Result<std::string> ReadFileCapped(const std::filesystem::path& path, std::uint64_t max_bytes) {
  const UniqueFd fd(
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));  // a FIFO must not block
  if (fd.get() < 0) {
    return Fail(ErrorCode::kIo, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  auto text = ReadFileCapped(fd.get(), max_bytes);
  if (!text) return Fail(text.error().code, path.string() + ": " + text.error().message);
  return text;
}

Result<void> WriteWholeFile(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return Fail(ErrorCode::kIo, "cannot write " + path.string());
  return {};
}

}  // namespace clearbox
