// Vendor declarations: an implementation conformance statement in JSON (docs/compliance.md),
// one claim per clause with where its evidence is, checked against the image's evidence.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox::compliance {

inline constexpr std::size_t kMaxDeclarationsBytes = 4 << 20;

// What the vendor states about a clause.
enum class DeclaredStatus { kImplemented, kNotApplicable };

// The file's name of a DeclaredStatus ("implemented", "not_applicable").
std::string_view ToString(DeclaredStatus status);

// One claim of the vendor about one clause.
struct Declaration {
  std::string standard;  // a standard catalogue id: "en303645"
  std::string clause;    // a clause id of it: "5.6-5"
  std::string claim;     // the vendor's statement, in its words
  DeclaredStatus status = DeclaredStatus::kImplemented;
  std::string reason;                 // why the clause does not apply (not_applicable)
  std::vector<std::string> evidence;  // file paths in the image the vendor names as evidence
};

// A whole declarations file.
struct DeclarationFile {
  std::string product;
  std::vector<Declaration> declarations;  // in file order
};

// Parses a declarations file's JSON text; kInvalidArgument (with `origin` and the entry's
// index) for a missing standard, clause or claim, or an unknown status.
Result<DeclarationFile> ParseDeclarations(std::string_view text, std::string_view origin);
// Reads and parses a declarations file (kInvalidArgument when unreadable).
Result<DeclarationFile> LoadDeclarations(const std::filesystem::path& file);

}  // namespace clearbox::compliance
