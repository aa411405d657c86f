// Signature rules (data/signatures/*.json) against real Debian 12 binary packages, amd64 and
// armhf. tests/debian/signature-packages/*.txt lists, per package, the components it truly
// contains; scripts/fetch-test-debs.sh downloads the .debs into $CLEARBOX_TEST_DEBS/<arch>/.
// Every listed package is extracted (dpkg-deb, no dpkg database) into its own directory
// <tmp>/<arch>/<package>/ and the identifier runs over each arch's tree with signatures alone.
// A component found is judged by the package directory of each file it was found in: right
// when the list names (package, component) and the version is the package's upstream version.
// Positive tests: recall over the listed triples and a hit for every listed rule; negative
// tests: precision, and a rule firing in a package not listed for it fails by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/data_dir.hpp"
#include "identify/identifier.hpp"
#include "identify/pkgdb.hpp"
#include "support/test_support.hpp"

namespace clearbox::identify {
namespace {

namespace fs = std::filesystem;
using clearbox::testing::RunShell;
using clearbox::testing::TempDir;

constexpr const char* kArches[] = {"amd64", "armhf"};
constexpr double kMinRecall = 0.95;
constexpr double kMinPrecision = 0.98;

// One line of a package list.
struct ListedComponent {
  std::string package, component;
  std::string version;    // version= override, else empty (the package's upstream version)
  std::string only_arch;  // arch= restriction, else empty
  std::string where;      // file:line, for messages
};

fs::path SourceDir() {
  const char* src = std::getenv("CLEARBOX_SOURCE_DIR");
  return fs::path(src ? src : ".");
}

std::vector<ListedComponent> ReadLists(std::vector<std::string>* errors) {
  std::vector<ListedComponent> out;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e :
       fs::directory_iterator(SourceDir() / "tests/debian/signature-packages", ec)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      line = line.substr(0, line.find('#'));
      std::istringstream words(line);
      ListedComponent c;
      c.where = file.filename().string() + ":" + std::to_string(number);
      if (!(words >> c.package)) continue;
      if (!(words >> c.component)) {
        errors->push_back(c.where + ": no component");
        continue;
      }
      for (std::string kv; words >> kv;) {
        if (kv.starts_with("version=")) {
          c.version = kv.substr(8);
        } else if (kv.starts_with("arch=")) {
          c.only_arch = kv.substr(5);
        } else {
          errors->push_back(c.where + ": unknown key " + kv);
        }
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

// The .deb of `package` in `dir` (its arch or "all"); the highest name when several.
fs::path FindDeb(const fs::path& dir, const std::string& package, const std::string& arch) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(package + "_") &&
        (name.ends_with("_" + arch + ".deb") || name.ends_with("_all.deb"))) {
      found.push_back(e.path());
    }
  }
  if (found.empty()) return {};
  std::sort(found.begin(), found.end());
  return found.back();
}

// The Version of a .deb from its name as apt-get download writes it,
// <package>_<version, ':' as %3a>_<arch>.deb.
std::string DebVersion(const fs::path& deb) {
  const std::string name = deb.filename().string();
  const std::size_t first = name.find('_'), last = name.rfind('_');
  if (first == std::string::npos || last <= first) return {};
  std::string version = name.substr(first + 1, last - first - 1);
  for (std::size_t at; (at = version.find("%3a")) != std::string::npos;)
    version.replace(at, 3, ":");
  return version;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class SignatureDebian : public ::testing::Test {};

TEST_F(SignatureDebian, RulesFindTheirPackagesAndNothingElse) {
  const char* debs_env = std::getenv("CLEARBOX_TEST_DEBS");
  if (!debs_env || !*debs_env) {
    GTEST_SKIP() << "CLEARBOX_TEST_DEBS is not set: run scripts/fetch-test-debs.sh and set it "
                    "to its DEST (make test does both)";
  }
  const fs::path debs(debs_env);
  std::vector<std::string> list_errors;
  const std::vector<ListedComponent> listed = ReadLists(&list_errors);
  for (const auto& e : list_errors) ADD_FAILURE() << e;
  ASSERT_FALSE(listed.empty()) << "no tests/debian/signature-packages/*.txt";

  auto loaded = LoadSignatureRules(DataDir() / "signatures");
  ASSERT_TRUE(loaded) << loaded.error().message;
  const std::vector<SignatureRule> rules = std::move(*loaded);
  std::map<std::string, const SignatureRule*> rule_of;
  for (const auto& r : rules) rule_of[r.component] = &r;
  for (const auto& l : listed) {
    EXPECT_TRUE(rule_of.contains(l.component)) << l.where << ": no rule " << l.component;
  }

  TempDir tmp;
  std::size_t all_expected = 0, all_found_right = 0, all_reported = 0, all_correct = 0;
  std::vector<std::string> table;
  for (const std::string arch : kArches) {
    // 1. Extract every listed package of this arch into <tmp>/<arch>/<package>/.
    const auto t0 = std::chrono::steady_clock::now();
    std::map<std::string, std::string> upstream;  // package -> upstream version
    const fs::path tree = tmp.path() / arch;
    std::string jobs;  // "<deb>\n<dir>\n" per package
    for (const auto& l : listed) {
      if (!l.only_arch.empty() && l.only_arch != arch) continue;
      if (upstream.contains(l.package)) continue;
      const fs::path deb = FindDeb(debs / arch, l.package, arch);
      if (deb.empty()) {
        ADD_FAILURE() << "missing " << l.package << " (" << arch << ") in " << (debs / arch)
                      << ": run scripts/fetch-test-debs.sh " << debs;
        upstream[l.package] = "";
        continue;
      }
      upstream[l.package] = StripRepackSuffix(DebianUpstreamVersion(DebVersion(deb)));
      jobs += deb.string() + "\n" + (tree / l.package).string() + "\n";
    }
    // dpkg-deb -x, four at a time, without the documentation and translations the identifier
    // does not search anyway (kDocumentationPathParts): the same tree, less to write.
    clearbox::testing::WriteFileBytes(tmp.path() / (arch + ".jobs"), jobs);
    std::string output;
    ASSERT_EQ(
        RunShell("xargs -d '\\n' -n 2 -P 4 sh -c 'mkdir -p \"$2\" && dpkg-deb --fsys-tarfile "
                 "\"$1\" | tar -x -C \"$2\" --exclude=./usr/share/doc --exclude=./usr/share/man "
                 "--exclude=./usr/share/info --exclude=./usr/share/locale' _ < " +
                     Quote((tmp.path() / (arch + ".jobs")).string()) + " 2>&1",
                 &output),
        0)
        << output;

    // 2. Signatures alone over the arch's tree.
    const auto t1 = std::chrono::steady_clock::now();
    auto identifier = ComponentIdentifier::Create(rules);
    ASSERT_TRUE(identifier) << identifier.error().message;
    const std::vector<Component> components = IdentifyTree(*identifier, tree, 0);
    const auto t2 = std::chrono::steady_clock::now();

    // What is expected: (package, component) -> version, for this arch.
    std::map<std::pair<std::string, std::string>, std::string> expected;
    for (const auto& l : listed) {
      if (!l.only_arch.empty() && l.only_arch != arch) continue;
      expected[{l.package, l.component}] = l.version.empty() ? upstream[l.package] : l.version;
    }
    // What was found: (package, component, version) and, per file, the products' versions.
    std::set<std::tuple<std::string, std::string, std::string>> found;
    std::map<std::pair<std::string, std::string>, std::set<std::string>> versions_in_file;
    std::map<std::pair<std::string, std::string>, bool> copies_in_file;
    for (const auto& c : components) {
      auto rule = rule_of.find(c.name);
      if (rule == rule_of.end()) {
        ADD_FAILURE() << "component without a rule: " << c.name;
        continue;
      }
      bool copies = false;
      for (const auto& p : rule->second->patterns) copies |= p.copies;
      for (const auto& f : c.files) {
        const std::string package = f.substr(0, f.find('/'));
        found.insert({package, c.name, c.version});
        const auto key = std::make_pair(f, rule->second->vendor + ":" + rule->second->product);
        versions_in_file[key].insert(c.version);
        copies_in_file[key] = copies_in_file[key] || copies;
      }
    }

    // 3. Judge.
    std::size_t right = 0;
    std::set<std::string> rules_hit;
    for (const auto& [key, version] : expected) {
      const auto& [package, component] = key;
      if (found.contains({package, component, version})) {
        ++right;
        rules_hit.insert(component);
      } else {
        std::string seen;
        for (const auto& [p, c, v] : found) {
          if (p == package && c == component) seen += " " + v;
        }
        std::printf("  [%s] missed: %s %s %s (found:%s)\n", arch.c_str(), package.c_str(),
                    component.c_str(), version.c_str(), seen.empty() ? " nothing" : seen.c_str());
      }
    }
    std::size_t correct = 0;
    for (const auto& [package, component, version] : found) {
      auto it = expected.find({package, component});
      if (it == expected.end()) {
        ADD_FAILURE() << "[" << arch << "] rule " << component << " (" << version
                      << ") fires in package " << package << ", which is not listed for it";
      } else if (it->second == version) {
        ++correct;
        continue;
      }
      std::printf("  [%s] wrong: %s %s %s (expected %s)\n", arch.c_str(), package.c_str(),
                  component.c_str(), version.c_str(),
                  it == expected.end() ? "none" : it->second.c_str());
    }
    std::set<std::string> listed_rules;
    for (const auto& [key, version] : expected) listed_rules.insert(key.second);
    for (const auto& component : listed_rules) {
      EXPECT_TRUE(rules_hit.contains(component))
          << "[" << arch << "] rule " << component << " has no positive hit in its packages";
    }
    for (const auto& [key, versions] : versions_in_file) {
      if (versions.size() > 1 && !copies_in_file[key]) {
        std::string all;
        for (const auto& v : versions) all += " " + v;
        ADD_FAILURE() << "[" << arch << "] " << key.first << ": " << key.second
                      << " in several versions:" << all;
      }
    }
    const double recall = static_cast<double>(right) / std::max<std::size_t>(1, expected.size());
    const double precision =
        found.empty() ? 1.0 : static_cast<double>(correct) / static_cast<double>(found.size());
    char row[256];
    const auto seconds = [](auto a, auto b) {
      return std::chrono::duration<double>(b - a).count();
    };
    std::snprintf(row, sizeof row, "%-6s %9zu %9zu %8zu %9zu %8.1f%% %8.1f%% %6zu %6.1fs %6.1fs",
                  arch.c_str(), upstream.size(), expected.size(), right, found.size(),
                  100.0 * recall, 100.0 * precision, listed_rules.size(), seconds(t0, t1),
                  seconds(t1, t2));
    table.push_back(row);
    EXPECT_GE(recall, kMinRecall) << arch;
    EXPECT_GE(precision, kMinPrecision) << arch;
    all_expected += expected.size();
    all_found_right += right;
    all_reported += found.size();
    all_correct += correct;
  }
  std::printf("signature rules on Debian packages (%zu rules loaded)\n", rules.size());
  std::printf("%-6s %9s %9s %8s %9s %9s %9s %6s %7s %7s\n", "arch", "packages", "expected", "found",
              "reported", "recall", "precision", "rules", "unpack", "scan");
  for (const auto& row : table) std::printf("%s\n", row.c_str());
  std::printf("total: %zu/%zu expected found, %zu/%zu reported correct\n", all_found_right,
              all_expected, all_correct, all_reported);
}

}  // namespace
}  // namespace clearbox::identify
