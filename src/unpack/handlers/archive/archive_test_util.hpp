// Helpers shared by the archive handler tests: building fixtures with real tools and
// checking that nothing escaped the output directory.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "support/test_support.hpp"
#include "unpack/handlers/handlers.hpp"

namespace clearbox::unpack::archive_test {

using namespace clearbox::testing;

// Runs a shell command in `dir` and fails the test if it does not succeed.
inline void Shell(const fs::path& dir, const std::string& command) {
  std::string output;
  const int rc = RunShell("cd '" + dir.string() + "' && " + command, &output);
  ASSERT_EQ(rc, 0) << command << "\n" << output;
}

// The manifest entry at `path`, or nullptr.
inline const ExtractedEntry* FindEntry(const Manifest& m, const std::string& path) {
  for (const auto& f : m.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

// Unpacks `image` and expects the chunk of `format` to hold exactly the files of `expected`.
inline Manifest ExpectRoundTrip(const fs::path& image, const fs::path& out,
                                const std::string& format, const TreeFacts& expected) {
  Manifest m = UnpackForTest(image, out);
  const std::string dir = FindChunkDir(m, format);
  EXPECT_FALSE(dir.empty()) << "no " << format << " chunk";
  EXPECT_EQ(ManifestFilesUnder(m, dir), expected);
  const ChunkRecord* chunk = FindChunk(m, format);
  if (chunk != nullptr) {
    EXPECT_TRUE(chunk->complete);
  }
  for (const auto& p : m.problems) {
    EXPECT_NE(p.handler, format) << p.kind << " at " << p.path << ": " << p.message;
  }
  return m;
}

// Expects `handler` to reject `bytes` as a false candidate.
inline void ExpectRejected(const Handler& handler, const std::string& bytes) {
  const ByteView view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto probe = handler.Probe(view);
  ASSERT_FALSE(probe.has_value()) << "accepted garbage, length " << *probe;
  EXPECT_EQ(probe.error().code, ErrorCode::kNotThisFormat) << probe.error().message;
}

// A path of more than 100 bytes (tar's old name field) made of short components.
inline std::string LongRelativePath() {
  return "long_directory_name_number_one/long_directory_name_number_two/"
         "long_directory_name_number_three/file_with_a_long_name.txt";
}

}  // namespace clearbox::unpack::archive_test
