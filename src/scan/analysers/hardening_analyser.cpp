#include <fcntl.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/beneath.hpp"
#include "core/thread_pool.hpp"
#include "elf/hardening.hpp"
#include "scan/analysers/analysers.hpp"
#include "scan/file_type.hpp"

namespace clearbox::scan {
namespace {

namespace fs = std::filesystem;

// The FORTIFY catalogue of the image's own libc, or the built-in one.
elf::FortifyCatalog LibcCatalog(int tree_fd, const std::string& libc_path) {
  if (!libc_path.empty()) {
    auto mapped = MapFileBeneath(tree_fd, libc_path);
    if (mapped) {
      auto catalog = elf::FortifyCatalog::FromLibc(mapped->bytes());
      if (catalog) return std::move(*catalog);
    }
  }
  return elf::FortifyCatalog::Default();
}

class HardeningAnalyser final : public Analyser {
 public:
  std::string_view Name() const override { return "elf"; }

  void AddFile(const FileView& file) override {
    if (file.kind != FileKind::kRegular || FileTypeName(file) != "elf") return;
    std::lock_guard lock(mutex_);
    paths_.emplace_back(file.path);
  }

  // Analyses every ELF in parallel once the image's libc is known; an ELF that cannot be
  // read or parsed becomes an analysis problem.
  Result<void> Finish(const AnalysisContext& context, report::Evidence& evidence) override {
    std::sort(paths_.begin(), paths_.end());
    if (auto libc = elf::FindLibcPath(paths_)) evidence.libc_path = *libc;
    // Opened beneath the tree one component at a time: nested paths may pass PATH_MAX.
    const UniqueFd tree_fd(::open(context.tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const elf::FortifyCatalog catalog = LibcCatalog(tree_fd.get(), evidence.libc_path);
    std::vector<std::optional<report::BinaryRecord>> slots(paths_.size());
    std::vector<std::optional<AnalysisProblem>> failures(paths_.size());
    {
      const std::size_t threads = context.options.unpack.threads;
      ThreadPool pool(threads ? threads : DefaultThreadCount());
      for (std::size_t i = 0; i < paths_.size(); ++i) {
        pool.Submit([&, i] {
          auto mapped = MapFileBeneath(tree_fd.get(), paths_[i]);
          if (!mapped) {
            failures[i] = MakeAnalysisProblem(paths_[i], Name(), mapped.error());
            return;
          }
          auto facts = elf::AnalyzeElf(mapped->bytes(), catalog);
          if (facts) {
            slots[i] = report::BinaryRecord{paths_[i], std::move(*facts)};
          } else {
            failures[i] = MakeAnalysisProblem(paths_[i], Name(), facts.error());
          }
        });
      }
      pool.WaitIdle();
    }
    for (auto& slot : slots) {
      if (slot) evidence.binaries.push_back(std::move(*slot));
    }
    for (auto& failure : failures) {
      if (failure) evidence.analysis_problems.push_back(std::move(*failure));
    }
    return {};
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> paths_;
};

}  // namespace

std::unique_ptr<Analyser> MakeHardeningAnalyser() {
  return std::make_unique<HardeningAnalyser>();
}

}  // namespace clearbox::scan
