// Robustness: every compression handler on mutated real streams (flipped bytes, random cuts)
// under ASan/UBSan; nothing may crash, hang, or claim bytes past the end of its data.
#include <gtest/gtest.h>

#include <cstdlib>

#include "unpack/handlers/compression/compression_test_helpers.hpp"
#include "unpack/registry.hpp"

namespace clearbox::unpack {
namespace {

using namespace clearbox::unpack::compression_test;

const Handler& HandlerNamed(const std::string& name) {
  for (const auto* h : AllHandlers()) {
    if (h->Name() == name) return *h;
  }
  ADD_FAILURE() << "no handler " << name;
  std::abort();
}

// Probes and extracts `data` with one handler into a fresh directory under `tmp`.
void RunHandler(const Handler& handler, const std::string& bytes, const TempDir& tmp, int run) {
  const ByteView data(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto probe = handler.Probe(data);
  if (!probe) return;
  ASSERT_LE(*probe, data.size());
  Limits limits;
  limits.max_total_bytes = 32 << 20;
  limits.handler_seconds = 20;
  Budget budget(limits);
  const ByteView chunk = *probe ? data.subspan(0, *probe) : data;
  ChunkBudget chunk_budget(budget, chunk.size());
  const std::string dir = (tmp / ("run" + std::to_string(run))).string();
  auto out = SafeDir::Create(dir, "run", &chunk_budget);
  ASSERT_TRUE(out.has_value());
  std::vector<ProblemRecord> problems;
  ExtractContext ctx(**out, chunk_budget, "m.bin", problems, std::string(handler.Name()), 0);
  auto consumed = handler.Extract(chunk, ctx);
  if (consumed) {
    EXPECT_LE(*consumed, chunk.size());
  }
}

void Mutate(const std::string& format, const std::string& valid, std::uint64_t seed) {
  ASSERT_FALSE(valid.empty());
  TempDir tmp;
  const Handler& handler = HandlerNamed(format);
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
  const auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int run = 0; run < 60; ++run) {
    std::string bytes = valid;
    if (run % 3 == 2) {
      bytes.resize(next() % bytes.size());
    } else {
      const int flips = 1 + static_cast<int>(next() % 4);
      for (int i = 0; i < flips; ++i) {
        // Mostly in the first bytes, where headers live.
        const std::size_t span =
            (next() % 2) ? std::min<std::size_t>(bytes.size(), 64) : bytes.size();
        bytes[next() % span] = static_cast<char>(next());
      }
    }
    RunHandler(handler, bytes, tmp, run);
  }
}

struct MutationCase {
  const char* format;
  const char* command;
};

TEST(CompressionMutation, NoHandlerCrashesOnMutatedStreams) {
  const MutationCase cases[] = {
      {"xz", "xz -c in > out"},
      {"xz", "xz -T2 --block-size=8192 -c in > out"},
      {"lzma", "xz --format=lzma -c in > out"},
      {"lzma", "lzma_alone e in out -d20"},
      {"bzip2", "bzip2 -1 -c in > out"},
      {"zstd", "zstd -q --check -c in > out"},
      {"lz4", "lz4 -q -B4 -BD -c in > out"},
      {"lz4", "lz4 -q -l -c in > out"},
      {"lzop", "lzop -q -c in > out"},
      {"lzop", "lzop -q --crc32 -c in > out"},
  };
  std::uint64_t seed = 1;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.command);
    TempDir tmp;
    const std::string valid = Compress(tmp, SamplePayload(seed, 30000), c.command);
    Mutate(c.format, valid, seed++);
  }
}

}  // namespace
}  // namespace clearbox::unpack
