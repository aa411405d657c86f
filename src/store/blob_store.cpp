#include "store/blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace clearbox::store {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kReadChunk = 1 << 20;

Result<void> MakeDir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(ErrorCode::kIo, "cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  return {};
}

Result<void> SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kIo, "cannot open " + dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Fail(ErrorCode::kIo, "cannot sync " + dir.string());
  return {};
}

}  // namespace

bool IsSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

BlobWriter::BlobWriter(fs::path root, fs::path temp, int fd, std::uint64_t cap)
    : root_(std::move(root)), temp_(std::move(temp)), fd_(fd), cap_(cap) {}

BlobWriter::~BlobWriter() {
  Abort();
}

Result<void> BlobWriter::Write(std::string_view bytes) {
  if (fd_ < 0) return Fail(ErrorCode::kInternal, "the blob writer is closed");
  if (bytes.size() > cap_ - size_) {
    Abort();
    return Fail(ErrorCode::kLimitExceeded,
                "the upload is larger than the limit of " + std::to_string(cap_) + " bytes");
  }
  hash_.Update(ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      Abort();
      return Fail(ErrorCode::kIo, "cannot write the upload: " + why);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
  return {};
}

Result<BlobInfo> BlobWriter::Commit() {
  if (fd_ < 0) return Fail(ErrorCode::kInternal, "the blob writer is closed");
  if (::fsync(fd_) != 0) {
    Abort();
    return Fail(ErrorCode::kIo, "cannot sync the upload");
  }
  ::close(fd_);
  fd_ = -1;
  BlobInfo info{hash_.FinishHex(), size_};
  const fs::path dir = root_ / "sha256" / info.sha256.substr(0, 2);
  CLEARBOX_TRY(MakeDir(dir));
  const fs::path target = dir / info.sha256.substr(2);
  // link() keeps an existing blob (same digest, same bytes) instead of replacing it.
  if (::link(temp_.c_str(), target.c_str()) != 0 && errno != EEXIST) {
    const std::string why = std::strerror(errno);
    Abort();
    return Fail(ErrorCode::kIo, "cannot store the blob " + target.string() + ": " + why);
  }
  Abort();  // the temporary name
  CLEARBOX_TRY(SyncDir(dir));
  return info;
}

void BlobWriter::Abort() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
}

Result<BlobStore> BlobStore::Open(const fs::path& root) {
  CLEARBOX_TRY(MakeDir(root));
  CLEARBOX_TRY(MakeDir(root / "sha256"));
  CLEARBOX_TRY(MakeDir(root / "tmp"));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "tmp", ec)) {
    fs::remove(entry.path(), ec);  // a writer that crashed; its upload was never acknowledged
  }
  return BlobStore(root);
}

Result<std::unique_ptr<BlobWriter>> BlobStore::NewWriter(std::uint64_t cap) const {
  std::string pattern = (root_ / "tmp" / "upload.XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());  // 0600
  if (fd < 0) return Fail(ErrorCode::kIo, "cannot create a temporary file under " + root_.string());
  return std::make_unique<BlobWriter>(root_, fs::path(pattern), fd, cap);
}

fs::path BlobStore::PathOf(std::string_view sha256) const {
  if (!IsSha256Hex(sha256)) return {};
  return root_ / "sha256" / std::string(sha256.substr(0, 2)) / std::string(sha256.substr(2));
}

Result<fs::path> BlobStore::Verified(std::string_view sha256) const {
  const fs::path path = PathOf(sha256);
  if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "not a SHA-256 digest");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return Fail(ErrorCode::kInvalidArgument, "blob " + std::string(sha256) + " is missing");
  Sha256 hash;
  std::string buffer(kReadChunk, '\0');
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Fail(ErrorCode::kIo, "cannot read blob " + path.string());
    }
    if (n == 0) break;
    hash.Update(ByteView(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                         static_cast<std::size_t>(n)));
  }
  ::close(fd);
  if (hash.FinishHex() != sha256) {
    return Fail(ErrorCode::kMalformed,
                "blob " + std::string(sha256) + " is damaged: its bytes hash to another digest");
  }
  return path;
}

}  // namespace clearbox::store
