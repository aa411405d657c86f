#include "compliance/declarations.hpp"

#include <nlohmann/json.hpp>

#include "core/read_file.hpp"

namespace clearbox::compliance {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kImplementedName = "implemented";
constexpr std::string_view kNotApplicableName = "not_applicable";

Result<Declaration> ParseDeclaration(const Json& j) {
  Declaration d;
  d.standard = j.at("standard").get<std::string>();
  d.clause = j.at("clause").get<std::string>();
  d.claim = j.at("claim").get<std::string>();
  const std::string status = j.at("status").get<std::string>();
  if (status == kImplementedName) {
    d.status = DeclaredStatus::kImplemented;
  } else if (status == kNotApplicableName) {
    d.status = DeclaredStatus::kNotApplicable;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "unknown status '" + status + "' (implemented or " +
                                                 std::string(kNotApplicableName) + ")");
  }
  d.reason = j.value("reason", "");
  if (j.contains("evidence")) {
    for (const auto& e : j.at("evidence")) d.evidence.push_back(e.get<std::string>());
  }
  if (d.standard.empty() || d.clause.empty() || d.claim.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "standard, clause and claim must not be empty");
  }
  return d;
}

}  // namespace

std::string_view ToString(DeclaredStatus status) {
  return status == DeclaredStatus::kImplemented ? kImplementedName : kNotApplicableName;
}

Result<DeclarationFile> ParseDeclarations(std::string_view text, std::string_view origin) {
  const std::string where(origin);
  DeclarationFile file;
  try {
    const Json root = Json::parse(text);
    file.product = root.value("product", "");
    const Json& list = root.at("declarations");
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto declaration = ParseDeclaration(list.at(i));
      if (!declaration) {
        return Fail(ErrorCode::kInvalidArgument, where + ": /declarations/" + std::to_string(i) +
                                                     ": " + declaration.error().message);
      }
      file.declarations.push_back(std::move(*declaration));
    }
  } catch (const Json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument, where + ": " + e.what());
  }
  return file;
}

Result<DeclarationFile> LoadDeclarations(const std::filesystem::path& file) {
  auto text = ReadFileCapped(file, kMaxDeclarationsBytes);
  if (!text) {
    return Fail(ErrorCode::kInvalidArgument, "cannot read declarations: " + text.error().message);
  }
  return ParseDeclarations(*text, file.string());
}

}  // namespace clearbox::compliance
