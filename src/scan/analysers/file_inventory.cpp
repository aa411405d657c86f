#include <mutex>
#include <string>
#include <vector>

#include "scan/analysers/analysers.hpp"
#include "scan/file_type.hpp"

namespace clearbox::scan {
namespace {

class FileInventoryAnalyser final : public Analyser {
 public:
  std::string_view Name() const override { return "files"; }

  void AddFile(const FileView& file) override {
    report::FileRecord record;
    record.path = std::string(file.path);
    record.type = FileTypeName(file);
    record.mode = file.mode;
    record.link_target = std::string(file.link_target);
    if (file.kind == FileKind::kRegular) {
      record.size = file.bytes.size();
      record.sha256 = std::string(file.sha256);
    }
    std::lock_guard lock(mutex_);
    files_.push_back(std::move(record));
  }

  Result<void> Finish(const AnalysisContext&, report::Evidence& evidence) override {
    std::lock_guard lock(mutex_);
    for (auto& record : files_) evidence.files.push_back(std::move(record));
    files_.clear();
    return {};
  }

 private:
  std::mutex mutex_;
  std::vector<report::FileRecord> files_;
};

}  // namespace

std::unique_ptr<Analyser> MakeFileInventoryAnalyser() {
  return std::make_unique<FileInventoryAnalyser>();
}

}  // namespace clearbox::scan
