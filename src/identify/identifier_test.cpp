// ComponentIdentifier end to end: a rootfs made from real Debian packages installed on this
// machine (their files, status stanzas and .list files), found through the dpkg database and
// through signatures alone; OpenWrt opkg and Alpine apk databases at any depth; merging of
// evidence; determinism across runs and thread counts.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/data_dir.hpp"
#include "identify/identifier.hpp"
#include "identify/pkgdb.hpp"
#include "support/test_support.hpp"

namespace clearbox::identify {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;
using clearbox::testing::WriteFileBytes;

ComponentIdentifier MakeIdentifier() {
  auto identifier = ComponentIdentifier::Create(DataDir() / "signatures");
  EXPECT_TRUE(identifier) << identifier.error().message;
  if (!identifier) std::abort();
  return std::move(*identifier);
}

std::vector<Component> Identify(const fs::path& root, unsigned threads) {
  ComponentIdentifier identifier = MakeIdentifier();
  return IdentifyTree(identifier, root, threads);
}

// Canonical text of a component list, for determinism checks.
std::string Dump(const std::vector<Component>& components) {
  std::ostringstream out;
  for (const auto& c : components) {
    out << c.name << '|' << c.version << '|' << c.cpe << '|' << c.purl << '|' << c.confidence << '|'
        << c.package_version << '|' << c.source << '|' << c.arch << '\n';
    for (const auto& e : c.evidence)
      out << "  " << e.path << '|' << e.method << '|' << e.detail << '\n';
    for (const auto& f : c.files) out << "  f " << f << '\n';
  }
  return out.str();
}

bool Agree(const std::string& found, const std::string& expected) {
  if (found == expected) return true;
  auto extends = [](const std::string& a, const std::string& b) {
    return a.size() > b.size() && a.starts_with(b) &&
           std::string(".-+~").find(a[b.size()]) != std::string::npos;
  };
  return extends(found, expected) || extends(expected, found);
}

// The firmware-like packages of scripts/deps/identify.txt that are installed here.
std::vector<std::string> InstalledPackages() {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  std::ifstream in(fs::path(src ? src : ".") / "scripts" / "deps" / "identify.txt");
  EXPECT_TRUE(in) << "scripts/deps/identify.txt not readable";
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string pkg;
    if (!(words >> pkg)) continue;
    std::string status;
    if (RunShell("dpkg-query -W -f='${Status}' " + pkg + " 2>/dev/null", &status) == 0 &&
        status.find("ok installed") != std::string::npos) {
      out.push_back(pkg);
    }
  }
  return out;
}

class DebianRootfs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    packages_ = InstalledPackages();
    // The tree as an unpacker leaves it: the rootfs one level down.
    const fs::path root = dir_->path() / "0x00000000.squashfs";
    std::string script =
        "set -e; R='" + root.string() + "'; mkdir -p \"$R/var/lib/dpkg/info\"; for p in";
    for (const auto& p : packages_) script += " " + p;
    script +=
        "; do a=$(dpkg-query -W -f='${Architecture}' $p);"
        " dpkg -L $p | while IFS= read -r f; do"
        "  if [ ! -d \"$f\" ] && { [ -L \"$f\" ] || [ -f \"$f\" ]; }; then"
        "   mkdir -p \"$R$(dirname \"$f\")\"; cp -P \"$f\" \"$R$f\"; fi; done;"
        " dpkg-query -s $p >> \"$R/var/lib/dpkg/status\"; echo >> \"$R/var/lib/dpkg/status\";"
        " for l in /var/lib/dpkg/info/$p.list /var/lib/dpkg/info/$p:$a.list; do"
        "  [ -f \"$l\" ] && cp \"$l\" \"$R/var/lib/dpkg/info/\"; done; true; done";
    std::string output;
    ASSERT_EQ(RunShell(script + " 2>&1", &output), 0) << output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path Root() { return dir_->path(); }
  static TempDir* dir_;
  static std::vector<std::string> packages_;
};
TempDir* DebianRootfs::dir_ = nullptr;
std::vector<std::string> DebianRootfs::packages_;

TEST_F(DebianRootfs, EveryPackageFoundFromDpkgAndMostFromSignaturesAlone) {
  ASSERT_GE(packages_.size(), 30u) << "run scripts/install-deps.sh";
  const std::string status_text =
      clearbox::testing::ReadFileBytes(Root() / "0x00000000.squashfs/var/lib/dpkg/status");
  auto records = ParseDpkgStatus(status_text);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), packages_.size());

  // 1. With the dpkg database.
  const std::vector<Component> with_db = Identify(Root(), 2);
  std::map<std::string, const Component*> by_purl_name;
  for (const auto& c : with_db) {
    if (c.purl.starts_with("pkg:deb/")) by_purl_name[c.name] = &c;
  }
  const std::vector<SignatureRule> mapping_rules = MakeIdentifier().matcher().rules();
  for (const auto& r : *records) {
    auto it = by_purl_name.find(r.name);
    ASSERT_NE(it, by_purl_name.end()) << r.name << " not found";
    const Component& c = *it->second;
    EXPECT_EQ(c.version, StripRepackSuffix(DebianUpstreamVersion(r.version))) << r.name;
    EXPECT_EQ(c.package_version, r.version);
    EXPECT_TRUE(c.purl.starts_with("pkg:deb/debian/" + r.name + "@")) << c.purl;
    EXPECT_NE(c.purl.find("?arch=" + r.arch), std::string::npos) << c.purl;
    EXPECT_FALSE(c.files.empty()) << r.name;
    EXPECT_GE(c.confidence, kConfidencePackageDb);
    bool from_dpkg = false;
    for (const auto& e : c.evidence) from_dpkg |= e.method == "dpkg" && e.path.ends_with("status");
    EXPECT_TRUE(from_dpkg) << r.name;
    // A CPE exactly when rule data maps the package (or its source) to a product.
    bool mapped = false;
    for (const auto& rule : mapping_rules) {
      for (const auto& p : rule.packages) {
        mapped |= p == r.name || (!r.source.empty() && p == r.source);
      }
    }
    if (mapped) {
      EXPECT_TRUE(c.cpe.starts_with("cpe:2.3:a:")) << r.name;
    } else if (!c.cpe.empty()) {
      bool confirmed = false;  // a signature of the package's own files named the product
      for (const auto& e : c.evidence) confirmed |= e.method != "dpkg";
      EXPECT_TRUE(confirmed) << r.name << " " << c.cpe;
    }
    for (const auto& f : c.files) {
      EXPECT_TRUE(fs::exists(fs::symlink_status(Root() / f))) << f;
    }
  }
  // Signature evidence merges into the owning package: no generic duplicate of a package.
  const auto& libssl = by_purl_name.at("libssl3");
  EXPECT_EQ(libssl->confidence, kConfidenceConfirmed);
  EXPECT_EQ(libssl->cpe.substr(0, 28), "cpe:2.3:a:openssl:openssl:3.");
  bool has_signature = false;
  for (const auto& e : libssl->evidence) has_signature |= e.method == "signature";
  EXPECT_TRUE(has_signature);
  std::size_t generic_with_db = 0;
  for (const auto& c : with_db) {
    if (c.purl.starts_with("pkg:generic/")) {
      ++generic_with_db;
      std::printf("  generic component with dpkg db present: %s %s (%s)\n", c.name.c_str(),
                  c.version.c_str(), c.evidence.front().path.c_str());
    }
  }

  // 2. Determinism across runs and thread counts.
  EXPECT_EQ(Dump(with_db), Dump(Identify(Root(), 1)));

  // 3. Signatures alone: delete the database.
  fs::remove_all(Root() / "0x00000000.squashfs/var/lib/dpkg");
  const std::vector<Component> sig_only = Identify(Root(), 2);
  EXPECT_EQ(Dump(sig_only), Dump(Identify(Root(), 1)));
  auto matcher_rules = MakeIdentifier().matcher().rules();
  std::size_t expected = 0, found = 0, own_files = 0;
  std::set<std::pair<std::string, std::string>> expected_pairs;
  std::vector<std::string> missed;
  for (const auto& r : *records) {
    const SignatureRule* rule = nullptr;
    for (const auto& candidate : matcher_rules) {
      for (const auto& p : candidate.packages) {
        if (p == r.name) rule = &candidate;
      }
    }
    if (!rule) {
      for (const auto& candidate : matcher_rules) {
        for (const auto& p : candidate.packages) {
          if (p == r.source) rule = &candidate;
        }
      }
    }
    if (!rule || rule->patterns.empty()) continue;
    ++expected;
    const std::string upstream = StripRepackSuffix(DebianUpstreamVersion(r.version));
    expected_pairs.insert({rule->component, upstream});
    bool ok = false;
    for (const auto& c : sig_only) ok |= c.name == rule->component && Agree(c.version, upstream);
    if (ok) {
      ++found;
    } else {
      missed.push_back(r.name + " (" + rule->component + " " + upstream + ")");
    }
    // Stricter: a hit of this rule and version in one of the package's own files.
    const auto& package_files = by_purl_name.at(r.name)->files;
    const std::set<std::string> owned(package_files.begin(), package_files.end());
    bool own = false;
    for (const auto& c : sig_only) {
      if (c.name != rule->component || !Agree(c.version, upstream)) continue;
      for (const auto& f : c.files) own |= owned.contains(f);
    }
    own_files += own ? 1 : 0;
  }
  std::size_t false_components = 0, reported = 0;
  for (const auto& c : sig_only) {
    ++reported;
    bool ok = false;
    for (const auto& [name, version] : expected_pairs)
      ok |= c.name == name && Agree(c.version, version);
    if (!ok) {
      ++false_components;
      std::printf("  false component: %s %s (%s: %s)\n", c.name.c_str(), c.version.c_str(),
                  c.evidence.front().path.c_str(), c.evidence.front().detail.c_str());
    }
  }
  for (const auto& m : missed) std::printf("  missed by signatures: %s\n", m.c_str());
  std::printf(
      "debian rootfs: %zu packages, all found with the dpkg db (%zu extra generic components); "
      "signatures alone: %zu of %zu packages with signatures found (recall %.1f%%), "
      "%zu components reported, %zu false (precision %.1f%%); %zu packages matched in their own "
      "files\n",
      records->size(), generic_with_db, found, expected,
      100.0 * found / std::max<std::size_t>(1, expected), reported, false_components,
      100.0 * (reported - false_components) / std::max<std::size_t>(1, reported), own_files);
  EXPECT_GE(expected, 25u);
  EXPECT_GE(static_cast<double>(found) / expected, 0.85);
  EXPECT_LE(false_components, 1u);
}

TEST(Identifier, OpkgAndApkDatabasesAtAnyDepthMergeWithSignatures) {
  TempDir dir;
  // An OpenWrt rootfs two levels down, with the real busybox binary of this machine.
  const fs::path owrt = dir.path() / "0x100.trx" / "0x200.squashfs";
  std::string busybox_version;
  ASSERT_EQ(RunShell("dpkg-query -W -f='${Version}' busybox", &busybox_version), 0);
  const std::string upstream = StripRepackSuffix(DebianUpstreamVersion(busybox_version));
  fs::create_directories(owrt / "bin");
  fs::copy_file("/bin/busybox", owrt / "bin" / "busybox");
  WriteFileBytes(owrt / "usr/lib/opkg/status",
                 "Package: busybox\nVersion: " + upstream +
                     "-1\nStatus: install user installed\nArchitecture: mips_24kc\n\n"
                     "Package: uhttpd\nVersion: 2023-06-25-34a8a74d-1\n"
                     "Status: install user installed\nArchitecture: mips_24kc\n\n");
  WriteFileBytes(owrt / "usr/lib/opkg/info/busybox.control",
                 "Package: busybox\nVersion: " + upstream + "-1\nSourceName: busybox\n");
  WriteFileBytes(owrt / "usr/lib/opkg/info/busybox.list", "/bin/busybox\n/bin/sh\n");
  fs::create_symlink("busybox", owrt / "bin" / "sh");
  // An Alpine rootfs with usr-merged lib: the list names /lib/x, the file is usr/lib/x.
  const fs::path alp = dir.path() / "alpine.tar.extract" / "0x0.tar";
  fs::create_directories(alp / "usr/lib");
  fs::create_symlink("usr/lib", alp / "lib");
  WriteFileBytes(alp / "usr/lib/libz.so.1.2.13",
                 std::string("\0 deflate 1.2.13 Copyright 1995-2022 Jean-loup Gailly\0", 55));
  WriteFileBytes(
      alp / "lib/apk/db/installed",
      "P:zlib\nV:1.2.13-r1\nA:x86_64\no:zlib\nF:lib\nR:libz.so.1.2.13\nR:missing.so\n\n");

  const auto databases = ComponentIdentifier::FindPackageDatabases(dir.path());
  ASSERT_EQ(databases.size(), 2u);
  EXPECT_EQ(databases[0].path, "0x100.trx/0x200.squashfs/usr/lib/opkg/status");
  EXPECT_EQ(databases[0].rootfs, "0x100.trx/0x200.squashfs");
  EXPECT_EQ(databases[1].kind, "apk");

  const auto components = Identify(dir.path(), 2);
  const Component* busybox = nullptr;
  const Component* zlib = nullptr;
  const Component* uhttpd = nullptr;
  for (const auto& c : components) {
    if (c.name == "busybox") busybox = &c;
    if (c.name == "zlib") zlib = &c;
    if (c.name == "uhttpd") uhttpd = &c;
    EXPECT_FALSE(c.purl.starts_with("pkg:generic/")) << "unmerged: " << c.name << " " << c.version;
  }
  ASSERT_TRUE(busybox && zlib && uhttpd);
  EXPECT_EQ(busybox->version, upstream);
  EXPECT_EQ(busybox->purl, "pkg:opkg/openwrt/busybox@" + upstream + "-1?arch=mips_24kc");
  EXPECT_EQ(busybox->cpe, "cpe:2.3:a:busybox:busybox:" + upstream + ":*:*:*:*:*:*:*");
  EXPECT_EQ(busybox->confidence, kConfidenceConfirmed);
  EXPECT_EQ(busybox->files, (std::vector<std::string>{"0x100.trx/0x200.squashfs/bin/busybox",
                                                      "0x100.trx/0x200.squashfs/bin/sh"}));
  ASSERT_EQ(busybox->evidence.size(), 2u);  // sorted by path
  EXPECT_EQ(busybox->evidence[0].method, "signature");
  EXPECT_EQ(busybox->evidence[0].path, "0x100.trx/0x200.squashfs/bin/busybox");
  EXPECT_EQ(busybox->evidence[1].method, "opkg");
  EXPECT_EQ(busybox->evidence[1].path, "0x100.trx/0x200.squashfs/usr/lib/opkg/status");
  EXPECT_EQ(uhttpd->cpe.substr(0, 27), "cpe:2.3:a:openwrt:uhttpd:20");

  EXPECT_EQ(zlib->version, "1.2.13");
  EXPECT_EQ(zlib->purl, "pkg:apk/alpine/zlib@1.2.13-r1?arch=x86_64");
  EXPECT_EQ(zlib->files,
            (std::vector<std::string>{"alpine.tar.extract/0x0.tar/usr/lib/libz.so.1.2.13"}));
  EXPECT_EQ(zlib->confidence, kConfidenceConfirmed);
}

TEST(Identifier, SignatureComponentsKernelAndDisagreeingVersions) {
  TempDir dir;
  // The running kernel's banner (real text) and a module's vermagic in a modules tree.
  std::string banner;
  ASSERT_EQ(RunShell("cat /proc/version", &banner), 0);
  std::string release;
  ASSERT_EQ(RunShell("uname -r | tr -d '\\n'", &release), 0);
  WriteFileBytes(dir / "0x40.lzma/kernel", std::string("\0\0", 2) + banner + std::string("\0", 1));
  WriteFileBytes(dir / ("root/lib/modules/" + release + "/kernel/x.ko"),
                 std::string("\0license=GPL\0vermagic=", 22) + release +
                     std::string(" SMP mod_unload \0", 17));
  // A package db whose busybox version disagrees with the binary: two components.
  fs::create_directories(dir / "root/bin");
  fs::copy_file("/bin/busybox", dir / "root/bin/busybox");
  WriteFileBytes(dir / "root/var/lib/dpkg/status",
                 "Package: busybox\nStatus: install ok installed\nVersion: 1:0.99.0-1\n"
                 "Architecture: mips\n\n");
  WriteFileBytes(dir / "root/var/lib/dpkg/info/busybox.list", "/bin/busybox\n");
  const auto components = Identify(dir.path(), 2);
  std::map<std::string, std::vector<const Component*>> by_name;
  for (const auto& c : components) by_name[c.name].push_back(&c);
  ASSERT_EQ(by_name["linux"].size(), 1u) << Dump(components);
  const Component& linux = *by_name["linux"][0];
  EXPECT_TRUE(release.starts_with(linux.version)) << linux.version << " vs " << release;
  std::set<std::string> methods;
  for (const auto& e : linux.evidence) methods.insert(e.method);
  EXPECT_TRUE(methods.contains("kernel-banner"));
  EXPECT_TRUE(methods.contains("vermagic"));
  EXPECT_TRUE(methods.contains("filename"));
  EXPECT_EQ(linux.purl, "pkg:generic/linux@" + linux.version);
  ASSERT_EQ(by_name["busybox"].size(), 2u);
  EXPECT_EQ(by_name["busybox"][0]->version, "0.99.0");
  EXPECT_TRUE(by_name["busybox"][1]->purl.starts_with("pkg:generic/busybox@1."));
  EXPECT_EQ(by_name["busybox"][1]->files, (std::vector<std::string>{"root/bin/busybox"}));
}

// Real Debian binaries whose strings name several versions of their product (help texts,
// compatibility lists, syslog messages): exactly one component of the product, at the
// installed upstream version.
TEST(Identifier, RealMultiVersionBinariesGiveOneVersionPerProduct) {
  struct Case {
    const char* package;    // dpkg package that owns the file
    const char* file;       // installed path
    const char* component;  // rule component
  };
  const Case cases[] = {
      {"curl", "/usr/bin/curl", "curl"},
      {"libcurl4", "/usr/lib/x86_64-linux-gnu/libcurl.so.4", "libcurl"},
      {"libssl3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "openssl"},
      {"busybox", "/usr/bin/busybox", "busybox"},
      {"bash", "/usr/bin/bash", "bash"},
      {"openssh-client", "/usr/bin/ssh", "openssh"},
      {"libsqlite3-0", "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0", "sqlite"},
  };
  std::size_t checked = 0;
  for (const Case& c : cases) {
    std::string version;
    if (RunShell(std::string("dpkg-query -W -f='${Version}' ") + c.package + " 2>/dev/null",
                 &version) != 0 ||
        version.empty() || !fs::exists(c.file)) {
      std::printf("  %s not installed: skipped\n", c.package);
      continue;
    }
    TempDir dir;
    const fs::path real = fs::canonical(c.file);
    const fs::path target = dir.path() / "rootfs" / fs::path(c.file).relative_path();
    fs::create_directories(target.parent_path());
    fs::copy_file(real, target);
    const auto components = Identify(dir.path(), 1);
    std::vector<std::string> found;
    for (const auto& component : components) {
      if (component.name == c.component) found.push_back(component.version);
    }
    const std::string upstream = StripRepackSuffix(DebianUpstreamVersion(version));
    EXPECT_EQ(found, std::vector<std::string>{upstream}) << c.file << "\n" << Dump(components);
    ++checked;
  }
  EXPECT_GE(checked, 5u) << "run scripts/install-deps.sh";
}

// A Debian kernel: the banner gives the upstream version (not the ABI name 6.1.0), and the
// modules of the same release (vermagic, lib/modules/<release>/) follow it.
TEST(Identifier, DistributionKernelReportsItsUpstreamVersion) {
  TempDir dir;
  const std::string banner =
      "Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
      "12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC "
      "Debian 6.1.192-3 (2025-11-22)";
  WriteFileBytes(dir / "0x40.lzma/kernel",
                 std::string("\0\0", 2) + banner + "\n" + std::string("\0", 1));
  WriteFileBytes(dir / "root/lib/modules/6.1.0-57-cloud-amd64/kernel/x.ko",
                 std::string("\0license=GPL\0", 13) +
                     "vermagic=6.1.0-57-cloud-amd64 SMP preempt mod_unload modversions " +
                     std::string(1, '\0'));
  const auto components = Identify(dir.path(), 2);
  std::vector<const Component*> linux;
  for (const auto& c : components) {
    if (c.name == "linux") linux.push_back(&c);
  }
  ASSERT_EQ(linux.size(), 1u) << Dump(components);
  EXPECT_EQ(linux[0]->version, "6.1.192");
  EXPECT_EQ(linux[0]->cpe, "cpe:2.3:a:linux:linux_kernel:6.1.192:*:*:*:*:*:*:*");
  std::set<std::string> methods;
  bool distro_noted = false;
  for (const auto& e : linux[0]->evidence) {
    methods.insert(e.method);
    distro_noted |= e.detail.ends_with("distro_version=6.1.192-3");
  }
  EXPECT_EQ(methods, (std::set<std::string>{"filename", "kernel-banner", "vermagic"}));
  EXPECT_TRUE(distro_noted) << Dump(components);
}

// A real Debian kernel image of this machine, if one is installed.
TEST(Identifier, RealDebianKernelImage) {
  std::string images;
  RunShell("ls /boot/vmlinuz-* 2>/dev/null | head -1 | tr -d '\\n'", &images);
  if (images.empty()) GTEST_SKIP() << "no /boot/vmlinuz-* on this machine";
  std::string expected;
  const std::string release = fs::path(images).filename().string().substr(8);
  RunShell("dpkg-query -W -f='${Version}' linux-image-" + release + " 2>/dev/null", &expected);
  TempDir dir;
  fs::create_directories(dir / "boot");
  fs::copy_file(images, dir / "boot" / "vmlinuz");
  const auto components = Identify(dir.path(), 1);
  std::vector<std::string> versions;
  for (const auto& c : components) {
    if (c.name == "linux") versions.push_back(c.version);
  }
  ASSERT_EQ(versions.size(), 1u) << Dump(components);
  if (!expected.empty()) {
    EXPECT_EQ(versions[0], StripRepackSuffix(DebianUpstreamVersion(expected))) << expected;
  }
}

// Package databases: PURLs carry the full distro version with arch and distro qualifiers
// (purl-spec deb/apk), the component version is upstream, and a CPE exists only where rule
// data maps the package or its source package to a product.
TEST(Identifier, PackageDatabasePurlsQualifiersAndMappedCpesOnly) {
  TempDir dir;
  // Debian 12: busybox-udeb comes from source busybox; "frobnicate" is unknown to the rules.
  const fs::path deb = dir.path() / "deb";
  WriteFileBytes(deb / "usr/lib/os-release",
                 "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                 "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n");
  fs::create_directories(deb / "etc");
  fs::create_symlink("../usr/lib/os-release", deb / "etc/os-release");
  WriteFileBytes(deb / "var/lib/dpkg/status",
                 "Package: busybox-udeb\nStatus: install ok installed\nArchitecture: amd64\n"
                 "Source: busybox (1:1.35.0-4)\nVersion: 1:1.35.0-4\n\n"
                 "Package: libsqlite3-0\nStatus: install ok installed\nArchitecture: amd64\n"
                 "Source: sqlite3\nVersion: 3.40.1-2+deb12u2\n\n"
                 "Package: frobnicate\nStatus: install ok installed\nArchitecture: all\n"
                 "Version: 2.0-1\n\n"
                 "Package: libfoo1\nStatus: install ok installed\nArchitecture: amd64\n"
                 "Source: foo (1.2-3)\nVersion: 1.2-3+b1\n\n");
  // Ubuntu: namespace and distro from its os-release.
  const fs::path ubu = dir.path() / "ubuntu";
  WriteFileBytes(ubu / "etc/os-release",
                 "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n");
  WriteFileBytes(ubu / "var/lib/dpkg/status",
                 "Package: curl\nStatus: install ok installed\nArchitecture: arm64\n"
                 "Version: 7.81.0-1ubuntu1.15\n\n");
  // Alpine 3.19 and OpenWrt 23.05.
  const fs::path alp = dir.path() / "alpine";
  WriteFileBytes(alp / "etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n");
  WriteFileBytes(alp / "lib/apk/db/installed",
                 "P:busybox-binsh\nV:1.36.1-r15\nA:aarch64\no:busybox\n\n"
                 "P:alpine-baselayout\nV:3.4.3-r2\nA:aarch64\no:alpine-baselayout\n\n");
  const fs::path owrt = dir.path() / "openwrt";
  WriteFileBytes(owrt / "usr/lib/os-release",
                 "NAME=\"OpenWrt\"\nVERSION=\"23.05.2\"\nID=\"openwrt\"\nVERSION_ID=\"23.05.2\"\n");
  fs::create_directories(owrt / "etc");
  fs::create_symlink("../usr/lib/os-release", owrt / "etc/os-release");
  WriteFileBytes(owrt / "usr/lib/opkg/status",
                 "Package: libopenssl3\nVersion: 3.0.12-1\nStatus: install user installed\n"
                 "Architecture: aarch64_cortex-a53\n\n"
                 "Package: luci-app-frob\nVersion: 1.0-1\nStatus: install user installed\n"
                 "Architecture: all\n\n");
  WriteFileBytes(owrt / "usr/lib/opkg/info/libopenssl3.control",
                 "Package: libopenssl3\nVersion: 3.0.12-1\nSourceName: openssl\n");

  std::map<std::string, const Component*> by_name;
  const auto components = Identify(dir.path(), 2);
  for (const auto& c : components) by_name[c.name] = &c;
  auto get = [&](const std::string& name) -> const Component& {
    EXPECT_TRUE(by_name.contains(name)) << name << "\n" << Dump(components);
    static const Component kNone;
    return by_name.contains(name) ? *by_name.at(name) : kNone;
  };
  const Component& udeb = get("busybox-udeb");
  EXPECT_EQ(udeb.version, "1.35.0");
  // The source package (as Syft writes it): what distributions' advisories name.
  EXPECT_EQ(udeb.purl,
            "pkg:deb/debian/busybox-udeb@1:1.35.0-4?arch=amd64&distro=debian-12&upstream=busybox");
  EXPECT_EQ(udeb.cpe, "cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*");
  const Component& sqlite = get("libsqlite3-0");
  EXPECT_EQ(sqlite.purl,
            "pkg:deb/debian/libsqlite3-0@3.40.1-2%2Bdeb12u2?arch=amd64&distro=debian-12"
            "&upstream=sqlite3");
  // A binNMU: the source version differs from the binary's and is kept with the name.
  EXPECT_EQ(get("libfoo1").purl,
            "pkg:deb/debian/libfoo1@1.2-3%2Bb1?arch=amd64&distro=debian-12&upstream=foo%401.2-3");
  EXPECT_EQ(sqlite.cpe, "cpe:2.3:a:sqlite:sqlite:3.40.1:*:*:*:*:*:*:*");
  const Component& frob = get("frobnicate");
  EXPECT_EQ(frob.version, "2.0");
  EXPECT_TRUE(frob.cpe.empty()) << frob.cpe;
  EXPECT_EQ(frob.purl, "pkg:deb/debian/frobnicate@2.0-1?arch=all&distro=debian-12");
  const Component& curl = get("curl");
  EXPECT_EQ(curl.purl, "pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.15?arch=arm64&distro=ubuntu-22.04");
  EXPECT_EQ(curl.cpe, "cpe:2.3:a:haxx:curl:7.81.0:*:*:*:*:*:*:*");
  const Component& binsh = get("busybox-binsh");
  EXPECT_EQ(binsh.version, "1.36.1");
  EXPECT_EQ(binsh.purl,
            "pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=aarch64&distro=alpine-3.19.1"
            "&upstream=busybox");
  EXPECT_EQ(binsh.cpe, "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*");
  EXPECT_TRUE(get("alpine-baselayout").cpe.empty());
  const Component& ssl = get("libopenssl3");
  EXPECT_EQ(ssl.version, "3.0.12");
  EXPECT_EQ(ssl.purl,
            "pkg:opkg/openwrt/libopenssl3@3.0.12-1?arch=aarch64_cortex-a53&distro=openwrt-23.05.2"
            "&upstream=openssl");
  EXPECT_EQ(ssl.cpe, "cpe:2.3:a:openssl:openssl:3.0.12:*:*:*:*:*:*:*");
  EXPECT_TRUE(get("luci-app-frob").cpe.empty());
  for (const auto& c : components) EXPECT_FALSE(c.purl.starts_with("pkg:generic/")) << c.purl;
}

TEST(Identifier, HeaderVersionEchoInDynamicallyLinkedProgramIsNotAComponent) {
  TempDir dir;
  WriteFileBytes(dir / "src/main.c",
                 "#include <openssl/crypto.h>\n"
                 "const char banner[] = \"OpenSSL 9.9.9  1 Jan 2030\";\n"
                 "int main(void) { return (int)OpenSSL_version_num() + banner[0]; }\n");
  std::string out;
  ASSERT_EQ(RunShell("cd " + dir.path().string() +
                         "/src && mkdir -p ../tree && gcc -o ../tree/dynamic main.c -lcrypto && "
                         "gcc -c -o ../tree/static.o main.c 2>&1",
                     &out),
            0)
      << out;
  const auto components = Identify(dir / "tree", 1);
  ASSERT_EQ(components.size(), 1u) << Dump(components);
  EXPECT_EQ(components[0].name, "openssl");
  EXPECT_EQ(components[0].version, "9.9.9");
  EXPECT_EQ(components[0].files, (std::vector<std::string>{"static.o"}));
}

TEST(Identifier, HostilePackageListsStayInsideTheRootfs) {
  TempDir dir;
  const fs::path root = dir.path() / "fw";
  WriteFileBytes(dir / "outside/secret.so", "x");
  WriteFileBytes(root / "usr/lib/real.so", "y");
  fs::create_symlink("../../outside", root / "escape");  // relative, points out of fw/
  fs::create_symlink("/usr/lib", root / "lib");          // absolute: re-rooted in fw/
  fs::create_symlink("loop2", root / "loop1");
  // A second rootfs whose dpkg info directory points out of the tree.
  WriteFileBytes(dir / "outside/info/x.list", "/usr/lib/real.so\n");
  WriteFileBytes(dir / "tree2/var/lib/dpkg/status",
                 "Package: x\nStatus: install ok installed\nVersion: 2\nArchitecture: ../../a\n");
  fs::create_symlink("../../../outside/info", dir / "tree2/var/lib/dpkg/info");
  fs::create_symlink("loop1", root / "loop2");
  WriteFileBytes(root / "var/lib/dpkg/status",
                 "Package: evil\nStatus: install ok installed\nVersion: 1.0-1\n\n");
  WriteFileBytes(root / "var/lib/dpkg/info/evil.list",
                 "/escape/secret.so\n/../../outside/secret.so\n/loop1/x\n/lib/real.so\n"
                 "/usr/lib/real.so\n/missing\n");
  fs::create_directories(dir / "tree2/usr/lib");
  WriteFileBytes(dir / "tree2/usr/lib/real.so", "z");
  const auto escaped = Identify(dir / "tree2", 1);
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_EQ(escaped[0].name, "x");
  EXPECT_TRUE(escaped[0].arch.empty());
  EXPECT_TRUE(escaped[0].files.empty());  // its list lies outside the tree: not read
  fs::remove_all(dir / "tree2");
  const auto components = Identify(dir.path(), 1);
  ASSERT_EQ(components.size(), 1u);
  EXPECT_EQ(components[0].name, "evil");
  EXPECT_TRUE(components[0].cpe.empty());  // no rule names "evil": no CPE, none guessed
  EXPECT_EQ(components[0].files, (std::vector<std::string>{"fw/usr/lib/real.so"}));
}

}  // namespace
}  // namespace clearbox::identify
