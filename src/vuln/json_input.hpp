// Reading a whole JSON document from a file with a size cap (VEX, SBOM input).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/result.hpp"

namespace clearbox::vuln {

// The bytes of `path`, or an error when it is unreadable or larger than `max_bytes`.
inline Result<std::string> ReadCappedFile(const std::filesystem::path& path,
                                          std::size_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, "cannot read " + path.string());
  if (size > max_bytes) {
    return Fail(ErrorCode::kLimitExceeded,
                path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace clearbox::vuln
