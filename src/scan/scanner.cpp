#include "scan/scanner.hpp"

#include <fcntl.h>

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "core/beneath.hpp"
#include "core/hashing.hpp"
#include "core/mapped_file.hpp"
#include "core/thread_pool.hpp"
#include "elf/hardening.hpp"
#include "identify/identifier.hpp"
#include "inspect/inspector.hpp"
#include "report/renderers.hpp"
#include "scan/file_type.hpp"
#include "vuln/sbom_input.hpp"
#include "vuln/store.hpp"
#include "vuln/vex.hpp"

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
    const UniqueFd tree_fd(::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto mapped = MapFileBeneath(tree_fd.get(), libc_path);
    if (mapped) {
      auto catalog = elf::FortifyCatalog::FromLibc(mapped->bytes());
      if (catalog) return std::move(*catalog);
    }
  }
  return elf::FortifyCatalog::Default();
}

// Hardening facts of every ELF, analysed in parallel once the image's libc is known; an ELF
// that cannot be read or parsed becomes an analysis problem.
std::vector<report::BinaryRecord> AnalyseBinaries(const fs::path& tree,
                                                  const std::vector<std::string>& paths,
                                                  const elf::FortifyCatalog& catalog,
                                                  std::size_t threads,
                                                  std::vector<AnalysisProblem>& problems) {
  std::vector<std::optional<report::BinaryRecord>> slots(paths.size());
  std::vector<std::optional<AnalysisProblem>> failures(paths.size());
  // Opened beneath the tree one component at a time: nested paths may pass PATH_MAX.
  const UniqueFd tree_fd(::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  {
    ThreadPool pool(threads ? threads : DefaultThreadCount());
    for (std::size_t i = 0; i < paths.size(); ++i) {
      pool.Submit([&, i] {
        auto mapped = MapFileBeneath(tree_fd.get(), paths[i]);
        if (!mapped) {
          failures[i] = MakeAnalysisProblem(paths[i], "elf", mapped.error());
          return;
        }
        auto facts = elf::AnalyzeElf(mapped->bytes(), catalog);
        if (facts) {
          slots[i] = report::BinaryRecord{paths[i], std::move(*facts)};
        } else {
          failures[i] = MakeAnalysisProblem(paths[i], "elf", facts.error());
        }
      });
    }
    pool.WaitIdle();
  }
  std::vector<report::BinaryRecord> out;
  for (auto& s : slots) {
    if (s) out.push_back(std::move(*s));
  }
  for (auto& f : failures) {
    if (f) problems.push_back(std::move(*f));
  }
  return out;
}

// Opens the vulnerability database the options name (see ScanOptions::vuln_db).
Result<vuln::VulnStore> OpenVulnStore(const ScanOptions& options) {
  if (!options.vuln_db.empty()) return vuln::VulnStore::Open(options.vuln_db);
  std::error_code ec;
  if (fs::exists(vuln::DefaultDbPath(), ec)) return vuln::VulnStore::Open(vuln::DefaultDbPath());
  auto db = vuln::ImportSnapshot(options.data_dir / "vuln" / "snapshot");
  if (!db) return Forward(db);
  return vuln::VulnStore::FromDatabase(std::move(*db), "bundled snapshot");
}

// Matches every component (already in canonical order) and applies the VEX statements.
Result<void> MatchVulnerabilities(const ScanOptions& options, report::Evidence& evidence) {
  if (!options.match_vulnerabilities) return {};
  vuln::VexStatements vex;
  for (const auto& path : options.vex_files) {
    auto read = vuln::ReadVex(path);
    if (!read) {
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot read VEX " + path.string() + ": " + read.error().message);
    }
    for (auto& st : read->statements) vex.statements.push_back(std::move(st));
  }
  auto store = OpenVulnStore(options);
  if (!store) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot open the vulnerability database: " + store.error().message);
  }
  if (auto info = store->Info()) evidence.vuln_database = info->location;
  std::vector<vuln::ComponentQuery> queries;
  queries.reserve(evidence.components.size());
  for (const auto& c : evidence.components) queries.push_back({c.name, c.version, c.cpe, c.purl});
  auto all_matches = store->MatchAll(queries);
  if (!all_matches) return Forward(all_matches);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto& query = queries[i];
    for (auto& m : (*all_matches)[i]) {
      report::VulnerabilityRecord record;
      record.component = i;
      if (const auto* st = vex.Find(m.id, query)) {
        record.vex_status = std::string(vuln::VexStatusName(st->status));
        record.vex_justification = st->justification;
        record.vex_detail =
            !st->impact_statement.empty() ? st->impact_statement : st->action_statement;
      }
      record.match = std::move(m);
      evidence.vulnerabilities.push_back(std::move(record));
    }
  }
  report::Canonicalize(evidence);
  return {};
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
  evidence.binaries =
      AnalyseBinaries(tree, collector.elf_paths(), LibcCatalog(tree, evidence.libc_path),
                      options.unpack.threads, evidence.analysis_problems);
  evidence.components = identifier->Finish(tree);
  evidence.findings = inspector->Finish();
  for (auto& p : identifier->problems()) evidence.analysis_problems.push_back(std::move(p));
  for (auto& p : inspector->problems()) evidence.analysis_problems.push_back(std::move(p));
  evidence.created_at = options.created_at;
  report::Canonicalize(evidence);
  if (auto matched = MatchVulnerabilities(options, evidence); !matched) return Forward(matched);
  return evidence;
}

bool LooksLikeSbom(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4096] = {};
  in.read(head, sizeof head);
  const std::string_view text(head, static_cast<std::size_t>(in.gcount()));
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') return false;
  return text.find("\"bomFormat\"") != std::string_view::npos ||
         text.find("\"spdxVersion\"") != std::string_view::npos;
}

Result<report::Evidence> ScanSbom(const ScanOptions& options) {
  const fs::path input = options.unpack.image_path;
  auto mapped = MappedFile::Open(input.string());
  if (!mapped) return Fail(ErrorCode::kInvalidArgument, mapped.error().message);
  auto queries = vuln::ReadSbomComponents(input);
  if (!queries) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot read SBOM " + input.string() + ": " + queries.error().message);
  }
  report::Evidence evidence;
  evidence.input_kind = "sbom";
  evidence.manifest.image = {input.filename().string(), mapped->size(), Sha256Hex(mapped->bytes())};
  for (const auto& q : *queries) {
    identify::Component c;
    c.name = q.name;
    c.version = q.version;
    c.cpe = q.cpe;
    c.purl = q.purl;
    c.confidence = Confidence(1.0);  // as the SBOM's author states it
    c.evidence.push_back({input.filename().string(), "sbom",
                          !q.purl.empty()  ? q.purl
                          : !q.cpe.empty() ? q.cpe
                                           : q.name + "@" + q.version});
    evidence.components.push_back(std::move(c));
  }
  evidence.created_at = options.created_at;
  report::Canonicalize(evidence);
  if (auto matched = MatchVulnerabilities(options, evidence); !matched) return Forward(matched);
  return evidence;
}

Result<void> WriteReports(const report::Evidence& evidence, const fs::path& dir) {
  if (auto r = WriteText(dir / "report.json", report::RenderReportJson(evidence)); !r) return r;
  if (auto r = WriteText(dir / "sbom.cdx.json", report::RenderCycloneDx(evidence)); !r) return r;
  if (auto r = WriteText(dir / "sbom.spdx.json", report::RenderSpdx(evidence)); !r) return r;
  if (auto r = WriteText(dir / "vex.cdx.json", report::RenderCycloneDxVex(evidence)); !r) return r;
  return WriteText(dir / "vulnerabilities.sarif", report::RenderSarif(evidence));
}

}  // namespace clearbox::scan
