// Version ordering: every public case of cve-bin-tool's version_compare.json, plus the
// schemes issue 4 names (OpenSSL letters, dates, Debian, kernels, tags).
#include "vuln/version.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vuln/vuln_test_util.hpp"

namespace clearbox::vuln {
namespace {

bool Holds(const std::string& a, const std::string& op, const std::string& b) {
  const int c = CompareVersions(a, b);
  const int r = CompareVersions(b, a);  // antisymmetry is checked on every case
  if ((c < 0) != (r > 0) || (c == 0) != (r == 0)) return false;
  if (op == "==") return c == 0;
  if (op == "!=") return c != 0;
  if (op == "<") return c < 0;
  if (op == ">") return c > 0;
  if (op == "<=") return c <= 0;
  if (op == ">=") return c >= 0;
  return false;
}

TEST(VulnVersion, AllPublicOrderingCases) {
  const auto doc =
      testing::ReadJsonFile(testing::OracleDir() / "cve-bin-tool" / "version_compare.json");
  ASSERT_TRUE(doc.contains("cases"));
  std::vector<std::string> failures;
  int count = 0;
  for (const auto& c : doc["cases"]) {
    const std::string a = c["a"], op = c["op"], b = c["b"];
    ++count;
    if (!Holds(a, op, b)) failures.push_back("'" + a + "' " + op + " '" + b + "'");
  }
  EXPECT_EQ(count, 44);
  std::string list;
  for (const auto& f : failures) list += "\n  " + f;
  EXPECT_TRUE(failures.empty()) << failures.size() << " failing cases:" << list;
}

TEST(VulnVersion, UnknownVersionsAreRecognised) {
  // cve-bin-tool raises UnknownVersion for "unknown" and ""; we report them as not known.
  EXPECT_FALSE(IsKnownVersion("unknown"));
  EXPECT_FALSE(IsKnownVersion("UNKNOWN"));
  EXPECT_FALSE(IsKnownVersion(""));
  EXPECT_FALSE(IsKnownVersion("  "));
  EXPECT_FALSE(IsKnownVersion("*"));
  EXPECT_FALSE(IsKnownVersion("-"));
  EXPECT_TRUE(IsKnownVersion("6"));
  EXPECT_TRUE(IsKnownVersion("1.0.2k"));
}

struct Ordered {
  const char* lower;
  const char* higher;
};

TEST(VulnVersion, FirmwareSchemes) {
  const std::vector<Ordered> cases = {// dotted numbers of any length
                                      {"1.2.3.4.5", "1.2.3.4.6"},
                                      {"1.9", "1.10"},
                                      {"0.9.8", "0.10"},
                                      {"1.2.3.4.5.6.7.8", "1.2.3.4.5.6.7.8.1"},
                                      // OpenSSL letters
                                      {"1.0.2k", "1.0.2za"},
                                      {"1.0.2", "1.0.2a"},
                                      {"1.0.2z", "1.0.2za"},
                                      {"1.0.2zc", "1.0.2zd"},
                                      {"1.0.2zd", "1.1.0"},
                                      {"1.1.1m", "1.1.1n"},
                                      {"1.0.1", "1.0.1a"},
                                      {"1.0.1t", "1.0.2"},
                                      {"0.9.8zh", "1.0.0"},
                                      // dates
                                      {"2016.72", "2016.73"},
                                      {"2016.74", "2020.81"},
                                      {"2019.78", "2020.79"},
                                      {"20190813", "20200101"},
                                      {"2020-01-15", "2020-02-01"},
                                      // tags
                                      {"1.0.1-beta1", "1.0.1"},
                                      {"1.0.1beta2", "1.0.1beta3"},
                                      {"1.0.1-beta3", "1.0.1a"},
                                      {"2.0-rc1", "2.0"},
                                      {"2.0rc1", "2.0rc2"},
                                      {"2.0-alpha", "2.0-beta"},
                                      {"2.0-beta", "2.0-pre1"},
                                      {"2.0-pre1", "2.0-rc1"},
                                      {"2.0.dev3", "2.0a"},
                                      {"9.3", "9.3p1"},
                                      {"9.3p1", "9.3p2"},
                                      {"9.3p2", "9.4"},
                                      {"8.5p1", "8.6"},
                                      // Debian epochs, revisions, tildes
                                      {"1.1.1n-0+deb11u3", "1.1.1n-0+deb11u4"},
                                      {"1.1.1n", "1.1.1n-0+deb11u3"},
                                      {"2.0~rc1", "2.0"},
                                      {"2.0~rc1-1", "2.0-1"},
                                      {"1.0~~", "1.0~"},
                                      {"1.0~", "1.0"},
                                      {"9.9", "1:0.1"},
                                      {"1:1.0", "2:0.5"},
                                      {"1.2-3", "1.2.1"},
                                      {"1.2-3", "1.2-10"},
                                      {"2.83-1", "2.85-1"},
                                      // kernels with local suffixes and release candidates
                                      {"5.10.101-yocto-standard", "5.10.102"},
                                      {"5.10.102", "5.10.102-rt63"},
                                      {"5.15.0-rc3", "5.15.0"},
                                      {"5.15.0-rc3", "5.15"},
                                      {"4.19.0-20-amd64", "4.19.0-21-amd64"},
                                      {"5.4.0-42-generic", "5.4.1"},
                                      {"4.14.98+", "4.14.99"}};
  for (const auto& c : cases) {
    EXPECT_LT(CompareVersions(c.lower, c.higher), 0) << c.lower << " < " << c.higher;
    EXPECT_GT(CompareVersions(c.higher, c.lower), 0) << c.higher << " > " << c.lower;
  }
  const std::vector<Ordered> equal = {{"1.0", "1.0.0"},          {"2.0.0", "2"},
                                      {"1.0.2K", "1.0.2k"},      {"0:1.2", "1.2"},
                                      {"01.002", "1.2"},         {"5.10.102+", "5.10.102"},
                                      {" 2016.74\n", "2016.74"}, {"1.2-0", "1.2"}};
  for (const auto& c : equal) {
    EXPECT_EQ(CompareVersions(c.lower, c.higher), 0) << c.lower << " == " << c.higher;
  }
}

TEST(VulnVersion, HugeNumbersAndOddBytesNeitherOverflowNorCrash) {
  const std::string big(400, '9');
  EXPECT_LT(CompareVersions(big, "1" + big), 0);
  EXPECT_EQ(CompareVersions("0000000000000000000000001", "1"), 0);
  const std::string odd("1.\xff\x00.2-~-:", 11);
  EXPECT_EQ(CompareVersions(odd, odd), 0);
  EXPECT_NE(CompareVersions("----", "1"), 0);
}

TEST(VulnVersion, IsATotalOrderOnASample) {
  const std::vector<std::string> sample = {
      "1.0",    "1.0.0",   "1.0a",    "1.0-rc1",    "1.0~rc1",       "1.0-1",       "1:0.1",
      "1.0.2k", "1.0.2za", "2016.74", "9.3p1",      "5.10.102-rt63", "1.0.1-beta1", "1.2.post8",
      "1.2.1",  "pre4",    "3",       "f835f2caaa", "2-kdc",         "2-a"};
  for (const auto& a : sample)
    for (const auto& b : sample)
      for (const auto& c : sample) {
        if (CompareVersions(a, b) <= 0 && CompareVersions(b, c) <= 0) {
          EXPECT_LE(CompareVersions(a, c), 0) << a << " <= " << b << " <= " << c;
        }
      }
}

}  // namespace
}  // namespace clearbox::vuln
