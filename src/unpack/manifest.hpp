// Manifest: the record of one unpack run (chunks, files, gaps, problems) and its JSON form.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace clearbox::unpack {

// What kind of filesystem object an extracted entry is.
enum class EntryType : std::uint8_t {
  kFile,
  kDirectory,
  kSymlink,
  kHardlink,
  kCharDevice,
  kBlockDevice,
  kFifo,
  kSocket,
};

// Stable lower-case name of an EntryType ("file", "directory", "symlink", ...).
std::string_view EntryTypeName(EntryType type);

// One object a handler produced (or recorded without creating, for devices and unsafe links).
struct ExtractedEntry {
  std::string path;  // relative to the output directory, '/'-separated
  EntryType type = EntryType::kFile;
  std::uint64_t size = 0;   // bytes, for files and hard links
  std::string sha256;       // hex, for files and hard links
  std::uint32_t mode = 0;   // permission bits as the source stated them (incl. suid/sgid/sticky)
  std::string link_target;  // symlink target as stored in the source, or hard-link target path
  bool created = true;      // false for device nodes and links refused for safety
  std::uint32_t device_major = 0;
  std::uint32_t device_minor = 0;
  std::vector<std::string> chain;  // handler names from the image down to this entry
};

// One recognised format instance inside a container file.
struct ChunkRecord {
  std::string container;     // file that holds it, relative to the output dir; "" = the image
  std::uint64_t offset = 0;  // bytes from the start of the container
  std::optional<std::uint64_t> length;  // bytes; absent when extraction failed before knowing
  std::string format;                   // handler name, e.g. "squashfs"
  std::string handler;                  // family/name, e.g. "filesystem/squashfs"
  std::string extracted_to;             // directory relative to the output dir
  std::uint32_t depth = 0;              // nesting level of the container (the image is 0)
  bool complete = true;                 // false when the handler stopped with an error
  // What the handler read from the header (e.g. "version", "cipher", "uuid"); a chunk that is
  // recognised but cannot be extracted (encrypted, RTOS image) has metadata, no files and an
  // empty `extracted_to`. Written to JSON only when not empty.
  std::map<std::string, std::string> metadata;
};

// Bytes of a container that no handler claimed.
struct GapRecord {
  std::string container;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  double entropy = 0.0;  // bits per byte, rounded to 3 decimals
};

// Anything that stopped or shortened the unpacking of part of the image.
struct ProblemRecord {
  std::string kind;  // ErrorCodeName of the cause, e.g. "limit-exceeded", "traversal"
  std::string path;  // container or member path where it happened
  std::optional<std::uint64_t> offset;  // within the container, when known
  std::string handler;                  // handler name, or "engine"
  std::string message;
};

struct ImageRecord {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;
};

struct Manifest {
  static constexpr int kSchemaVersion = 1;
  ImageRecord image;
  std::vector<ChunkRecord> chunks;
  std::vector<ExtractedEntry> files;
  std::vector<GapRecord> gaps;
  std::vector<ProblemRecord> problems;
};

// Sorts every list of the manifest into its canonical order (for byte-identical output).
void Canonicalize(Manifest& manifest);

// Serialises a canonical manifest as pretty JSON with a trailing newline.
std::string ManifestToJson(const Manifest& manifest);

// Parses a manifest.json written by ManifestToJson (for tests and later stages).
Result<Manifest> ParseManifestJson(std::string_view json);

}  // namespace clearbox::unpack
