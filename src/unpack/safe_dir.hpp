// SafeDir: the only way handlers write to disk. Every member path is confined to one root
// directory: no '..' escape, no absolute path, no write through a symlink, no link that
// points out; device nodes are recorded, never created. Every write is charged to a budget.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/budget.hpp"
#include "core/byte_reader.hpp"
#include "core/hashing.hpp"
#include "core/result.hpp"
#include "unpack/manifest.hpp"

namespace clearbox::unpack {

class SafeDir;

// An open output file; hashes and charges every byte; Close() records the entry.
class FileWriter {
 public:
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&&) = delete;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  // Appends bytes; fails on a budget limit or a write error (the file stays, truncated).
  Result<void> Write(ByteView bytes);
  // Appends n zero bytes as a hole (sparse files, Android sparse DONT_CARE chunks).
  Result<void> WriteZeros(std::uint64_t n);
  // Finishes the file and records it in the SafeDir's entries.
  Result<void> Close();
  std::uint64_t size() const { return size_; }

 private:
  friend class SafeDir;
  FileWriter(SafeDir* owner, int fd, std::string path, std::uint32_t mode);

  SafeDir* owner_;
  int fd_;
  std::string path_;
  std::uint32_t mode_;
  std::uint64_t size_ = 0;
  Sha256 hash_;
};

class SafeDir {
 public:
  // Creates the directory `abs_path` (it must not exist; parents must) and roots a SafeDir
  // there. `display_prefix` is the root's path relative to the output dir, for manifests.
  static Result<std::unique_ptr<SafeDir>> Create(const std::string& abs_path,
                                                 std::string display_prefix, ChunkBudget* budget);
  // Same, for the directory `name` inside the open directory `parent_fd` (paths of any
  // length: nothing is opened by an absolute path).
  static Result<std::unique_ptr<SafeDir>> CreateAt(int parent_fd, const std::string& name,
                                                   std::string display_prefix, ChunkBudget* budget);
  ~SafeDir();
  SafeDir(const SafeDir&) = delete;
  SafeDir& operator=(const SafeDir&) = delete;

  // Turns a member path from untrusted input into a safe relative path ("" = the root);
  // fails with kTraversal if '..' would leave the root, kMalformed for NUL or overlong names.
  static Result<std::string> NormalizeMember(std::string_view member);

  // Creates (or replaces) a regular file; parent directories are created as needed.
  Result<FileWriter> CreateFile(std::string_view member, std::uint32_t mode);
  // Creates a file holding `data` in one call.
  Result<void> WriteFile(std::string_view member, ByteView data, std::uint32_t mode);
  // Creates a directory (and parents); an existing directory is kept.
  Result<void> CreateDirectory(std::string_view member, std::uint32_t mode);
  // Creates a symlink whose target stays inside the root. Absolute targets are taken as
  // relative to the root and rewritten as relative links; a target that leaves the root is
  // recorded (created=false) and reported as kTraversal.
  Result<void> CreateSymlink(std::string_view member, std::string_view target);
  // Hard-links `member` to the already extracted `existing_member` (both inside the root).
  Result<void> CreateHardlink(std::string_view member, std::string_view existing_member);
  // Records a device node, FIFO or socket without creating it.
  Result<void> RecordSpecial(std::string_view member, EntryType type, std::uint32_t mode,
                             std::uint32_t major, std::uint32_t minor);

  // Everything created or recorded so far, one entry per member path (last write wins).
  std::vector<ExtractedEntry> TakeEntries();
  std::size_t entry_count() const;
  const std::string& display_prefix() const { return prefix_; }
  ChunkBudget* budget() const { return budget_; }

 private:
  friend class FileWriter;
  SafeDir(int root_fd, std::string prefix, ChunkBudget* budget);

  // Opens (creating as needed) the directory holding `rel`'s last component, never through
  // a symlink; returns an fd the caller closes, and the last component in `leaf`.
  Result<int> OpenParent(const std::string& rel, std::string& leaf);
  Result<int> OpenDirectoryPath(const std::string& rel_dir);
  void Record(ExtractedEntry entry);
  Result<void> ChargeEntry();
  std::string Display(const std::string& rel) const;

  int root_fd_;
  std::string prefix_;
  ChunkBudget* budget_;
  mutable std::mutex mutex_;
  std::map<std::string, ExtractedEntry> entries_;
};

}  // namespace clearbox::unpack
