// c2sp.org/tlog-checkpoint bodies and c2sp.org/tlog-proof files, parsed strictly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "ledger/merkle.hpp"

namespace clearbox::ledger {

// The body of a checkpoint: origin, tree size, root hash, optional extension lines.
struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // non-empty lines without the '\n'
};

// "origin\nsize\nbase64(root)\n" followed by the extension lines.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// Parses a checkpoint body (the note text): every line '\n'-terminated, canonical decimal
// and base64, a 32-byte root, no empty or control-character lines; kMalformed otherwise.
[[nodiscard]] Result<Checkpoint> ParseCheckpoint(std::string_view text);

// First line of a c2sp.org/tlog-proof file.
inline constexpr std::string_view kTlogProofHeader = "c2sp.org/tlog-proof@v1";
// First line of our consistency proof file (same shape, "old" instead of "index").
inline constexpr std::string_view kConsistencyProofHeader = "clearbox.dev/tlog-consistency@v1";

// An inclusion proof file: entry index, audit path and the signed checkpoint it proves into.
struct InclusionProofFile {
  std::optional<std::string> extra;  // unauthenticated opaque bytes, if present
  std::uint64_t index = 0;
  std::vector<Hash> path;
  std::string signed_checkpoint;  // the full signed note, verbatim
};

// A consistency proof file: from a tree of `old_size` to the signed checkpoint's tree.
struct ConsistencyProofFile {
  std::uint64_t old_size = 0;
  std::vector<Hash> path;
  std::string signed_checkpoint;
};

std::string FormatInclusionProofFile(const InclusionProofFile& proof);
std::string FormatConsistencyProofFile(const ConsistencyProofFile& proof);

// Strict parsers: exact header, canonical decimals and base64, 32-byte hashes, at most 63
// hashes, one blank line, then a checkpoint note; kMalformed otherwise.
[[nodiscard]] Result<InclusionProofFile> ParseInclusionProofFile(std::string_view text);
[[nodiscard]] Result<ConsistencyProofFile> ParseConsistencyProofFile(std::string_view text);

// Decodes one canonical base64 32-byte hash.
[[nodiscard]] Result<Hash> ParseHashBase64(std::string_view text);
std::string HashBase64(const Hash& hash);

}  // namespace clearbox::ledger
