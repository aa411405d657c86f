#include "core/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace clearbox {

Result<MappedFile> MappedFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return Fail(ErrorCode::kIo, "cannot open " + path + ": " + std::strerror(errno));
  }
  auto mapped = FromFd(fd, path);
  ::close(fd);
  return mapped;
}

Result<MappedFile> MappedFile::FromFd(int fd, const std::string& label) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Fail(ErrorCode::kIo, "cannot stat " + label + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument, label + " is not a regular file");
  }
  MappedFile out;
  out.size_ = static_cast<std::size_t>(st.st_size);
  if (out.size_ == 0) return out;
  void* p = ::mmap(nullptr, out.size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    return Fail(ErrorCode::kIo, "cannot map " + label + ": " + std::strerror(errno));
  }
  ::madvise(p, out.size_, MADV_SEQUENTIAL);
  out.data_ = static_cast<const std::uint8_t*>(p);
  return out;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

}  // namespace clearbox
