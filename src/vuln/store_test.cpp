// The store and matcher on the public NVD records copied to tests/oracle/nvd: every known case of
// issue 4's "Done when" list, plus import formats (API pages, gzip, CVE 5, OSV, KEV, EPSS).
#include "vuln/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "vuln/vuln_test_util.hpp"
#include "vuln/writer.hpp"

namespace clearbox::vuln {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

std::vector<fs::path> OracleRecords() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(testing::OracleDir() / "nvd")) {
    if (e.path().filename().string().starts_with("CVE-")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// One database built from all oracle records, shared by the tests of this file.
class VulnOracle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto db = dir_->path() / "oracle.db";
    auto writer = VulnWriter::Open(db);
    ASSERT_TRUE(writer) << writer.error().message;
    for (const auto& f : OracleRecords()) {
      auto r = writer->ImportFile(f);
      ASSERT_TRUE(r) << f << ": " << r.error().message;
      EXPECT_EQ(r->stats.format, "nvd");
      EXPECT_EQ(r->stats.vulns, 1u);
    }
    auto store = VulnStore::Open(db);
    ASSERT_TRUE(store) << store.error().message;
    store_ = new VulnStore(std::move(*store));
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }

  static std::set<std::string> Ids(const ComponentQuery& q) {
    auto matches = store_->Match(q);
    EXPECT_TRUE(matches) << matches.error().message;
    std::set<std::string> ids;
    if (matches) {
      for (const auto& m : *matches) ids.insert(m.id);
    }
    return ids;
  }
  static std::set<std::string> ByCpe(const std::string& vendor_product, const std::string& v) {
    return Ids({"", "", "cpe:2.3:a:" + vendor_product + ":" + v + ":*:*:*:*:*:*:*", ""});
  }
  static std::set<std::string> ByName(const std::string& name, const std::string& v) {
    return Ids({name, v, "", ""});
  }

  static TempDir* dir_;
  static VulnStore* store_;
};
TempDir* VulnOracle::dir_ = nullptr;
VulnStore* VulnOracle::store_ = nullptr;

TEST_F(VulnOracle, OpenSslCve20220778ByRange) {
  for (const char* v : {"1.0.2zc", "1.1.1m", "3.0.1", "1.0.2", "1.1.0", "3.0.0"}) {
    EXPECT_TRUE(ByCpe("openssl:openssl", v).contains("CVE-2022-0778")) << v;
    EXPECT_TRUE(ByName("openssl", v).contains("CVE-2022-0778")) << v;
  }
  for (const char* v : {"1.0.2zd", "1.1.1n", "3.0.2", "1.0.1u", "3.1.0"}) {
    EXPECT_FALSE(ByCpe("openssl:openssl", v).contains("CVE-2022-0778")) << v;
    EXPECT_FALSE(ByName("openssl", v).contains("CVE-2022-0778")) << v;
  }
  auto matches = store_->Match({"", "", "cpe:2.3:a:openssl:openssl:1.1.1m:*:*:*:*:*:*:*", ""});
  ASSERT_TRUE(matches);
  auto it = std::find_if(matches->begin(), matches->end(),
                         [](const auto& m) { return m.id == "CVE-2022-0778"; });
  ASSERT_NE(it, matches->end());
  EXPECT_EQ(it->match_kind, MatchKind::kRange);
  EXPECT_EQ(it->matched, "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:* versions [1.1.0, 1.1.1n)");
  EXPECT_EQ(it->confidence, ConfidenceLevel::kHigh);
  EXPECT_DOUBLE_EQ(it->cvss_score, 7.5);
  EXPECT_EQ(it->cvss_version, "3.1");
  EXPECT_EQ(it->severity, Severity::kHigh);
  EXPECT_TRUE(it->conditions.empty());
  EXPECT_FALSE(it->cwes.empty());
  EXPECT_EQ(it->published.substr(0, 10), "2022-03-15");
  EXPECT_TRUE(std::is_sorted(matches->begin(), matches->end(),
                             [](const auto& a, const auto& b) { return a.id < b.id; }));
  auto name_based = store_->Match({"openssl", "1.1.1m", "", ""});
  ASSERT_TRUE(name_based);
  for (const auto& m : *name_based) EXPECT_EQ(m.confidence, ConfidenceLevel::kMedium) << m.id;
}

TEST_F(VulnOracle, OpenSslCve20162842ByExactVersionList) {
  for (const char* v :
       {"1.0.1", "1.0.1a", "1.0.1r", "1.0.2", "1.0.2f", "1.0.1-beta1", "1.0.2beta3"}) {
    EXPECT_TRUE(ByName("openssl", v).contains("CVE-2016-2842")) << v;
  }
  for (const char* v : {"1.0.1s", "1.0.1t", "1.0.2g", "1.0.0", "1.1.0", "1.0.1-beta4"}) {
    EXPECT_FALSE(ByName("openssl", v).contains("CVE-2016-2842")) << v;
  }
  auto matches = store_->Match({"", "", "cpe:2.3:a:openssl:openssl:1.0.2:beta2:*:*:*:*:*:*", ""});
  ASSERT_TRUE(matches);
  auto it = std::find_if(matches->begin(), matches->end(),
                         [](const auto& m) { return m.id == "CVE-2016-2842"; });
  ASSERT_NE(it, matches->end());
  EXPECT_EQ(it->match_kind, MatchKind::kExact);
  EXPECT_EQ(it->matched, "cpe:2.3:a:openssl:openssl:1.0.2:beta2:*:*:*:*:*:*");
}

TEST_F(VulnOracle, BusyBoxRangesAndExactVersions) {
  std::set<std::string> all;
  for (int n = 42373; n <= 42386; ++n) all.insert("CVE-2021-" + std::to_string(n));
  auto for_version = [&](const std::string& v) {
    std::set<std::string> hit;
    for (const auto& id : ByCpe("busybox:busybox", v)) {
      if (all.contains(id)) hit.insert(id);
    }
    return hit;
  };
  EXPECT_EQ(for_version("1.33.1"), all);  // the one version every record includes
  const std::set<std::string> at_1_33_0 = {"CVE-2021-42373", "CVE-2021-42374", "CVE-2021-42376",
                                           "CVE-2021-42377", "CVE-2021-42378", "CVE-2021-42379",
                                           "CVE-2021-42380", "CVE-2021-42381", "CVE-2021-42382",
                                           "CVE-2021-42384", "CVE-2021-42385", "CVE-2021-42386"};
  EXPECT_EQ(for_version("1.33.0"), at_1_33_0);
  // 1.33.2 is past every range end except [1.16.0, 1.34.0) of CVE-2021-42376.
  EXPECT_EQ(for_version("1.33.2"), std::set<std::string>{"CVE-2021-42376"});
  EXPECT_TRUE(for_version("1.34.0").empty());
  // 1.17.0: in the ranges that start at 1.16.0 only.
  EXPECT_EQ(for_version("1.17.0"), (std::set<std::string>{"CVE-2021-42376", "CVE-2021-42378",
                                                          "CVE-2021-42385", "CVE-2021-42386"}));
  EXPECT_TRUE(for_version("1.15.3").empty());
  // 1.27.0 enters [1.27.0, 1.33.1] of CVE-2021-42374; 1.26.2 does not.
  EXPECT_TRUE(for_version("1.27.0").contains("CVE-2021-42374"));
  EXPECT_FALSE(for_version("1.26.2").contains("CVE-2021-42374"));
  EXPECT_TRUE(ByName("busybox", "1.36.1").contains("CVE-2022-48174"));
  EXPECT_FALSE(ByName("busybox", "1.36.2").contains("CVE-2022-48174"));
}

TEST_F(VulnOracle, DnsmasqBefore283HasDnspooq) {
  const std::set<std::string> dnspooq = {"CVE-2020-25681", "CVE-2020-25682", "CVE-2020-25683",
                                         "CVE-2020-25684", "CVE-2020-25685", "CVE-2020-25686",
                                         "CVE-2020-25687"};
  for (const char* v : {"2.82", "2.80", "2.78", "2.40"}) {
    const auto ids = ByName("dnsmasq", v);
    for (const auto& id : dnspooq) EXPECT_TRUE(ids.contains(id)) << v << " " << id;
  }
  for (const char* v : {"2.83", "2.85", "2.90"}) {
    const auto ids = ByName("dnsmasq", v);
    for (const auto& id : dnspooq) EXPECT_FALSE(ids.contains(id)) << v << " " << id;
  }
  EXPECT_TRUE(ByName("dnsmasq", "2.89").contains("CVE-2023-28450"));
  EXPECT_FALSE(ByName("dnsmasq", "2.90").contains("CVE-2023-28450"));
}

TEST_F(VulnOracle, Zlib1211) {
  const auto ids = ByCpe("zlib:zlib", "1.2.11");
  EXPECT_TRUE(ids.contains("CVE-2018-25032"));
  EXPECT_TRUE(ids.contains("CVE-2022-37434"));
  EXPECT_TRUE(ByName("zlib", "1.2.11").contains("CVE-2018-25032"));
  const auto fixed = ByCpe("zlib:zlib", "1.2.13");
  EXPECT_FALSE(fixed.contains("CVE-2018-25032"));
  EXPECT_FALSE(fixed.contains("CVE-2022-37434"));
  EXPECT_TRUE(fixed.contains("CVE-2023-45853"));                          // (*, 1.3]
  EXPECT_TRUE(ByCpe("zlib:zlib", "1.2.12").contains("CVE-2022-37434"));   // end including
  EXPECT_FALSE(ByCpe("zlib:zlib", "1.2.12").contains("CVE-2018-25032"));  // end excluding
}

TEST_F(VulnOracle, DropbearDateVersions) {
  const std::set<std::string> dropbear = {"CVE-2016-7406", "CVE-2016-7407", "CVE-2016-7408",
                                          "CVE-2016-7409"};
  for (const char* v : {"2016.72", "2016.73", "2015.71", "2014.63"}) {
    const auto ids = ByName("dropbear", v);
    for (const auto& id : dropbear) EXPECT_TRUE(ids.contains(id)) << v << " " << id;
  }
  for (const char* v : {"2016.74", "2017.75", "2020.81"}) {
    const auto ids = ByCpe("dropbear_ssh_project:dropbear_ssh", v);
    for (const auto& id : dropbear) EXPECT_FALSE(ids.contains(id)) << v << " " << id;
  }
}

TEST_F(VulnOracle, PlatformCpesMarkedNotVulnerableNeverMatch) {
  // Only ever named as "running on/with" (vulnerable=false) in the oracle records.
  EXPECT_TRUE(Ids({"", "", "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*", ""}).empty());
  EXPECT_TRUE(Ids({"", "", "cpe:2.3:o:microsoft:windows:10:*:*:*:*:*:*:*", ""}).empty());
  EXPECT_TRUE(Ids({"", "", "cpe:2.3:h:netapp:h300s:-:*:*:*:*:*:*:*", ""}).empty());
  EXPECT_TRUE(Ids({"", "", "cpe:2.3:h:netapp:h410c:-:*:*:*:*:*:*:*", ""}).empty());
  EXPECT_TRUE(Ids({"", "", "cpe:2.3:h:siemens:cp_1543-1:-:*:*:*:*:*:*:*", ""}).empty());
  EXPECT_TRUE(ByName("h300s", "1.0").empty());
  // The vulnerable side of such an AND configuration matches, with its condition shown.
  auto matches = store_->Match({"", "", "cpe:2.3:a:python:python:3.9.1:*:*:*:*:*:*:*", ""});
  ASSERT_TRUE(matches);
  ASSERT_EQ(matches->size(), 1u);
  EXPECT_EQ(matches->front().id, "CVE-2018-25032");
  EXPECT_EQ(matches->front().confidence, ConfidenceLevel::kMedium);
  ASSERT_EQ(matches->front().conditions.size(), 1u);
  EXPECT_TRUE(matches->front().conditions[0].starts_with("cpe:2.3:o:microsoft:windows:"));
}

TEST_F(VulnOracle, OtherFirmwareSchemes) {
  // Kernel with a local suffix: [5.8, 5.10.102) and [5.15, 5.15.25) of Dirty Pipe.
  EXPECT_TRUE(ByName("linux", "5.10.101-yocto-standard").contains("CVE-2022-0847"));
  EXPECT_FALSE(ByName("linux", "5.10.102-rt63").contains("CVE-2022-0847"));
  EXPECT_TRUE(ByName("linux", "5.15.24").contains("CVE-2022-0847"));
  EXPECT_FALSE(ByName("linux", "5.4.180").contains("CVE-2022-0847"));
  // OpenSSH "p" releases: (*, 9.3) =9.3 =9.3:p1.
  EXPECT_TRUE(ByName("openssh", "9.3p1").contains("CVE-2023-38408"));
  EXPECT_TRUE(ByName("openssh", "9.2p1").contains("CVE-2023-38408"));
  EXPECT_FALSE(ByName("openssh", "9.3p2").contains("CVE-2023-38408"));
  EXPECT_FALSE(ByName("openssh", "9.4p1").contains("CVE-2023-38408"));
  // Unknown versions match nothing rather than everything.
  EXPECT_TRUE(ByName("openssl", "").empty());
  EXPECT_TRUE(ByName("openssl", "unknown").empty());
  EXPECT_TRUE(ByCpe("openssl:openssl", "*").empty());
}

TEST_F(VulnOracle, InfoCountsSources) {
  auto info = store_->Info();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->vulnerabilities, static_cast<long long>(OracleRecords().size()));
  ASSERT_EQ(info->sources.size(), 1u);
  EXPECT_EQ(info->sources[0].name, "nvd");
  EXPECT_EQ(info->sources[0].records, info->vulnerabilities);
  EXPECT_FALSE(info->sources[0].newest_modified.empty());
  EXPECT_EQ(info->schema, std::to_string(kSchemaVersion));
}

TEST(VulnImport, ApiPageGzipCve5OsvKevEpssAndReplacement) {
  TempDir dir;
  const std::string record = testing::ReadText(testing::OracleDir() / "nvd" / "CVE-2016-7406.json");
  const std::string record2 =
      testing::ReadText(testing::OracleDir() / "nvd" / "CVE-2022-0778.json");
  WriteFileBytes(dir / "page.json",
                 "{\"resultsPerPage\":2,\"startIndex\":0,\"totalResults\":2,"
                 "\"format\":\"NVD_CVE\",\"version\":\"2.0\","
                 "\"vulnerabilities\":[{\"cve\":" +
                     record + "},{\"cve\":" + record2 + "}]}");
  ASSERT_EQ(clearbox::testing::RunShell("gzip -k " + (dir / "page.json").string()), 0);
  WriteFileBytes(dir / "cve5.json", R"({
    "dataType": "CVE_RECORD", "dataVersion": "5.1",
    "cveMetadata": {"cveId": "CVE-2099-0001", "state": "PUBLISHED",
                    "datePublished": "2099-01-01T00:00:00Z", "dateUpdated": "2099-01-02T00:00:00Z"},
    "containers": {"cna": {
      "descriptions": [{"lang": "en", "value": "Overflow in Example Widget."}],
      "affected": [{"vendor": "Example", "product": "Widget Server", "defaultStatus": "unaffected",
                    "versions": [{"version": "2.0", "lessThan": "2.4.1", "status": "affected",
                                  "versionType": "custom"},
                                 {"version": "3.0.0", "status": "affected"}]}],
      "metrics": [{"cvssV3_1": {"version": "3.1", "baseScore": 8.1, "baseSeverity": "HIGH",
                   "vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],
      "problemTypes": [{"descriptions": [{"cweId": "CWE-787", "lang": "en", "type": "CWE"}]}],
      "references": [{"url": "https://example.org/advisory"}]}}})");
  WriteFileBytes(dir / "osv.json", R"({
    "schema_version": "1.6.0", "id": "GHSA-xxxx-yyyy-zzzz", "modified": "2099-02-01T00:00:00Z",
    "aliases": ["CVE-2099-0002"], "summary": "Path traversal in tarball",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "Tarball", "purl": "pkg:pypi/tarball"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.4.2"},
                                                             {"introduced": "2.0"}, {"last_affected": "2.1"}]}],
                  "versions": []},
                 {"package": {"ecosystem": "Debian:12", "name": "tarball"},
                  "versions": ["1.0-1", "1.0-2"]}]})");
  WriteFileBytes(dir / "kev.json", R"({"title": "CISA Catalog", "catalogVersion": "2099.01.01",
    "dateReleased": "2099-01-01T00:00:00.000Z", "count": 2, "vulnerabilities": [
      {"cveID": "CVE-2022-0778", "vendorProject": "OpenSSL", "product": "OpenSSL",
       "vulnerabilityName": "OpenSSL infinite loop", "dateAdded": "2099-01-01",
       "dueDate": "2099-01-22", "knownRansomwareCampaignUse": "Unknown"},
      {"cveID": "CVE-2099-0001", "vendorProject": "Example", "product": "Widget",
       "vulnerabilityName": "x", "dateAdded": "2099-01-01", "dueDate": "2099-01-22",
       "knownRansomwareCampaignUse": "Known"}]})");
  WriteFileBytes(dir / "epss.csv",
                 "#model_version:v2023.03.01,score_date:2099-01-03T00:00:00+0000\n"
                 "cve,epss,percentile\nCVE-2022-0778,0.01234,0.85\nCVE-2016-7406,0.5,0.99\n");
  ASSERT_EQ(clearbox::testing::RunShell("gzip -k " + (dir / "epss.csv").string()), 0);

  const auto db = dir / "v.db";
  {
    auto writer = VulnWriter::Open(db);
    ASSERT_TRUE(writer);
    auto page = writer->ImportFile(dir / "page.json.gz");
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->stats.vulns, 2u);
    // The same page again replaces, never duplicates.
    ASSERT_TRUE(writer->ImportFile(dir / "page.json"));
    for (const char* f : {"cve5.json", "osv.json", "kev.json", "epss.csv.gz"}) {
      auto r = writer->ImportFile(dir / f);
      ASSERT_TRUE(r) << f << ": " << r.error().message;
    }
    WriteFileBytes(dir / "junk.json", "{\"hello\": [1, 2, 3]}");
    EXPECT_FALSE(writer->ImportFile(dir / "junk.json"));
    WriteFileBytes(dir / "broken.json", "{\"vulnerabilities\": [{\"cve\": " + record);
    EXPECT_FALSE(writer->ImportFile(dir / "broken.json"));  // nothing of it is kept
  }
  auto store = VulnStore::Open(db);
  ASSERT_TRUE(store) << store.error().message;
  auto info = store->Info();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->vulnerabilities, 4);
  EXPECT_EQ(info->kev, 2);
  EXPECT_EQ(info->epss, 2);
  std::set<std::string> names;
  for (const auto& s : info->sources) names.insert(s.name);
  EXPECT_EQ(names, (std::set<std::string>{"cve5", "epss", "kev", "nvd", "osv"}));

  auto openssl = store->Match({"", "", "cpe:2.3:a:openssl:openssl:3.0.1:*:*:*:*:*:*:*", ""});
  ASSERT_TRUE(openssl);
  ASSERT_EQ(openssl->size(), 1u);
  EXPECT_TRUE(openssl->front().kev);
  EXPECT_DOUBLE_EQ(openssl->front().epss, 0.01234);

  auto widget = store->Match({"widget server", "2.4.0", "", ""});
  ASSERT_TRUE(widget);
  ASSERT_EQ(widget->size(), 1u);
  EXPECT_EQ(widget->front().id, "CVE-2099-0001");
  EXPECT_EQ(widget->front().matched,
            "cpe:2.3:a:example:widget_server:*:*:*:*:*:*:*:* versions [2.0, 2.4.1)");
  EXPECT_DOUBLE_EQ(widget->front().cvss_score, 8.1);
  EXPECT_EQ(widget->front().cwes, std::vector<std::string>{"CWE-787"});
  EXPECT_TRUE(store->Match({"widget server", "3.0.0", "", ""})->size() == 1);
  EXPECT_TRUE(store->Match({"widget server", "2.4.1", "", ""})->empty());
  EXPECT_TRUE(store->Match({"widget server", "1.9", "", ""})->empty());

  auto tarball = store->Match({"", "", "", "pkg:pypi/tarball@1.4.1"});
  ASSERT_TRUE(tarball);
  ASSERT_EQ(tarball->size(), 1u);
  EXPECT_EQ(tarball->front().id, "CVE-2099-0002");
  EXPECT_EQ(tarball->front().aliases, std::vector<std::string>{"GHSA-xxxx-yyyy-zzzz"});
  EXPECT_EQ(tarball->front().confidence, ConfidenceLevel::kHigh);
  EXPECT_DOUBLE_EQ(tarball->front().cvss_score, 7.5);  // computed from the OSV vector
  EXPECT_EQ(tarball->front().severity, Severity::kHigh);
  EXPECT_EQ(store->Match({"", "", "", "pkg:pypi/tarball@2.1"})->size(), 1u);  // last_affected
  EXPECT_TRUE(store->Match({"", "", "", "pkg:pypi/tarball@1.4.2"})->empty());
  EXPECT_TRUE(store->Match({"", "", "", "pkg:pypi/tarball@2.2"})->empty());
  EXPECT_EQ(store->Match({"", "", "", "pkg:deb/debian/tarball@1.0-2?arch=amd64"})->size(), 1u);
  EXPECT_TRUE(store->Match({"", "", "", "pkg:deb/debian/tarball@1.0-3"})->empty());
}

// A bulk load (one transaction, CPE rows staged and written sorted) must give the same
// answers as file-by-file imports, keep only the last copy of a record seen twice, and drop
// only the broken file of the batch.
TEST(VulnImport, BulkLoadMatchesFileByFileImports) {
  TempDir dir;
  std::vector<fs::path> files = OracleRecords();
  const auto one_by_one = dir / "single.db";
  {
    auto writer = VulnWriter::Open(one_by_one);
    ASSERT_TRUE(writer);
    for (const auto& f : files) ASSERT_TRUE(writer->ImportFile(f)) << f;
  }
  // The dropbear record again at the end, without its configurations: the later copy wins.
  auto dropbear = testing::ReadJsonFile(testing::OracleDir() / "nvd" / "CVE-2016-7406.json");
  dropbear.erase("configurations");
  WriteFileBytes(dir / "zz-dropbear-again.json", dropbear.dump());
  WriteFileBytes(dir / "broken.json", "{\"vulnerabilities\": [{\"cve\": {\"id\": \"CVE-1\"");
  std::vector<fs::path> batch = files;
  batch.insert(batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2), dir / "broken.json");
  batch.push_back(dir / "zz-dropbear-again.json");
  const auto bulk = dir / "bulk.db";
  {
    auto writer = VulnWriter::Open(bulk);
    ASSERT_TRUE(writer);
    auto began = writer->BeginBulkLoad();
    ASSERT_TRUE(began && *began);
    auto results = writer->ImportFiles(batch, 2);
    ASSERT_EQ(results.size(), batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(results[i].has_value(), batch[i] != dir / "broken.json") << batch[i];
    }
    ASSERT_TRUE(writer->EndBulkLoad());
  }
  auto a = VulnStore::Open(one_by_one);
  auto b = VulnStore::Open(bulk);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->Info()->vulnerabilities, b->Info()->vulnerabilities);
  const std::vector<ComponentQuery> queries = {
      {"", "", "cpe:2.3:a:openssl:openssl:1.0.2zc:*:*:*:*:*:*:*", ""},
      {"", "", "cpe:2.3:a:openssl:openssl:3.0.1:*:*:*:*:*:*:*", ""},
      {"busybox", "1.33.1", "", ""},
      {"dnsmasq", "2.80", "", ""},
      {"zlib", "1.2.11", "", ""}};
  for (const auto& q : queries) {
    auto ma = a->Match(q);
    auto mb = b->Match(q);
    ASSERT_TRUE(ma && mb);
    ASSERT_EQ(ma->size(), mb->size()) << q.cpe << q.name;
    EXPECT_FALSE(ma->empty()) << q.cpe << q.name;
    for (std::size_t i = 0; i < ma->size(); ++i) {
      EXPECT_EQ((*ma)[i].id, (*mb)[i].id);
      EXPECT_EQ((*ma)[i].matched, (*mb)[i].matched);
      EXPECT_EQ((*ma)[i].cwes, (*mb)[i].cwes);
    }
  }
  const ComponentQuery old_dropbear{
      "", "", "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2016.72:*:*:*:*:*:*:*", ""};
  auto before = a->Match(old_dropbear);
  auto after = b->Match(old_dropbear);
  ASSERT_TRUE(before && after);
  auto has_7406 = [](const std::vector<VulnerabilityMatch>& list) {
    return std::any_of(list.begin(), list.end(),
                       [](const VulnerabilityMatch& m) { return m.id == "CVE-2016-7406"; });
  };
  EXPECT_TRUE(has_7406(*before));
  EXPECT_FALSE(has_7406(*after));
  EXPECT_EQ(after->size() + 1, before->size());

  // Later single imports replace a record's rows (found through its noted CPE keys).
  const long long rows_with = a->Info()->cpe_matches, rows_without = b->Info()->cpe_matches;
  ASSERT_GT(rows_with, rows_without);
  const auto original = testing::OracleDir() / "nvd" / "CVE-2016-7406.json";
  for (const auto& [file, expect_match] :
       {std::pair{original, true}, std::pair{dir / "zz-dropbear-again.json", false},
        std::pair{original, true}, std::pair{original, true}}) {
    {
      auto writer = VulnWriter::Open(bulk);
      ASSERT_TRUE(writer);
      ASSERT_TRUE(writer->ImportFile(file));
    }
    auto store = VulnStore::Open(bulk);
    ASSERT_TRUE(store);
    auto now = store->Match(old_dropbear);
    ASSERT_TRUE(now);
    EXPECT_EQ(has_7406(*now), expect_match) << file;
    EXPECT_EQ(store->Info()->cpe_matches, expect_match ? rows_with : rows_without);
  }
}

// A database of another schema version is refused with a message, not misread.
TEST(VulnImport, OtherSchemaVersionIsRefused) {
  TempDir dir;
  const auto db = dir / "old.db";
  ASSERT_EQ(clearbox::testing::RunShell("sqlite3 " + db.string() +
                                        " 'PRAGMA user_version = 1; CREATE TABLE meta(k, v);'"),
            0);
  auto writer = VulnWriter::Open(db);
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.error().message.find("schema version 1"), std::string::npos)
      << writer.error().message;
  auto store = VulnStore::Open(db);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("rebuild"), std::string::npos) << store.error().message;
}

TEST(VulnImport, BundledSnapshotIsUsableOffline) {
  auto db = ImportSnapshot(testing::SourceDir() / "data" / "vuln" / "snapshot");
  ASSERT_TRUE(db) << db.error().message;
  auto store = VulnStore::FromDatabase(std::move(*db), "snapshot");
  ASSERT_TRUE(store) << store.error().message;
  auto info = store->Info();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->vulnerabilities, static_cast<long long>(OracleRecords().size()));
  auto m = store->Match({"busybox", "1.33.1", "", ""});
  ASSERT_TRUE(m);
  EXPECT_GE(m->size(), 14u);
}

}  // namespace
}  // namespace clearbox::vuln
