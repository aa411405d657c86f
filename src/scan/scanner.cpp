#include "scan/scanner.hpp"

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "core/mapped_file.hpp"
#include "core/thread_pool.hpp"
#include "elf/hardening.hpp"
#include "identify/identifier.hpp"
#include "inspect/inspector.hpp"
#include "report/renderers.hpp"
#include "scan/file_type.hpp"

namespace clearbox::scan {
namespace {

namespace fs = std::filesystem;

// What the extraction callback collects; shared by the worker threads.
class Collector {
 public:
  Collector(identify::ComponentIdentifier& identifier, inspect::Inspector& inspector)
      : identifier_(identifier), inspector_(inspector) {}

  // Called from the unpack workers for every created object.
  void OnEntry(const FileView& file) {
    report::FileRecord record;
    record.path = std::string(file.path);
    record.type = FileTypeName(file);
    record.mode = file.mode;
    record.link_target = std::string(file.link_target);
    if (file.kind == FileKind::kRegular) {
      record.size = file.bytes.size();
      record.sha256 = std::string(file.sha256);
      identifier_.AddFile(file);
    }
    inspector_.AddFile(file);
    std::lock_guard lock(mutex_);
    if (record.type == "elf") elf_paths_.push_back(record.path);
    files_.push_back(std::move(record));
  }

  std::vector<report::FileRecord> TakeFiles() { return std::move(files_); }
  const std::vector<std::string>& elf_paths() const { return elf_paths_; }

 private:
  identify::ComponentIdentifier& identifier_;
  inspect::Inspector& inspector_;
  std::mutex mutex_;
  std::vector<report::FileRecord> files_;
  std::vector<std::string> elf_paths_;
};

// The FORTIFY catalogue of the image's own libc, or the built-in one.
elf::FortifyCatalog LibcCatalog(const fs::path& tree, const std::string& libc_path) {
  if (!libc_path.empty()) {
    auto mapped = MappedFile::Open((tree / libc_path).string());
    if (mapped) {
      auto catalog = elf::FortifyCatalog::FromLibc(mapped->bytes());
      if (catalog) return std::move(*catalog);
    }
  }
  return elf::FortifyCatalog::Default();
}

// Hardening facts of every ELF, analysed in parallel once the image's libc is known.
std::vector<report::BinaryRecord> AnalyseBinaries(const fs::path& tree,
                                                  const std::vector<std::string>& paths,
                                                  const elf::FortifyCatalog& catalog,
                                                  std::size_t threads) {
  std::vector<std::optional<report::BinaryRecord>> slots(paths.size());
  {
    ThreadPool pool(threads ? threads : DefaultThreadCount());
    for (std::size_t i = 0; i < paths.size(); ++i) {
      pool.Submit([&, i] {
        auto mapped = MappedFile::Open((tree / paths[i]).string());
        if (!mapped) return;
        auto facts = elf::AnalyzeElf(mapped->bytes(), catalog);
        if (facts) slots[i] = report::BinaryRecord{paths[i], std::move(*facts)};
      });
    }
    pool.WaitIdle();
  }
  std::vector<report::BinaryRecord> out;
  for (auto& s : slots) {
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

Result<void> WriteText(const fs::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) return Fail(ErrorCode::kIo, "cannot write " + path.string());
  return {};
}

}  // namespace

Result<report::Evidence> ScanImage(const ScanOptions& options) {
  // Missing or broken data files make the installation unusable, like an unreadable image.
  auto unusable_data = [&](const Error& e) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot load data files from " + options.data_dir.string() + ": " + e.message);
  };
  auto identifier = identify::ComponentIdentifier::Create(options.data_dir / "signatures");
  if (!identifier) return unusable_data(identifier.error());
  inspect::InspectOptions inspect_options;
  inspect_options.now_unix = options.now;
  auto inspector = inspect::Inspector::Create(options.data_dir / "inspect", inspect_options);
  if (!inspector) return unusable_data(inspector.error());

  Collector collector(*identifier, *inspector);
  unpack::UnpackOptions unpack_options = options.unpack;
  unpack_options.on_entry = [&collector](const FileView& file) { collector.OnEntry(file); };
  auto manifest = unpack::Unpack(unpack_options);
  if (!manifest) return Forward(manifest);

  const fs::path tree = options.unpack.output_dir;
  report::Evidence evidence;
  evidence.manifest = std::move(*manifest);
  evidence.files = collector.TakeFiles();
  if (auto libc = elf::FindLibcPath(collector.elf_paths())) evidence.libc_path = *libc;
  evidence.binaries = AnalyseBinaries(tree, collector.elf_paths(),
                                      LibcCatalog(tree, evidence.libc_path), options.unpack.threads);
  evidence.components = identifier->Finish(tree);
  evidence.findings = inspector->Finish();
  evidence.created_at = options.created_at;
  report::Canonicalize(evidence);
  return evidence;
}

Result<void> WriteReports(const report::Evidence& evidence, const fs::path& dir) {
  if (auto r = WriteText(dir / "report.json", report::RenderReportJson(evidence)); !r) return r;
  if (auto r = WriteText(dir / "sbom.cdx.json", report::RenderCycloneDx(evidence)); !r) return r;
  return WriteText(dir / "sbom.spdx.json", report::RenderSpdx(evidence));
}

}  // namespace clearbox::scan
