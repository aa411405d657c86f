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

// Bytes of a binary holding each of `strings` as its own C string.
std::string BinaryForStrings(const std::vector<std::string>& strings) {
  std::string out(
      "\x7f"
      "ELF\x02\x01\x01\0",
      8);
  for (const std::string& s : strings)
    out += std::string("\x13\x37\0", 3) + s + std::string(1, '\0');
  return out;
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

// One version per (rule, file): strings that mention other versions (help texts, "added in",
// "or later") do not become versions; among identifying strings the most confident, most
// repeated, then highest version wins; `copies` patterns (library banners) keep every copy.
TEST(Signatures, OneVersionPerRuleAndFileUnlessDistinctCopies) {
  auto matcher = ShippedMatcher();
  ASSERT_TRUE(matcher);
  auto versions_of = [&](const std::string& bytes, const std::string& component) {
    std::set<std::string> out;
    for (const auto& hit : ScanText(*matcher, bytes)) {
      if (matcher->rules()[hit.rule].component == component) out.insert(hit.version);
    }
    return out;
  };
  const std::string curl = BinaryForStrings({
      "curl 7.88.1 (x86_64-pc-linux-gnu) %s",
      "curl/7.88.1",
      "--http3: this option was added in curl 7.66.0",
      "Since curl 7.73.0 the option takes a list",
      "Requires curl 7.61.0 or later",
      "before curl 7.71.0, the default was different",
      "requires at least curl 7.64.1",
  });
  EXPECT_EQ(versions_of(curl, "curl"), (std::set<std::string>{"7.88.1"}));
  // The real manual text of Debian's curl 7.88.1 (the gzip'd help inside /usr/bin/curl, which
  // the unpacker decompresses): every version in it is a mention, so it identifies nothing.
  const std::string manual =
      "              Since curl 7.74.0 this option is enabled by default\n"
      "              Since curl 7.66.0, HTTP/0.9 is disabled by default\n"
      "              (HTTPS) In curl 7.86.0 and later, curl never\n"
      "              ing in curl 7.77.0 this instruction is\n"
      "              space trimmed. Added in curl 7.84.0.\n";
  EXPECT_TRUE(versions_of(manual, "curl").empty());
  // Two identifying strings: the repeated one wins, the other is not a component.
  const std::string two = BinaryForStrings({"curl/8.4.0", "curl 8.4.0 (arm-linux)", "curl-8.1.2"});
  EXPECT_EQ(versions_of(two, "curl"), (std::set<std::string>{"8.4.0"}));
  // Equal evidence: the highest version (help texts name older versions).
  const std::string tie = BinaryForStrings({"BusyBox v1.30.1", "BusyBox v1.36.1"});
  EXPECT_EQ(versions_of(tie, "busybox"), (std::set<std::string>{"1.36.1"}));
  // A file that only mentions a version identifies nothing.
  EXPECT_TRUE(versions_of(BinaryForStrings({"added in curl 7.66.0"}), "curl").empty());
  // Statically linked copies of a library keep their own banners.
  const std::string copies = BinaryForStrings(
      {"OpenSSL 1.0.2k  26 Jan 2017", "OpenSSL 1.1.1w  11 Sep 2023", "built on: reproducible"});
  EXPECT_EQ(versions_of(copies, "openssl"), (std::set<std::string>{"1.0.2k", "1.1.1w"}));
}

TEST(Signatures, KernelUpstreamVersionFromEveryBannerConvention) {
  struct Case {
    const char* banner;
    const char* upstream;
    const char* release;
    const char* distro;
  };
  const Case cases[] = {
      // Debian 12 (the issue's image) and Debian 10 (/proc/version of 4.19.0-18-amd64).
      {"Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
       "12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC "
       "Debian 6.1.192-3 (2025-11-22)",
       "6.1.192", "6.1.0-57-cloud-amd64", "6.1.192-3"},
      {"Linux version 4.19.0-18-amd64 (debian-kernel@lists.debian.org) (gcc version 8.3.0 (Debian "
       "8.3.0-6)) #1 SMP Debian 4.19.208-1 (2021-09-29)",
       "4.19.208", "4.19.0-18-amd64", "4.19.208-1"},
      // The bzImage header's form of the Debian banner (no "Linux version").
      {"6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 "
       "(2025-11-22)",
       "6.1.192", "6.1.0-57-amd64", "6.1.192-3"},
      // Ubuntu 22.04 boot banner with its version signature, and the signature alone.
      {"Linux version 5.15.0-91-generic (buildd@lcy02-amd64-045) (gcc (Ubuntu "
       "11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #101-Ubuntu SMP Tue "
       "Nov 14 13:30:08 UTC 2023 (Ubuntu 5.15.0-91.101-generic 5.15.131)",
       "5.15.131", "5.15.0-91-generic", "5.15.0-91.101"},
      {"Ubuntu 5.15.0-91.101-generic 5.15.131", "5.15.131", "5.15.0-91-generic", "5.15.0-91.101"},
      // Yocto, OpenWrt, PREEMPT_RT vendor kernels, RHEL: the release's leading version.
      {"Linux version 4.14.180-yocto-standard (oe-user@oe-host) (gcc version 9.3.0 (GCC)) #1 SMP "
       "PREEMPT Wed May 20 00:00:00 UTC 2020",
       "4.14.180", "4.14.180-yocto-standard", ""},
      {"Linux version 5.10.176 (builder@buildhost) (mips-openwrt-linux-musl-gcc (OpenWrt GCC "
       "11.2.0 r20134-5f15225c1e) 11.2.0, GNU ld (GNU Binutils) 2.37) #0 Sun Apr 2 20:14:21 2023",
       "5.10.176", "5.10.176", ""},
      {"Linux version 3.10.14-rt (root@vendor) (gcc version 4.6.3 (Buildroot 2012.11.1) ) #1 "
       "PREEMPT Mon Jan 5 10:00:00 CST 2015",
       "3.10.14", "3.10.14-rt", ""},
      {"Linux version 4.18.0-513.5.1.el8_9.x86_64 (mockbuild@x86-vm-07.build.eng.bos.redhat.com) "
       "(gcc version 8.5.0 20210514 (Red Hat 8.5.0-20) (GCC)) #1 SMP Fri Sep 29 05:21:10 EDT 2023",
       "4.18.0", "4.18.0-513.5.1.el8_9.x86_64", ""},
      // A module's vermagic value.
      {"5.10.176", "5.10.176", "5.10.176", ""},
  };
  for (const Case& c : cases) {
    const KernelRelease k = ParseKernelBanner(c.banner);
    EXPECT_EQ(k.upstream, c.upstream) << c.banner;
    EXPECT_EQ(k.release, c.release) << c.banner;
    EXPECT_EQ(k.distro_version, c.distro) << c.banner;
  }
  // Through the shipped rules: every banner, and a vermagic string, give the upstream version.
  auto matcher = ShippedMatcher();
  ASSERT_TRUE(matcher);
  for (const Case& c : cases) {
    if (std::string_view(c.banner).find(' ') == std::string_view::npos) continue;
    std::set<std::string> versions;
    for (const auto& hit : ScanText(*matcher, BinaryForStrings({c.banner}))) {
      if (matcher->rules()[hit.rule].component == "linux") versions.insert(hit.version);
    }
    EXPECT_EQ(versions, (std::set<std::string>{c.upstream})) << c.banner;
  }
  const std::string vermagic =
      BinaryForStrings({"license=GPL", "vermagic=5.10.176 SMP mod_unload MIPS32_R2 32BIT "});
  const auto hits = ScanText(*matcher, vermagic, "lib/modules/5.10.176/nf_nat.ko");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].version, "5.10.176");
  EXPECT_EQ(hits[0].release, "5.10.176");
}

// The oracle folder: $CLEARBOX_SOURCE_DIR/tests/oracle.
std::filesystem::path OracleDir() {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / "tests" / "oracle";
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
