#include "unpack/registry.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "unpack/signature_scanner.hpp"

namespace clearbox::unpack {
namespace {

TEST(Registry, NamesAreUniqueSortedAndWellFormed) {
  std::set<std::string> names;
  std::string previous;
  const std::set<std::string> families = {"compression", "archive", "filesystem", "firmware"};
  for (const Handler* h : AllHandlers()) {
    const std::string name(h->Name());
    EXPECT_TRUE(names.insert(name).second) << "duplicate handler " << name;
    EXPECT_LT(previous, name);
    previous = name;
    EXPECT_TRUE(families.count(std::string(h->Family()))) << name;
    EXPECT_FALSE(h->Signatures().empty()) << name;
    for (char c : name) EXPECT_TRUE(std::islower(c) || std::isdigit(c) || c == '-') << name;
  }
  EXPECT_FALSE(names.empty());
}

// README.md's format table has one row per handler, "| name | family | description |", and
// no row for a handler that does not exist (the table `clearbox unpack --list-formats` prints).
TEST(Registry, ReadmeFormatTableListsEveryHandler) {
  const char* source = std::getenv("CLEARBOX_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  std::ifstream readme(std::filesystem::path(source) / "README.md");
  ASSERT_TRUE(readme.good());
  std::set<std::string> rows;
  bool in_table = false;
  for (std::string line; std::getline(readme, line);) {
    if (line == "| format | family | what is handled |")
      in_table = true;
    else if (in_table && !line.starts_with("|"))
      break;
    else if (in_table && !line.starts_with("|---"))
      rows.insert(line);
  }
  std::set<std::string> wanted;
  for (const Handler* h : AllHandlers()) {
    wanted.insert("| " + std::string(h->Name()) + " | " + std::string(h->Family()) + " | " +
                  std::string(h->Description()) + " |");
  }
  EXPECT_EQ(rows, wanted);
}

TEST(Registry, ScannerCompilesAllSignatures) {
  auto scanner = SignatureScanner::Build(AllHandlers());
  ASSERT_TRUE(scanner) << scanner.error().message;
}

TEST(SignatureScanner, FindsMagicAtAnyOffsetInOrder) {
  auto scanner = SignatureScanner::Build(AllHandlers());
  ASSERT_TRUE(scanner);
  std::vector<std::uint8_t> data(100000, 0x55);
  const std::uint8_t gz[] = {0x1f, 0x8b, 0x08};
  for (std::size_t at : {std::size_t{77}, std::size_t{65536 - 1}, std::size_t{99990}}) {
    std::copy(std::begin(gz), std::end(gz), data.begin() + static_cast<long>(at));
  }
  std::uint64_t stopped = 0;
  auto found = (*scanner)->Scan(data, 0, data.size(), 1000, &stopped);
  ASSERT_TRUE(found);
  std::vector<std::uint64_t> starts;
  for (const auto& c : *found) {
    if (AllHandlers()[c.handler_index]->Name() == "gzip") starts.push_back(c.start);
  }
  EXPECT_EQ(starts, (std::vector<std::uint64_t>{77, 65535, 99990}));
  auto capped = (*scanner)->Scan(data, 0, data.size(), 1, &stopped);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->size(), 1u);
  EXPECT_EQ(stopped, 65535u);
}

}  // namespace
}  // namespace clearbox::unpack
