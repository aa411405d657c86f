// The rule catalogue: the shipped file loads, names every rule the analysers raise, and
// points only at clauses the standard catalogues have; malformed catalogues are refused.
#include "rules/rule_catalogue.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

namespace clearbox::rules {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = CLEARBOX_TEST_SOURCE_DIR;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

RuleCatalogue Shipped() {
  auto catalogue = RuleCatalogue::LoadFromDataDir(kSource / "data");
  EXPECT_TRUE(catalogue) << catalogue.error().message;
  return catalogue ? std::move(*catalogue) : RuleCatalogue{};
}

TEST(RuleCatalogue, ShippedCatalogueLoadsSorted) {
  const RuleCatalogue catalogue = Shipped();
  ASSERT_GT(catalogue.rules().size(), 40u);
  const Rule* rule = catalogue.Find("cred.default-password");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->severity, Severity::kCritical);
  EXPECT_FALSE(rule->cwes.empty());
  EXPECT_EQ(catalogue.Find("cred.no-such-rule"), nullptr);
  for (std::size_t i = 1; i < catalogue.rules().size(); ++i) {
    EXPECT_LT(catalogue.rules()[i - 1].id, catalogue.rules()[i].id);
  }
}

// Every rule id written in the inspector's code or data files is in the catalogue, so no
// finding can carry a rule the catalogue (and so SARIF and compliance) does not know.
TEST(RuleCatalogue, NamesEveryRuleTheInspectorRaises) {
  const RuleCatalogue catalogue = Shipped();
  const std::regex id_literal(R"re("((?:cred|secret|cert|service|ssh|fs|inspect)\.[a-z0-9-]+)")re");
  std::set<std::string> seen;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kSource / "src/inspect")) {
    const std::string name = e.path().filename().string();
    const bool code = name.ends_with(".cpp") || name.ends_with(".hpp");
    if (code && !name.ends_with("_test.cpp")) files.push_back(e.path());
  }
  for (const auto& e : fs::directory_iterator(kSource / "data/inspect")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  for (const auto& file : files) {
    const std::string text = ReadText(file);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), id_literal);
         it != std::sregex_iterator(); ++it) {
      const std::string id = (*it)[1];
      if (id.ends_with(".json")) continue;
      seen.insert(id);
      EXPECT_NE(catalogue.Find(id), nullptr) << id << " (in " << file.filename() << ")";
    }
  }
  EXPECT_GT(seen.size(), 30u);
}

// Every clause a rule names exists in the standard catalogue of that id.
TEST(RuleCatalogue, ClausesExistInTheStandardCatalogues) {
  std::map<std::string, std::set<std::string>> clauses;
  for (const auto& e : fs::directory_iterator(kSource / "data/standards")) {
    if (e.path().extension() != ".json" || e.path().filename() == "standard.schema.json") continue;
    const auto doc = nlohmann::json::parse(ReadText(e.path()));
    for (const auto& c : doc.at("clauses")) {
      clauses[doc.at("id").get<std::string>()].insert(c.at("id").get<std::string>());
    }
  }
  ASSERT_GE(clauses.size(), 5u);
  std::size_t refs = 0;
  const RuleCatalogue catalogue = Shipped();
  for (const Rule& rule : catalogue.rules()) {
    for (const ClauseRef& ref : rule.clauses) {
      ++refs;
      ASSERT_TRUE(clauses.count(ref.standard)) << rule.id << ": unknown standard " << ref.standard;
      EXPECT_TRUE(clauses[ref.standard].count(ref.clause))
          << rule.id << ": " << ref.standard << " has no clause " << ref.clause;
    }
  }
  EXPECT_GT(refs, 50u);
}

TEST(RuleCatalogue, MalformedCataloguesAreRefused) {
  const std::string good =
      R"j({"rules": [{"id": "a.b", "title": "t", "severity": "low", "source": "inspect"}]})j";
  ASSERT_TRUE(RuleCatalogue::Parse(good, "good"));
  const std::map<std::string, std::string> bad = {
      {"twice", R"j({"rules": [{"id": "a.b", "title": "t", "severity": "low", "source": "x"},
                              {"id": "a.b", "title": "u", "severity": "low", "source": "x"}]})j"},
      {"severity",
       R"j({"rules": [{"id": "a.b", "title": "t", "severity": "HIGH", "source": "x"}]})j"},
      {"cwe", R"j({"rules": [{"id": "a.b", "title": "t", "severity": "low", "source": "x",
                             "cwe": ["798"]}]})j"},
      {"id", R"j({"rules": [{"id": "Ab", "title": "t", "severity": "low", "source": "x"}]})j"},
      {"title", R"j({"rules": [{"id": "a.b", "title": "", "severity": "low", "source": "x"}]})j"},
      {"clause", R"j({"rules": [{"id": "a.b", "title": "t", "severity": "low", "source": "x",
                                "clauses": [{"standard": "cra", "clause": "I(1)"},
                                            {"standard": "cra", "clause": "I(1)"}]}]})j"},
      {"json", R"j({"rules": [)j"},
  };
  for (const auto& [what, text] : bad) {
    auto parsed = RuleCatalogue::Parse(text, what);
    ASSERT_FALSE(parsed) << what;
    EXPECT_NE(parsed.error().message.find(what), std::string::npos) << parsed.error().message;
  }
}

}  // namespace
}  // namespace clearbox::rules
