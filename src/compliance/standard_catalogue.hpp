// StandardCatalogue: the compliance catalogues of data/standards (one JSON file per standard
// and version, docs/standards-catalogue.md): their clauses and how far an image speaks to each.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox::compliance {

inline constexpr std::size_t kMaxStandardFileBytes = 4 << 20;
// The --standard value that selects every catalogue.
inline constexpr std::string_view kAllStandards = "all";

// How far a firmware image can speak to a clause (the catalogue's determinable_from_firmware).
enum class Determinability { kFirmware, kPartial, kProcess, kRuntime, kDocumentation, kPhysical };

// The catalogue's name of a Determinability ("firmware", "partial", ...).
std::string_view ToString(Determinability value);

// One clause of a standard, as the catalogue file gives it.
struct Clause {
  std::string id;        // "5.1-1", "I(2)(a)", "CR 1.5"
  std::string title;     // our paraphrase
  std::string modality;  // "shall", "should" or "" when the catalogue gives none
  Determinability determinable = Determinability::kFirmware;
  std::string firmware_evidence;  // what an image can show ("" when not given)
  std::string evidence_needed;    // what beyond the image decides it ("" when not given)
};

// One standard (one catalogue file): header and clauses in document order.
struct Standard {
  std::string id;  // "en303645", "cra", ...
  std::string title;
  std::string version;
  std::vector<Clause> clauses;

  // The clause `id`, or nullptr.
  const Clause* FindClause(std::string_view clause_id) const;
};

class StandardCatalogue {
 public:
  // Reads every *.json of `dir` except standard.schema.json; kInvalidArgument names the file
  // and what is wrong (unreadable, malformed, unknown determinability, duplicate ids).
  static Result<StandardCatalogue> LoadDirectory(const std::filesystem::path& dir);
  // The catalogues shipped in `data_dir` (data_dir/standards).
  static Result<StandardCatalogue> LoadFromDataDir(const std::filesystem::path& data_dir);
  // One standard from its JSON text (`origin` names it in errors).
  static Result<Standard> ParseStandard(std::string_view text, std::string_view origin);
  // A catalogue of the given standards (tests); kInvalidArgument on a duplicate id.
  static Result<StandardCatalogue> FromStandards(std::vector<Standard> standards);

  // The standard `id`, or nullptr.
  const Standard* Find(std::string_view id) const;
  // Every standard, sorted by id.
  std::span<const Standard> standards() const { return standards_; }
  // The standards named in `ids` (in that order, duplicates once; "all" selects every one,
  // sorted by id). kInvalidArgument for an unknown id, listing the known ids.
  Result<std::vector<const Standard*>> Select(std::span<const std::string> ids) const;

 private:
  std::vector<Standard> standards_;
};

// Splits a comma-separated --standard value into trimmed, non-empty ids.
std::vector<std::string> SplitStandardIds(std::string_view list);

}  // namespace clearbox::compliance
