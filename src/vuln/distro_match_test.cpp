// Matching through a distribution's own vulnerability data (issue 12): a Debian, Ubuntu or
// Alpine package whose release has OSV data in the store is judged by that data alone, in the
// distribution's version order, so a backported fix counts; without such data the upstream
// CPE ranges decide. Every match says which data decided it.
//
// The NVD record is the public CVE-2022-0778 record (tests/oracle/nvd). The OSV records are
// written here in the form osv.dev publishes for Debian (DEBIAN-CVE-*), Ubuntu (UBUNTU-CVE-*)
// and Alpine (ALPINE-CVE-*), with fixed versions chosen by the test: they are not Debian's,
// Ubuntu's or Alpine's real verdicts on that CVE.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "support/test_support.hpp"
#include "vuln/store.hpp"
#include "vuln/vuln_test_util.hpp"
#include "vuln/writer.hpp"

namespace clearbox::vuln {
namespace {

using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

// One OSV record of a distribution: `affected` entries as (ecosystem, package, fixed).
std::string DistroRecord(const std::string& id, const std::string& cve,
                         const std::vector<std::array<std::string, 3>>& affected) {
  std::string out = R"({"schema_version": "1.6.0", "id": ")" + id +
                    R"(", "modified": "2099-03-01T00:00:00Z", "upstream": [")" + cve +
                    R"("], "details": "Test record.", "affected": [)";
  for (std::size_t i = 0; i < affected.size(); ++i) {
    const auto& [ecosystem, name, fixed] = affected[i];
    out += std::string(i ? "," : "") + R"({"package": {"ecosystem": ")" + ecosystem +
           R"(", "name": ")" + name + R"("}, "ranges": [{"type": "ECOSYSTEM", "events": [)" +
           R"({"introduced": "0"})" +
           (fixed.empty() ? std::string() : R"(, {"fixed": ")" + fixed + R"("})") + "]}]}";
  }
  return out + "]}";
}

class DistroMatching : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto& d = dir_->path();
    WriteFileBytes(d / "nvd.json",
                   testing::ReadText(testing::OracleDir() / "nvd" / "CVE-2022-0778.json"));
    // Debian 11 fixed it by a backport into 1.1.1k; Debian 12 not yet (no fixed event).
    WriteFileBytes(d / "debian.json", DistroRecord("DEBIAN-CVE-2022-0778", "CVE-2022-0778",
                                                   {{"Debian:11", "openssl", "1.1.1k-1+deb11u2"},
                                                    {"Debian:12", "openssl", ""}}));
    // Ubuntu and Alpine records of the same CVE must not replace Debian's rows.
    WriteFileBytes(d / "ubuntu.json",
                   DistroRecord("UBUNTU-CVE-2022-0778", "CVE-2022-0778",
                                {{"Ubuntu:22.04:LTS", "openssl", "3.0.2-0ubuntu1"}}));
    WriteFileBytes(d / "alpine.json", DistroRecord("ALPINE-CVE-2022-0778", "CVE-2022-0778",
                                                   {{"Alpine:v3.15", "openssl", "1.1.1n-r0"}}));
    // An advisory fixing two CVEs at once (the injected quotes make a two-element array).
    WriteFileBytes(d / "dsa.json", DistroRecord("DSA-9999-1", "CVE-2099-0001\", \"CVE-2099-0002",
                                                {{"Debian:12", "curl", "7.88.1-10+deb12u9"}}));
    const auto db = d / "v.db";
    auto writer = VulnWriter::Open(db);
    ASSERT_TRUE(writer) << writer.error().message;
    for (const char* f : {"nvd.json", "debian.json", "ubuntu.json", "alpine.json", "dsa.json"}) {
      auto r = writer->ImportFile(d / f);
      ASSERT_TRUE(r) << f << ": " << r.error().message;
    }
    auto store = VulnStore::Open(db);
    ASSERT_TRUE(store) << store.error().message;
    store_ = new VulnStore(std::move(*store));
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }
  // The matches of a component given as name, upstream version, CPE and purl.
  static std::vector<VulnerabilityMatch> Match(const std::string& version,
                                               const std::string& purl) {
    auto m = store_->Match(
        {"openssl", version, "cpe:2.3:a:openssl:openssl:" + version + ":*:*:*:*:*:*:*", purl});
    EXPECT_TRUE(m) << m.error().message;
    return m ? *m : std::vector<VulnerabilityMatch>{};
  }
  static TempDir* dir_;
  static VulnStore* store_;
};
TempDir* DistroMatching::dir_ = nullptr;
VulnStore* DistroMatching::store_ = nullptr;

// A DSA that fixes several CVEs is reported under its own id and names every CVE.
TEST_F(DistroMatching, AdvisoryOfSeveralCvesNamesThemAll) {
  auto m = store_->Match(
      {"curl", "7.88.1", "", "pkg:deb/debian/curl@7.88.1-10+deb12u5?arch=amd64&distro=debian-12"});
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].id, "DSA-9999-1");
  const auto& aliases = (*m)[0].aliases;
  for (const char* cve : {"CVE-2099-0001", "CVE-2099-0002"}) {
    EXPECT_NE(std::find(aliases.begin(), aliases.end(), cve), aliases.end()) << cve;
  }
  auto fixed = store_->Match(
      {"curl", "7.88.1", "", "pkg:deb/debian/curl@7.88.1-10+deb12u9?arch=amd64&distro=debian-12"});
  ASSERT_TRUE(fixed);
  EXPECT_TRUE(fixed->empty());
}

TEST_F(DistroMatching, BackportedFixCountsInTheDistributionsOrder) {
  // Upstream 1.1.1k is inside NVD's range [1.1.1, 1.1.1n); Debian 11 fixed it in 1.1.1k-1+deb11u2.
  const std::string purl =
      "pkg:deb/debian/libssl1.1@1.1.1k-1+deb11u2?arch=amd64&distro=debian-11"
      "&upstream=openssl";
  EXPECT_TRUE(Match("1.1.1k", purl).empty());
  // One revision earlier is still vulnerable, and Debian's data says so.
  const auto before = Match("1.1.1k",
                            "pkg:deb/debian/libssl1.1@1.1.1k-1+deb11u1?arch=amd64"
                            "&distro=debian-11&upstream=openssl");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].id, "CVE-2022-0778");
  EXPECT_EQ(before[0].decided_by, "OSV Debian:11");
  EXPECT_EQ(before[0].matched,
            "pkg:deb/debian/openssl (Debian:11) 1.1.1k-1+deb11u1, versions (*, 1.1.1k-1+deb11u2)");
  EXPECT_EQ(before[0].confidence, ConfidenceLevel::kHigh);
  // A '~' backport version sorts before the upstream release, as dpkg orders it.
  EXPECT_EQ(Match("1.1.1k",
                  "pkg:deb/debian/libssl1.1@1.1.1k-1+deb11u2~1?distro=debian-11"
                  "&upstream=openssl")
                .size(),
            1u);
}

TEST_F(DistroMatching, UnfixedInTheReleaseIsReportedWhateverTheUpstreamVersion) {
  // NVD says 3.0.2 is fixed; Debian 12's data (no fixed event) says its package is affected.
  const auto m = Match("3.0.11",
                       "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64"
                       "&distro=debian-12&upstream=openssl");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].decided_by, "OSV Debian:12");
}

TEST_F(DistroMatching, ReleaseWithoutDataFallsBackToUpstreamCpeRanges) {
  // No Debian:10 rows: NVD's CPE configuration decides, on the upstream version.
  const auto m = Match("1.1.1d",
                       "pkg:deb/debian/libssl1.1@1.1.1d-0+deb10u8?arch=amd64"
                       "&distro=debian-10&upstream=openssl");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].decided_by, "nvd CPE configuration");
  EXPECT_EQ(m[0].match_kind, MatchKind::kRange);
  // Other distributions' ranges never leak into the answer (Debian 11's fix would clear it).
  EXPECT_TRUE(Match("1.1.1n",
                    "pkg:deb/debian/libssl1.1@1.1.1n-0+deb10u3?distro=debian-10"
                    "&upstream=openssl")
                  .empty());
}

TEST_F(DistroMatching, UbuntuAndAlpineReleasesUseTheirOwnRows) {
  EXPECT_TRUE(Match("3.0.2",
                    "pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?arch=amd64"
                    "&distro=ubuntu-22.04&upstream=openssl")
                  .empty());
  const auto ubuntu = Match("3.0.1",
                            "pkg:deb/ubuntu/libssl3@3.0.1-0ubuntu1?distro=ubuntu-22.04"
                            "&upstream=openssl");
  ASSERT_EQ(ubuntu.size(), 1u);
  EXPECT_EQ(ubuntu[0].decided_by, "OSV Ubuntu:22.04:LTS");
  // apk order: 1.1.1l-r8 < 1.1.1n-r0 (affected), 1.1.1n-r0 (fixed).
  const auto alpine = Match("1.1.1l",
                            "pkg:apk/alpine/libcrypto1.1@1.1.1l-r8?arch=x86_64"
                            "&distro=alpine-3.15.4&upstream=openssl");
  ASSERT_EQ(alpine.size(), 1u);
  EXPECT_EQ(alpine[0].decided_by, "OSV Alpine:v3.15");
  EXPECT_TRUE(Match("1.1.1n",
                    "pkg:apk/alpine/libcrypto1.1@1.1.1n-r0?distro=alpine-3.15.4"
                    "&upstream=openssl")
                  .empty());
  // All three records of the CVE kept their rows (one does not replace another's).
  const auto debian = Match("1.1.1k",
                            "pkg:deb/debian/libssl1.1@1.1.1k-1?distro=debian-11"
                            "&upstream=openssl");
  EXPECT_EQ(debian.size(), 1u);
}

TEST_F(DistroMatching, ComponentsWithoutDistributionStillMatchUpstreamRanges) {
  const auto m = Match("1.1.1k", "");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].decided_by, "nvd CPE configuration");
  EXPECT_EQ(m[0].confidence, ConfidenceLevel::kHigh);
}

}  // namespace
}  // namespace clearbox::vuln
