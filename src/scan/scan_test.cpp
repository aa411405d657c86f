// End-to-end tests of `clearbox scan`: a SquashFS root filesystem made by mksquashfs behind a
// vendor header, with binaries built by gcc under chosen hardening flags, the system's zlib
// and libc, a planted key and a default password. Checks report.json facts against the
// sources, SBOM validity against the official schemas, and byte-identical reruns.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

Json ReadJson(const fs::path& path) { return Json::parse(ReadFileBytes(path)); }

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
    const fs::path sqfs = *dir_ / "root.sqfs";
    ASSERT_EQ(RunShell("mksquashfs '" + root.string() + "' '" + sqfs.string() +
                       "' -comp xz -noappend -quiet >/dev/null"),
              0);
    image_ = new fs::path(*dir_ / "router.bin");
    WriteFileBytes(*image_, PseudoRandomBytes(7, 512) + ReadFileBytes(sqfs));
    ASSERT_EQ(RunScan(*image_, *dir_ / "out"), 0);
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

void ScanTest::CheckSbomsAreValidAgainstTheOfficialSchemas() {
  const std::string validator = "/usr/bin/python3 '" + SourceDir() + "/tests/validate_json_schema.py' ";
  std::string output;
  EXPECT_EQ(RunShell(validator + "cyclonedx '" + (*dir_ / "out/sbom.cdx.json").string() + "' 2>&1",
                     &output),
            0)
      << output;
  EXPECT_EQ(RunShell(validator + "spdx '" + (*dir_ / "out/sbom.spdx.json").string() + "' 2>&1",
                     &output),
            0)
      << output;
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
}

TEST_F(ScanTest, ReportsAreByteIdenticalAcrossRunsAndThreadCounts) {
  ASSERT_EQ(RunScan(*image_, *dir_ / "again", "-j 1"), 0);
  for (const char* name : {"report.json", "sbom.cdx.json", "sbom.spdx.json"}) {
    EXPECT_EQ(ReadFileBytes(*dir_ / "out" / name), ReadFileBytes(*dir_ / "again" / name)) << name;
  }
}

TEST(ScanCli, UnusableInputGetsItsExitCode) {
  TempDir tmp;
  EXPECT_EQ(RunScan(tmp / "missing.bin", tmp / "out"), 4);
  WriteFileBytes(tmp / "image.bin", "not firmware");
  WriteFileBytes(tmp / "full/x", "x");
  EXPECT_EQ(RunScan(tmp / "image.bin", tmp / "full"), 4);  // output directory not empty
  EXPECT_EQ(RunScan(tmp / "image.bin", tmp / "out2", "--data-dir '" + (tmp / "nodata").string() + "'"),
            4);  // data files missing
  // An image with no known format is scanned (as a single unknown blob) with a problem.
  EXPECT_EQ(RunScan(tmp / "image.bin", tmp / "out3"), 3);
  EXPECT_TRUE(fs::exists(tmp / "out3/report.json"));
}

}  // namespace
}  // namespace clearbox::testing
