// Test helpers shared by the JFFS2, UBI and UBIFS tests: running one handler directly on
// (mutated) bytes, and the Linux-style CRCs needed to re-seal mutated nodes.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "unpack/handler.hpp"
#include "unpack/registry.hpp"

namespace clearbox::unpack::flash_test {

// Linux crc32_le(seed, ...) without final inversion, as JFFS2 (seed 0) and UBI/UBIFS
// (seed 0xFFFFFFFF) use it.
inline std::uint32_t LinuxCrc(std::uint32_t seed, const std::string& s, std::size_t pos,
                              std::size_t len) {
  return ~static_cast<std::uint32_t>(
      crc32(~seed, reinterpret_cast<const Bytef*>(s.data() + pos), static_cast<uInt>(len)));
}

inline void PutU32(std::string& s, std::size_t pos, std::uint32_t v, bool big) {
  for (int i = 0; i < 4; ++i) {
    s[pos + static_cast<std::size_t>(i)] =
        static_cast<char>(big ? (v >> (24 - 8 * i)) : (v >> (8 * i)));
  }
}

inline std::uint32_t GetU32(const std::string& s, std::size_t pos, bool big) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const auto b = static_cast<std::uint8_t>(s[pos + static_cast<std::size_t>(i)]);
    v |= big ? (std::uint32_t{b} << (24 - 8 * i)) : (std::uint32_t{b} << (8 * i));
  }
  return v;
}

// Probes and extracts `bytes` with handler `name` into a fresh `out` directory under small
// limits, like the fuzz targets; returns true if Probe accepted the bytes.
inline bool RunHandlerOn(std::string_view name, const std::string& bytes,
                         const std::filesystem::path& out) {
  const Handler* handler = nullptr;
  for (const auto* h : AllHandlers()) {
    if (h->Name() == name) handler = h;
  }
  if (handler == nullptr) return false;
  const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto probe = handler->Probe(view);
  if (!probe || *probe > view.size()) return false;
  std::error_code ec;
  std::filesystem::remove_all(out, ec);
  Limits limits;
  limits.max_total_bytes = 64 << 20;
  limits.max_files = 2000;
  limits.handler_seconds = 10;
  Budget run(limits);
  ChunkBudget chunk(run, view.size());
  auto dir = SafeDir::Create(out.string(), "out", &chunk);
  if (!dir) return true;
  std::vector<ProblemRecord> problems;
  ExtractContext ctx(**dir, chunk, "fuzz.bin", problems, std::string(name), 0);
  (void)handler->Extract(*probe ? view.subspan(0, *probe) : view, ctx);
  return true;
}

// xorshift64 for reproducible mutations.
struct Rng {
  std::uint64_t state;
  std::uint64_t Next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::size_t Below(std::size_t n) { return n ? static_cast<std::size_t>(Next() % n) : 0; }
};

}  // namespace clearbox::unpack::flash_test
