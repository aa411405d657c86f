// Shared body of the per-handler libFuzzer targets: Probe and Extract one named handler on
// the input, into a scratch directory, under small limits.
#pragma once

#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "unpack/handler.hpp"
#include "unpack/registry.hpp"

namespace clearbox::fuzz {

// Runs handler `name` over `data`; never fails, only crashes on a bug.
inline void FuzzHandler(std::string_view name, const std::uint8_t* data, std::size_t size) {
  const unpack::Handler* handler = nullptr;
  for (const auto* h : unpack::AllHandlers()) {
    if (h->Name() == name) handler = h;
  }
  if (handler == nullptr) std::abort();  // a fuzzer for a handler that does not exist
  const ByteView bytes(data, size);
  auto probe = handler->Probe(bytes);
  if (!probe || *probe > size) return;
  static const std::string base = [] {
    char tmpl[] = "/tmp/clearbox-fuzz-XXXXXX";
    return std::string(::mkdtemp(tmpl));
  }();
  const std::string out = base + "/out";
  std::error_code ec;
  std::filesystem::remove_all(out, ec);
  Limits limits;
  limits.max_total_bytes = 64 << 20;
  limits.max_files = 2000;
  limits.handler_seconds = 10;
  Budget run(limits);
  ChunkBudget chunk(run, size);
  auto dir = unpack::SafeDir::Create(out, "out", &chunk);
  if (!dir) return;
  std::vector<unpack::ProblemRecord> problems;
  unpack::ExtractContext ctx(**dir, chunk, "fuzz.bin", problems, std::string(name), 0);
  (void)handler->Extract(*probe ? bytes.subspan(0, *probe) : bytes, ctx);
}

}  // namespace clearbox::fuzz

// Defines LLVMFuzzerTestOneInput for one handler.
#define CLEARBOX_HANDLER_FUZZER(name)                                                 \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    ::clearbox::fuzz::FuzzHandler(name, data, size);                                  \
    return 0;                                                                         \
  }
