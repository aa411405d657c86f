// Helpers shared by the single-stream decompressors: output naming and lazy file creation.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "unpack/handler.hpp"

namespace clearbox::unpack {

// Name for a decompressed stream: the container name with a known suffix replaced (e.g.
// {".gz", ""}, {".tgz", ".tar"}), else `fallback`.
std::string DecompressedName(
    const std::string& container_name,
    std::initializer_list<std::pair<std::string_view, std::string_view>> suffixes,
    std::string_view fallback = "decompressed");

// Keeps only a plain file name from a name stored in a stream header: no directories, nothing
// hidden behind "." or "..", no control characters; "" when nothing usable is left.
std::string SafeStoredName(const std::string& stored);

// Size of the bounded output buffers the stream decompressors use.
inline constexpr std::size_t kStreamBufferBytes = 256 * 1024;

// A file that is created only when the first bytes arrive, so that a false candidate leaves
// nothing behind.
class LazyOutput {
 public:
  LazyOutput(ExtractContext& ctx, std::string name) : ctx_(ctx), name_(std::move(name)) {}
  // Writes bytes, creating the file on first use.
  Result<void> Write(ByteView bytes);
  // Closes the file if it was created.
  Result<void> Close();
  std::uint64_t written() const { return writer_ ? writer_->size() : 0; }

 private:
  ExtractContext& ctx_;
  std::string name_;
  std::optional<FileWriter> writer_;
};

// Decodes back-to-back streams of one format (concatenated .bz2 or .lz files) into `out`:
// `decode_one(rest)` decodes the stream at the start of `rest` and returns the bytes it
// occupies; after the first, a stream is decoded only where `starts(rest)` says one begins.
// Closes `out`; returns the bytes of `data` consumed.
template <typename StartsFn, typename DecodeFn>
Result<std::uint64_t> DecodeConcatenatedStreams(ByteView data, LazyOutput& out, ExtractContext& ctx,
                                                StartsFn&& starts, DecodeFn&& decode_one) {
  std::uint64_t consumed = 0;
  while (consumed < data.size()) {
    const ByteView rest = data.subspan(consumed);
    if (consumed > 0 && !starts(rest)) break;
    Result<std::uint64_t> used = decode_one(rest);
    if (!used) {
      (void)out.Close();
      return Forward(used);
    }
    consumed += *used;
    ctx.NoteConsumed(consumed);
  }
  CLEARBOX_TRY(out.Close());
  return consumed;
}

}  // namespace clearbox::unpack
