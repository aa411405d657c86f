// The feed parsers on small inline documents: shapes, edge cases of the JSON scanner
// (comments, big integers, deep nesting, duplicate keys) and malformed input.
#include "vuln/feeds.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clearbox::vuln {
namespace {

struct Parsed : CollectedFeed {
  Result<FeedStats> stats = Fail(ErrorCode::kInternal, "unset");
};

Parsed Parse(std::string_view text) {
  Parsed p;
  p.stats = ParseFeedBytes(text, CollectInto(p));
  return p;
}

constexpr std::string_view kRecord =
    R"({"id": "CVE-2099-0001", "vulnStatus": "Analyzed", "lastModified": "2099-01-02",
        "descriptions": [{"lang": "es", "value": "hola"}, {"lang": "en", "value": "hello"}],
        "metrics": {"cvssMetricV31": [{"source": "nvd", "type": "Primary",
          "cvssData": {"version": "3.1", "baseScore": 9.8, "baseSeverity": "critical",
                       "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]},
        "configurations": [{"nodes": [{"operator": "OR", "cpeMatch": [
          {"vulnerable": true, "criteria": "cpe:2.3:a:example:widget:*:*:*:*:*:*:*:*",
           "versionEndExcluding": "2.4.1", "matchCriteriaId": "X"}]}]}]})";

TEST(VulnFeeds, ApiPageArrayAndSingleRecord) {
  const std::string page =
      "{\"resultsPerPage\": 1, \"totalResults\": 7, \"vulnerabilities\": [{\"cve\": " +
      std::string(kRecord) + "}]}";
  auto p = Parse(page);
  ASSERT_TRUE(p.stats) << p.stats.error().message;
  EXPECT_EQ(p.stats->format, "nvd");
  EXPECT_EQ(p.stats->total_results, 7);
  ASSERT_EQ(p.vulns.size(), 1u);
  const VulnRecord& r = p.vulns[0];
  EXPECT_EQ(r.id, "CVE-2099-0001");
  EXPECT_EQ(r.description, "hello");
  ASSERT_EQ(r.metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(r.metrics[0].score, 9.8);
  EXPECT_EQ(r.metrics[0].severity, "CRITICAL");
  ASSERT_EQ(r.cpe_matches.size(), 1u);
  EXPECT_EQ(r.cpe_matches[0].end_excl, "2.4.1");

  auto array =
      Parse("[" + std::string(kRecord) + ", 1, \"x\", [{}], " + std::string(kRecord) + "]");
  ASSERT_TRUE(array.stats) << array.stats.error().message;
  EXPECT_EQ(array.vulns.size(), 2u);
  EXPECT_EQ(array.stats->total_results, -1);

  auto single = Parse(kRecord);
  ASSERT_TRUE(single.stats) << single.stats.error().message;
  EXPECT_EQ(single.vulns.size(), 1u);
}

TEST(VulnFeeds, EmptyPageRetiredFormatAndUnknownShapes) {
  auto empty = Parse(R"({"totalResults": 0, "vulnerabilities": []})");
  ASSERT_TRUE(empty.stats);
  EXPECT_EQ(empty.stats->format, "nvd");
  EXPECT_EQ(empty.stats->vulns, 0u);
  auto retired = Parse(R"({"CVE_data_type": "CVE", "CVE_Items": [{"cve": {}}]})");
  ASSERT_FALSE(retired.stats);
  EXPECT_EQ(retired.stats.error().code, ErrorCode::kUnsupported);
  auto junk = Parse(R"({"hello": [1, 2, 3]})");
  ASSERT_FALSE(junk.stats);
  EXPECT_EQ(junk.stats.error().code, ErrorCode::kNotThisFormat);
}

TEST(VulnFeeds, JsonEdgeCasesNlohmannAccepted) {
  // Comments between tokens, an integer beyond 64 bits, nesting deeper than 1024 levels and
  // duplicate keys (the last counts) were all accepted by the nlohmann-based parser.
  const std::string deep = std::string(3000, '[') + std::string(3000, ']');
  auto p = Parse(
      "[ /* feed */ // one record\n {\"id\": \"CVE-2099-0002\", \"id\": \"CVE-2099-0003\","
      " /* x */ \"lastModified\": \"z\", \"big\": 123456789012345678901234567890,"
      " \"deep\": " +
      deep +
      ", \"metrics\": {\"cvssMetricV2\": [{\"cvssData\": "
      "{\"baseScore\": 18446744073709551616}}]}} ]");
  ASSERT_TRUE(p.stats) << p.stats.error().message;
  ASSERT_EQ(p.vulns.size(), 1u);
  EXPECT_EQ(p.vulns[0].id, "CVE-2099-0003");
  ASSERT_EQ(p.vulns[0].metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(p.vulns[0].metrics[0].score, 18446744073709551616.0);
}

TEST(VulnFeeds, MalformedJsonIsMalformed) {
  const std::string rec(kRecord);
  const std::vector<std::string> cases = {
      "[" + rec,                                                        // truncated
      "[" + rec + "] x",                                                // trailing content
      "[" + rec + ",]",                                                 // trailing comma
      "[" + rec + " " + rec + "]",                                      // missing comma
      "{\"vulnerabilities\": [" + rec + "]",                            // unclosed top-level object
      "[{\"id\": \"CVE-2099-0001\", \"lastModified\": \"\xC3\x28\"}]",  // bad UTF-8
      "[{\"id\": \"CVE-2099-0001\", \"lastModified\": \"a\x01\"}]",     // control char
      "[{\"id\": \"CVE-2099-0001\", \"x\": 1e400}]",                    // out of range
      "[{\"id\": \"CVE-2099-0001\", \"x\": tru}]",
      "[{\"id\": \"CVE-2099-0001\"} /* unterminated",
      "[{\"id\": \"CVE-2099-0001\"} / ]",
      "{\"a\" 1}",
  };
  for (const std::string& bad : cases) {
    auto p = Parse(bad);
    ASSERT_FALSE(p.stats) << bad;
    EXPECT_EQ(p.stats.error().code, ErrorCode::kMalformed)
        << bad << ": " << p.stats.error().message;
  }
}

}  // namespace
}  // namespace clearbox::vuln
