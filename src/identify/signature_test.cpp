// Signature rules: the shipped data loads and compiles into one database; pattern options
// behave; and the share of intel/cve-bin-tool's version-string cases (products we support)
// identified with the right version.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/data_dir.hpp"
#include "identify/signature_matcher.hpp"

namespace clearbox::identify {
namespace {

std::shared_ptr<const SignatureMatcher> ShippedMatcher() {
  auto rules = LoadSignatureRules(DataDir() / "signatures");
  EXPECT_TRUE(rules) << rules.error().message;
  if (!rules) return nullptr;
  auto matcher = SignatureMatcher::Build(std::move(*rules));
  EXPECT_TRUE(matcher) << matcher.error().message;
  return matcher ? *matcher : nullptr;
}

ByteView View(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<SignatureHit> ScanText(const SignatureMatcher& m, const std::string& bytes,
                                   std::string_view path = "blob.bin") {
  auto hits = m.Scan(View(bytes), path);
  EXPECT_TRUE(hits) << hits.error().message;
  return hits ? *hits : std::vector<SignatureHit>{};
}

TEST(Signatures, ShippedRulesCompileIntoOneDatabase) {
  auto matcher = ShippedMatcher();
  ASSERT_TRUE(matcher);
  std::set<std::string> with_patterns;
  for (const auto& rule : matcher->rules()) {
    if (!rule.patterns.empty()) with_patterns.insert(rule.component);
  }
  std::printf("signature rules: %zu components with patterns\n", with_patterns.size());
  EXPECT_GE(with_patterns.size(), 60u);
  for (const char* required :
       {"busybox",  "openssl",        "dropbear",  "dnsmasq", "lighttpd",   "nginx",
        "boa",      "goahead",        "openssh",   "curl",    "libcurl",    "zlib",
        "glibc",    "uclibc",         "uclibc-ng", "musl",    "linux",      "u-boot",
        "hostapd",  "wpa_supplicant", "miniupnpd", "libupnp", "samba",      "sqlite",
        "expat",    "libxml2",        "libpng",    "libjpeg", "pcre",       "ncurses",
        "bash",     "iptables",       "ppp",       "openvpn", "strongswan", "mbedtls",
        "wolfssl",  "gnutls",         "libgcrypt", "avahi",   "dbus",       "ntp",
        "net-snmp", "libevent",       "json-c",    "lua",     "php",        "python",
        "perl"}) {
    EXPECT_TRUE(with_patterns.contains(required)) << required;
  }
}

TEST(Signatures, RuleFileErrorsAreReported) {
  EXPECT_FALSE(ParseSignatureRules("[]", "x.json"));
  EXPECT_FALSE(ParseSignatureRules(R"J({"rules":[{"component":"a"}]})J", "x.json"));
  auto no_group = ParseSignatureRules(
      R"J({"rules":[{"component":"a","vendor":"v","product":"p","patterns":[{"regex":"abc"}]}]})J",
      "x.json");
  ASSERT_TRUE(no_group);
  EXPECT_FALSE(SignatureMatcher::Build(std::move(*no_group)));
  auto bad_regex = ParseSignatureRules(
      R"J({"rules":[{"component":"a","vendor":"v","product":"p","patterns":[{"regex":"a(b"}]}]})J",
      "x.json");
  ASSERT_TRUE(bad_regex);
  EXPECT_FALSE(SignatureMatcher::Build(std::move(*bad_regex)));
}

TEST(Signatures, GreedyVersionsJoinSingleAndPathConstraints) {
  auto rules = ParseSignatureRules(R"J({"rules":[
    {"component":"a","vendor":"v","product":"a","patterns":[{"regex":"Alpha (\\d+\\.\\d+\\.\\d+[a-z]?)"}]},
    {"component":"x","vendor":"v","product":"x","patterns":[{"regex":"xv(2)(\\d\\d)(\\d\\d)","join_groups":true}]},
    {"component":"s","vendor":"v","product":"s","patterns":[{"regex":"\\x00(3\\.\\d+)\\x00","path":"libs\\.so$","single":true}]},
    {"component":"k","vendor":"v","product":"k","patterns":[{"path":"lib/modules/(\\d+\\.\\d+\\.\\d+)[^/]*/"}]}
  ]})J",
                                   "t.json");
  ASSERT_TRUE(rules) << rules.error().message;
  auto built = SignatureMatcher::Build(std::move(*rules));
  ASSERT_TRUE(built) << built.error().message;
  const SignatureMatcher& m = **built;
  auto hits = ScanText(m, std::string("..Alpha 1.1.1d  10 Sep 2019..xv20914..Alpha 1.1.1d"));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].version, "1.1.1d");
  EXPECT_EQ(hits[0].offset, 2u);  // one hit per version: the first occurrence
  EXPECT_EQ(hits[1].version, "2.9.14");
  const std::string one(
      "\0"
      "3.40\0",
      6);
  EXPECT_TRUE(ScanText(m, one, "x/other.so").empty());
  ASSERT_EQ(ScanText(m, one, "x/libs.so").size(), 1u);
  const std::string two = one + std::string(
                                    "\0"
                                    "3.41\0",
                                    6);
  EXPECT_TRUE(ScanText(m, two, "x/libs.so").empty());  // disagreeing bare versions: dropped
  auto path_hits = m.ScanPath("0-squashfs/lib/modules/4.14.180/kernel/x.ko");
  ASSERT_EQ(path_hits.size(), 1u);
  EXPECT_EQ(path_hits[0].version, "4.14.180");
}

TEST(Signatures, HostileFilesAreBounded) {
  auto matcher = ShippedMatcher();
  ASSERT_TRUE(matcher);
  std::string repeated;
  for (int i = 0; i < (1 << 20); ++i) repeated += std::string("BusyBox v1.2.3\0", 15);
  bool capped = false;
  const auto start = std::chrono::steady_clock::now();
  auto hits = matcher->Scan(View(repeated), "bin/busybox", &capped);
  ASSERT_TRUE(hits);
  EXPECT_TRUE(capped);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].version, "1.2.3");
  std::string digits;
  for (int i = 0; i < (1 << 20); ++i) digits += "1.2.3.4.5.6.7.8.9.\0Dnsmasq version %s\0";
  auto more = matcher->Scan(View(digits), "x", &capped);
  ASSERT_TRUE(more);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 60.0);
  std::printf("hostile files (%zu MiB): %.2f s\n", (repeated.size() + digits.size()) >> 20,
              seconds);
}

TEST(Signatures, CpeAndPurlEscaping) {
  EXPECT_EQ(MakeCpe("openssl", "openssl", "1.1.1d"),
            "cpe:2.3:a:openssl:openssl:1.1.1d:*:*:*:*:*:*:*");
  EXPECT_EQ(MakeCpe("w1.fi", "hostapd", "2.10+x"),
            "cpe:2.3:a:w1.fi:hostapd:2.10\\+x:*:*:*:*:*:*:*");
  EXPECT_EQ(PurlEncode("1:1.2.13.dfsg-1"), "1:1.2.13.dfsg-1");
  EXPECT_EQ(PurlEncode("3.0.19-1~deb12u2+b1"), "3.0.19-1~deb12u2%2Bb1");
  EXPECT_EQ(EscapeMatched(std::string("a\0b\\", 4)), "a\\x00b\\x5c");
}

// The oracle folder: $CLEARBOX_SOURCE_DIR/../shared/oracle.
std::filesystem::path OracleDir() {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / ".." / "shared" / "oracle";
}

// Bytes a binary holding `strings` would have: each '\n'-separated piece is its own C string,
// the groups are separated by unrelated bytes (as strings(1) output was made from).
std::string BinaryWithStrings(const std::vector<std::string>& strings) {
  std::string out(
      "\x7f"
      "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
      16);
  for (const std::string& s : strings) {
    out += std::string("\x13\x37\xc3\x90\0\0\0\0", 8);
    std::size_t pos = 0;
    while (pos <= s.size()) {
      std::size_t end = s.find('\n', pos);
      if (end == std::string::npos) end = s.size();
      out += s.substr(pos, end - pos);
      out.push_back('\0');
      pos = end + 1;
    }
  }
  return out + std::string("\x90\x90\0\0", 4);
}

TEST(Signatures, CveBinToolVersionStringCases) {
  const auto path = OracleDir() / "cve-bin-tool" / "mapping_test_data.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "oracle file missing: " << path;
  const nlohmann::json doc = nlohmann::json::parse(in);
  auto matcher = ShippedMatcher();
  ASSERT_TRUE(matcher);
  std::set<std::string> products;
  for (const auto& rule : matcher->rules()) {
    if (!rule.patterns.empty()) products.insert(rule.product);
  }
  std::size_t supported = 0, right = 0, wrong_version = 0, other_products = 0;
  std::set<std::string> supported_products, missed;
  std::map<std::string, std::pair<int, int>> per_product;  // product -> (right, cases)
  for (const auto& entry : doc.at("entries")) {
    const std::string product = entry.at("product").get<std::string>();
    const std::string version = entry.at("version").get<std::string>();
    std::vector<std::string> strings;
    for (const auto& s : entry.at("version_strings")) strings.push_back(s.get<std::string>());
    const auto hits = ScanText(*matcher, BinaryWithStrings(strings));
    for (const auto& hit : hits) {
      if (matcher->rules()[hit.rule].product != product) {
        ++other_products;
        std::printf("  %s %s case: hit of %s %s\n", product.c_str(), version.c_str(),
                    matcher->rules()[hit.rule].component.c_str(), hit.version.c_str());
      }
    }
    if (!products.contains(product)) continue;
    ++supported;
    supported_products.insert(product);
    bool ok = false, wrong = false;
    for (const auto& hit : hits) {
      if (matcher->rules()[hit.rule].product != product) continue;
      (hit.version == version ? ok : wrong) = true;
    }
    ++per_product[product].second;
    if (ok) {
      ++right;
      ++per_product[product].first;
    } else {
      missed.insert(product + " " + version);
    }
    if (wrong) ++wrong_version;
  }
  const double share = supported ? static_cast<double>(right) / supported : 0.0;
  std::printf(
      "cve-bin-tool version strings: %zu of %zu cases of the %zu products we support "
      "identified with the right version (%.1f%%); %zu cases also gave a wrong version; "
      "%zu hits named another product\n",
      right, supported, supported_products.size(), 100.0 * share, wrong_version, other_products);
  std::size_t all_right = 0, some_right = 0;
  for (const auto& [name, counts] : per_product) {
    all_right += counts.first == counts.second ? 1 : 0;
    some_right += counts.first > 0 ? 1 : 0;
  }
  std::printf("  per product: %zu of %zu products right in every case, %zu in at least one\n",
              all_right, per_product.size(), some_right);
  for (const auto& m : missed) std::printf("  missed: %s\n", m.c_str());
  EXPECT_GE(supported, 100u);
  EXPECT_GE(share, 0.85);
}

}  // namespace
}  // namespace clearbox::identify
