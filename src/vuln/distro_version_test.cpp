// Distribution version orderings against their reference implementations: dpkg's own
// `dpkg --compare-versions` (run here, on generated and hand-picked pairs) and apk-tools'
// test vectors (tests/oracle/apk-tools/version.data); distribution releases of purls.
#include "vuln/distro_version.hpp"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "vuln/vuln_test_util.hpp"

namespace clearbox::vuln {
namespace {

using clearbox::testing::RunShell;

int Sign(int v) {
  return v < 0 ? -1 : (v > 0 ? 1 : 0);
}

// dpkg's verdict on a < b, a == b, a > b (-1, 0, 1), asked of dpkg itself.
std::vector<int> DpkgVerdicts(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string script =
      "set -u; while IFS=' ' read -r a b; do "
      "if dpkg --compare-versions \"$a\" lt \"$b\"; then echo -1; "
      "elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo 0; "
      "else echo 1; fi; done 2>/dev/null <<'EOF'\n";
  for (const auto& [a, b] : pairs) script += a + " " + b + "\n";
  script += "EOF\n";
  std::string output;
  EXPECT_EQ(RunShell(script, &output), 0);
  std::vector<int> out;
  std::istringstream in(output);
  int v = 0;
  while (in >> v) out.push_back(v);
  return out;
}

TEST(DebianVersions, AgreeWithDpkgOnHandPickedPairs) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"1.0", "1.0-0"},
      {"1.0~rc1", "1.0"},
      {"1.0~rc1-1", "1.0-1"},
      {"1:1.0", "2.0"},
      {"3.0.11-1~deb12u2", "3.0.11-1"},
      {"3.0.11-1~deb12u2", "3.0.11-1~deb12u1"},
      {"3.0.13-1~deb12u1", "3.0.11-1~deb12u2"},
      {"1.2.13.dfsg-1", "1.2.13-1"},
      {"1.35.0-4+b3", "1.35.0-4"},
      {"1.35.0-4+deb12u1", "1.35.0-4+b3"},
      {"2.36-9+deb12u4", "2.36-9+deb12u10"},
      {"1.0a", "1.0+"},
      {"1.0.", "1.0"},
      {"0:1.0", "1.0"},
      {"1.0-1ubuntu0.22.04.1", "1.0-1ubuntu0.22.04"},
      {"7.88.1-10+deb12u5", "7.88.1-10+deb12u12"},
      {"1.1.1n-0+deb11u1", "1.1.1k-1+deb11u2"},
      {"1.00", "1.0"},
      {"10", "9"},
      {"a", "A"},
  };
  const auto verdicts = DpkgVerdicts(pairs);
  ASSERT_EQ(verdicts.size(), pairs.size()) << "dpkg --compare-versions did not answer";
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(Sign(CompareDebianVersions(pairs[i].first, pairs[i].second)), verdicts[i])
        << pairs[i].first << " vs " << pairs[i].second;
  }
}

TEST(DebianVersions, AgreeWithDpkgOnGeneratedPairs) {
  // Versions built from the pieces Debian versions are made of, so that most pairs share a
  // prefix and differ where the ordering rules matter ('~', '+', letters, zeros, epochs).
  const std::vector<std::string> pieces = {"0", "1", "01", "2",  "10",  ".",  "~",      "+",   "a",
                                           "b", "z", "A",  "rc", "~rc", "+b", "deb12u", "~deb"};
  std::mt19937 rng(20261202);
  auto make = [&] {
    std::string v;
    if (rng() % 6 == 0) v += std::to_string(rng() % 3) + ":";
    v += std::to_string(rng() % 3);
    for (unsigned n = rng() % 5; n > 0; --n) v += pieces[rng() % pieces.size()];
    if (rng() % 2 == 0) {
      v += "-" + std::to_string(rng() % 3);
      for (unsigned n = rng() % 3; n > 0; --n) v += pieces[rng() % pieces.size()];
    }
    return v;
  };
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < 1500; ++i) {
    std::string a = make(), b = rng() % 3 == 0 ? a + pieces[rng() % pieces.size()] : make();
    pairs.emplace_back(a, b);
  }
  const auto verdicts = DpkgVerdicts(pairs);
  ASSERT_EQ(verdicts.size(), pairs.size()) << "dpkg --compare-versions did not answer";
  int disagreements = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const int ours = Sign(CompareDebianVersions(pairs[i].first, pairs[i].second));
    if (ours != verdicts[i] && ++disagreements <= 10) {
      ADD_FAILURE() << pairs[i].first << " vs " << pairs[i].second << ": dpkg " << verdicts[i]
                    << ", clearbox " << ours;
    }
    // The ordering is antisymmetric.
    EXPECT_EQ(ours, -Sign(CompareDebianVersions(pairs[i].second, pairs[i].first)));
  }
  EXPECT_EQ(disagreements, 0);
}

TEST(ApkVersions, AgreeWithApkToolsTestVectors) {
  const std::string data = testing::ReadText(testing::OracleDir() / "apk-tools" / "version.data");
  std::istringstream in(data);
  std::string line;
  int checked = 0, validity = 0;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string a, op, b;
    if (!(words >> a)) continue;
    if (!(words >> op >> b)) {
      const bool invert = a.starts_with('!');
      if (invert) a.erase(0, 1);
      EXPECT_EQ(IsValidApkVersion(a), !invert) << line;
      ++validity;
      continue;
    }
    const bool invert = op.starts_with('!');
    if (invert) op.erase(0, 1);
    if (op.find('~') != std::string::npos) continue;  // fuzzy matching: not implemented
    const int r = Sign(CompareApkVersions(a, b));
    bool holds = false;
    for (char c : op) {
      holds |= (c == '<' && r < 0) || (c == '>' && r > 0) || (c == '=' && r == 0);
    }
    EXPECT_EQ(holds, !invert) << line << " (clearbox says " << r << ")";
    ++checked;
  }
  EXPECT_GE(checked, 700);
  EXPECT_GE(validity, 20);
}

TEST(ApkVersions, AlpineFixesOrderAsApkDoes) {
  EXPECT_LT(CompareApkVersions("3.1.4-r5", "3.1.4-r6"), 0);
  EXPECT_LT(CompareApkVersions("1.36.1-r15", "1.36.1-r20"), 0);
  EXPECT_LT(CompareApkVersions("2.4_rc1-r0", "2.4-r0"), 0);
  EXPECT_GT(CompareApkVersions("2.4_p1-r0", "2.4-r0"), 0);
  EXPECT_EQ(CompareApkVersions("1.0-r0", "1.0-r0"), 0);
}

Purl MustParse(const std::string& text) {
  auto p = ParsePurl(text);
  EXPECT_TRUE(p) << text;
  return p ? *p : Purl{};
}

TEST(DistroPackages, ReleaseSourcePackageAndVersionFromThePurl) {
  auto deb = DistroPackageOf(MustParse(
      "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"));
  ASSERT_TRUE(deb);
  EXPECT_EQ(deb->ecosystem, "Debian:12");
  EXPECT_EQ(deb->purl_key, "pkg:deb/debian/openssl");
  EXPECT_EQ(deb->name, "openssl");
  EXPECT_EQ(deb->version, "3.0.11-1~deb12u2");
  EXPECT_EQ(deb->scheme, VersionScheme::kDebian);

  // A binNMU: the source version is in the qualifier.
  auto binnmu = DistroPackageOf(
      MustParse("pkg:deb/debian/libfoo1@1.2-3+b1?distro=debian-12.4&upstream=foo%401.2-3"));
  ASSERT_TRUE(binnmu);
  EXPECT_EQ(binnmu->ecosystem, "Debian:12");
  EXPECT_EQ(binnmu->version, "1.2-3");

  // An installer package without a Source field: its name without "-udeb" is tried too.
  auto udeb = DistroPackageOf(MustParse("pkg:deb/debian/busybox-udeb@1:1.35.0-4?distro=debian-12"));
  ASSERT_TRUE(udeb);
  EXPECT_EQ(udeb->purl_key, "pkg:deb/debian/busybox-udeb");
  EXPECT_EQ(udeb->fallback_key, "pkg:deb/debian/busybox");
  EXPECT_TRUE(deb->fallback_key.empty());

  auto codename =
      DistroPackageOf(MustParse("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=bookworm"));
  ASSERT_TRUE(codename);
  EXPECT_EQ(codename->ecosystem, "Debian:12");
  EXPECT_EQ(codename->purl_key, "pkg:deb/debian/zlib1g");

  auto ubuntu =
      DistroPackageOf(MustParse("pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.15?distro=ubuntu-22.04"));
  ASSERT_TRUE(ubuntu);
  EXPECT_EQ(ubuntu->ecosystem, "Ubuntu:22.04");
  EXPECT_TRUE(SameDistroRelease("Ubuntu:22.04:LTS", ubuntu->ecosystem));
  EXPECT_FALSE(SameDistroRelease("Ubuntu:22.10", ubuntu->ecosystem));

  auto alpine = DistroPackageOf(MustParse(
      "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl"));
  ASSERT_TRUE(alpine);
  EXPECT_EQ(alpine->ecosystem, "Alpine:v3.19");
  EXPECT_EQ(alpine->purl_key, "pkg:apk/alpine/openssl");
  EXPECT_EQ(alpine->scheme, VersionScheme::kApk);

  // No release, or not a distribution: no distribution data applies.
  EXPECT_FALSE(DistroPackageOf(MustParse("pkg:deb/debian/curl@7.88.1-10")));
  EXPECT_FALSE(
      DistroPackageOf(MustParse("pkg:opkg/openwrt/dropbear@2022.82-5?distro=openwrt-23.05")));
  EXPECT_FALSE(DistroPackageOf(MustParse("pkg:pypi/requests@2.31.0")));
  EXPECT_FALSE(DistroPackageOf(MustParse("pkg:deb/debian/x@1?distro=debian-")));
}

}  // namespace
}  // namespace clearbox::vuln
