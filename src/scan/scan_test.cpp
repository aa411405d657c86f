// End-to-end tests of `clearbox scan`: a SquashFS root filesystem made by mksquashfs behind a
// vendor header, with binaries built by gcc under chosen hardening flags, the system's zlib
// and libc, a planted key and a default password. Checks report.json facts against the
// sources, SBOM validity against the official schemas, and byte-identical reruns.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/test_support.hpp"

namespace clearbox::testing {
namespace {

using Json = nlohmann::json;

std::string SourceDir() {
  const char* dir = std::getenv("CLEARBOX_SOURCE_DIR");
  return dir ? dir : CLEARBOX_TEST_SOURCE_DIR;
}

// Runs `clearbox scan` with a fixed SOURCE_DATE_EPOCH; returns the exit status.
int RunScan(const fs::path& image, const fs::path& out, const std::string& extra = "") {
  return RunShell("SOURCE_DATE_EPOCH=1700000000 '" + ClearboxBinary() + "' scan -q '" +
                  image.string() + "' -o '" + out.string() + "' " + extra + " >/dev/null 2>&1");
}

Json ReadJson(const fs::path& path) {
  return Json::parse(ReadFileBytes(path));
}

const Json* FindByPathSuffix(const Json& list, const std::string& suffix) {
  for (const auto& item : list) {
    const std::string path = item.value("path", "");
    if (path.size() >= suffix.size() && path.ends_with(suffix)) return &item;
  }
  return nullptr;
}

class ScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveTool("mksquashfs") || !HaveTool("gcc") || !HaveTool("openssl")) GTEST_SKIP();
    dir_ = new TempDir();
    const fs::path root = *dir_ / "rootfs";
    fs::create_directories(root / "bin");
    fs::create_directories(root / "lib");
    fs::create_directories(root / "etc/ssl/private");
    WriteFileBytes(*dir_ / "hello.c",
                   "#include <stdio.h>\n#include <string.h>\n"
                   "int main(int argc, char** argv) { char b[64];\n"
                   "  strcpy(b, argc > 1 ? argv[1] : \"x\"); printf(\"%s\\n\", b); return 0; }\n");
    const std::string cc = "gcc '" + (*dir_ / "hello.c").string() + "' -o '";
    ASSERT_EQ(RunShell(cc + (root / "bin/hello_hardened").string() +
                       "' -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie "
                       "-Wl,-z,relro,-z,now -Wl,-z,noexecstack"),
              0);
    ASSERT_EQ(RunShell(cc + (root / "bin/hello_weak").string() +
                       "' -O0 -fno-stack-protector -no-pie -Wl,-z,norelro -z execstack "
                       "2>/dev/null"),
              0);
    ASSERT_EQ(RunShell("cp /lib/x86_64-linux-gnu/libc.so.6 '" + (root / "lib").string() +
                       "/' && cp /usr/lib/x86_64-linux-gnu/libz.so.1.2.13 '" +
                       (root / "lib").string() + "/'"),
              0);
    ASSERT_EQ(RunShell("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '" +
                       (root / "etc/ssl/private/server.key").string() + "' 2>/dev/null"),
              0);
    std::string hash;
    ASSERT_EQ(RunShell("openssl passwd -1 -salt abcdefgh admin", &hash), 0);
    while (!hash.empty() && hash.back() == '\n') hash.pop_back();
    WriteFileBytes(root / "etc/shadow", "root:" + hash + ":19000:0:99999:7:::\n");
    WriteFileBytes(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    // An OpenWrt package database naming a dropbear with known CVEs (CVE-2016-7406..7409).
    WriteFileBytes(root / "usr/lib/opkg/status",
                   "Package: dropbear\nVersion: 2016.72-1\nStatus: install user installed\n"
                   "Architecture: mips_24kc\n\n");
    // A vendor's VEX statement about one of them.
    WriteFileBytes(*dir_ / "vendor.openvex.json", R"({
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/1",
  "author": "Example Vendor PSIRT",
  "timestamp": "2023-11-14T22:13:20Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "CVE-2016-7406"},
    "products": [{"@id": "pkg:opkg/openwrt/dropbear@2016.72-1"}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path",
    "impact_statement": "dbclient is not shipped"
  }]
})");
    const fs::path sqfs = *dir_ / "root.sqfs";
    ASSERT_EQ(RunShell("mksquashfs '" + root.string() + "' '" + sqfs.string() +
                       "' -comp xz -noappend -quiet >/dev/null"),
              0);
    image_ = new fs::path(*dir_ / "router.bin");
    WriteFileBytes(*image_, PseudoRandomBytes(7, 512) + ReadFileBytes(sqfs));
    ASSERT_EQ(
        RunScan(*image_, *dir_ / "out", "--vex '" + (*dir_ / "vendor.openvex.json").string() + "'"),
        0);
    report_ = new Json(ReadJson(*dir_ / "out/report.json"));
  }
  static void TearDownTestSuite() {
    delete report_;
    delete image_;
    delete dir_;
  }
  void SetUp() override {
    if (report_ == nullptr) GTEST_SKIP() << "fixture tools missing";
  }

  void CheckReportDescribesTheImageAndEveryFile();
  void CheckHardeningOfBinariesMatchesTheirBuildFlags();
  void CheckFindsZlibWithItsVersion();
  void CheckFindsThePlantedKeyAndTheDefaultPassword();
  void CheckSbomsAreValidAgainstTheOfficialSchemas();
  void CheckMatchesVulnerabilitiesAndKeepsVex();
  void CheckSbomInputGivesTheSameVulnerabilities();

  static TempDir* dir_;
  static fs::path* image_;
  static Json* report_;
};

TempDir* ScanTest::dir_ = nullptr;
fs::path* ScanTest::image_ = nullptr;
Json* ScanTest::report_ = nullptr;

void ScanTest::CheckReportDescribesTheImageAndEveryFile() {
  const Json& r = *report_;
  EXPECT_EQ(r["schema_version"], 1);
  EXPECT_EQ(r["image"]["sha256"], FileSha256(*image_));
  EXPECT_EQ(r["created"], "2023-11-14T22:13:20Z");  // from SOURCE_DATE_EPOCH
  for (const char* name : {"bin/hello_hardened", "bin/hello_weak", "lib/libz.so.1.2.13"}) {
    const Json* file = FindByPathSuffix(r["files"], std::string("/") + name);
    ASSERT_NE(file, nullptr) << name;
    EXPECT_EQ((*file)["sha256"], FileSha256(*dir_ / "rootfs" / name)) << name;
    EXPECT_EQ((*file)["size"], fs::file_size(*dir_ / "rootfs" / name)) << name;
    EXPECT_EQ((*file)["type"], "elf") << name;
  }
  EXPECT_EQ((*FindByPathSuffix(r["files"], "/etc/passwd"))["type"], "text");
}

void ScanTest::CheckHardeningOfBinariesMatchesTheirBuildFlags() {
  const Json& r = *report_;
  const Json* hardened = FindByPathSuffix(r["binaries"], "/bin/hello_hardened");
  const Json* weak = FindByPathSuffix(r["binaries"], "/bin/hello_weak");
  ASSERT_NE(hardened, nullptr);
  ASSERT_NE(weak, nullptr);
  EXPECT_EQ((*hardened)["arch"], "x86-64");
  EXPECT_EQ((*hardened)["nx"], true);
  EXPECT_EQ((*hardened)["pie"], true);
  EXPECT_EQ((*hardened)["relro"], "full");
  EXPECT_EQ((*hardened)["canary"], true);
  EXPECT_GE((*hardened)["fortify"]["fortified"].get<int>(), 1);
  EXPECT_EQ((*weak)["nx"], false);
  EXPECT_EQ((*weak)["pie"], false);
  EXPECT_EQ((*weak)["relro"], "none");
  EXPECT_EQ((*weak)["canary"], false);
  EXPECT_EQ((*weak)["fortify"]["fortified"], 0);
  EXPECT_TRUE(std::string(r["libc"]).ends_with("lib/libc.so.6")) << r["libc"];
}

void ScanTest::CheckFindsZlibWithItsVersion() {
  bool found = false;
  for (const auto& c : (*report_)["components"]) {
    if (c["name"] == "zlib" && c["version"] == "1.2.13") {
      found = true;
      EXPECT_FALSE(c["evidence"].empty());
      EXPECT_NE(std::string(c["cpe"]).find(":zlib:1.2.13:"), std::string::npos) << c["cpe"];
    }
  }
  EXPECT_TRUE(found) << (*report_)["components"].dump(1);
}

void ScanTest::CheckFindsThePlantedKeyAndTheDefaultPassword() {
  const Json& findings = (*report_)["findings"];
  EXPECT_NE(FindByPathSuffix(findings, "/etc/ssl/private/server.key"), nullptr) << findings.dump(1);
  bool cracked = false;
  for (const auto& f : findings) {
    if (std::string(f["path"]).ends_with("/etc/shadow") &&
        std::string(f["rule"]).find("default") != std::string::npos) {
      cracked = true;
    }
  }
  EXPECT_TRUE(cracked) << findings.dump(1);
}

// The dropbear of the opkg database gets its CVEs from the bundled snapshot, and the VEX
// statement is kept beside the CVE it speaks about.
void ScanTest::CheckMatchesVulnerabilitiesAndKeepsVex() {
  std::map<std::string, Json> dropbear;
  for (const auto& v : (*report_)["vulnerabilities"]) {
    if (v["component"]["name"] == "dropbear") dropbear[v["id"]] = v;
  }
  for (const char* id : {"CVE-2016-7406", "CVE-2016-7407", "CVE-2016-7408", "CVE-2016-7409"}) {
    EXPECT_TRUE(dropbear.count(id)) << id << " in " << (*report_)["vulnerabilities"].dump(1);
  }
  ASSERT_TRUE(dropbear.count("CVE-2016-7406"));
  EXPECT_EQ(dropbear["CVE-2016-7406"].value("vex", Json::object()).value("status", ""),
            "not_affected");
  EXPECT_FALSE(dropbear["CVE-2016-7407"].contains("vex"));
  const Json cdx = ReadJson(*dir_ / "out/sbom.cdx.json");
  bool analysed = false;
  for (const auto& v : cdx["vulnerabilities"]) {
    if (v["id"] == "CVE-2016-7406") {
      const Json analysis = v.value("analysis", Json::object());
      analysed = analysis.value("state", "") == "not_affected" &&
                 analysis.value("justification", "") == "code_not_reachable";
    }
  }
  EXPECT_TRUE(analysed);
  // The standalone VEX document says the same, linking into the SBOM by BOM-Link.
  const Json vex = ReadJson(*dir_ / "out/vex.cdx.json");
  const std::string serial = cdx["serialNumber"];
  bool linked = false;
  for (const auto& v : vex["vulnerabilities"]) {
    if (v["id"] == "CVE-2016-7406") {
      linked =
          v["analysis"]["state"] == "not_affected" &&
          std::string(v["affects"][0]["ref"]).starts_with("urn:cdx:" + serial.substr(9) + "/1#");
    }
  }
  EXPECT_TRUE(linked) << vex.dump(1).substr(0, 2000);
}

// A CycloneDX SBOM given instead of an image: its components are matched the same way.
void ScanTest::CheckSbomInputGivesTheSameVulnerabilities() {
  ASSERT_EQ(RunScan(*dir_ / "out/sbom.cdx.json", *dir_ / "from-sbom"), 0);
  const Json again = ReadJson(*dir_ / "from-sbom/report.json");
  EXPECT_EQ(again["input"], "sbom");
  std::set<std::string> from_image, from_sbom;
  for (const auto& v : (*report_)["vulnerabilities"]) from_image.insert(v["id"]);
  for (const auto& v : again["vulnerabilities"]) from_sbom.insert(v["id"]);
  EXPECT_FALSE(from_image.empty());
  EXPECT_EQ(from_image, from_sbom);
}

void ScanTest::CheckSbomsAreValidAgainstTheOfficialSchemas() {
  const std::string validator =
      "/usr/bin/python3 '" + SourceDir() + "/tests/validate_json_schema.py' ";
  std::string output;
  EXPECT_EQ(RunShell(validator + "cyclonedx '" + (*dir_ / "out/sbom.cdx.json").string() + "' 2>&1",
                     &output),
            0)
      << output;
  EXPECT_EQ(
      RunShell(validator + "spdx '" + (*dir_ / "out/sbom.spdx.json").string() + "' 2>&1", &output),
      0)
      << output;
  EXPECT_EQ(RunShell(validator + "cyclonedx '" + (*dir_ / "out/vex.cdx.json").string() + "' 2>&1",
                     &output),
            0)
      << output;
  EXPECT_EQ(
      RunShell(validator + "sarif '" + (*dir_ / "out/vulnerabilities.sarif").string() + "' 2>&1",
               &output),
      0)
      << output;
  // Finding rules are described by the rule catalogue (title, level, CWE tag, remediation).
  const Json sarif = ReadJson(*dir_ / "out/vulnerabilities.sarif");
  const Json* default_password = nullptr;
  for (const auto& rule : sarif["runs"][0]["tool"]["driver"]["rules"]) {
    if (rule["id"] == "cred.default-password") default_password = &rule;
  }
  ASSERT_NE(default_password, nullptr);
  EXPECT_EQ((*default_password)["shortDescription"]["text"],
            "An account's password is a well-known default");
  EXPECT_EQ((*default_password)["defaultConfiguration"]["level"], "error");
  EXPECT_FALSE((*default_password)["help"]["text"].get<std::string>().empty());
  const Json& tags = (*default_password)["properties"]["tags"];
  EXPECT_NE(std::find(tags.begin(), tags.end(), "external/cwe/cwe-1392"), tags.end()) << tags;
  const Json cdx = ReadJson(*dir_ / "out/sbom.cdx.json");
  bool file_listed = false;
  for (const auto& c : cdx["components"]) {
    if (c["type"] == "file" && std::string(c["name"]).ends_with("/bin/hello_hardened")) {
      file_listed = c["hashes"][0]["content"] == FileSha256(*dir_ / "rootfs/bin/hello_hardened");
    }
  }
  EXPECT_TRUE(file_listed);
}

// One test case for the facts, so that CTest (one process per case) scans the image once.
TEST_F(ScanTest, ReportAndSbomsHoldTheFactsOfTheImage) {
  {
    SCOPED_TRACE("files");
    CheckReportDescribesTheImageAndEveryFile();
  }
  {
    SCOPED_TRACE("binaries");
    CheckHardeningOfBinariesMatchesTheirBuildFlags();
  }
  {
    SCOPED_TRACE("components");
    CheckFindsZlibWithItsVersion();
  }
  {
    SCOPED_TRACE("findings");
    CheckFindsThePlantedKeyAndTheDefaultPassword();
  }
  {
    SCOPED_TRACE("sboms");
    CheckSbomsAreValidAgainstTheOfficialSchemas();
  }
  {
    SCOPED_TRACE("vulnerabilities");
    CheckMatchesVulnerabilitiesAndKeepsVex();
  }
  {
    SCOPED_TRACE("sbom input");
    CheckSbomInputGivesTheSameVulnerabilities();
  }
}

TEST_F(ScanTest, ReportsAreByteIdenticalAcrossRunsAndThreadCounts) {
  ASSERT_EQ(RunScan(*image_, *dir_ / "again",
                    "-j 1 --vex '" + (*dir_ / "vendor.openvex.json").string() + "'"),
            0);
  for (const char* name : {"report.json", "sbom.cdx.json", "sbom.spdx.json", "vex.cdx.json",
                           "vulnerabilities.sarif"}) {
    EXPECT_EQ(ReadFileBytes(*dir_ / "out" / name), ReadFileBytes(*dir_ / "again" / name)) << name;
  }
}

TEST_F(ScanTest, CleanTreeHasNoAnalysisProblems) {
  EXPECT_TRUE(report_->at("analysis_problems").empty()) << report_->at("analysis_problems");
  EXPECT_EQ(report_->at("summary").at("analysis_problems"), 0);
}

// Files an analyser cannot handle are listed under analysis_problems with their paths.
TEST(ScanCli, AnalysisProblemsNameTheFilesThatCouldNotBeAnalysed) {
  if (!HaveTool("tar")) GTEST_SKIP();
  TempDir tmp;
  const fs::path root = tmp / "rootfs";
  fs::create_directories(root / "bin");
  fs::create_directories(root / "var/lib/dpkg");
  // An ELF cut inside its header: the magic is there, the rest is not.
  WriteFileBytes(root / "bin/cut", ReadFileBytes("/bin/true").substr(0, 40));
  WriteFileBytes(root / "var/lib/dpkg/status",
                 "Package: busybox\nVersion: 1:1.35.0-4\nStatus: install ok installed\n"
                 "\x01\x02 no field here\n\xff\xfe\n\n");
  ASSERT_EQ(
      RunShell("tar -C '" + root.string() + "' -cf '" + (tmp / "image.tar").string() + "' bin var"),
      0);
  const int code = RunScan(tmp / "image.tar", tmp / "out", "--no-vuln");
  ASSERT_TRUE(code == 0 || code == 3) << code;
  const Json report = ReadJson(tmp / "out/report.json");
  const Json& problems = report.at("analysis_problems");
  const Json* elf = FindByPathSuffix(problems, "/bin/cut");
  ASSERT_NE(elf, nullptr) << problems;
  EXPECT_EQ(elf->at("analyser"), "elf");
  EXPECT_EQ(elf->at("kind"), "truncated");
  const Json* dpkg = FindByPathSuffix(problems, "/var/lib/dpkg/status");
  ASSERT_NE(dpkg, nullptr) << problems;
  EXPECT_EQ(dpkg->at("analyser"), "identify");
  EXPECT_EQ(dpkg->at("kind"), "malformed");
  EXPECT_EQ(report.at("summary").at("analysis_problems"), problems.size());
  // What the database does list is still read.
  bool busybox = false;
  for (const auto& c : report.at("components")) busybox |= c.value("name", "") == "busybox";
  EXPECT_TRUE(busybox) << report.at("components");
}

TEST(ScanCli, RecognisedOnlyChunksCarryTheirHeaderMetadataIntoTheReport) {
  TempDir tmp;
  // A VxWorks image (scripts/fixtures/make-vxworks.py): recognised, not extractable as a tree;
  // what its banner says must reach report.json.
  ASSERT_EQ(
      RunShell("python3 '" + SourceDir() + "/scripts/fixtures/make-vxworks.py' --release 6.9" +
               " --wind 2.13 --symbols 30 -o '" + (tmp / "vx.bin").string() + "'"),
      0);
  const int code = RunScan(tmp / "vx.bin", tmp / "out", "--no-vuln");
  ASSERT_TRUE(code == 0 || code == 3) << code;
  const Json report = ReadJson(tmp / "out/report.json");
  const Json* vxworks = nullptr;
  for (const auto& c : report.at("unpack").at("chunks")) {
    if (c.value("format", "") == "vxworks") vxworks = &c;
  }
  ASSERT_NE(vxworks, nullptr) << report.at("unpack");
  EXPECT_EQ(vxworks->at("metadata").at("os"), "VxWorks");
  EXPECT_EQ(vxworks->at("metadata").at("wind_version"), "2.13");
  EXPECT_EQ(vxworks->at("metadata").at("symbols"), "30");
  // Chunks without metadata carry no empty object.
  for (const auto& c : report.at("unpack").at("chunks")) {
    if (c.contains("metadata")) {
      EXPECT_FALSE(c.at("metadata").empty()) << c;
    }
  }
}

TEST(ScanCli, UnusableInputGetsItsExitCode) {
  TempDir tmp;
  EXPECT_EQ(RunScan(tmp / "missing.bin", tmp / "out"), 4);
  WriteFileBytes(tmp / "image.bin", "not firmware");
  WriteFileBytes(tmp / "full/x", "x");
  EXPECT_EQ(RunScan(tmp / "image.bin", tmp / "full"), 4);  // output directory not empty
  EXPECT_EQ(
      RunScan(tmp / "image.bin", tmp / "out2", "--data-dir '" + (tmp / "nodata").string() + "'"),
      4);  // data files missing
  // An image with no known format is scanned (as a single unknown blob) with a problem.
  EXPECT_EQ(RunScan(tmp / "image.bin", tmp / "out3"), 3);
  EXPECT_TRUE(fs::exists(tmp / "out3/report.json"));
}

}  // namespace
}  // namespace clearbox::testing
