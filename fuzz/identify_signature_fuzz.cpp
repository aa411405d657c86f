// libFuzzer target: the shipped signature rules scanned over arbitrary bytes (vectorscan pass,
// std::regex confirmation, version extraction, mention detection, per-rule version selection)
// and over an arbitrary path; the kernel banner parser over the bytes as text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/data_dir.hpp"
#include "identify/signature_matcher.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace clearbox::identify;
  static const std::shared_ptr<const SignatureMatcher> matcher = [] {
    auto rules = LoadSignatureRules(clearbox::DataDir() / "signatures");
    if (!rules) std::abort();
    auto built = SignatureMatcher::Build(std::move(*rules));
    if (!built) std::abort();
    return *built;
  }();
  const std::string_view path(reinterpret_cast<const char*>(data), size < 256 ? size : 256);
  (void)matcher->Scan(clearbox::ByteView(data, size), path);
  (void)matcher->ScanPath(path);
  (void)ParseKernelBanner(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
