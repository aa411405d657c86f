// Hardening checks against real toolchain output and Debian's checksec as the oracle.
// CLEARBOX_ELF_FULL=1 runs the whole flag product and every ELF of the package list (slow:
// minutes); by default a sample that still covers every flag value and every link-flag
// combination runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/mapped_file.hpp"
#include "elf/elf_test_support.hpp"
#include "elf/hardening.hpp"

namespace clearbox::elf {
namespace {

using clearbox::testing::HaveTool;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;
using testing::AsChecksec;
using testing::ChecksecFields;

constexpr const char* kHostLibc = "/lib/x86_64-linux-gnu/libc.so.6";
// Checked exactly against checksec on every file.
constexpr std::array<const char*, 7> kExactProperties = {"relro", "canary",  "nx",     "pie",
                                                         "rpath", "runpath", "symbols"};

bool FullRun() {
  const char* env = std::getenv("CLEARBOX_ELF_FULL");
  return env != nullptr && std::string(env) == "1";
}

Result<BinaryReport> AnalyzePath(const std::string& path, const FortifyCatalog& libc) {
  auto mapped = MappedFile::Open(path);
  if (!mapped) return Forward(mapped);
  return AnalyzeElf(mapped->bytes(), libc);
}

FortifyCatalog HostCatalog() {
  auto mapped = MappedFile::Open(kHostLibc);
  EXPECT_TRUE(mapped.has_value());
  if (!mapped) return FortifyCatalog::Default();
  auto catalog = FortifyCatalog::FromLibc(mapped->bytes());
  EXPECT_TRUE(catalog.has_value());
  return catalog ? *catalog : FortifyCatalog::Default();
}

// Agreement figures over a set of files, printed for the report.
struct Agreement {
  int files = 0;
  std::map<std::string, int> agree;
  std::map<std::string, int> fortify_classes;  // difference class -> files
  int fortify_differs = 0;

  void Print(const std::string& what) const {
    std::printf("[%s] files compared with checksec: %d\n", what.c_str(), files);
    for (const auto& [k, v] : agree)
      std::printf("[%s]   %-14s agree %d/%d\n", what.c_str(), k.c_str(), v, files);
    std::printf("[%s]   FORTIFY differs on %d files\n", what.c_str(), fortify_differs);
    for (const auto& [k, v] : fortify_classes) {
      std::printf("[%s]     class %-16s %d files\n", what.c_str(), k.c_str(), v);
    }
  }
};

// Compares our reports with checksec on `files`: the exact properties must agree on every
// file; FORTIFY must agree or differ only by the documented classes (ExplainFortify).
Agreement CompareWithChecksec(const std::vector<std::string>& files, const FortifyCatalog& libc,
                              const TempDir& scratch) {
  Agreement a;
  const auto checksec = testing::RunChecksec(files, scratch.path());
  for (const auto& file : files) {
    auto it = checksec.find(file);
    EXPECT_NE(it, checksec.end()) << "checksec printed nothing for " << file;
    if (it == checksec.end()) continue;
    auto report = AnalyzePath(file, libc);
    EXPECT_TRUE(report.has_value()) << file << ": " << report.error().message;
    if (!report) continue;
    ++a.files;
    const ChecksecFields ours = AsChecksec(*report);
    const ChecksecFields& theirs = it->second;
    for (const char* key : kExactProperties) {
      EXPECT_EQ(ours.at(key), theirs.at(key)) << key << " of " << file;
      if (ours.at(key) == theirs.at(key)) ++a.agree[key];
    }
    bool fortify_same = true;
    for (const char* key : {"fortify_source", "fortified", "fortify-able"}) {
      if (ours.at(key) == theirs.at(key)) {
        ++a.agree[key];
      } else {
        fortify_same = false;
      }
    }
    if (fortify_same) continue;
    ++a.fortify_differs;
    const auto why = testing::ExplainFortify(file, libc, theirs);
    EXPECT_FALSE(why.classes.empty()) << "unexplained FORTIFY difference on " << file;
    EXPECT_EQ(report->fortify.fortified, static_cast<std::uint32_t>(why.fortified)) << file;
    EXPECT_EQ(report->fortify.fortifiable, static_cast<std::uint32_t>(why.fortifiable)) << file;
    std::set<std::string> classes(why.classes.begin(), why.classes.end());
    std::string names;
    for (const auto& c : classes) {
      ++a.fortify_classes[c];
      names += " " + c;
    }
    std::printf("FORTIFY differs: %s checksec %s/%s ours %u/%u:%s\n", file.c_str(),
                theirs.at("fortified").c_str(), theirs.at("fortify-able").c_str(),
                report->fortify.fortified, report->fortify.fortifiable, names.c_str());
  }
  return a;
}

class HardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"checksec", "readelf", "gcc", "clang", "strip"}) {
      if (!HaveTool(tool)) GTEST_SKIP() << tool << " not installed";
    }
  }
};

TEST_F(HardeningTest, CatalogFromLibcMatchesReadelfAndDefault) {
  // The oracle: the sed expression checksec itself applies to readelf's output.
  std::string text;
  ASSERT_EQ(RunShell(std::string("readelf -W --dyn-syms ") + kHostLibc +
                         " | sed -ne 's/.*__\\(.*_chk\\)@@.*/\\1/p' | sed 's/_chk$//' | sort -u",
                     &text),
            0);
  std::vector<std::string> expected;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) expected.push_back(line);
  ASSERT_GT(expected.size(), 20u);
  const FortifyCatalog catalog = HostCatalog();
  EXPECT_EQ(catalog.Names(), expected);
  // The built-in list is the glibc 2.36 (Debian 12) one.
  EXPECT_EQ(FortifyCatalog::Default().Names(), expected);
  EXPECT_TRUE(catalog.Contains("memcpy"));
  EXPECT_FALSE(catalog.Contains("memcpy_chk"));

  // A libc without __*_chk functions (musl-like) makes every verdict "n/a".
  auto ls = AnalyzePath("/usr/bin/ls", FortifyCatalog(std::vector<std::string>{}));
  ASSERT_TRUE(ls.has_value());
  EXPECT_EQ(ls->fortify.fortifiable, 0u);
  EXPECT_EQ(ls->fortify.verdict, "n/a");
  // Not a libc at all.
  const std::string text_bytes = "not an elf";
  auto bad = FortifyCatalog::FromLibc(
      ByteView(reinterpret_cast<const std::uint8_t*>(text_bytes.data()), text_bytes.size()));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kNotThisFormat);
}

TEST_F(HardeningTest, FlagMatrixAgreesWithFlagsChecksecAndReadelf) {
  TempDir dir;
  const std::string script = testing::SourceDir() + "/scripts/elf/make-hardening-matrix.sh";
  std::string log;
  ASSERT_EQ(
      RunShell("'" + script + "' '" + dir.path().string() + "' " + (FullRun() ? "full" : "sample"),
               &log),
      0)
      << log;
  const auto rows = testing::ReadTsv((dir.path() / "matrix.tsv").string());
  ASSERT_GE(rows.size(), 64u);
  const FortifyCatalog libc = HostCatalog();
  std::vector<std::string> files;
  std::map<std::string, std::set<std::string>> values_seen;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 10u);
    const std::string& file = row[0];
    files.push_back(file);
    const std::array<std::string, 9> names = {"compiler", "canary",    "fortify", "pie",  "cet",
                                              "relro",    "execstack", "rpath",   "strip"};
    for (std::size_t i = 0; i < names.size(); ++i) values_seen[names[i]].insert(row[i + 1]);
    auto report = AnalyzePath(file, libc);
    ASSERT_TRUE(report.has_value()) << file << ": " << report.error().message;
    const std::string& canary = row[2];
    const std::string& fortify = row[3];
    const std::string& pie = row[4];
    const std::string& relro = row[6];
    const std::string& execstack = row[7];
    const std::string& rpath = row[8];
    const std::string& strip = row[9];
    SCOPED_TRACE(file);
    EXPECT_EQ(report->arch, "x86-64");
    EXPECT_EQ(report->bits, 64);
    EXPECT_EQ(report->endian, "little");
    const bool is_object = pie == "rel";
    const bool is_static = file.ends_with("/static") || file.ends_with("/static-pie");
    EXPECT_EQ(report->type, pie == "on"       ? "pie"
                            : pie == "off"    ? "exec"
                            : pie == "shared" ? "shared"
                                              : "relocatable");
    EXPECT_EQ(report->pie, pie == "on");
    EXPECT_EQ(report->canary, canary == "on");
    EXPECT_EQ(report->stripped, strip == "yes");
    if (!is_object) {
      EXPECT_EQ(report->relro, relro);
      EXPECT_EQ(report->nx, execstack == "noexecstack");
      EXPECT_EQ(report->rpath.empty(), rpath != "rpath");
      EXPECT_EQ(report->runpath.empty(), rpath != "runpath");
      if (rpath == "rpath") {
        EXPECT_EQ(report->rpath, (std::vector<std::string>{"/opt/cb/lib", "/opt/cb/lib2"}));
      }
      if (!is_static) {
        EXPECT_NE(std::find(report->needed.begin(), report->needed.end(), "libc.so.6"),
                  report->needed.end());
      }
      if (pie != "shared" && !is_static) {
        EXPECT_EQ(report->interpreter, "/lib64/ld-linux-x86-64.so.2");
      }
    }
    if (!is_object && !is_static) {
      if (fortify == "on") {
        EXPECT_GT(report->fortify.fortified, 0u);
        EXPECT_TRUE(report->fortify.verdict == "yes" || report->fortify.verdict == "partial");
      } else {
        EXPECT_EQ(report->fortify.fortified, 0u);
        EXPECT_EQ(report->fortify.verdict, "no");
      }
    }
    if (file.ends_with("libcbtest.so")) {
      EXPECT_EQ(report->soname, "libcbtest.so.1");
    }
    // CET: readelf -n is the oracle (a plain link drops the property; see the script).
    std::string notes;
    RunShell("readelf -n '" + file + "' 2>/dev/null | grep 'x86 feature'", &notes);
    EXPECT_EQ(report->ibt, notes.find("IBT") != std::string::npos);
    EXPECT_EQ(report->shstk, notes.find("SHSTK") != std::string::npos);
    if (row[1] == "gcc" && row[5] == "on" && !is_object) {
      EXPECT_TRUE(report->ibt && report->shstk);
    }
  }
  // Every value of every flag occurred.
  EXPECT_EQ(values_seen["compiler"], (std::set<std::string>{"gcc", "clang"}));
  EXPECT_EQ(values_seen["canary"], (std::set<std::string>{"on", "off"}));
  EXPECT_EQ(values_seen["fortify"], (std::set<std::string>{"on", "off"}));
  EXPECT_EQ(values_seen["pie"], (std::set<std::string>{"on", "off", "shared", "rel"}));
  EXPECT_EQ(values_seen["cet"], (std::set<std::string>{"on", "off"}));
  EXPECT_EQ(values_seen["relro"], (std::set<std::string>{"none", "partial", "full"}));
  EXPECT_EQ(values_seen["execstack"], (std::set<std::string>{"execstack", "noexecstack"}));
  EXPECT_EQ(values_seen["rpath"], (std::set<std::string>{"none", "rpath", "runpath"}));
  EXPECT_EQ(values_seen["strip"], (std::set<std::string>{"yes", "no"}));

  const Agreement a = CompareWithChecksec(files, libc, dir);
  a.Print("matrix");
  EXPECT_EQ(a.files, static_cast<int>(files.size()));
  EXPECT_EQ(a.fortify_differs, 0);
}

// The ELF files of installed Debian packages, as a rootfs: the libc is found among the
// packages' own paths, and every property is compared with checksec.
TEST_F(HardeningTest, DebianPackagesAgreeWithChecksec) {
  const std::vector<std::string> packages = {
      "libc6",        "libc-bin",     "coreutils",    "bash",           "openssl",
      "libssl3",      "zlib1g",       "sqlite3",      "libsqlite3-0",   "curl",
      "libcurl4",     "util-linux",   "findutils",    "grep",           "sed",
      "tar",          "gzip",         "xz-utils",     "dpkg",           "libstdc++6",
      "libgcc-s1",    "systemd",      "iproute2",     "procps",         "openssh-client",
      "busybox",      "dropbear-bin", "dnsmasq-base", "iptables",       "libzstd1",
      "liblzma5",     "libbz2-1.0",   "e2fsprogs",    "squashfs-tools", "perl-base",
      "libpcre2-8-0", "libselinux1",  "libcap2",      "libacl1",        "libgmp10",
      "libtinfo6",    "libreadline8", "libxml2",      "libexpat1",      "libffi8",
      "libuuid1",     "libblkid1",    "libmount1",    "libsystemd0",    "less",
      "file",         "libmagic1",    "binutils",     "libbinutils",    "libasan8",
  };
  std::vector<std::string> paths;  // relative, as in an unpacked tree
  std::vector<std::string> elf_files;
  std::set<std::string> seen;
  int installed = 0;
  for (const auto& pkg : packages) {
    std::string listing;
    if (RunShell("dpkg -L " + pkg + " 2>/dev/null", &listing) != 0) continue;
    ++installed;
    std::istringstream in(listing);
    for (std::string line; std::getline(in, line);) {
      if (line.size() < 2 || line[0] != '/' || !seen.insert(line).second) continue;
      paths.push_back(line.substr(1));
      std::error_code ec;
      if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(line, ec))) continue;
      std::FILE* f = std::fopen(line.c_str(), "rb");
      if (f == nullptr) continue;
      char magic[4] = {};
      const bool elf = std::fread(magic, 1, 4, f) == 4 && std::string_view(magic, 4) ==
                                                              "\x7f"
                                                              "ELF";
      std::fclose(f);
      if (elf) elf_files.push_back(line);
    }
  }
  ASSERT_GE(installed, 20) << "too few of the packages are installed";
  std::sort(elf_files.begin(), elf_files.end());
  std::printf("[debian] %d packages, %zu paths, %zu ELF files\n", installed, paths.size(),
              elf_files.size());

  // The image's own libc, found by name among the tree's paths.
  const auto libc_path = FindLibcPath(paths);
  ASSERT_TRUE(libc_path.has_value());
  EXPECT_TRUE(libc_path->ends_with("libc.so.6")) << *libc_path;
  auto libc_map = MappedFile::Open("/" + *libc_path);
  ASSERT_TRUE(libc_map.has_value());
  auto libc = FortifyCatalog::FromLibc(libc_map->bytes());
  ASSERT_TRUE(libc.has_value());

  // Sample: every 12th file plus the files that exercise the FORTIFY differences.
  std::vector<std::string> sample;
  for (std::size_t i = 0; i < elf_files.size(); ++i) {
    const auto& f = elf_files[i];
    const bool wanted = f.ends_with("/libc.so.6") || f.ends_with("/libcrypto.so.3") ||
                        f.ends_with("/libnsl.so.1") || f.ends_with("/iconv") ||
                        f.find("libasan") != std::string::npos || f.ends_with("/busybox");
    if (FullRun() || i % 12 == 0 || wanted) sample.push_back(f);
  }
  TempDir dir;
  const Agreement a = CompareWithChecksec(sample, *libc, dir);
  a.Print("debian");
  EXPECT_EQ(a.files, static_cast<int>(sample.size()));
  // libc.so.6 defines the functions (checksec counts them; we count imports only).
  EXPECT_GE(a.fortify_classes.count("defined"), 1u);
}

// A musl tree: the libc is found by its loader name and offers no __*_chk functions, so
// FORTIFY is "n/a" for every binary (musl fortifies in headers only).
TEST(FindLibcPathTest, MuslPackageGivesAnEmptyCatalogue) {
  std::string listing;
  if (RunShell("dpkg -L musl 2>/dev/null", &listing) != 0) GTEST_SKIP() << "musl not installed";
  std::vector<std::string> paths;
  std::istringstream in(listing);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 1 && line[0] == '/') paths.push_back(line.substr(1));
  }
  const auto libc_path = FindLibcPath(paths);
  ASSERT_TRUE(libc_path.has_value());
  EXPECT_NE(libc_path->find("musl"), std::string::npos) << *libc_path;
  // The loader name is a symlink to libc.so; a caller resolves links inside its tree.
  auto mapped = MappedFile::Open(std::filesystem::canonical("/" + *libc_path).string());
  ASSERT_TRUE(mapped.has_value());
  auto catalog = FortifyCatalog::FromLibc(mapped->bytes());
  ASSERT_TRUE(catalog.has_value()) << catalog.error().message;
  EXPECT_TRUE(catalog->Names().empty());
  auto ls = AnalyzePath("/usr/bin/ls", *catalog);
  ASSERT_TRUE(ls.has_value());
  EXPECT_EQ(ls->fortify.verdict, "n/a");
}

TEST(FindLibcPathTest, PrefersGlibcThenOlderGlibcThenUclibcThenMusl) {
  using V = std::vector<std::string>;
  EXPECT_EQ(FindLibcPath(V{"usr/bin/ls", "etc/passwd"}), std::nullopt);
  EXPECT_EQ(FindLibcPath(V{}), std::nullopt);
  EXPECT_EQ(FindLibcPath(V{"0x0.squashfs/lib/libc-2.31.so", "0x0.squashfs/lib/libc.so.6"}),
            "0x0.squashfs/lib/libc.so.6");
  EXPECT_EQ(FindLibcPath(V{"lib/libc-2.19.so", "lib/libm-2.19.so"}), "lib/libc-2.19.so");
  EXPECT_EQ(FindLibcPath(V{"lib/ld-uClibc.so.0", "lib/libc.so.0", "lib/libuClibc-1.0.so"}),
            "lib/libc.so.0");
  EXPECT_EQ(FindLibcPath(V{"lib/ld-musl-mipsel-sf.so.1", "usr/lib/libz.so.1"}),
            "lib/ld-musl-mipsel-sf.so.1");
  EXPECT_EQ(FindLibcPath(V{"lib/libc.musl-x86_64.so.1"}), "lib/libc.musl-x86_64.so.1");
  EXPECT_EQ(FindLibcPath(V{"lib/libc.so"}), "lib/libc.so");
  // A debug copy or a deeper path loses against the real one; ties break by path.
  EXPECT_EQ(FindLibcPath(V{"usr/lib/debug/lib/x86_64-linux-gnu/libc.so.6",
                           "usr/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"}),
            "lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(FindLibcPath(V{"b/libc.so.6", "a/libc.so.6"}), "a/libc.so.6");
  // glibc wins over musl in the same tree.
  EXPECT_EQ(FindLibcPath(V{"lib/ld-musl-x86_64.so.1", "opt/x/lib/libc.so.6"}),
            "opt/x/lib/libc.so.6");
}

TEST(ChecksecCliTest, PrintsOneJsonObjectPerFileAndExitCodes) {
  const std::string bin = clearbox::testing::ClearboxBinary();
  TempDir dir;
  const std::string text_file = (dir.path() / "notes.txt").string();
  clearbox::testing::WriteFileBytes(text_file, "plain text, not ELF\n");
  std::string out;
  EXPECT_EQ(RunShell("'" + bin + "' checksec --json --libc " + kHostLibc + " /usr/bin/ls", &out), 0)
      << out;
  auto j = nlohmann::json::parse(out);
  auto in_process = AnalyzePath("/usr/bin/ls", HostCatalog());
  ASSERT_TRUE(in_process.has_value());
  auto expected = ReportToJson(*in_process);
  expected["file"] = "/usr/bin/ls";
  EXPECT_EQ(j, expected);
  // A non-ELF file is reported and makes the exit code 3; the other file is still printed.
  EXPECT_EQ(RunShell("'" + bin + "' checksec '" + text_file + "' /usr/bin/ls", &out), 3);
  EXPECT_NE(out.find(text_file + ": error"), std::string::npos) << out;
  EXPECT_NE(out.find("/usr/bin/ls: x86-64 64-bit little-endian pie"), std::string::npos) << out;
  // Named symlinks are followed (the user's own files).
  const auto link = dir.path() / "ls-link";
  std::filesystem::create_symlink("/usr/bin/ls", link);
  EXPECT_EQ(RunShell("'" + bin + "' checksec '" + link.string() + "'", &out), 0) << out;
  // An unusable --libc.
  EXPECT_EQ(RunShell("'" + bin + "' checksec --libc '" + text_file + "' /usr/bin/ls", &out), 4);
}

}  // namespace
}  // namespace clearbox::elf
