// Shared checks of the single-stream decompressor tests: fixtures are made at test time
// with the real compressor, given as a shell command that turns file `in` into file `out`.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "support/test_support.hpp"
#include "unpack/manifest.hpp"

namespace clearbox::unpack::compression_test {

using namespace clearbox::testing;

// Compressible but not trivial content: log lines with random binary runs between them.
inline std::string SamplePayload(std::uint64_t seed, std::size_t size) {
  std::string out;
  std::size_t line = 0;
  while (out.size() < size) {
    out += "line " + std::to_string(line++) + " of the sample payload\n";
    if (line % 16 == 0) out += PseudoRandomBytes(seed + line, 700);
  }
  out.resize(size);
  return out;
}

// Runs `command` in `dir` (the compressor, with `in` and `out` as file names); fails the test
// when the tool fails.
inline std::string Compress(const TempDir& tmp, const std::string& input,
                            const std::string& command) {
  WriteFileBytes(tmp / "in", input);
  std::string log;
  EXPECT_EQ(RunShell("cd " + tmp.path().string() + " && " + command + " 2>&1", &log), 0) << log;
  return ReadFileBytes(tmp / "out");
}

// The first chunk of `format` found in the image itself, or nullptr.
inline const ChunkRecord* ImageChunk(const Manifest& m, const std::string& format) {
  for (const auto& c : m.chunks) {
    if (c.container.empty() && c.format == format) return &c;
  }
  return nullptr;
}

inline FileFacts FactsOf(const TempDir& tmp, const std::string& content) {
  WriteFileBytes(tmp / "expected", content);
  return FileFacts{content.size(), FileSha256(tmp / "expected")};
}

// Unpacks `compressed` saved as `image_name` and expects one file `expected_name` with
// exactly `payload`, and no problem.
inline void ExpectRoundTrip(const std::string& format, const std::string& compressed,
                            const std::string& image_name, const std::string& expected_name,
                            const std::string& payload) {
  TempDir tmp;
  WriteFileBytes(tmp / image_name, compressed);
  const auto m = UnpackForTest(tmp / image_name, tmp / "unpacked");
  const auto* chunk = ImageChunk(m, format);
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, 0u);
  EXPECT_EQ(chunk->length, compressed.size());
  EXPECT_TRUE(chunk->complete);
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  TreeFacts want;
  want[expected_name] = FactsOf(tmp, payload);
  EXPECT_EQ(files, want);
  for (const auto& p : m.problems) ADD_FAILURE() << p.kind << " " << p.path << ": " << p.message;
}

// Places `compressed` between random junk and expects the chunk at the right offset with
// the right length, and the payload recovered.
inline void ExpectCarved(const std::string& format, const std::string& compressed,
                         const std::string& payload) {
  TempDir tmp;
  const std::string head = PseudoRandomBytes(901, 3001);
  const std::string tail = PseudoRandomBytes(902, 5003);
  WriteFileBytes(tmp / "image.bin", head + compressed + tail);
  const auto m = UnpackForTest(tmp / "image.bin", tmp / "unpacked");
  const auto* chunk = ImageChunk(m, format);
  ASSERT_NE(chunk, nullptr);
  EXPECT_EQ(chunk->offset, head.size());
  EXPECT_EQ(chunk->length, compressed.size());
  EXPECT_TRUE(chunk->complete);
  const auto files = ManifestFilesUnder(m, chunk->extracted_to);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->second, FactsOf(tmp, payload));
}

// Cuts the stream (in the middle by default, else `keep` bytes are kept): a recorded
// truncation and an incomplete chunk. The cut must come after the first output block: a
// stream that gives no output at all is taken for a false candidate by the engine.
inline void ExpectTruncationReported(const std::string& format, const std::string& compressed,
                                     std::size_t keep = 0) {
  ExpectCutChunkTruncated(compressed.substr(0, keep ? keep : compressed.size() / 2), format);
}

// Inverts 64 bytes in the middle of `compressed`: the decoder must report corrupt data.
inline void ExpectCorruptMiddleIsMalformed(const std::string& compressed) {
  TempDir tmp;
  std::string bad = compressed;
  for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 64 && i < bad.size(); ++i) {
    bad[i] = static_cast<char>(~bad[i]);
  }
  WriteFileBytes(tmp / "bad.bin", bad);
  const auto m = UnpackForTest(tmp / "bad.bin", tmp / "unpacked");
  EXPECT_TRUE(HasProblem(m, "malformed"));
}
// A valid-looking start followed by garbage: nothing of `format` is written.
inline void ExpectGarbageLeavesNothing(const std::string& format, const std::string& start) {
  TempDir tmp;
  WriteFileBytes(tmp / "junk.bin", start + PseudoRandomBytes(903, 20000));
  const auto m = UnpackForTest(tmp / "junk.bin", tmp / "unpacked");
  for (const auto& c : m.chunks) {
    if (c.format != format) continue;
    // A chunk may be recorded for a corrupt stream, but it holds no complete file.
    EXPECT_FALSE(c.complete) << "garbage accepted as " << format;
  }
}

}  // namespace clearbox::unpack::compression_test
