#include "unpack/handlers/compression/stream_output.hpp"

namespace clearbox::unpack {

std::string DecompressedName(
    const std::string& container_name,
    std::initializer_list<std::pair<std::string_view, std::string_view>> suffixes,
    std::string_view fallback) {
  for (const auto& [suffix, replacement] : suffixes) {
    if (container_name.size() > suffix.size() && container_name.ends_with(suffix)) {
      return container_name.substr(0, container_name.size() - suffix.size()) +
             std::string(replacement);
    }
  }
  return std::string(fallback);
}

std::string SafeStoredName(const std::string& stored) {
  const auto slash = stored.find_last_of("/\\");
  std::string base = slash == std::string::npos ? stored : stored.substr(slash + 1);
  if (base.empty() || base == "." || base == ".." || base.size() > 200) return "";
  for (char c : base) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "";
  }
  return base;
}

Result<void> LazyOutput::Write(ByteView bytes) {
  if (bytes.empty()) return {};
  if (!writer_) {
    auto w = ctx_.out().CreateFile(name_, 0644);
    if (!w) return Forward(w);
    writer_.emplace(std::move(*w));
  }
  return writer_->Write(bytes);
}

Result<void> LazyOutput::Close() {
  if (!writer_) return {};
  return writer_->Close();
}

}  // namespace clearbox::unpack
