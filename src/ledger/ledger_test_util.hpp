// Helpers for the ledger tests: the shared oracle folder, JSON files and hex.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ledger/merkle.hpp"

namespace clearbox::ledger::testing {

// The oracle folder: $CLEARBOX_SOURCE_DIR/tests/oracle. Missing is a test failure.
// The source tree: $CLEARBOX_SOURCE_DIR, else the path CMake compiled in (CTest's ENVIRONMENT
// list from clearbox_add_test does not always reach discovered tests).
inline const char* SourceDir() {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
#ifdef CLEARBOX_LEDGER_SOURCE_DIR
  if (src == nullptr) src = CLEARBOX_LEDGER_SOURCE_DIR;
#endif
  return src;
}

inline std::filesystem::path OracleDir() {
  const char* src = SourceDir();
  EXPECT_NE(src, nullptr) << "CLEARBOX_SOURCE_DIR is not set";
  std::filesystem::path dir = std::filesystem::path(src ? src : ".") / "tests" / "oracle";
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

// Parses an oracle JSON file; an unreadable file fails the test and yields null.
inline nlohmann::json ReadOracleJson(const std::string& relative) {
  const auto path = OracleDir() / relative;
  const std::string text = ReadText(path);
  auto j = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "invalid JSON " << path;
  return j;
}

inline std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline Hash HexToHash(const std::string& hex) {
  Hash h{};
  const std::string b = HexToBytes(hex);
  EXPECT_EQ(b.size(), 32u) << hex;
  for (std::size_t i = 0; i < 32 && i < b.size(); ++i) h[i] = static_cast<std::uint8_t>(b[i]);
  return h;
}

}  // namespace clearbox::ledger::testing
