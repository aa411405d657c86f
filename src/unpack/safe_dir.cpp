#include "unpack/safe_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace clearbox::unpack {
namespace {

constexpr std::size_t kMaxComponentLength = 255;
constexpr std::size_t kMaxPathLength = 4096;
constexpr std::size_t kMaxPathDepth = 256;
// Hashing the zeros of a hole checks the deadline after every this many bytes.
constexpr std::uint64_t kZeroHashCheckBytes = 64ULL << 20;

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Modes we give objects on disk: never setuid/setgid/sticky, always owner-writable so that
// later members can be written into directories the archive marked read-only.
mode_t DiskFileMode(std::uint32_t mode) {
  return (mode & 0777 & ~0022u) | 0600;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// FileWriter

FileWriter::FileWriter(SafeDir* owner, int fd, std::string path, std::uint32_t mode)
    : owner_(owner), fd_(fd), path_(std::move(path)), mode_(mode) {}

FileWriter::FileWriter(FileWriter&& other) noexcept
    : owner_(other.owner_),
      fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      mode_(other.mode_),
      size_(other.size_),
      hash_(std::move(other.hash_)) {}

FileWriter::~FileWriter() {
  if (fd_ >= 0) {
    // Not closed explicitly (an error path): still record what was written.
    (void)Close();
  }
}

Result<void> FileWriter::Write(ByteView bytes) {
  if (fd_ < 0) return Fail(ErrorCode::kInternal, "write to closed file " + path_);
  if (bytes.empty()) return {};
  if (owner_->budget_) CLEARBOX_TRY(owner_->budget_->ChargeOutput(bytes.size()));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kIo, Errno("write " + owner_->Display(path_)));
    }
    done += static_cast<std::size_t>(n);
  }
  hash_.Update(bytes);
  size_ += bytes.size();
  return {};
}

Result<void> FileWriter::WriteZeros(std::uint64_t n) {
  if (fd_ < 0) return Fail(ErrorCode::kInternal, "write to closed file " + path_);
  if (n == 0) return {};
  if (ChunkBudget* budget = owner_->budget_) {
    // A hole larger than all the output left is a hostile size claim (a sparse member of
    // 17 GiB): refused before any zero is hashed, and nothing is charged, so later members
    // still get the allowance.
    const std::uint64_t remaining = budget->RemainingOutput();
    if (n > remaining) {
      return Fail(ErrorCode::kLimitExceeded,
                  "sparse hole of " + std::to_string(n) + " bytes in " + owner_->Display(path_) +
                      " is more than the output allowance left (" + std::to_string(remaining) +
                      " bytes); member truncated");
    }
    CLEARBOX_TRY(budget->ChargeOutput(n));
  }
  static const std::uint8_t kZeros[65536] = {};
  std::uint64_t left = n;
  std::uint64_t since_check = 0;
  while (left > 0) {
    const std::size_t step = left < sizeof kZeros ? static_cast<std::size_t>(left) : sizeof kZeros;
    hash_.Update(ByteView(kZeros, step));
    left -= step;
    since_check += step;
    if (since_check >= kZeroHashCheckBytes && owner_->budget_) {
      since_check = 0;
      CLEARBOX_TRY(owner_->budget_->CheckDeadline());
    }
  }
  // A hole instead of written zeros: seek forward and extend the file at Close().
  if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) {
    return Fail(ErrorCode::kIo, Errno("seek " + owner_->Display(path_)));
  }
  size_ += n;
  return {};
}

Result<void> FileWriter::Close() {
  if (fd_ < 0) return {};
  Result<void> status;
  if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    status = Fail(ErrorCode::kIo, Errno("truncate " + owner_->Display(path_)));
  }
  ::close(fd_);
  fd_ = -1;
  ExtractedEntry entry;
  entry.path = owner_->Display(path_);
  entry.type = EntryType::kFile;
  entry.size = size_;
  entry.sha256 = hash_.FinishHex();
  entry.mode = mode_;
  owner_->Record(std::move(entry));
  return status;
}

// ---------------------------------------------------------------------------------------------
// SafeDir

SafeDir::SafeDir(int root_fd, std::string prefix, ChunkBudget* budget)
    : root_fd_(root_fd), prefix_(std::move(prefix)), budget_(budget) {}

SafeDir::~SafeDir() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

Result<std::unique_ptr<SafeDir>> SafeDir::Create(const std::string& abs_path,
                                                 std::string display_prefix, ChunkBudget* budget) {
  return CreateAt(AT_FDCWD, abs_path, std::move(display_prefix), budget);
}

Result<std::unique_ptr<SafeDir>> SafeDir::CreateAt(int parent_fd, const std::string& name,
                                                   std::string display_prefix,
                                                   ChunkBudget* budget) {
  if (::mkdirat(parent_fd, name.c_str(), 0755) != 0) {
    return Fail(ErrorCode::kIo, Errno("cannot create directory " + name));
  }
  const int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kIo, Errno("cannot open directory " + name));
  return std::unique_ptr<SafeDir>(new SafeDir(fd, std::move(display_prefix), budget));
}

Result<std::string> SafeDir::NormalizeMember(std::string_view member) {
  if (member.find('\0') != std::string_view::npos) {
    return Fail(ErrorCode::kMalformed, "member name contains a NUL byte");
  }
  if (member.size() > kMaxPathLength) {
    return Fail(ErrorCode::kMalformed, "member path longer than 4096 bytes");
  }
  std::vector<std::string_view> out;
  for (std::string_view part : SplitPath(member)) {
    if (part == ".") continue;
    if (part == "..") {
      if (out.empty()) {
        return Fail(ErrorCode::kTraversal,
                    "member path '" + std::string(member) + "' leaves the output directory");
      }
      out.pop_back();
      continue;
    }
    if (part.size() > kMaxComponentLength) {
      return Fail(ErrorCode::kMalformed, "member path component longer than 255 bytes");
    }
    out.push_back(part);
  }
  if (out.size() > kMaxPathDepth) {
    return Fail(ErrorCode::kMalformed, "member path deeper than 256 components");
  }
  std::string joined;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i) joined.push_back('/');
    joined.append(out[i]);
  }
  return joined;
}

std::string SafeDir::Display(const std::string& rel) const {
  if (rel.empty()) return prefix_;
  if (prefix_.empty()) return rel;
  return prefix_ + "/" + rel;
}

Result<void> SafeDir::ChargeEntry() {
  if (budget_) return budget_->ChargeEntry();
  return {};
}

void SafeDir::Record(ExtractedEntry entry) {
  std::lock_guard lock(mutex_);
  std::string key = entry.path;
  entries_.insert_or_assign(std::move(key), std::move(entry));
}

std::vector<ExtractedEntry> SafeDir::TakeEntries() {
  std::lock_guard lock(mutex_);
  std::vector<ExtractedEntry> out;
  out.reserve(entries_.size());
  for (auto& [path, entry] : entries_) out.push_back(std::move(entry));
  entries_.clear();
  return out;
}

std::size_t SafeDir::entry_count() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

Result<int> SafeDir::OpenDirectoryPath(const std::string& rel_dir) {
  int fd = ::dup(root_fd_);
  if (fd < 0) return Fail(ErrorCode::kIo, Errno("dup"));
  std::string walked;
  for (std::string_view part : SplitPath(rel_dir)) {
    const std::string name(part);
    walked += walked.empty() ? name : "/" + name;
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT) {
      // Every directory created counts, also the parents a member path implies.
      if (auto charged = ChargeEntry(); !charged) {
        ::close(fd);
        return Forward(charged);
      }
      if (::mkdirat(fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
        const auto err = Errno("cannot create directory " + Display(walked));
        ::close(fd);
        return Fail(ErrorCode::kIo, err);
      }
      ExtractedEntry dir;
      dir.path = Display(walked);
      dir.type = EntryType::kDirectory;
      dir.mode = 0755;
      {
        std::lock_guard lock(mutex_);
        entries_.try_emplace(dir.path, std::move(dir));
      }
      next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      const int err = errno;
      ::close(fd);
      if (err == ELOOP || err == ENOTDIR) {
        return Fail(ErrorCode::kTraversal, "refusing to write through '" + Display(walked) +
                                               "': it is a symlink or not a directory");
      }
      errno = err;
      return Fail(ErrorCode::kIo, Errno("cannot open directory " + Display(walked)));
    }
    ::close(fd);
    fd = next;
  }
  return fd;
}

Result<int> SafeDir::OpenParent(const std::string& rel, std::string& leaf) {
  const auto slash = rel.rfind('/');
  if (slash == std::string::npos) {
    leaf = rel;
    return OpenDirectoryPath("");
  }
  leaf = rel.substr(slash + 1);
  return OpenDirectoryPath(rel.substr(0, slash));
}

Result<FileWriter> SafeDir::CreateFile(std::string_view member, std::uint32_t mode) {
  auto rel = NormalizeMember(member);
  if (!rel) return Forward(rel);
  if (rel->empty()) return Fail(ErrorCode::kMalformed, "file member with an empty name");
  CLEARBOX_TRY(ChargeEntry());
  std::string leaf;
  auto parent = OpenParent(*rel, leaf);
  if (!parent) return Forward(parent);
  int fd = ::openat(*parent, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    DiskFileMode(mode));
  if (fd < 0 && errno == EEXIST) {
    struct stat st {};
    if (::fstatat(*parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      ::close(*parent);
      return Fail(ErrorCode::kMalformed, "'" + Display(*rel) + "' is already a directory");
    }
    // A later member of the same name replaces the earlier one (as tar does). Unlinking a
    // symlink removes the link itself; nothing is ever written through it.
    ::unlinkat(*parent, leaf.c_str(), 0);
    fd = ::openat(*parent, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  DiskFileMode(mode));
  }
  const int saved = errno;
  ::close(*parent);
  if (fd < 0) {
    errno = saved;
    return Fail(ErrorCode::kIo, Errno("cannot create " + Display(*rel)));
  }
  return FileWriter(this, fd, *rel, mode);
}

Result<void> SafeDir::WriteFile(std::string_view member, ByteView data, std::uint32_t mode) {
  auto writer = CreateFile(member, mode);
  if (!writer) return Forward(writer);
  auto written = writer->Write(data);
  auto closed = writer->Close();
  if (!written) return written;
  return closed;
}

Result<void> SafeDir::CreateDirectory(std::string_view member, std::uint32_t mode) {
  auto rel = NormalizeMember(member);
  if (!rel) return Forward(rel);
  if (rel->empty()) return {};
  CLEARBOX_TRY(ChargeEntry());
  auto fd = OpenDirectoryPath(*rel);
  if (!fd) return Forward(fd);
  ::close(*fd);
  ExtractedEntry entry;
  entry.path = Display(*rel);
  entry.type = EntryType::kDirectory;
  entry.mode = mode & 07777;
  Record(std::move(entry));
  return {};
}

Result<void> SafeDir::CreateSymlink(std::string_view member, std::string_view target) {
  auto rel = NormalizeMember(member);
  if (!rel) return Forward(rel);
  if (rel->empty()) return Fail(ErrorCode::kMalformed, "symlink member with an empty name");
  if (target.empty() || target.find('\0') != std::string_view::npos ||
      target.size() > kMaxPathLength) {
    return Fail(ErrorCode::kMalformed, "symlink '" + Display(*rel) + "' has an invalid target");
  }
  CLEARBOX_TRY(ChargeEntry());
  ExtractedEntry entry;
  entry.path = Display(*rel);
  entry.type = EntryType::kSymlink;
  entry.mode = 0777;
  entry.link_target = std::string(target);

  // Resolve the target lexically against the link's own directory (or the root, for an
  // absolute target, which in a firmware filesystem means that filesystem's root).
  const auto slash = rel->rfind('/');
  const std::string link_dir = slash == std::string::npos ? "" : rel->substr(0, slash);
  const bool absolute = target.front() == '/';
  const std::string joined = absolute
                                 ? std::string(target)
                                 : (link_dir.empty() ? "" : link_dir + "/") + std::string(target);
  auto resolved = NormalizeMember(joined);
  if (!resolved) {
    entry.created = false;
    Record(std::move(entry));
    return Fail(ErrorCode::kTraversal, "symlink '" + Display(*rel) + "' -> '" +
                                           std::string(target) +
                                           "' points outside the output directory; not created");
  }
  // The link is written in its normalised form: up to the root, then down by plain names
  // ("../../etc/x", never "s/../../x"). The link's own directory and its parents are real
  // directories (OpenParent never passes a symlink), so the leading "../" steps stay inside,
  // and no ".." is ever applied to where another link points. A target that a POSIX
  // resolution would send through earlier (or later) links out of the tree, e.g.
  // `s -> ../..` then `e -> s/../../../etc/passwd`, thus cannot leave the root, whatever the
  // order the links are created in. Absolute targets are rewritten the same way, relative to
  // the filesystem's root. The manifest keeps the target as the image spelt it.
  std::string up;
  const std::size_t depth = link_dir.empty() ? 0 : SplitPath(link_dir).size();
  for (std::size_t i = 0; i < depth; ++i) up += "../";
  const std::string on_disk = resolved->empty() ? (up.empty() ? "." : up) : up + *resolved;
  std::string leaf;
  auto parent = OpenParent(*rel, leaf);
  if (!parent) return Forward(parent);
  if (::symlinkat(on_disk.c_str(), *parent, leaf.c_str()) != 0 && errno == EEXIST) {
    struct stat st {};
    if (::fstatat(*parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
      ::unlinkat(*parent, leaf.c_str(), 0);
      if (::symlinkat(on_disk.c_str(), *parent, leaf.c_str()) != 0) entry.created = false;
    } else {
      entry.created = false;
    }
  }
  ::close(*parent);
  const bool created = entry.created;
  Record(std::move(entry));
  if (!created) {
    return Fail(ErrorCode::kMalformed, "cannot create symlink '" + Display(*rel) + "'");
  }
  return {};
}

Result<void> SafeDir::CreateHardlink(std::string_view member, std::string_view existing_member) {
  auto rel = NormalizeMember(member);
  if (!rel) return Forward(rel);
  auto target = NormalizeMember(existing_member);
  ExtractedEntry entry;
  entry.path = rel->empty() ? prefix_ : Display(*rel);
  entry.type = EntryType::kHardlink;
  entry.link_target = std::string(existing_member);
  if (!target || target->empty() || rel->empty()) {
    entry.created = false;
    Record(std::move(entry));
    return Fail(ErrorCode::kTraversal, "hard link '" + Display(*rel) + "' -> '" +
                                           std::string(existing_member) +
                                           "' points outside the output directory; not created");
  }
  CLEARBOX_TRY(ChargeEntry());
  ExtractedEntry source;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(Display(*target));
    if (it == entries_.end() || it->second.type != EntryType::kFile) {
      entry.created = false;
    } else {
      source = it->second;
    }
  }
  if (!entry.created) {
    Record(std::move(entry));
    return Fail(ErrorCode::kMalformed, "hard link '" + Display(*rel) + "' -> '" +
                                           std::string(existing_member) +
                                           "' names no extracted regular file; not created");
  }
  entry.link_target = Display(*target);
  entry.size = source.size;
  entry.sha256 = source.sha256;
  entry.mode = source.mode;
  std::string target_leaf, leaf;
  auto target_parent = OpenParent(*target, target_leaf);
  if (!target_parent) return Forward(target_parent);
  auto parent = OpenParent(*rel, leaf);
  if (!parent) {
    ::close(*target_parent);
    return Forward(parent);
  }
  struct stat existing {};
  if (::fstatat(*parent, leaf.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(existing.st_mode)) {
    // A member problem, not an I/O failure: the rest of the archive goes on.
    ::close(*target_parent);
    ::close(*parent);
    return Fail(ErrorCode::kMalformed,
                "hard link '" + Display(*rel) + "' names an existing directory; not created");
  }
  ::unlinkat(*parent, leaf.c_str(), 0);
  // No AT_SYMLINK_FOLLOW: the link is made to the entry itself, never to what a link names.
  const int rc = ::linkat(*target_parent, target_leaf.c_str(), *parent, leaf.c_str(), 0);
  ::close(*target_parent);
  ::close(*parent);
  if (rc != 0) entry.created = false;
  const bool created = entry.created;
  Record(std::move(entry));
  if (!created) return Fail(ErrorCode::kIo, Errno("cannot create hard link " + Display(*rel)));
  return {};
}

Result<void> SafeDir::RecordSpecial(std::string_view member, EntryType type, std::uint32_t mode,
                                    std::uint32_t major, std::uint32_t minor) {
  auto rel = NormalizeMember(member);
  if (!rel) return Forward(rel);
  CLEARBOX_TRY(ChargeEntry());
  ExtractedEntry entry;
  entry.path = Display(*rel);
  entry.type = type;
  entry.mode = mode & 07777;
  entry.created = false;
  entry.device_major = major;
  entry.device_minor = minor;
  Record(std::move(entry));
  return {};
}

}  // namespace clearbox::unpack
