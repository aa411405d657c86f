// Package-database parsers on hand-written databases in the real formats (dpkg status,
// OpenWrt opkg status/control/list, Alpine apk installed) and on hostile input; the udebs'
// source packages (data/identify/debian-udeb-sources.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/data_dir.hpp"
#include "identify/identifier.hpp"
#include "identify/pkgdb.hpp"
#include "support/test_support.hpp"

namespace clearbox::identify {
namespace {

TEST(PkgDb, DpkgStatusStanzasAndStates) {
  const std::string status =
      "Package: libssl3\n"
      "Status: install ok installed\n"
      "Architecture: amd64\n"
      "Multi-Arch: same\n"
      "Source: openssl\n"
      "Version: 3.0.19-1~deb12u2\n"
      "Description: Secure Sockets Layer toolkit - shared libraries\n"
      " This package is part of the OpenSSL project's implementation of the SSL and TLS\n"
      " .\n"
      "\n"
      "Package: oldpkg\n"
      "Status: deinstall ok config-files\n"
      "Version: 1.0-1\n"
      "\n"
      "Package: zlib1g\r\n"
      "Status: install ok installed\r\n"
      "Source: zlib (1:1.2.13.dfsg-1)\r\n"
      "Version: 1:1.2.13.dfsg-1\r\n"
      "Architecture: amd64\r\n";
  auto records = ParseDpkgStatus(status);
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].name, "libssl3");
  EXPECT_EQ((*records)[0].version, "3.0.19-1~deb12u2");
  EXPECT_EQ((*records)[0].source, "openssl");
  EXPECT_EQ((*records)[0].arch, "amd64");
  EXPECT_EQ((*records)[1].name, "zlib1g");
  EXPECT_EQ((*records)[1].source, "zlib");
  EXPECT_EQ((*records)[1].version, "1:1.2.13.dfsg-1");
}

TEST(PkgDb, ContinuationLinesJoinAndOrphansAreIgnored) {
  auto stanzas = ParseControlStanzas(" orphan continuation\nA: 1\n more\nnot a field line\nB:2\n");
  ASSERT_TRUE(stanzas);
  ASSERT_EQ(stanzas->size(), 1u);
  EXPECT_EQ(FieldValue((*stanzas)[0], "a"), "1\nmore");
  EXPECT_EQ(FieldValue((*stanzas)[0], "B"), "2");
  EXPECT_EQ(FieldValue((*stanzas)[0], "C"), "");
}

TEST(PkgDb, OpkgStatusAndControl) {
  // OpenWrt: status has no Source; the control file has SourceName.
  const std::string status =
      "Package: busybox\nVersion: 1.36.1-1\nDepends: libc\nStatus: install user installed\n"
      "Architecture: mips_24kc\nInstalled-Time: 1700000000\n\n";
  auto records = ParseDpkgStatus(status);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].version, "1.36.1-1");
  auto control = ParseDpkgStatus("Package: busybox\nVersion: 1.36.1-1\nSourceName: busybox\n");
  ASSERT_TRUE(control);
  EXPECT_EQ((*control)[0].source, "busybox");
}

TEST(PkgDb, FileLists) {
  auto list = ParseFileList("/.\n/usr\n/usr/bin/x\r\n\n/lib/libc.so\t0755\n");
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, (std::vector<std::string>{"/usr", "/usr/bin/x", "/lib/libc.so"}));
}

TEST(PkgDb, ApkInstalled) {
  const std::string db =
      "C:Q1abc=\nP:busybox\nV:1.36.1-r15\nA:x86_64\no:busybox\nF:bin\nR:busybox\nF:etc\n"
      "R:securetty\nR:../evil\n\nP:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\n";
  auto records = ParseApkInstalled(db);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].name, "busybox");
  EXPECT_EQ((*records)[0].files, (std::vector<std::string>{"/bin/busybox", "/etc/securetty"}));
  EXPECT_EQ((*records)[1].files, (std::vector<std::string>{"/lib/ld-musl-x86_64.so.1"}));
  EXPECT_EQ(ApkUpstreamVersion("1.36.1-r15"), "1.36.1");
  EXPECT_EQ(ApkUpstreamVersion("1.2"), "1.2");
}

TEST(PkgDb, UpstreamVersions) {
  EXPECT_EQ(DebianUpstreamVersion("1:1.2.13.dfsg-1"), "1.2.13.dfsg");
  EXPECT_EQ(DebianUpstreamVersion("3.0.19-1~deb12u2"), "3.0.19");
  EXPECT_EQ(DebianUpstreamVersion("2.1.12-stable-8"), "2.1.12-stable");
  EXPECT_EQ(DebianUpstreamVersion("1:9.2p1-2+deb12u6"), "9.2p1");
  EXPECT_EQ(DebianUpstreamVersion("0.16"), "0.16");
  EXPECT_EQ(StripRepackSuffix("1.2.13.dfsg"), "1.2.13");
  EXPECT_EQ(StripRepackSuffix("2.9.14+dfsg"), "2.9.14");
  EXPECT_EQ(StripRepackSuffix("5.9.3+dfsg"), "5.9.3");
  EXPECT_EQ(StripRepackSuffix("1.0+really0.9"), "0.9");
  EXPECT_EQ(StripRepackSuffix("2.1.12-stable"), "2.1.12");
  EXPECT_EQ(StripRepackSuffix("v1.20"), "1.20");
  EXPECT_EQ(StripRepackSuffix("vim"), "vim");
}

TEST(PkgDb, HostileInputIsBounded) {
  std::string many;
  for (std::size_t i = 0; i <= kMaxPackages; ++i) many += "Package: p\nVersion: 1\n\n";
  auto r = ParseDpkgStatus(many);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimitExceeded);
  // Garbage never crashes and yields no bogus packages.
  std::string garbage;
  for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>((i * 131) % 256));
  auto g = ParseDpkgStatus(garbage);
  ASSERT_TRUE(g);
  for (const auto& p : *g) EXPECT_FALSE(p.name.empty());
  auto a = ParseApkInstalled(garbage);
  ASSERT_TRUE(a);
}

}  // namespace
}  // namespace clearbox::identify

namespace clearbox::identify {
namespace {

// Splits a package file name into (name, version): "n_v_arch.deb", "n_v_arch.ipk",
// "n-v-rN.apk". Returns false when the name has no recognisable version.
bool SplitPackageFileName(std::string file, const std::string& format, std::string* name,
                          std::string* version) {
  for (std::size_t at; (at = file.find("%2B")) != std::string::npos;) file.replace(at, 3, "+");
  if (format == "deb" || format == "ipk") {
    const std::size_t first = file.find('_');
    const std::size_t second = first == std::string::npos ? first : file.find('_', first + 1);
    if (second == std::string::npos) return false;
    *name = file.substr(0, first);
    *version = file.substr(first + 1, second - first - 1);
    return true;
  }
  if (format == "apk") {
    if (!file.ends_with(".apk")) return false;
    file.resize(file.size() - 4);
    // The version starts after the last '-' that is followed by a digit, before "-rN".
    const std::size_t release = file.rfind("-r");
    if (release == std::string::npos) return false;
    const std::size_t dash = file.rfind('-', release - 1);
    if (dash == std::string::npos) return false;
    *name = file.substr(0, dash);
    *version = file.substr(dash + 1);
    return true;
  }
  return false;
}

// cve-bin-tool's package cases: the upstream version we derive from real deb/ipk/apk
// package versions against the version cve-bin-tool expects for that package.
TEST(PkgDb, UpstreamVersionsOfCveBinToolPackages) {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  const auto path = std::filesystem::path(src ? src : ".") / "tests" / "oracle" / "cve-bin-tool" /
                    "package_test_data.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "oracle file missing: " << path;
  const nlohmann::json doc = nlohmann::json::parse(in);
  std::size_t cases = 0, equal = 0;
  for (const auto& entry : doc.at("entries")) {
    const std::string format = entry.value("package_format_derived", "");
    std::string name, version;
    if (!SplitPackageFileName(entry.at("package_name").get<std::string>(), format, &name,
                              &version)) {
      continue;
    }
    ++cases;
    const std::string upstream = StripRepackSuffix(
        format == "apk" ? ApkUpstreamVersion(version) : DebianUpstreamVersion(version));
    if (upstream == entry.at("version").get<std::string>()) {
      ++equal;
    } else {
      std::printf("  %s: %s -> %s, cve-bin-tool says %s\n", format.c_str(), version.c_str(),
                  upstream.c_str(), entry.at("version").get<std::string>().c_str());
    }
  }
  std::printf("cve-bin-tool deb/ipk/apk packages: upstream version equal in %zu of %zu (%.1f%%)\n",
              equal, cases, 100.0 * equal / std::max<std::size_t>(1, cases));
  EXPECT_GE(cases, 500u);
  EXPECT_GE(static_cast<double>(equal) / cases, 0.9);
}

TEST(PkgDb, UdebSourcesParse) {
  auto sources = ParseUdebSources(R"({"comment": "x", "sources": {"libc6-udeb": "glibc"}})");
  ASSERT_TRUE(sources) << sources.error().message;
  EXPECT_EQ(sources->at("libc6-udeb"), "glibc");
  EXPECT_FALSE(ParseUdebSources(R"({"sources": {"libc6-udeb": ""}})"));
  EXPECT_FALSE(ParseUdebSources(R"({"sources": {"libc6-udeb": 1}})"));
  EXPECT_FALSE(ParseUdebSources(R"({"libc6-udeb": "glibc"})"));
  EXPECT_FALSE(ParseUdebSources("{"));
}

// Debian's installer keeps its dpkg database without Source fields (udpkg drops them): a
// udeb whose source is not its name without "-udeb" gets it from the shipped data, so its
// purl names the source that Debian's vulnerability data uses.
TEST(PkgDb, UdebWithoutSourceFieldGetsItsSourcePackage) {
  clearbox::testing::TempDir dir;
  clearbox::testing::WriteFileBytes(dir.path() / "etc/os-release",
                                    "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n");
  clearbox::testing::WriteFileBytes(
      dir.path() / "var/lib/dpkg/status",
      "Package: libc6-udeb\nStatus: install ok installed\nArchitecture: armhf\n"
      "Version: 2.36-9+deb12u14\n\n"
      "Package: zlib1g-udeb\nStatus: install ok installed\nArchitecture: armhf\n"
      "Version: 1:1.2.13.dfsg-1\n\n"
      "Package: busybox-udeb\nStatus: install ok installed\nArchitecture: armhf\n"
      "Version: 1:1.35.0-4+deb12u1+b1\n\n"
      "Package: libssl3-udeb\nStatus: install ok installed\nArchitecture: armhf\n"
      "Source: openssl-fork\nVersion: 3.0.20-1~deb12u2\n\n");
  auto identifier = ComponentIdentifier::Create(DataDir() / "signatures");
  ASSERT_TRUE(identifier) << identifier.error().message;
  std::map<std::string, Component> by_name;
  for (Component& c : IdentifyTree(*identifier, dir.path(), 1)) by_name[c.name] = std::move(c);
  ASSERT_TRUE(by_name.contains("libc6-udeb"));
  const Component& libc = by_name.at("libc6-udeb");
  EXPECT_EQ(libc.purl,
            "pkg:deb/debian/libc6-udeb@2.36-9%2Bdeb12u14?arch=armhf&distro=debian-12"
            "&upstream=glibc");
  EXPECT_EQ(libc.source, "glibc");
  EXPECT_EQ(libc.cpe, "cpe:2.3:a:gnu:glibc:2.36:*:*:*:*:*:*:*");
  ASSERT_EQ(libc.evidence.size(), 1u);
  EXPECT_NE(libc.evidence[0].detail.find("source glibc from debian-udeb-sources.json"),
            std::string::npos)
      << libc.evidence[0].detail;
  EXPECT_TRUE(by_name.at("zlib1g-udeb").purl.ends_with("&upstream=zlib"))
      << by_name.at("zlib1g-udeb").purl;
  // Named as its source without "-udeb": no qualifier (the matcher strips the suffix).
  EXPECT_EQ(by_name.at("busybox-udeb").purl,
            "pkg:deb/debian/busybox-udeb@1:1.35.0-4%2Bdeb12u1%2Bb1?arch=armhf&distro=debian-12");
  // A Source field in the database wins over the data.
  EXPECT_TRUE(by_name.at("libssl3-udeb").purl.ends_with("&upstream=openssl-fork"))
      << by_name.at("libssl3-udeb").purl;
}

}  // namespace
}  // namespace clearbox::identify
