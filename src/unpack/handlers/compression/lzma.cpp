// LZMA_Alone (.lzma, as written by `xz --format=lzma`, `lzma` and the LZMA SDK): a 13-byte
// header (properties, dictionary size, uncompressed size or all 0xFF for unknown) and one
// LZMA1 stream. The header is weak, so Probe checks it closely and trial-decodes the start.
#include <lzma.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "unpack/handlers/compression/lzma_alone.hpp"
#include "unpack/handlers/compression/lzma_decode.hpp"
#include "unpack/handlers/compression/stream_output.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::size_t kHeaderBytes = 13;
constexpr std::uint64_t kUnknownSize = ~0ULL;
constexpr std::uint64_t kMaxDeclaredSize = 4ULL << 30;  // router payloads are far smaller
constexpr std::uint32_t kMinDict = 4096;
constexpr std::uint32_t kMaxDict = 1U << 30;
constexpr std::uint64_t kMemoryLimit = 1200ULL << 20;
// The trial decode in Probe: this much input at most, this much output at most.
constexpr std::size_t kTrialInput = 16 * 1024;
constexpr std::size_t kTrialOutput = 256 * 1024;

// The fixed header of an LZMA_Alone file.
struct AloneHeader {
  std::uint8_t properties = 0;
  std::uint32_t dict_size = 0;
  std::uint64_t uncompressed_size = kUnknownSize;
};

// True for the dictionary sizes encoders write: 2^n or 2^n + 2^(n-1).
bool IsPlausibleDict(std::uint32_t dict) {
  if (dict < kMinDict || dict > kMaxDict) return false;
  const std::uint32_t low = dict & (0U - dict);  // lowest set bit
  const std::uint32_t rest = dict - low;
  return rest == 0 || rest == 2 * low;
}

Result<AloneHeader> ParseHeader(ByteView data) {
  if (data.size() < kHeaderBytes) return Fail(ErrorCode::kNotThisFormat, "short lzma header");
  AloneHeader h;
  h.properties = data[0];
  h.dict_size = LoadU32(data.data() + 1, Endian::kLittle);
  h.uncompressed_size = LoadU64(data.data() + 5, Endian::kLittle);
  if (h.properties >= 9 * 5 * 5) return Fail(ErrorCode::kNotThisFormat, "lzma properties");
  const unsigned lc = h.properties % 9, lp = (h.properties / 9) % 5;
  if (lc + lp > 4) return Fail(ErrorCode::kNotThisFormat, "lzma lc+lp");
  if (!IsPlausibleDict(h.dict_size)) return Fail(ErrorCode::kNotThisFormat, "lzma dictionary");
  if (h.uncompressed_size != kUnknownSize &&
      (h.uncompressed_size == 0 || h.uncompressed_size > kMaxDeclaredSize)) {
    return Fail(ErrorCode::kNotThisFormat, "lzma uncompressed size");
  }
  // The range coder's first byte is always zero.
  if (data.size() > kHeaderBytes && data[kHeaderBytes] != 0) {
    return Fail(ErrorCode::kNotThisFormat, "lzma range coder start");
  }
  return h;
}

// The header fed to liblzma: the dictionary is capped at what the output can reach, which
// keeps memory use small for streams with a known size.
std::array<std::uint8_t, kHeaderBytes> DecoderHeader(const AloneHeader& h, std::uint64_t cap) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  std::uint64_t dict = h.dict_size;
  if (h.uncompressed_size != kUnknownSize)
    dict = std::min<std::uint64_t>(dict, h.uncompressed_size);
  dict = std::max<std::uint64_t>(std::min<std::uint64_t>(dict, cap), kMinDict);
  out[0] = h.properties;
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<std::uint8_t>(dict >> (8 * i));
  for (int i = 0; i < 8; ++i)
    out[5 + i] = static_cast<std::uint8_t>(h.uncompressed_size >> (8 * i));
  return out;
}

// Starts an LZMA_Alone decoder and feeds it `header`; the caller then feeds the body.
Result<void> StartDecoder(lzma_stream& zs, const std::array<std::uint8_t, kHeaderBytes>& header) {
  if (lzma_alone_decoder(&zs, kMemoryLimit) != LZMA_OK) {
    return Fail(ErrorCode::kInternal, "lzma_alone_decoder failed");
  }
  std::uint8_t sink = 0;
  zs.next_in = header.data();
  zs.avail_in = header.size();
  zs.next_out = &sink;
  zs.avail_out = 1;  // liblzma makes no progress without room for output
  while (zs.avail_in > 0) {
    const lzma_ret rc = lzma_code(&zs, LZMA_RUN);
    if (rc == LZMA_MEMLIMIT_ERROR || rc == LZMA_MEM_ERROR) {
      return Fail(ErrorCode::kUnsupported, "lzma dictionary needs more memory than allowed");
    }
    if (rc != LZMA_OK) return Fail(ErrorCode::kNotThisFormat, "lzma header rejected");
  }
  return {};
}

// Decodes the start of the stream; fails when the data is not LZMA.
Result<void> TrialDecode(ByteView data, const AloneHeader& h) {
  lzma_stream zs = LZMA_STREAM_INIT;
  auto started = StartDecoder(zs, DecoderHeader(h, kTrialOutput));
  if (!started) {
    lzma_end(&zs);
    return started;
  }
  static thread_local std::vector<std::uint8_t> buffer(kTrialOutput);
  const ByteView body = data.subspan(kHeaderBytes);
  zs.next_in = body.data();
  zs.avail_in = std::min(body.size(), kTrialInput);
  zs.next_out = buffer.data();
  zs.avail_out = buffer.size();
  const lzma_ret rc = lzma_code(&zs, LZMA_RUN);
  lzma_end(&zs);
  if (rc == LZMA_OK || rc == LZMA_STREAM_END) return {};
  return Fail(ErrorCode::kNotThisFormat, "lzma trial decode failed");
}

}  // namespace

Result<void> CheckLzmaAloneStart(ByteView data) {
  auto header = ParseHeader(data);
  if (!header) return Forward(header);
  if (data.size() <= kHeaderBytes) return Fail(ErrorCode::kNotThisFormat, "no lzma data");
  return TrialDecode(data, *header);
}

Result<std::uint64_t> ExtractLzmaAlone(ByteView data, ExtractContext& ctx,
                                       const std::string& name) {
  auto header = ParseHeader(data);
  if (!header) return Forward(header);
  lzma_stream zs = LZMA_STREAM_INIT;
  auto started = StartDecoder(zs, DecoderHeader(*header, kMaxDict));
  if (!started) {
    lzma_end(&zs);
    return Forward(started);
  }
  LazyOutput out(ctx, name);
  std::vector<std::uint8_t> buffer(kStreamBufferBytes);
  // The header was fed through `zs` too, so the bytes used count from the chunk's start.
  auto used = RunLzmaDecoder(zs, data.subspan(kHeaderBytes), out, buffer, ctx, "lzma stream");
  auto closed = out.Close();
  if (!used) return Forward(used);
  CLEARBOX_TRY(closed);
  return *used;
}

Result<std::vector<std::uint8_t>> DecodeLzmaAlone(ByteView data, std::size_t max_output,
                                                  ExtractContext& ctx) {
  auto header = ParseHeader(data);
  if (!header) return Forward(header);
  if (header->uncompressed_size != kUnknownSize && header->uncompressed_size > max_output) {
    return Fail(ErrorCode::kLimitExceeded, "lzma stream declares " +
                                               std::to_string(header->uncompressed_size) +
                                               " bytes, more than " + std::to_string(max_output));
  }
  lzma_stream zs = LZMA_STREAM_INIT;
  auto started = StartDecoder(zs, DecoderHeader(*header, kMaxDict));
  if (!started) {
    lzma_end(&zs);
    return Forward(started);
  }
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> buffer(kStreamBufferBytes);
  const ByteView body = data.subspan(kHeaderBytes);
  zs.next_in = body.data();
  zs.avail_in = body.size();
  lzma_ret rc = LZMA_OK;
  Result<void> status;
  while (rc == LZMA_OK) {
    zs.next_out = buffer.data();
    zs.avail_out = buffer.size();
    rc = lzma_code(&zs, LZMA_FINISH);
    const std::size_t produced = buffer.size() - zs.avail_out;
    if (out.size() + produced > max_output) {
      status = Fail(ErrorCode::kLimitExceeded,
                    "lzma stream decodes to more than " + std::to_string(max_output) + " bytes");
      break;
    }
    out.insert(out.end(), buffer.begin(), buffer.begin() + produced);
    status = ctx.budget().CheckDeadline();
    if (!status) break;
  }
  lzma_end(&zs);
  if (!status) return Forward(status);
  switch (rc) {
    case LZMA_STREAM_END: return out;
    case LZMA_BUF_ERROR: return Fail(ErrorCode::kTruncated, "lzma stream ends early");
    case LZMA_MEMLIMIT_ERROR:
    case LZMA_MEM_ERROR:
      return Fail(ErrorCode::kUnsupported, "lzma stream needs more memory than allowed");
    default: return Fail(ErrorCode::kMalformed, "lzma data corrupt");
  }
}

namespace {

class LzmaHandler final : public Handler {
 public:
  std::string_view Name() const override { return "lzma"; }
  std::string_view Description() const override { return "LZMA alone (.lzma) stream"; }
  std::string_view Family() const override { return "compression"; }
  std::span<const Signature> Signatures() const override {
    // Properties 0x5d (lc=3 lp=0 pb=2, every encoder's default) or 0x6d, with the usual
    // dictionary sizes, little-endian.
    static constexpr Signature kSignatures[] = {
        {std::string_view("\x5d\x00\x00\x01\x00", 5), 0},  // 64 KiB
        {std::string_view("\x5d\x00\x00\x02\x00", 5), 0},  // 128 KiB
        {std::string_view("\x5d\x00\x00\x04\x00", 5), 0},  // 256 KiB
        {std::string_view("\x5d\x00\x00\x08\x00", 5), 0},  // 512 KiB
        {std::string_view("\x5d\x00\x00\x10\x00", 5), 0},  // 1 MiB
        {std::string_view("\x5d\x00\x00\x20\x00", 5), 0},  // 2 MiB
        {std::string_view("\x5d\x00\x00\x30\x00", 5), 0},  // 3 MiB
        {std::string_view("\x5d\x00\x00\x40\x00", 5), 0},  // 4 MiB
        {std::string_view("\x5d\x00\x00\x60\x00", 5), 0},  // 6 MiB
        {std::string_view("\x5d\x00\x00\x80\x00", 5), 0},  // 8 MiB
        {std::string_view("\x5d\x00\x00\xc0\x00", 5), 0},  // 12 MiB
        {std::string_view("\x5d\x00\x00\x00\x01", 5), 0},  // 16 MiB
        {std::string_view("\x5d\x00\x00\x80\x01", 5), 0},  // 24 MiB
        {std::string_view("\x5d\x00\x00\x00\x02", 5), 0},  // 32 MiB
        {std::string_view("\x5d\x00\x00\x00\x03", 5), 0},  // 48 MiB
        {std::string_view("\x5d\x00\x00\x00\x04", 5), 0},  // 64 MiB
        {std::string_view("\x5d\x00\x00\x00\x08", 5), 0},  // 128 MiB
        {std::string_view("\x6d\x00\x00\x10\x00", 5), 0},
        {std::string_view("\x6d\x00\x00\x20\x00", 5), 0},
        {std::string_view("\x6d\x00\x00\x40\x00", 5), 0},
        {std::string_view("\x6d\x00\x00\x80\x00", 5), 0},
        {std::string_view("\x6d\x00\x00\x00\x01", 5), 0},
        {std::string_view("\x6d\x00\x00\x00\x02", 5), 0},
        {std::string_view("\x6d\x00\x00\x00\x04", 5), 0},
    };
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    CLEARBOX_TRY(CheckLzmaAloneStart(data));
    return 0;  // the end is known only after decoding
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    return ExtractLzmaAlone(
        data, ctx, DecompressedName(ctx.container_name(), {{".lzma", ""}, {".tlz", ".tar"}}));
  }
};

}  // namespace

const Handler& GetLzmaHandler() {
  static const LzmaHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
