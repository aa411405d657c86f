// Shared helpers for tests: temporary directories, running real tools, sample trees and
// comparing extracted trees with their sources.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "core/budget.hpp"
#include "unpack/manifest.hpp"

namespace clearbox::testing {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR (or /tmp), removed on destruction unless
// CLEARBOX_KEEP_TMP is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Runs a shell command; returns its exit status (or -1). Output goes to `output` if given.
int RunShell(const std::string& command, std::string* output = nullptr);

// True if `tool` is on PATH.
bool HaveTool(const std::string& tool);

// Deterministic pseudo-random bytes from a seed (xorshift), for file contents.
std::string PseudoRandomBytes(std::uint64_t seed, std::size_t size);

// Writes `content` to `path`, creating parent directories.
void WriteFileBytes(const fs::path& path, const std::string& content);
std::string ReadFileBytes(const fs::path& path);

// SHA-256 hex of a file on disk.
std::string FileSha256(const fs::path& path);

// A regular file's relative path, size and hash.
struct FileFacts {
  std::uint64_t size = 0;
  std::string sha256;
  bool operator==(const FileFacts&) const = default;
};
using TreeFacts = std::map<std::string, FileFacts>;

// Creates a small deterministic tree (nested dirs, text, binary, empty and larger files).
// `scale` multiplies file sizes. Returns the facts of its regular files.
TreeFacts MakeSampleTree(const fs::path& dir, int scale = 1);

// Facts of every regular file under `dir` (symlinks not followed).
TreeFacts HashTree(const fs::path& dir);

// Facts of the manifest's files under `prefix/` (made relative to it).
TreeFacts ManifestFilesUnder(const unpack::Manifest& manifest, const std::string& prefix);

// Runs the unpack engine in-process; fails the test on an engine error.
unpack::Manifest UnpackForTest(const fs::path& image, const fs::path& out,
                               Limits limits = Limits{});

// extracted_to of the first chunk with `format`, or "" if none.
std::string FindChunkDir(const unpack::Manifest& manifest, const std::string& format);

// The first chunk with `format`, or nullptr if none.
const unpack::ChunkRecord* FindChunk(const unpack::Manifest& manifest, const std::string& format);

// The source tree: $CLEARBOX_SOURCE_DIR (set by CTest), else the checkout this file is in.
fs::path SourceRoot();

// A shell command that runs the fixture generator scripts/fixtures/`script` with python3.
std::string FixtureScript(const std::string& script);

// True if any problem has the kind.
bool HasProblem(const unpack::Manifest& manifest, const std::string& kind);

// Unpacks `image`, which holds a `format` chunk cut short, and expects that chunk, marked
// incomplete, and a truncation problem (gtest failures otherwise).
void ExpectCutChunkTruncated(const std::string& image, const std::string& format);

// Path of the clearbox binary under test (CLEARBOX_BIN, set by CTest).
std::string ClearboxBinary();

}  // namespace clearbox::testing
