// CVSS v3 base scores recomputed from the vectors of every v3 metric in the oracle NVD records.
#include "vuln/cvss.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "vuln/vuln_test_util.hpp"

namespace clearbox::vuln {
namespace {

TEST(VulnCvss, RecomputesEveryOracleV3Score) {
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(testing::OracleDir() / "nvd")) {
    if (!e.path().filename().string().starts_with("CVE-")) continue;
    const auto doc = testing::ReadJsonFile(e.path());
    if (!doc.contains("metrics")) continue;
    for (const char* key : {"cvssMetricV31", "cvssMetricV30"}) {
      if (!doc["metrics"].contains(key)) continue;
      for (const auto& m : doc["metrics"][key]) {
        const std::string vector = m["cvssData"]["vectorString"];
        const double want = m["cvssData"]["baseScore"];
        const auto got = CvssV3BaseScore(vector);
        ASSERT_TRUE(got.has_value()) << vector;
        EXPECT_DOUBLE_EQ(*got, want) << e.path().filename() << " " << vector;
        EXPECT_EQ(CvssSeverity(*got), m["cvssData"]["baseSeverity"].get<std::string>());
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 60);
  EXPECT_FALSE(CvssV3BaseScore("AV:N/AC:L/Au:N/C:P/I:P/A:P"));  // v2
  EXPECT_FALSE(CvssV3BaseScore("CVSS:3.1/AV:N/AC:L"));
  EXPECT_FALSE(CvssV3BaseScore("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
  EXPECT_EQ(CvssV3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), 0.0);
}

// Ratings as NVD (upper case) and OSV/GHSA (lower case) spell them become typed severities;
// anything else is no rating, not a guess.
TEST(VulnCvss, RatingsBecomeTypedSeverities) {
  EXPECT_EQ(SeverityOfCvssRating("CRITICAL"), Severity::kCritical);
  EXPECT_EQ(SeverityOfCvssRating("high"), Severity::kHigh);
  EXPECT_EQ(SeverityOfCvssRating("Medium"), Severity::kMedium);
  EXPECT_EQ(SeverityOfCvssRating("LOW"), Severity::kLow);
  EXPECT_EQ(SeverityOfCvssRating("NONE"), Severity::kInfo);
  EXPECT_EQ(SeverityOfCvssRating(""), std::nullopt);
  EXPECT_EQ(SeverityOfCvssRating("MODERATE"), std::nullopt);
  for (double score : {0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0}) {
    EXPECT_TRUE(SeverityOfCvssRating(CvssSeverity(score))) << score;
  }
}

}  // namespace
}  // namespace clearbox::vuln
