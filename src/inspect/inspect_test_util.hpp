// Helpers shared by the inspect tests: feeding trees on disk or from a manifest to an
// Inspector.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/data_dir.hpp"
#include "inspect/inspector.hpp"
#include "support/test_support.hpp"

namespace clearbox::inspect::testing {

namespace fs = std::filesystem;

// 2026-01-01T00:00:00Z: the fixed "now" of every test.
inline constexpr std::int64_t kTestNow = 1767225600;

inline fs::path RulesDir() {
  return DataDir() / "inspect";
}

inline fs::path SourceDir() {
  const char* env = std::getenv("CLEARBOX_SOURCE_DIR");
  return env && *env ? fs::path(env) : DataDir().parent_path();
}

// The rule ids of `findings`, sorted.
inline std::vector<std::string> Rules(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.rule);
  std::sort(out.begin(), out.end());
  return out;
}

inline Inspector MakeInspector(InspectOptions options = {}) {
  if (options.now_unix == 0) options.now_unix = kTestNow;
  auto inspector = Inspector::Create(RulesDir(), options);
  if (!inspector) throw std::runtime_error(inspector.error().message);
  return std::move(*inspector);
}

// Feeds one object with the given content to the inspector.
inline void AddBytes(Inspector& inspector, const std::string& path, const std::string& content,
                     std::uint32_t mode = 0644, FileKind kind = FileKind::kRegular) {
  FileView view;
  view.path = path;
  view.kind = kind;
  view.mode = mode;
  view.bytes = ByteView(reinterpret_cast<const std::uint8_t*>(content.data()), content.size());
  inspector.AddFile(view);
}

// Every object under `root` (not the root itself), with paths relative to it, modes from
// lstat, in directory order.
struct DiskObject {
  std::string path;
  FileKind kind;
  std::uint32_t mode;
  std::string link_target;
};
inline std::vector<DiskObject> ListTree(const fs::path& root) {
  std::vector<DiskObject> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    DiskObject o;
    o.path = it->path().lexically_relative(root).generic_string();
    o.mode = st.st_mode & 07777;
    if (S_ISREG(st.st_mode)) {
      o.kind = FileKind::kRegular;
    } else if (S_ISDIR(st.st_mode)) {
      o.kind = FileKind::kDirectory;
    } else if (S_ISLNK(st.st_mode)) {
      o.kind = FileKind::kSymlink;
      o.link_target = fs::read_symlink(it->path()).string();
    } else {
      o.kind = FileKind::kOther;
    }
    out.push_back(std::move(o));
  }
  return out;
}

inline void AddDiskObject(Inspector& inspector, const fs::path& root, const DiskObject& o) {
  const std::string content =
      o.kind == FileKind::kRegular ? clearbox::testing::ReadFileBytes(root / o.path) : "";
  FileView view;
  view.path = o.path;
  view.kind = o.kind;
  view.mode = o.mode;
  view.link_target = o.link_target;
  view.bytes = ByteView(reinterpret_cast<const std::uint8_t*>(content.data()), content.size());
  inspector.AddFile(view);
}

inline std::vector<Finding> InspectTree(const fs::path& root, InspectOptions options = {}) {
  Inspector inspector = MakeInspector(options);
  for (const DiskObject& o : ListTree(root)) AddDiskObject(inspector, root, o);
  return inspector.Finish();
}

using RulePath = std::pair<std::string, std::string>;

inline std::set<RulePath> RulePaths(const std::vector<Finding>& findings) {
  std::set<RulePath> out;
  for (const Finding& f : findings) out.insert({f.rule, f.path});
  return out;
}

inline std::string Describe(const std::vector<Finding>& findings) {
  std::string s;
  for (const Finding& f : findings) {
    s += std::string(ToString(f.severity)) + " " + f.rule + " " + f.path + " @" +
         std::to_string(f.offset) + " [" + f.evidence + "] " + f.message + "\n";
  }
  return s;
}

}  // namespace clearbox::inspect::testing
