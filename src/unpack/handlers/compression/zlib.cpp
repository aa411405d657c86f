// Raw zlib stream (RFC 1950): CMF 0x78 (deflate, 32 KiB window), FLG with no preset
// dictionary and (CMF * 256 + FLG) % 31 == 0, deflate data, Adler-32 of the output. Found
// at any offset not already inside another chunk (the engine skips candidates inside a
// chunk), e.g. compressed sections of vendor images and bootloaders.
//
// Decisions: the two header bytes occur by chance every few KiB of binary data, so Probe
// first inflates only the first kProbePrefixBytes (almost every chance header fails there),
// then the whole stream with the output discarded, and takes it only when it ends with a
// valid Adler-32 (zlib checks it) and is at least kMinStreamBytes long. A stream whose
// output passes kProbeOutputBytes is left to Extract to finish (Probe returns 0).
#include <zlib.h>

#include <array>
#include <vector>

#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

// Input inflated before a candidate is taken seriously.
constexpr std::size_t kProbePrefixBytes = 512;
// Output Probe inflates (and discards) while looking for the stream's end.
constexpr std::uint64_t kProbeOutputBytes = 8 << 20;
// Shortest stream taken: header, a little deflate data and the Adler-32.
constexpr std::uint64_t kMinStreamBytes = 32;
// Input handed to zlib per call (its counters are 32-bit).
constexpr std::uint64_t kMaxInputStep = 1u << 30;

bool ValidZlibHeader(ByteView data) {
  if (data.size() < 2 || data[0] != 0x78) return false;
  const unsigned flg = data[1];
  return (flg & 0x20) == 0 && (0x78u * 256u + flg) % 31 == 0;
}

// Checks the first deflate block header without zlib (RFC 1951 3.2.3-3.2.7): no reserved
// block type 3, a stored block's LEN equal to ~NLEN, a dynamic block's HLIT and HDIST in
// range. About half of the chance headers fail here for a few instructions.
bool FirstBlockPlausible(ByteView data) {
  if (data.size() < 7) return false;
  const unsigned type = (data[2] >> 1) & 3;
  if (type == 3) return false;
  if (type == 0) return (data[3] | (data[4] << 8)) == (~(data[5] | (data[6] << 8)) & 0xffff);
  if (type == 2) {
    const unsigned bits = data[2] | (data[3] << 8);
    const unsigned hlit = (bits >> 3) & 0x1f, hdist = (bits >> 8) & 0x1f;
    return hlit + 257 <= 286 && hdist + 1 <= 30;
  }
  return true;
}

// A z_stream kept per thread and reset for each use: inflateInit allocates, and Probe runs for
// every chance header (about 100 per MiB of machine code).
class ThreadInflater {
 public:
  ThreadInflater() { ready_ = inflateInit(&zs_) == Z_OK; }
  ~ThreadInflater() {
    if (ready_) inflateEnd(&zs_);
  }
  ThreadInflater(const ThreadInflater&) = delete;
  ThreadInflater& operator=(const ThreadInflater&) = delete;
  // The stream, reset to its start with no input left over from the previous use (inflateReset
  // keeps next_in/avail_in, which may point into a file unmapped since); null when zlib could
  // not be set up.
  z_stream* Reset() {
    if (!ready_ || inflateReset(&zs_) != Z_OK) return nullptr;
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    return &zs_;
  }

 private:
  z_stream zs_{};
  bool ready_ = false;
};

// How inflating a candidate went.
enum class InflateOutcome : std::uint8_t { kEnded, kBroken, kInputUsedUp, kOutputCapReached };

// Inflates data from its start, handing each piece of output to `sink` (a callable taking
// ByteView and returning Result<void>), until the stream ends, breaks (bad data or Adler-32),
// `max_input` bytes were used without an end, or `max_output` bytes came out. `consumed` is
// the input used.
template <typename Sink>
Result<InflateOutcome> InflateZlib(ByteView data, std::uint64_t max_input, std::uint64_t max_output,
                                   std::uint64_t& consumed, Sink&& sink) {
  thread_local ThreadInflater inflater;
  z_stream* stream = inflater.Reset();
  if (stream == nullptr) return Fail(ErrorCode::kInternal, "zlib inflateInit failed");
  z_stream& zs = *stream;
  thread_local std::vector<std::uint8_t> buffer(kStreamBufferBytes);
  const std::uint64_t input = std::min<std::uint64_t>(data.size(), max_input);
  std::uint64_t fed = 0, produced_total = 0;
  int rc = Z_OK;
  Result<InflateOutcome> outcome = InflateOutcome::kBroken;
  while (true) {
    if (zs.avail_in == 0) {
      const std::uint64_t step = std::min<std::uint64_t>(input - fed, kMaxInputStep);
      if (step == 0) {  // input used up without the end
        outcome = InflateOutcome::kInputUsedUp;
        break;
      }
      zs.next_in = const_cast<Bytef*>(data.data() + fed);
      zs.avail_in = static_cast<uInt>(step);
      fed += step;
    }
    zs.next_out = buffer.data();
    zs.avail_out = static_cast<uInt>(buffer.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = buffer.size() - zs.avail_out;
    if (produced) {
      produced_total += produced;
      auto sunk = sink(ByteView(buffer.data(), produced));
      if (!sunk) {
        outcome = Forward(sunk);
        break;
      }
    }
    if (rc == Z_STREAM_END) {
      outcome = InflateOutcome::kEnded;
      break;
    }
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_in == 0)) break;
    if (produced_total >= max_output) {
      outcome = InflateOutcome::kOutputCapReached;
      break;
    }
  }
  consumed = zs.total_in;
  return outcome;
}

class ZlibHandler final : public Handler {
 public:
  std::string_view Name() const override { return "zlib"; }
  std::string_view Description() const override {
    return "raw zlib stream (RFC 1950, Adler-32 checked), where no other format holds it";
  }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x78\x01", 2), 0},
                                                {std::string_view("\x78\x5e", 2), 0},
                                                {std::string_view("\x78\x9c", 2), 0},
                                                {std::string_view("\x78\xda", 2), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    if (!ValidZlibHeader(data) || data.size() < kMinStreamBytes || !FirstBlockPlausible(data)) {
      return Fail(ErrorCode::kNotThisFormat, "no zlib header");
    }
    auto discard = [](ByteView) -> Result<void> { return {}; };
    std::uint64_t consumed = 0;
    auto prefix = InflateZlib(data, kProbePrefixBytes, kProbeOutputBytes, consumed, discard);
    if (!prefix) return Forward(prefix);
    if (*prefix == InflateOutcome::kBroken) {
      return Fail(ErrorCode::kNotThisFormat, "zlib data does not inflate");
    }
    auto whole = *prefix == InflateOutcome::kEnded
                     ? prefix
                     : InflateZlib(data, data.size(), kProbeOutputBytes, consumed, discard);
    if (!whole) return Forward(whole);
    switch (*whole) {
      case InflateOutcome::kEnded:
        if (consumed < kMinStreamBytes) return Fail(ErrorCode::kNotThisFormat, "zlib too short");
        return consumed;
      case InflateOutcome::kOutputCapReached: return 0;  // Extract finds the end
      case InflateOutcome::kBroken:
      case InflateOutcome::kInputUsedUp: break;
    }
    return Fail(ErrorCode::kNotThisFormat, "zlib stream breaks or has a wrong Adler-32");
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    if (!ValidZlibHeader(data)) return Fail(ErrorCode::kNotThisFormat, "no zlib header");
    LazyOutput out(ctx, DecompressedName(ctx.container_name(), {{".zlib", ""}, {".zz", ""}}));
    std::uint64_t consumed = 0;
    auto outcome =
        InflateZlib(data, data.size(), UINT64_MAX, consumed, [&](ByteView bytes) -> Result<void> {
          CLEARBOX_TRY(ctx.budget().CheckDeadline());
          return out.Write(bytes);
        });
    if (!outcome) {
      (void)out.Close();
      return Forward(outcome);
    }
    CLEARBOX_TRY(out.Close());
    if (*outcome == InflateOutcome::kInputUsedUp) {
      return Fail(ErrorCode::kTruncated,
                  "zlib stream cut after " + std::to_string(out.written()) + " output bytes");
    }
    if (*outcome != InflateOutcome::kEnded) {
      return Fail(ErrorCode::kMalformed, "zlib stream breaks or has a wrong Adler-32 after " +
                                             std::to_string(out.written()) + " output bytes");
    }
    return consumed;
  }
};

}  // namespace

const Handler& GetZlibHandler() {
  static const ZlibHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
