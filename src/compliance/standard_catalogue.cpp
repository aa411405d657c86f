#include "compliance/standard_catalogue.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/read_file.hpp"

namespace clearbox::compliance {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSchemaFileName = "standard.schema.json";

constexpr std::array<std::pair<Determinability, std::string_view>, 6> kDeterminabilityNames{{
    {Determinability::kFirmware, "firmware"},
    {Determinability::kPartial, "partial"},
    {Determinability::kProcess, "process"},
    {Determinability::kRuntime, "runtime"},
    {Determinability::kDocumentation, "documentation"},
    {Determinability::kPhysical, "physical"},
}};

Result<Determinability> ParseDeterminability(std::string_view name) {
  for (const auto& [value, text] : kDeterminabilityNames) {
    if (text == name) return value;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unknown determinable_from_firmware '" + std::string(name) + "'");
}

Result<Clause> ParseClause(const Json& j) {
  Clause clause;
  clause.id = j.at("id").get<std::string>();
  clause.title = j.at("title").get<std::string>();
  clause.modality = j.value("modality", "");
  clause.firmware_evidence = j.value("firmware_evidence", "");
  clause.evidence_needed = j.value("evidence_needed", "");
  auto determinable = ParseDeterminability(j.at("determinable_from_firmware").get<std::string>());
  if (!determinable) {
    return Fail(ErrorCode::kInvalidArgument,
                "clause " + clause.id + ": " + determinable.error().message);
  }
  clause.determinable = *determinable;
  if (clause.id.empty()) return Fail(ErrorCode::kInvalidArgument, "a clause has an empty id");
  return clause;
}

}  // namespace

std::string_view ToString(Determinability value) {
  for (const auto& [known, text] : kDeterminabilityNames) {
    if (known == value) return text;
  }
  return "unknown";
}

const Clause* Standard::FindClause(std::string_view clause_id) const {
  const auto it = std::find_if(clauses.begin(), clauses.end(),
                               [&](const Clause& c) { return c.id == clause_id; });
  return it != clauses.end() ? &*it : nullptr;
}

Result<Standard> StandardCatalogue::ParseStandard(std::string_view text, std::string_view origin) {
  const std::string where(origin);
  Standard standard;
  try {
    const Json root = Json::parse(text);
    standard.id = root.at("id").get<std::string>();
    standard.title = root.at("title").get<std::string>();
    standard.version = root.at("version").get<std::string>();
    for (const auto& j : root.at("clauses")) {
      auto clause = ParseClause(j);
      if (!clause) return Fail(ErrorCode::kInvalidArgument, where + ": " + clause.error().message);
      if (standard.FindClause(clause->id) != nullptr) {
        return Fail(ErrorCode::kInvalidArgument,
                    where + ": clause " + clause->id + " is listed twice");
      }
      standard.clauses.push_back(std::move(*clause));
    }
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, where + ": " + e.what());
  }
  if (standard.id.empty()) return Fail(ErrorCode::kInvalidArgument, where + ": empty id");
  return standard;
}

Result<StandardCatalogue> StandardCatalogue::FromStandards(std::vector<Standard> standards) {
  StandardCatalogue catalogue;
  catalogue.standards_ = std::move(standards);
  auto& list = catalogue.standards_;
  std::sort(list.begin(), list.end(),
            [](const Standard& a, const Standard& b) { return a.id < b.id; });
  const auto twice = std::adjacent_find(
      list.begin(), list.end(), [](const Standard& a, const Standard& b) { return a.id == b.id; });
  if (twice != list.end()) {
    return Fail(ErrorCode::kInvalidArgument, "standard " + twice->id + " is defined twice");
  }
  return catalogue;
}

Result<StandardCatalogue> StandardCatalogue::LoadDirectory(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    if (path.extension() == ".json" && path.filename() != kSchemaFileName) files.push_back(path);
  }
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot list standard catalogues in " + dir.string() + ": " + ec.message());
  }
  std::sort(files.begin(), files.end());
  std::vector<Standard> standards;
  for (const auto& file : files) {
    auto text = ReadFileCapped(file, kMaxStandardFileBytes);
    if (!text) {
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot read standard catalogue: " + text.error().message);
    }
    auto standard = ParseStandard(*text, file.string());
    if (!standard) return Forward(standard);
    standards.push_back(std::move(*standard));
  }
  if (standards.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "no standard catalogue in " + dir.string());
  }
  return FromStandards(std::move(standards));
}

Result<StandardCatalogue> StandardCatalogue::LoadFromDataDir(
    const std::filesystem::path& data_dir) {
  return LoadDirectory(data_dir / "standards");
}

const Standard* StandardCatalogue::Find(std::string_view id) const {
  const auto it = std::find_if(standards_.begin(), standards_.end(),
                               [&](const Standard& s) { return s.id == id; });
  return it != standards_.end() ? &*it : nullptr;
}

Result<std::vector<const Standard*>> StandardCatalogue::Select(
    std::span<const std::string> ids) const {
  std::vector<const Standard*> selected;
  for (const auto& id : ids) {
    if (id == kAllStandards) {
      for (const auto& standard : standards_) selected.push_back(&standard);
      continue;
    }
    const Standard* standard = Find(id);
    if (standard == nullptr) {
      std::string known;
      for (const auto& s : standards_) {
        if (!known.empty()) known += ", ";
        known += s.id;
      }
      return Fail(ErrorCode::kInvalidArgument, "unknown standard '" + id + "' (known: " + known +
                                                   ", or " + std::string(kAllStandards) + ")");
    }
    selected.push_back(standard);
  }
  // Keep the first mention of each standard, in the order given.
  std::vector<const Standard*> unique;
  for (const Standard* s : selected) {
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(s);
  }
  if (unique.empty()) return Fail(ErrorCode::kInvalidArgument, "no standard selected");
  return unique;
}

std::vector<std::string> SplitStandardIds(std::string_view list) {
  std::vector<std::string> ids;
  std::size_t begin = 0;
  while (begin <= list.size()) {
    const std::size_t comma = std::min(list.find(',', begin), list.size());
    std::string_view id = list.substr(begin, comma - begin);
    while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
    while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
    if (!id.empty()) ids.emplace_back(id);
    begin = comma + 1;
  }
  return ids;
}

}  // namespace clearbox::compliance
