#include "core/pattern_set.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace clearbox {
namespace {

using Match = std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>;  // id, from, to

ByteView Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Every match of `set` in `text`, in reported order.
std::vector<Match> AllMatches(const PatternSet& set, std::string_view text) {
  std::vector<Match> out;
  auto outcome = set.Scan(Bytes(text), [&](std::uint32_t id, std::uint64_t from, std::uint64_t to) {
    out.emplace_back(id, from, to);
    return ScanControl::kContinue;
  });
  EXPECT_TRUE(outcome) << outcome.error().message;
  if (outcome) {
    EXPECT_EQ(*outcome, ScanOutcome::kCompleted);
  }
  return out;
}

TEST(PatternSet, LiteralsReportIdsAndOffsets) {
  using namespace std::string_literals;
  const std::string with_nul = "\x01\x00\x02"s;  // vectorscan refuses a leading NUL
  const LiteralPattern literals[] = {
      {.bytes = "hsqs", .id = 7, .leftmost_start = true},
      {.bytes = with_nul, .id = 3, .leftmost_start = true},
      {.bytes = "ABC", .id = 9, .caseless = true, .leftmost_start = true},
  };
  auto set = PatternSet::CompileLiterals(literals);
  ASSERT_TRUE(set) << set.error().message;
  const std::string text = "..hsqs.\x01\x00\x02.abc"s;
  EXPECT_EQ(AllMatches(*set, text), (std::vector<Match>{{7, 2, 6}, {3, 7, 10}, {9, 11, 14}}));
  EXPECT_TRUE(AllMatches(*set, "nothing here").empty());
}

TEST(PatternSet, OneThreadScansWithManyDatabasesMadeAndFreedInTurn) {
  // The thread's scratch remembers which databases it fits; a new database (which may get a
  // freed one's address) that needs more scratch must still get it.
  const LiteralPattern small[] = {{.bytes = "needle", .id = 1}};
  auto kept = PatternSet::CompileLiterals(small);
  ASSERT_TRUE(kept) << kept.error().message;
  for (int round = 1; round <= 12; ++round) {
    std::vector<std::string> expressions;
    std::vector<RegexPattern> patterns;
    for (int k = 0; k < round * 4; ++k) {
      expressions.push_back("x" + std::to_string(k) + "[a-z]{" + std::to_string(round) + "," +
                            std::to_string(round * 8) + "}y");
    }
    for (std::size_t k = 0; k < expressions.size(); ++k) {
      patterns.push_back({.expression = expressions[k],
                          .id = static_cast<std::uint32_t>(k),
                          .leftmost_start = true});
    }
    auto grown = PatternSet::CompileRegexes(patterns);
    ASSERT_TRUE(grown) << grown.error().message;
    const std::string text = "..x0" + std::string(static_cast<std::size_t>(round), 'q') + "y..";
    EXPECT_EQ(AllMatches(*grown, text),
              (std::vector<Match>{{0, 2, 5 + static_cast<std::uint64_t>(round)}}))
        << "round " << round;
    EXPECT_EQ(AllMatches(*kept, "a needle"), (std::vector<Match>{{1, 0, 8}})) << "round " << round;
  }
}

TEST(PatternSet, RegexesReportIdsStartsAndEnds) {
  const RegexPattern regexes[] = {
      {.expression = "ver(sion)? [0-9]+", .id = 1, .leftmost_start = true},
      {.expression = "a.b", .id = 2, .dot_all = true, .leftmost_start = true},
      {.expression = "x.y", .id = 4},  // no dot_all: '.' does not match '\n'
  };
  auto set = PatternSet::CompileRegexes(regexes);
  ASSERT_TRUE(set) << set.error().message;
  const std::vector<Match> matches = AllMatches(*set, "version 12 a\nb x\ny");
  // Every end is reported (leftmost start): "version 1" and "version 12".
  EXPECT_EQ(matches, (std::vector<Match>{{1, 0, 9}, {1, 0, 10}, {2, 11, 14}}));
}

TEST(PatternSet, CaselessAndSingleMatch) {
  const RegexPattern regexes[] = {
      {.expression = "key", .id = 0, .caseless = true, .single_match = true},
  };
  auto set = PatternSet::CompileRegexes(regexes);
  ASSERT_TRUE(set) << set.error().message;
  const std::vector<Match> matches = AllMatches(*set, "KEY key Key");
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(std::get<2>(matches[0]), 3u);  // end of the first; no start without leftmost_start
}

TEST(PatternSet, CallbackStopEndsTheScan) {
  const LiteralPattern literals[] = {{.bytes = "ab", .id = 0}};
  auto set = PatternSet::CompileLiterals(literals);
  ASSERT_TRUE(set);
  int seen = 0;
  auto outcome = set->Scan(Bytes("ab ab ab ab"), [&](std::uint32_t, std::uint64_t, std::uint64_t) {
    return ++seen == 2 ? ScanControl::kStop : ScanControl::kContinue;
  });
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, ScanOutcome::kStopped);
  EXPECT_EQ(seen, 2);
}

TEST(PatternSet, CompileErrorNamesThePattern) {
  const RegexPattern named[] = {
      {.expression = "fine", .id = 0},
      {.expression = "broken(", .id = 1, .name = "rules.json rule 3"},
  };
  auto bad = PatternSet::CompileRegexes(named);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("vectorscan compile failed"), std::string::npos);
  EXPECT_NE(bad.error().message.find("in rules.json rule 3"), std::string::npos)
      << bad.error().message;

  const RegexPattern unnamed[] = {{.expression = "[z-a]", .id = 42}};
  auto bad_id = PatternSet::CompileRegexes(unnamed);
  ASSERT_FALSE(bad_id);
  EXPECT_NE(bad_id.error().message.find("in pattern id 42"), std::string::npos)
      << bad_id.error().message;

  EXPECT_FALSE(PatternSet::CompileRegexes({}));
  EXPECT_FALSE(PatternSet::CompileLiterals({}));
  const LiteralPattern empty[] = {{.bytes = "", .id = 5}};
  auto empty_literal = PatternSet::CompileLiterals(empty);
  ASSERT_FALSE(empty_literal);
  EXPECT_NE(empty_literal.error().message.find("pattern id 5"), std::string::npos);
}

TEST(PatternSet, EmptyInputHasNoMatches) {
  const RegexPattern regexes[] = {{.expression = "a+", .id = 0}};
  auto set = PatternSet::CompileRegexes(regexes);
  ASSERT_TRUE(set);
  EXPECT_TRUE(AllMatches(*set, "").empty());
  auto outcome = set->Scan(ByteView{}, [](std::uint32_t, std::uint64_t, std::uint64_t) {
    ADD_FAILURE() << "no match expected";
    return ScanControl::kContinue;
  });
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, ScanOutcome::kCompleted);
}

TEST(PatternSet, CallbackMayScanAgain) {
  const LiteralPattern outer_literals[] = {{.bytes = "x", .id = 0}};
  const LiteralPattern inner_literals[] = {{.bytes = "y", .id = 1}};
  auto outer = PatternSet::CompileLiterals(outer_literals);
  auto inner = PatternSet::CompileLiterals(inner_literals);
  ASSERT_TRUE(outer && inner);
  std::size_t inner_matches = 0;
  auto outcome = outer->Scan(Bytes("xx"), [&](std::uint32_t, std::uint64_t, std::uint64_t) {
    inner_matches += AllMatches(*inner, "yy").size();
    return ScanControl::kContinue;
  });
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(inner_matches, 4u);
}

TEST(PatternSet, CallbackExceptionPropagates) {
  const LiteralPattern literals[] = {{.bytes = "x", .id = 0}};
  auto set = PatternSet::CompileLiterals(literals);
  ASSERT_TRUE(set);
  EXPECT_THROW((void)set->Scan(Bytes("x"),
                               [](std::uint32_t, std::uint64_t, std::uint64_t) -> ScanControl {
                                 throw std::runtime_error("from the callback");
                               }),
               std::runtime_error);
}

// A compiled database is cached and reloaded with the same matches; an entry vectorscan
// cannot load (corrupt, another version) is rebuilt; other patterns get their own entry.
TEST(PatternSet, CompiledDatabasesAreCachedAndReloaded) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("clearbox-hs-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ::setenv("CLEARBOX_CACHE_DIR", dir.c_str(), 1);
  const RegexPattern patterns[] = {{.expression = "ver(sion)? [0-9]+", .id = 4}};
  const std::string text = "a version 12 and ver 3";
  auto entries = [&] {
    std::vector<fs::path> out;
    if (fs::exists(dir)) {
      for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    }
    return out;
  };
  auto first = PatternSet::CompileRegexes(patterns);
  ASSERT_TRUE(first);
  const auto expected = AllMatches(*first, text);
  ASSERT_FALSE(expected.empty());
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  EXPECT_TRUE(entry.filename().string().starts_with("hsdb-"));
  // Reloaded: same matches; the entry is what a reload reads (a corrupt one is rebuilt).
  auto second = PatternSet::CompileRegexes(patterns);
  ASSERT_TRUE(second);
  EXPECT_EQ(AllMatches(*second, text), expected);
  std::ofstream(entry, std::ios::binary | std::ios::trunc) << "not a database";
  auto rebuilt = PatternSet::CompileRegexes(patterns);
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(AllMatches(*rebuilt, text), expected);
  EXPECT_GT(fs::file_size(entry), 100u);  // rewritten with the real database
  const RegexPattern caseless[] = {{.expression = "ver(sion)? [0-9]+", .id = 4, .caseless = true}};
  ASSERT_TRUE(PatternSet::CompileRegexes(caseless));
  EXPECT_EQ(entries().size(), 2u);
  ::unsetenv("CLEARBOX_CACHE_DIR");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace clearbox
