#include "unpack/handlers/firmware/firmware_util.hpp"

#include <zlib.h>

#include <algorithm>

namespace clearbox::unpack {

std::string SafeMemberName(std::string_view raw, std::string_view fallback) {
  const auto nul = raw.find('\0');
  if (nul != std::string_view::npos) raw = raw.substr(0, nul);
  // Drop a directory part: only the last component of a path-like name is kept.
  const auto slash = raw.find_last_of("/\\");
  if (slash != std::string_view::npos) raw = raw.substr(slash + 1);
  // Trim surrounding spaces.
  while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
  while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
  if (raw.empty() || raw.size() > 64 || raw.front() == '.') return std::string(fallback);
  std::string out;
  out.reserve(raw.size());
  for (const char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e) return std::string(fallback);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '+' || c == '@' || c == ',' || c == '-';
    out.push_back(plain ? ch : '_');
  }
  return out;
}

std::string UniqueMemberName(const std::string& name, std::set<std::string>& used) {
  if (used.insert(name).second) return name;
  for (std::size_t i = 1;; ++i) {
    std::string candidate = name + "." + std::to_string(i);
    if (used.insert(candidate).second) return candidate;
  }
}

std::uint32_t Crc32(ByteView data, std::uint32_t crc) {
  uLong value = crc;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t step = std::min<std::size_t>(data.size() - pos, 1u << 30);
    value = crc32(value, data.data() + pos, static_cast<uInt>(step));
    pos += step;
  }
  return static_cast<std::uint32_t>(value);
}

Result<void> CarvePartition(ByteView image, std::uint64_t start, std::uint64_t length,
                            const std::string& name, ExtractContext& ctx) {
  CLEARBOX_TRY(ctx.budget().CheckDeadline());
  if (start >= image.size()) {
    ctx.ReportProblem(ErrorCode::kTruncated, name,
                      "partition at byte " + std::to_string(start) + " starts past the image (" +
                          std::to_string(image.size()) + " bytes); not carved");
    return {};
  }
  const std::uint64_t have = std::min<std::uint64_t>(length, image.size() - start);
  if (have < length) {
    ctx.ReportProblem(ErrorCode::kTruncated, name,
                      "partition of " + std::to_string(length) + " bytes cut at " +
                          std::to_string(have) + " by the end of the image");
  }
  auto written = ctx.out().WriteFile(name, image.subspan(start, have), 0644);
  if (!ctx.ContinueAfter(written, name)) return written;
  return {};
}

}  // namespace clearbox::unpack
