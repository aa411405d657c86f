// Helpers for the vuln tests: the source tree, the shared oracle folder and JSON files.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace clearbox::vuln::testing {

// The source tree: $CLEARBOX_SOURCE_DIR, else the path CMake compiled in.
inline std::filesystem::path SourceDir() {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
#ifdef CLEARBOX_VULN_SOURCE_DIR
  if (src == nullptr) src = CLEARBOX_VULN_SOURCE_DIR;
#endif
  EXPECT_NE(src, nullptr) << "CLEARBOX_SOURCE_DIR is not set";
  return src != nullptr ? std::filesystem::path(src) : std::filesystem::path(".");
}

// The oracle folder: <source>/tests/oracle. Missing is a test failure.
inline std::filesystem::path OracleDir() {
  std::filesystem::path dir = SourceDir() / "tests" / "oracle";
  EXPECT_TRUE(std::filesystem::is_directory(dir)) << "oracle folder missing: " << dir;
  return dir;
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses a JSON file; an unreadable or invalid file fails the test and yields null.
inline nlohmann::json ReadJsonFile(const std::filesystem::path& path) {
  auto j = nlohmann::json::parse(ReadText(path), nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "invalid JSON " << path;
  return j;
}

}  // namespace clearbox::vuln::testing
