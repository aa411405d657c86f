// Handler: one format. What it looks like (signatures), how to check a candidate (Probe)
// and how to extract it (Extract, writing only through the context's SafeDir).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/budget.hpp"
#include "core/byte_reader.hpp"
#include "core/result.hpp"
#include "unpack/safe_dir.hpp"

namespace clearbox::unpack {

// A literal byte string that marks a candidate: the chunk starts `offset` bytes before it.
struct Signature {
  std::string_view magic;
  std::uint32_t offset = 0;
};

// Everything a handler may touch while extracting one chunk.
class ExtractContext {
 public:
  ExtractContext(SafeDir& out, ChunkBudget& budget, std::string container_name,
                 std::vector<ProblemRecord>& problems, std::string handler_name,
                 std::uint64_t chunk_offset)
      : out_(out),
        budget_(budget),
        container_name_(std::move(container_name)),
        problems_(problems),
        handler_name_(std::move(handler_name)),
        chunk_offset_(chunk_offset) {}

  SafeDir& out() { return out_; }
  ChunkBudget& budget() { return budget_; }
  // File name of the container (last path component), e.g. "vmlinux.gz", for naming output.
  const std::string& container_name() const { return container_name_; }
  // Records a problem that spoils part of the chunk but lets extraction go on (a refused
  // link, one bad member). `where` is a member path; "" means the chunk itself.
  void ReportProblem(const Error& error, std::string_view where);
  // Records a problem given by code and message.
  void ReportProblem(ErrorCode code, std::string_view where, std::string message) {
    ReportProblem(Error{code, std::move(message)}, where);
  }
  // Reports `result`'s error (if any) as a per-member problem and returns true; returns
  // false without reporting for errors that must stop the whole chunk (limits, time-outs,
  // I/O): the handler then returns that error and the engine records it.
  bool ContinueAfter(const Result<void>& result, std::string_view where);
  // Notes that the chunk occupies at least its first `bytes` bytes, whatever happens next:
  // a stream handler calls it after each complete member (xz stream, gzip member, ...), so
  // that when a later member fails the engine carves on after the good ones instead of one
  // byte after the start (which would decode the same members again from each of them).
  void NoteConsumed(std::uint64_t bytes) { noted_consumed_ = std::max(noted_consumed_, bytes); }
  std::uint64_t noted_consumed() const { return noted_consumed_; }
  // Records what the header says about the chunk (manifest `metadata`): the way to report a
  // chunk that is recognised but not extracted. Keys and values are cut to
  // kMaxMetadataChars, non-printable bytes become '?', and at most kMaxMetadataEntries are kept.
  void SetMetadata(std::string_view key, std::string_view value);
  std::map<std::string, std::string> TakeMetadata() { return std::move(metadata_); }

  static constexpr std::size_t kMaxMetadataEntries = 32;
  static constexpr std::size_t kMaxMetadataChars = 256;

 private:
  SafeDir& out_;
  ChunkBudget& budget_;
  std::string container_name_;
  std::vector<ProblemRecord>& problems_;
  std::string handler_name_;
  std::uint64_t chunk_offset_;
  std::uint64_t noted_consumed_ = 0;
  std::map<std::string, std::string> metadata_;
  std::mutex mutex_;
};

class Handler {
 public:
  virtual ~Handler() = default;

  // Unique lower-case format name used in directory names and manifests ("squashfs").
  virtual std::string_view Name() const = 0;
  // One line for `clearbox unpack --list-formats` and README's format table: what the
  // format is and the variants handled.
  virtual std::string_view Description() const = 0;
  // Family folder: "compression", "archive", "filesystem" or "firmware".
  virtual std::string_view Family() const = 0;
  // The magic strings that make a candidate.
  virtual std::span<const Signature> Signatures() const = 0;
  // Checks a candidate; `data` runs from the candidate start to the container's end.
  // Returns the chunk length in bytes, or 0 when only extraction can tell (streams).
  // kNotThisFormat for a false candidate; kTruncated/kMalformed only when the header is
  // clearly this format but unusable (they are reported as problems).
  virtual Result<std::uint64_t> Probe(ByteView data) const = 0;
  // Extracts the chunk: `data` is exactly the chunk when Probe gave a length, else the rest
  // of the container. Returns the bytes of `data` the chunk really occupies.
  virtual Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const = 0;
};

}  // namespace clearbox::unpack
