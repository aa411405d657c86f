// The analyser registry: every analyser once, in the order their Finish depends on, and a
// clear error when the data files cannot be loaded.
#include "scan/analyser.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace clearbox::scan {
namespace {

std::vector<std::string> Names(const std::vector<std::unique_ptr<Analyser>>& analysers) {
  std::vector<std::string> names;
  for (const auto& a : analysers) names.emplace_back(a->Name());
  return names;
}

TEST(AnalyserRegistry, ImageAnalysersFinishInDependencyOrder) {
  ScanOptions options;
  options.data_dir = CLEARBOX_TEST_SOURCE_DIR "/data";
  auto analysers = CreateImageAnalysers(options);
  ASSERT_TRUE(analysers) << analysers.error().message;
  const auto names = Names(*analysers);
  EXPECT_EQ(names, (std::vector<std::string>{"files", "elf", "identify", "inspect", "vuln"}));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(Names(CreateSbomAnalysers()), (std::vector<std::string>{"vuln"}));
}

TEST(AnalyserRegistry, MissingDataFilesAreAnError) {
  ScanOptions options;
  options.data_dir = "/nonexistent/clearbox-data";
  auto analysers = CreateImageAnalysers(options);
  ASSERT_FALSE(analysers);
  EXPECT_NE(analysers.error().message.find("clearbox-data"), std::string::npos)
      << analysers.error().message;
}

// The hardening analyser keeps only ELF files and records what it cannot read as a problem
// under its own name (the tree here is empty, so the offered ELF cannot be opened).
TEST(AnalyserRegistry, HardeningProblemsCarryTheAnalyserName) {
  ScanOptions options;
  options.data_dir = CLEARBOX_TEST_SOURCE_DIR "/data";
  auto analysers = CreateImageAnalysers(options);
  ASSERT_TRUE(analysers);
  Analyser& elf = *(*analysers)[1];
  const std::string elf_bytes = std::string(
                                    "\x7f"
                                    "ELF\x02\x01\x01",
                                    7) +
                                std::string(57, '\0');
  const std::string text = "hello\n";
  FileView binary{};
  binary.path = "bin/missing";
  binary.kind = FileKind::kRegular;
  binary.bytes =
      ByteView(reinterpret_cast<const std::uint8_t*>(elf_bytes.data()), elf_bytes.size());
  FileView plain = binary;
  plain.path = "etc/motd";
  plain.bytes = ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  elf.AddFile(binary);
  elf.AddFile(plain);
  report::Evidence evidence;
  const AnalysisContext context{options, ::testing::TempDir()};
  ASSERT_TRUE(elf.Finish(context, evidence));
  EXPECT_TRUE(evidence.binaries.empty());
  ASSERT_EQ(evidence.analysis_problems.size(), 1u);
  EXPECT_EQ(evidence.analysis_problems[0].path, "bin/missing");
  EXPECT_EQ(evidence.analysis_problems[0].analyser, "elf");
}

}  // namespace
}  // namespace clearbox::scan
