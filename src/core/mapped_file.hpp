// MappedFile: a read-only memory map of a whole file (empty files map to an empty view).
#pragma once

#include <cstdint>
#include <string>

#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox {

class MappedFile {
 public:
  // Maps `path` read-only; fails with kIo (or kInvalidArgument for non-regular files).
  static Result<MappedFile> Open(const std::string& path);
  // Maps an already open descriptor (not closed by the map).
  static Result<MappedFile> FromFd(int fd, const std::string& label);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  ByteView bytes() const { return {data_, size_}; }
  std::uint64_t size() const { return size_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace clearbox
