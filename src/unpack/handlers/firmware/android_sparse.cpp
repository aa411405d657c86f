// Android sparse image (libsparse, img2simg): a little-endian file header (magic
// 0xed26ff3a, block size, total blocks, chunk count) and chunks RAW (data follows), FILL
// (a 4-byte pattern), DONT_CARE (a hole) and CRC32 (a checksum, skipped). The image is
// rebuilt as one file "unsparsed.img": holes and zero fills become sparse holes, other
// fills are written from a bounded buffer, and every byte is charged to the budget, so a
// header claiming billions of blocks ends in a limit problem, not a hang.
//
// Probe walks the chunk headers (each at least 12 bytes, so the walk is bounded by the data)
// to find the chunk length. An image cut short, or a chunk that breaks the rules, is
// extracted up to that point and reported (kTruncated / kMalformed).
#include <vector>

#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack {
namespace {

constexpr std::uint32_t kSparseMagic = 0xed26ff3a;
constexpr std::uint16_t kChunkRaw = 0xcac1, kChunkFill = 0xcac2, kChunkDontCare = 0xcac3,
                        kChunkCrc32 = 0xcac4;
constexpr std::size_t kFileHeaderSize = 28;
constexpr std::size_t kChunkHeaderSize = 12;
constexpr std::size_t kMaxHeaderSize = 4096;

// The file header fields the walk uses.
struct SparseHeader {
  std::uint32_t file_header_size = 0;
  std::uint32_t chunk_header_size = 0;
  std::uint32_t block_size = 0;
  std::uint32_t total_blocks = 0;
  std::uint32_t total_chunks = 0;
};

// One chunk as found by the walk.
struct SparseChunk {
  std::uint16_t type = 0;
  std::uint64_t blocks = 0;
  std::uint64_t body_offset = 0;  // absolute offset of the chunk body in the data
  std::uint64_t body_size = 0;
};

Result<SparseHeader> ParseSparseHeader(ByteView data) {
  if (data.size() < kFileHeaderSize || LoadU32(data.data(), Endian::kLittle) != kSparseMagic) {
    return Fail(ErrorCode::kNotThisFormat, "no Android sparse magic");
  }
  SparseHeader h;
  const std::uint16_t major = LoadU16(data.data() + 4, Endian::kLittle);
  h.file_header_size = LoadU16(data.data() + 8, Endian::kLittle);
  h.chunk_header_size = LoadU16(data.data() + 10, Endian::kLittle);
  h.block_size = LoadU32(data.data() + 12, Endian::kLittle);
  h.total_blocks = LoadU32(data.data() + 16, Endian::kLittle);
  h.total_chunks = LoadU32(data.data() + 20, Endian::kLittle);
  if (major != 1 || h.file_header_size < kFileHeaderSize || h.file_header_size > kMaxHeaderSize ||
      h.chunk_header_size < kChunkHeaderSize || h.chunk_header_size > kMaxHeaderSize ||
      h.block_size == 0 || h.block_size % 4 != 0) {
    return Fail(ErrorCode::kNotThisFormat, "Android sparse header out of range");
  }
  return h;
}

// Reads the chunk header at `pos`; kTruncated when it or its body runs past the data,
// kMalformed when its sizes break the format's rules.
Result<SparseChunk> ReadChunk(ByteView data, const SparseHeader& h, std::uint64_t pos) {
  if (pos > data.size() || data.size() - pos < h.chunk_header_size) {
    return Fail(ErrorCode::kTruncated, "sparse chunk header past end of data");
  }
  SparseChunk c;
  c.type = LoadU16(data.data() + pos, Endian::kLittle);
  c.blocks = LoadU32(data.data() + pos + 4, Endian::kLittle);
  const std::uint64_t total = LoadU32(data.data() + pos + 8, Endian::kLittle);
  c.body_offset = pos + h.chunk_header_size;
  std::uint64_t expected_body = 0;
  switch (c.type) {
    case kChunkRaw:
      expected_body = c.blocks * h.block_size;  // both 32-bit: no overflow
      break;
    case kChunkFill:
    case kChunkCrc32: expected_body = 4; break;
    case kChunkDontCare: expected_body = 0; break;
    default:
      return Fail(ErrorCode::kMalformed, "unknown sparse chunk type " + std::to_string(c.type));
  }
  if (total != h.chunk_header_size + expected_body) {
    return Fail(ErrorCode::kMalformed, "sparse chunk size " + std::to_string(total) +
                                           " does not match its type and block count");
  }
  c.body_size = expected_body;
  if (c.body_offset > data.size() || data.size() - c.body_offset < c.body_size) {
    return Fail(ErrorCode::kTruncated, "sparse chunk body past end of data");
  }
  return c;
}

// Writes `n` bytes of a repeated 4-byte pattern from a bounded buffer.
Result<void> WritePattern(FileWriter& writer, const std::uint8_t pattern[4], std::uint64_t n,
                          ExtractContext& ctx) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = pattern[i % 4];
  while (n > 0) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(n, buffer.size()));
    CLEARBOX_TRY(writer.Write(ByteView(buffer.data(), step)));
    n -= step;  // block sizes are multiples of 4, so the pattern stays in phase
  }
  return {};
}

// Writes the chunks into `writer`; returns the end offset of the last chunk.
Result<std::uint64_t> WriteChunks(ByteView data, const SparseHeader& h, FileWriter& writer,
                                  ExtractContext& ctx) {
  std::uint64_t pos = h.file_header_size;
  std::uint64_t blocks_done = 0;
  for (std::uint32_t i = 0; i < h.total_chunks; ++i) {
    CLEARBOX_TRY(ctx.budget().CheckDeadline());
    auto chunk = ReadChunk(data, h, pos);
    if (!chunk) {
      if (chunk.error().code == ErrorCode::kTruncated && pos + h.chunk_header_size <= data.size()) {
        // Keep what there is of a RAW chunk cut short.
        const std::uint16_t type = LoadU16(data.data() + pos, Endian::kLittle);
        if (type == kChunkRaw) {
          CLEARBOX_TRY(writer.Write(data.subspan(pos + h.chunk_header_size)));
        }
      }
      return Fail(chunk.error().code, "chunk " + std::to_string(i) + " at offset " +
                                          std::to_string(pos) + ": " + chunk.error().message);
    }
    if (chunk->type != kChunkCrc32) {
      if (chunk->blocks > h.total_blocks - blocks_done) {
        return Fail(ErrorCode::kMalformed, "sparse chunks hold more blocks than the header's " +
                                               std::to_string(h.total_blocks));
      }
      blocks_done += chunk->blocks;
    }
    const std::uint64_t out_size = chunk->blocks * h.block_size;
    switch (chunk->type) {
      case kChunkRaw:
        CLEARBOX_TRY(writer.Write(data.subspan(chunk->body_offset, chunk->body_size)));
        break;
      case kChunkFill: {
        const std::uint8_t* pattern = data.data() + chunk->body_offset;
        if (LoadU32(pattern, Endian::kLittle) == 0) {
          CLEARBOX_TRY(writer.WriteZeros(out_size));
        } else {
          CLEARBOX_TRY(WritePattern(writer, pattern, out_size, ctx));
        }
        break;
      }
      case kChunkDontCare: CLEARBOX_TRY(writer.WriteZeros(out_size)); break;
      default: break;  // CRC32: not checked
    }
    pos = chunk->body_offset + chunk->body_size;
  }
  // The image is total_blocks long even when the last blocks have no chunk.
  const std::uint64_t image_size = std::uint64_t{h.total_blocks} * h.block_size;
  if (writer.size() < image_size) CLEARBOX_TRY(writer.WriteZeros(image_size - writer.size()));
  return pos;
}

class AndroidSparseHandler final : public Handler {
 public:
  std::string_view Name() const override { return "android-sparse"; }
  std::string_view Description() const override {
    return "Android sparse image, expanded to the raw image";
  }
  std::string_view Family() const override { return "firmware"; }
  std::span<const Signature> Signatures() const override {
    static constexpr Signature kSignatures[] = {{std::string_view("\x3a\xff\x26\xed", 4), 0}};
    return kSignatures;
  }

  Result<std::uint64_t> Probe(ByteView data) const override {
    auto header = ParseSparseHeader(data);
    if (!header) return Forward(header);
    std::uint64_t pos = header->file_header_size;
    if (pos > data.size()) return Fail(ErrorCode::kNotThisFormat, "short Android sparse header");
    // Each chunk takes at least 12 bytes, so this walk is bounded by the data size.
    for (std::uint32_t i = 0; i < header->total_chunks; ++i) {
      auto chunk = ReadChunk(data, *header, pos);
      if (!chunk) {
        // The first chunk must be sound for this to be a sparse image at all.
        if (i == 0 && chunk.error().code == ErrorCode::kMalformed) return Forward(chunk);
        // Otherwise extract up to the problem; Extract reports it.
        return chunk.error().code == ErrorCode::kTruncated
                   ? data.size()
                   : std::min<std::uint64_t>(data.size(), pos + header->chunk_header_size);
      }
      pos = chunk->body_offset + chunk->body_size;
    }
    return pos;
  }

  Result<std::uint64_t> Extract(ByteView data, ExtractContext& ctx) const override {
    auto header = ParseSparseHeader(data);
    if (!header) return Forward(header);
    auto writer = ctx.out().CreateFile("unsparsed.img", 0644);
    if (!writer) return Forward(writer);
    auto end = WriteChunks(data, *header, *writer, ctx);
    auto closed = writer->Close();
    if (!end) return Forward(end);
    if (!closed) return Forward(closed);
    return *end;
  }
};

}  // namespace

const Handler& GetAndroidSparseHandler() {
  static const AndroidSparseHandler kHandler;
  return kHandler;
}

}  // namespace clearbox::unpack
