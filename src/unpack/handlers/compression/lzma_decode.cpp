#include "unpack/handlers/compression/lzma_decode.hpp"

#include <algorithm>
#include <string>

namespace clearbox::unpack {

Result<std::uint64_t> RunLzmaDecoder(lzma_stream& zs, ByteView input, LazyOutput& out,
                                     std::vector<std::uint8_t>& buffer, ExtractContext& ctx,
                                     std::string_view what) {
  constexpr std::size_t kInputStep = 1 << 20;
  std::uint64_t fed = 0;
  lzma_ret rc = LZMA_OK;
  Result<void> status;
  while (true) {
    if (zs.avail_in == 0 && fed < input.size()) {
      const std::uint64_t step = std::min<std::uint64_t>(input.size() - fed, kInputStep);
      zs.next_in = input.data() + fed;
      zs.avail_in = static_cast<std::size_t>(step);
      fed += step;
      status = ctx.budget().CheckDeadline();
      if (!status) break;
    }
    zs.next_out = buffer.data();
    zs.avail_out = buffer.size();
    rc = lzma_code(&zs, fed == input.size() ? LZMA_FINISH : LZMA_RUN);
    const std::size_t produced = buffer.size() - zs.avail_out;
    if (produced) {
      status = out.Write(ByteView(buffer.data(), produced));
      if (!status) break;
    }
    if (rc != LZMA_OK) break;
  }
  const std::uint64_t used = zs.total_in;
  lzma_end(&zs);
  if (!status) return Forward(status);
  const std::string name(what);
  const std::string after = " after " + std::to_string(out.written()) + " output bytes";
  switch (rc) {
    case LZMA_STREAM_END: return used;
    case LZMA_BUF_ERROR: return Fail(ErrorCode::kTruncated, name + " ends early" + after);
    case LZMA_MEMLIMIT_ERROR:
    case LZMA_MEM_ERROR:
      return Fail(ErrorCode::kUnsupported, name + " needs more memory than allowed" + after);
    case LZMA_OPTIONS_ERROR:
      return Fail(ErrorCode::kUnsupported, name + " uses unsupported options" + after);
    default: return Fail(ErrorCode::kMalformed, name + " corrupt" + after);
  }
}

}  // namespace clearbox::unpack
