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
