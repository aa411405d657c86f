// The data directory: the environment, then the install layout, then the build tree.
#include "core/data_dir.hpp"

#include <cstdlib>
#include <system_error>

namespace clearbox {
namespace {

namespace fs = std::filesystem;

// The running executable's path ("" when /proc is not mounted).
fs::path ExecutablePath() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe;
}

// True when `path` lies inside `dir` (both absolute, compared lexically).
bool IsInside(const fs::path& path, const fs::path& dir) {
  const auto relative = path.lexically_normal().lexically_relative(dir.lexically_normal());
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

fs::path DataDir() {
  const char* from_env = std::getenv("CLEARBOX_DATA_DIR");
  if (from_env != nullptr && *from_env != '\0') return from_env;
  const fs::path exe = ExecutablePath();
  const fs::path installed =
      exe.empty() ? fs::path() : (exe.parent_path() / CLEARBOX_DATA_FROM_BIN).lexically_normal();
  std::error_code ec;
  if (!installed.empty() && fs::is_directory(installed, ec)) return installed;
  if (exe.empty() || IsInside(exe, CLEARBOX_BUILD_DIR)) return CLEARBOX_SOURCE_DATA_DIR;
  return installed;
}

const std::vector<std::string>& RequiredDataEntries() {
  static const std::vector<std::string> entries = {"signatures",
                                                   "rules/catalogue.json",
                                                   "standards",
                                                   "inspect/services.json",
                                                   "inspect/known_keys.json",
                                                   "inspect/tokens.json",
                                                   "inspect/default_credentials.txt",
                                                   "identify/debian-udeb-sources.json",
                                                   "vuln/product_aliases.json",
                                                   "vuln/schema.sql"};
  return entries;
}

Result<fs::path> CheckDataDir(const fs::path& dir) {
  constexpr const char* kWhere =
      " (clearbox looks in $CLEARBOX_DATA_DIR, then share/clearbox beside the installed binary; "
      "install clearbox with its data or set CLEARBOX_DATA_DIR)";
  std::string missing;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Fail(ErrorCode::kInvalidArgument,
                "data directory " + dir.string() + " does not exist" + kWhere);
  }
  for (const auto& entry : RequiredDataEntries()) {
    if (!fs::exists(dir / entry, ec)) missing += (missing.empty() ? "" : ", ") + entry;
  }
  if (missing.empty()) return dir;
  return Fail(ErrorCode::kInvalidArgument,
              "data directory " + dir.string() + " is missing " + missing + kWhere);
}

Result<fs::path> FindDataDir(const fs::path& chosen) {
  return CheckDataDir(chosen.empty() ? DataDir() : chosen);
}

}  // namespace clearbox
