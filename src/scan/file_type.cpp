#include "scan/file_type.hpp"

#include <algorithm>

namespace clearbox::scan {
namespace {

constexpr std::size_t kTextSniffBytes = 4096;

bool StartsWith(ByteView bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), bytes.begin(),
                    [](char c, std::uint8_t b) { return static_cast<std::uint8_t>(c) == b; });
}

// Text: no NUL and at most 1 in 32 control bytes in the first 4 KiB (UTF-8 counts as text).
bool LooksLikeText(ByteView bytes) {
  const ByteView head = bytes.first(std::min(bytes.size(), kTextSniffBytes));
  std::size_t control = 0;
  for (std::uint8_t b : head) {
    if (b == 0) return false;
    if (b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f') ++control;
  }
  return control * 32 <= head.size();
}

}  // namespace

std::string FileTypeName(const FileView& file) {
  switch (file.kind) {
    case FileKind::kDirectory: return "directory";
    case FileKind::kSymlink: return "symlink";
    case FileKind::kOther: return "other";
    case FileKind::kRegular: break;
  }
  const ByteView b = file.bytes;
  if (b.empty()) return "empty";
  if (StartsWith(b,
                 "\x7f"
                 "ELF"))
    return "elf";
  if (StartsWith(b, "#!")) return "script";
  if (StartsWith(b, "-----BEGIN ")) return "pem";
  return LooksLikeText(b) ? "text" : "data";
}

}  // namespace clearbox::scan
