// End-to-end tests of the clearbox binary: help, exit codes, manifest on disk.
#include <gtest/gtest.h>

#include "core/exit_codes.hpp"
#include "support/test_support.hpp"
#include "unpack/engine.hpp"

namespace clearbox {
namespace {

using namespace clearbox::testing;

TEST(Cli, HelpDocumentsExitCodes) {
  std::string out;
  EXPECT_EQ(RunShell(ClearboxBinary() + " unpack --help", &out), 0);
  EXPECT_NE(out.find("Exit codes"), std::string::npos);
  EXPECT_NE(out.find("--max-depth"), std::string::npos);
}

TEST(Cli, ExitCodesSayWhatHappened) {
  TempDir tmp;
  std::string out;
  EXPECT_EQ(RunShell(ClearboxBinary() + " unpack", &out), kExitUsage);
  EXPECT_EQ(RunShell(ClearboxBinary() + " unpack " + (tmp / "nope").string() + " -o " +
                         (tmp / "o1").string(),
                     &out),
            kExitUnusableInput);
  EXPECT_NE(out.find("cannot read image"), std::string::npos);

  WriteFileBytes(tmp / "f", "hello\n");
  ASSERT_EQ(RunShell("gzip -n -k " + (tmp / "f").string()), 0);
  EXPECT_EQ(RunShell(ClearboxBinary() + " unpack " + (tmp / "f.gz").string() + " -o " +
                         (tmp / "o2").string(),
                     &out),
            kExitOk)
      << out;
  EXPECT_TRUE(fs::exists(tmp / "o2/manifest.json"));
  EXPECT_EQ(out.find("\r"), std::string::npos);  // no progress line when not a terminal

  WriteFileBytes(tmp / "noise", PseudoRandomBytes(5, 1000));
  EXPECT_EQ(RunShell(ClearboxBinary() + " unpack " + (tmp / "noise").string() + " -o " +
                         (tmp / "o3").string(),
                     &out),
            kExitWithProblems);
}

}  // namespace
}  // namespace clearbox
