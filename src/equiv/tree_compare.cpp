// Tree listing, pairing and the parallel comparison of file pairs.
#include "equiv/tree_compare.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>

#include "core/beneath.hpp"
#include "core/mapped_file.hpp"
#include "core/thread_pool.hpp"
#include "diff/rootfs_path.hpp"
#include "equiv/comparison_recorder.hpp"

namespace clearbox::equiv {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kManifestName = "manifest.json";
constexpr std::string_view kExtractSuffix = ".extract";

// One listed entry: its path inside the root filesystem and where it is on disk.
struct TreeEntry {
  std::string path;
  fs::path full;
};

std::string_view TypeName(fs::file_type type) {
  switch (type) {
    case fs::file_type::regular: return "a regular file";
    case fs::file_type::symlink: return "a symlink";
    case fs::file_type::directory: return "a directory";
    case fs::file_type::not_found: return "missing";
    default: return "a special file";
  }
}

Result<std::vector<TreeEntry>> ListTree(const TreeSide& side) {
  std::vector<std::pair<std::string, fs::path>> raw;
  std::set<std::string> directories;
  std::error_code ec;
  fs::recursive_directory_iterator it(side.root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot list " + side.root.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(ErrorCode::kIo, "cannot list " + side.root.string() + ": " + ec.message());
    const fs::path& full = it->path();
    const std::string relative = full.lexically_relative(side.root).generic_string();
    std::error_code type_ec;
    const auto type = it->symlink_status(type_ec).type();
    if (type == fs::file_type::directory) {
      directories.insert(relative);
      continue;
    }
    if (side.unpacked && relative == kManifestName) continue;
    if (raw.size() + directories.size() >= kMaxTreeEntries) {
      return Fail(ErrorCode::kLimitExceeded, side.root.string() + " holds more than " +
                                                 std::to_string(kMaxTreeEntries) + " entries");
    }
    raw.emplace_back(relative, full);
  }
  std::vector<TreeEntry> entries;
  if (!side.unpacked) {
    for (auto& [relative, full] : raw) entries.push_back({std::move(relative), std::move(full)});
  } else {
    std::vector<std::string> all_paths;
    all_paths.reserve(raw.size() + directories.size());
    for (const auto& [relative, full] : raw) all_paths.push_back(relative);
    all_paths.insert(all_paths.end(), directories.begin(), directories.end());
    const diff::RootfsPathNormaliser normaliser(all_paths);
    for (auto& [relative, full] : raw) {
      // A container that was unpacked is compared through its members.
      if (directories.count(relative + std::string(kExtractSuffix)) != 0) continue;
      entries.push_back({normaliser.Normalise(relative), std::move(full)});
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return entries;
}

// Maps a regular file without following a final symlink.
Result<MappedFile> MapRegular(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return Fail(ErrorCode::kIo, "cannot open: " + std::string(strerror(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument, "not a regular file");
  }
  return MappedFile::FromFd(fd.get(), path.string());
}

}  // namespace

FileComparison CompareFilesOnDisk(const fs::path& delivered, const fs::path& rebuilt,
                                  const Tolerances& tolerances) {
  ComparisonRecorder recorder(tolerances);
  std::error_code ec_a;
  std::error_code ec_b;
  const auto type_a = fs::symlink_status(delivered, ec_a).type();
  const auto type_b = fs::symlink_status(rebuilt, ec_b).type();
  if (type_a != type_b) {
    recorder.Uncomparable("delivered is " + std::string(TypeName(type_a)) + ", rebuilt is " +
                          std::string(TypeName(type_b)));
    return recorder.Finish("file", true);
  }
  if (type_a == fs::file_type::symlink) {
    const auto target_a = fs::read_symlink(delivered, ec_a);
    const auto target_b = fs::read_symlink(rebuilt, ec_b);
    if (ec_a || ec_b) {
      recorder.Uncomparable("cannot read the symlink");
      return recorder.Finish("symlink", true);
    }
    if (target_a != target_b) {
      recorder.Differ({"symlink target", {}, 0, target_a.string() + " vs " + target_b.string()});
    }
    return recorder.Finish("symlink", target_a != target_b);
  }
  if (type_a != fs::file_type::regular) {
    recorder.Uncomparable("not a regular file or symlink (" + std::string(TypeName(type_a)) + ")");
    return recorder.Finish("special", true);
  }
  auto map_a = MapRegular(delivered);
  if (!map_a) {
    recorder.Uncomparable("delivered: " + map_a.error().message);
    return recorder.Finish("file", true);
  }
  auto map_b = MapRegular(rebuilt);
  if (!map_b) {
    recorder.Uncomparable("rebuilt: " + map_b.error().message);
    return recorder.Finish("file", true);
  }
  return CompareContents(map_a->bytes(), map_b->bytes(), tolerances);
}

Result<void> CompareTrees(const TreeSide& delivered, const TreeSide& rebuilt,
                          const Tolerances& tolerances, std::size_t threads,
                          const PathResultSink& sink) {
  auto list_a = ListTree(delivered);
  if (!list_a) return Unexpected(std::move(list_a).error());
  auto list_b = ListTree(rebuilt);
  if (!list_b) return Unexpected(std::move(list_b).error());
  // Pairs by path (both lists are sorted), one batch at a time.
  struct Pair {
    const TreeEntry* a = nullptr;
    const TreeEntry* b = nullptr;
  };
  ThreadPool pool(threads == 0 ? DefaultThreadCount() : threads);
  std::vector<Pair> batch;
  std::vector<PathResult> results;
  auto run_batch = [&] {
    results.assign(batch.size(), PathResult{});
    for (std::size_t k = 0; k < batch.size(); ++k) {
      pool.Submit([&batch, &results, &tolerances, k] {
        const Pair& pair = batch[k];
        PathResult& result = results[k];
        result.path = (pair.a != nullptr ? pair.a : pair.b)->path;
        if (pair.a == nullptr || pair.b == nullptr) {
          result.comparison.verdict =
              pair.a != nullptr ? Verdict::kOnlyInDelivered : Verdict::kOnlyInRebuilt;
          result.comparison.kind = "file";
          return;
        }
        result.comparison = CompareFilesOnDisk(pair.a->full, pair.b->full, tolerances);
      });
    }
    pool.WaitIdle();
    for (auto& result : results) sink(std::move(result));
    batch.clear();
  };
  std::size_t i = 0;
  std::size_t j = 0;
  const auto& a = *list_a;
  const auto& b = *list_b;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].path < b[j].path)) {
      batch.push_back({&a[i++], nullptr});
    } else if (i == a.size() || b[j].path < a[i].path) {
      batch.push_back({nullptr, &b[j++]});
    } else {
      batch.push_back({&a[i++], &b[j++]});
    }
    if (batch.size() == kPairsPerBatch) run_batch();
  }
  if (!batch.empty()) run_batch();
  return {};
}

Result<std::vector<PathResult>> CompareTrees(const TreeSide& delivered, const TreeSide& rebuilt,
                                             const Tolerances& tolerances, std::size_t threads) {
  std::vector<PathResult> out;
  auto done = CompareTrees(delivered, rebuilt, tolerances, threads,
                           [&out](PathResult&& result) { out.push_back(std::move(result)); });
  if (!done) return Unexpected(std::move(done).error());
  return out;
}

}  // namespace clearbox::equiv
