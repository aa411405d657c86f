// Paths beneath a directory descriptor, walked one component at a time: no symlink is ever
// followed and a path may be longer than PATH_MAX (deeply nested extractions are).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/mapped_file.hpp"
#include "core/result.hpp"

namespace clearbox {

// An owned file descriptor, closed on destruction; -1 when empty.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Gives up ownership.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Opens the directory `rel_dir` ('/'-separated, "" = root_fd itself) beneath `root_fd`;
// kIo when a component is missing, not a directory or a symlink.
Result<UniqueFd> OpenDirectoryBeneath(int root_fd, std::string_view rel_dir);

// Splits `rel_path` into its directory (opened beneath `root_fd`) and last component.
Result<std::pair<UniqueFd, std::string>> OpenParentBeneath(int root_fd, std::string_view rel_path);

// Maps the regular file `rel_path` beneath `root_fd` read-only (never through a symlink).
Result<MappedFile> MapFileBeneath(int root_fd, std::string_view rel_path);

// Removes the entry `name` of directory `dir_fd` and, for a directory, everything in it,
// without following symlinks and at any depth. Best effort: errors are ignored.
void RemoveTreeAt(int dir_fd, const std::string& name);

}  // namespace clearbox
