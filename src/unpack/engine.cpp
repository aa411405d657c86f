#include "unpack/engine.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include "core/beneath.hpp"
#include "core/entropy.hpp"
#include "core/hashing.hpp"
#include "core/mapped_file.hpp"
#include "core/progress.hpp"
#include "core/thread_pool.hpp"
#include "unpack/registry.hpp"
#include "unpack/signature_scanner.hpp"

namespace clearbox::unpack {
namespace {

namespace fs = std::filesystem;

// Scan windows bound the memory used for candidates on hostile input.
constexpr std::uint64_t kScanWindowBytes = 64ULL << 20;
constexpr std::size_t kMaxCandidatesPerWindow = 1 << 18;
// After this many rejected candidates in one file we stop carving it (recorded).
constexpr std::uint64_t kMaxRejectedProbesPerFile = 1 << 20;
// Probes are cheap one by one, but hostile candidates can be many: all probes of one handler
// in one file together get this much time, then that handler's remaining candidates in the
// file are skipped (recorded). Other handlers go on, so a flood of one format's candidates
// cannot hide a chunk of another format behind it.
constexpr auto kProbeTimePerHandlerPerFile = std::chrono::seconds(4);
// Problems recorded for malformed candidates of one file; the rest are counted in one line.
constexpr std::uint64_t kMaxProbeProblemsPerFile = 1000;

std::string Basename(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A chunk found in a container: [start, start + length).
struct FoundChunk {
  std::uint64_t start;
  std::uint64_t length;
};

// One file to scan: the image (depth 0) or a file a handler wrote.
struct ScanTask {
  std::string rel_path;  // relative to the output dir; "" for the image
  std::uint32_t depth = 0;
  std::vector<std::string> chain;
  std::uint32_t mode = 0;  // as the container stated it
  std::string sha256;
  // The expansion account of the chunk that produced this file (null for the image).
  std::shared_ptr<ExpansionAccount> from_chunk;
};

// An object a chunk produced, with the expansion account of that chunk.
struct ProducedEntry {
  ExtractedEntry entry;
  std::shared_ptr<ExpansionAccount> from_chunk;
};

FileKind KindOf(EntryType type) {
  switch (type) {
    case EntryType::kFile:
    case EntryType::kHardlink: return FileKind::kRegular;
    case EntryType::kDirectory: return FileKind::kDirectory;
    case EntryType::kSymlink: return FileKind::kSymlink;
    default: return FileKind::kOther;
  }
}

class Engine {
 public:
  Engine(const UnpackOptions& options, const SignatureScanner& scanner)
      : options_(options),
        scanner_(scanner),
        handlers_(AllHandlers()),
        budget_(options.limits),
        progress_(options.progress),
        pool_(options.threads ? options.threads : DefaultThreadCount()) {}

  Manifest Run(const std::string& out_abs, ImageRecord image) {
    manifest_.image = std::move(image);
    // Everything below the output directory is reached through this descriptor, one
    // component at a time: nested extractions give paths longer than PATH_MAX.
    out_fd_ = UniqueFd(::open(out_abs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!out_fd_) {
      AddProblem(Error{ErrorCode::kIo,
                       "cannot open the output directory " + out_abs + ": " + std::strerror(errno)},
                 "", std::nullopt, "engine");
    } else {
      Submit(ScanTask{});
    }
    pool_.WaitIdle();
    progress_.Stop();
    Canonicalize(manifest_);
    return std::move(manifest_);
  }

 private:
  void Submit(ScanTask task) {
    pool_.Submit([this, task = std::move(task)] { ScanFile(task); });
  }

  void AddProblem(ProblemRecord p) {
    std::lock_guard lock(mutex_);
    manifest_.problems.push_back(std::move(p));
  }

  void AddProblem(const Error& e, const std::string& path, std::optional<std::uint64_t> offset,
                  std::string handler) {
    AddProblem(ProblemRecord{std::string(ErrorCodeName(e.code)), path, offset, std::move(handler),
                             e.message});
  }

  // Hands one object to the caller's analysers; their failures never stop unpacking.
  void NotifyEntry(const FileView& view) {
    if (!options_.on_entry) return;
    try {
      options_.on_entry(view);
    } catch (const std::exception& e) {
      AddProblem(Error{ErrorCode::kInternal, std::string("analysis failed: ") + e.what()},
                 std::string(view.path), std::nullopt, "engine");
    }
  }

  // A file past the depth limit is not carved but is still analysed.
  void NotifyUnscannedFile(const ExtractedEntry& entry) {
    if (!options_.on_entry) return;
    auto mapped = MapFileBeneath(out_fd_.get(), entry.path);
    if (!mapped) return;
    NotifyEntry(
        FileView{entry.path, FileKind::kRegular, entry.mode, {}, entry.sha256, mapped->bytes()});
  }

  // Directory beside a container that holds the extractions of its chunks. The image's
  // chunks go straight into the output directory.
  Result<UniqueFd> ExtractionParent(const ScanTask& task, std::string& rel_out) {
    if (task.rel_path.empty()) {
      rel_out = "";
      return OpenDirectoryBeneath(out_fd_.get(), "");
    }
    auto container_dir = OpenParentBeneath(out_fd_.get(), task.rel_path);
    if (!container_dir) return Forward(container_dir);
    const int dir_fd = container_dir->first.get();
    const std::string base_name = container_dir->second + ".extract";
    const std::string base_rel = task.rel_path + ".extract";
    // The container's own archive may hold decoys named `x.extract`, `x.extract~1`, ...:
    // each costs the attacker one created entry, so trying one more name than the run may
    // create always finds a free one.
    const std::uint64_t attempts = options_.limits.max_files + 1;
    for (std::uint64_t attempt = 0; attempt < attempts; ++attempt) {
      const std::string suffix = attempt ? "~" + std::to_string(attempt) : "";
      const std::string name = base_name + suffix;
      if (::mkdirat(dir_fd, name.c_str(), 0755) == 0) {
        rel_out = base_rel + suffix;
        UniqueFd made(
            ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!made) break;
        return made;
      }
      if (errno != EEXIST) break;
    }
    return Fail(ErrorCode::kIo, "cannot create extraction directory beside " + task.rel_path);
  }

  void ScanFile(const ScanTask& task) {
    const std::string where = task.rel_path;
    auto mapped = task.rel_path.empty() ? MappedFile::Open(options_.image_path)
                                        : MapFileBeneath(out_fd_.get(), task.rel_path);
    if (!mapped) {
      AddProblem(mapped.error(), where, std::nullopt, "engine");
      return;
    }
    const ByteView data = mapped->bytes();
    if (!task.rel_path.empty()) {
      NotifyEntry(FileView{task.rel_path, FileKind::kRegular, task.mode, {}, task.sha256, data});
    }
    if (data.empty()) return;
    // This file and everything unpacked from it share one expansion allowance.
    const auto file_account = std::make_shared<ExpansionAccount>(
        task.from_chunk, data.size(), options_.limits.max_ratio,
        task.rel_path.empty() ? Basename(options_.image_path) : task.rel_path);

    std::vector<FoundChunk> found;
    std::vector<ProducedEntry> produced;
    UniqueFd extraction_parent;
    std::string extraction_parent_rel;
    std::uint64_t cursor = 0;
    std::uint64_t window = 0;
    std::uint64_t rejected = 0;
    std::uint64_t probe_problems = 0;
    std::vector<std::chrono::steady_clock::duration> probe_time(handlers_.size());
    bool carving_stopped = false;
    const std::uint64_t overlap = scanner_.max_signature_offset();

    while (window < data.size() && !carving_stopped) {
      const std::uint64_t window_end =
          std::min<std::uint64_t>(data.size(), window + kScanWindowBytes);
      std::uint64_t stopped_at = window_end;
      auto candidates =
          scanner_.Scan(data, window, std::min<std::uint64_t>(data.size(), window_end + overlap),
                        kMaxCandidatesPerWindow, &stopped_at);
      if (!candidates) {
        AddProblem(candidates.error(), where, window, "engine");
        break;
      }
      // Candidates whose start lies in this window (a chunk whose magic sits further in,
      // like ISO 9660 at 32 KiB, is seen in the overlap).
      const std::uint64_t process_end =
          std::min(window_end, stopped_at > window ? stopped_at : window + 1);
      for (const Candidate& c : *candidates) {
        if (c.start < cursor || c.start >= process_end) continue;
        const Handler& handler = *handlers_[c.handler_index];
        auto& spent = probe_time[c.handler_index];
        if (spent > kProbeTimePerHandlerPerFile) continue;
        const ByteView rest = data.subspan(c.start);
        const auto probe_start = std::chrono::steady_clock::now();
        auto probe = handler.Probe(rest);
        spent += std::chrono::steady_clock::now() - probe_start;
        if (spent > kProbeTimePerHandlerPerFile) {
          AddProblem(
              Error{ErrorCode::kTimeout, "checking " + std::string(handler.Name()) +
                                             " candidates took more than " +
                                             std::to_string(kProbeTimePerHandlerPerFile.count()) +
                                             " s; its later candidates in this file are skipped"},
              where, c.start, "engine");
        }
        if (!probe) {
          if (probe.error().code == ErrorCode::kTruncated ||
              probe.error().code == ErrorCode::kMalformed) {
            if (++probe_problems <= kMaxProbeProblemsPerFile) {
              AddProblem(probe.error(), where, c.start, std::string(handler.Name()));
            }
          }
          if (++rejected > kMaxRejectedProbesPerFile) {
            AddProblem(Error{ErrorCode::kLimitExceeded,
                             "more than " + std::to_string(kMaxRejectedProbesPerFile) +
                                 " false candidates; carving of this file stopped"},
                       where, c.start, "engine");
            carving_stopped = true;
            break;
          }
          continue;
        }
        if (*probe > rest.size()) {
          AddProblem(Error{ErrorCode::kInternal, "handler reported a chunk past end of data"},
                     where, c.start, std::string(handler.Name()));
          continue;
        }
        if (!extraction_parent) {
          auto parent = ExtractionParent(task, extraction_parent_rel);
          if (!parent) {
            AddProblem(parent.error(), where, c.start, "engine");
            carving_stopped = true;
            break;
          }
          extraction_parent = std::move(*parent);
        }
        auto length = ExtractChunk(task, handler, rest, *probe, c.start, extraction_parent.get(),
                                   extraction_parent_rel, file_account, produced);
        if (!length) continue;  // a false candidate after all
        found.push_back({c.start, *length});
        cursor = c.start + std::max<std::uint64_t>(*length, 1);
      }
      window = std::max(cursor, process_end);
    }

    if (probe_problems > kMaxProbeProblemsPerFile) {
      AddProblem(
          Error{ErrorCode::kMalformed, std::to_string(probe_problems - kMaxProbeProblemsPerFile) +
                                           " more malformed candidates not listed"},
          where, std::nullopt, "engine");
    }
    RecordGaps(task, data, found);
    for (auto& [entry, from_chunk] : produced) {
      if (!entry.created) continue;
      if (entry.type != EntryType::kFile) {
        // Hard links share the content of a file that is analysed on its own.
        if (entry.type != EntryType::kHardlink) {
          NotifyEntry(
              FileView{entry.path, KindOf(entry.type), entry.mode, entry.link_target, {}, {}});
        }
        continue;
      }
      if (task.depth + 1 > options_.limits.max_depth) {
        AddProblem(Error{ErrorCode::kLimitExceeded,
                         "nesting depth limit of " + std::to_string(options_.limits.max_depth) +
                             " reached; not unpacked further (--max-depth)"},
                   entry.path, std::nullopt, "engine");
        NotifyUnscannedFile(entry);
        continue;
      }
      ScanTask child;
      child.rel_path = entry.path;
      child.depth = task.depth + 1;
      child.chain = entry.chain;
      child.mode = entry.mode;
      child.sha256 = entry.sha256;
      child.from_chunk = from_chunk;
      Submit(std::move(child));
    }
    std::lock_guard lock(mutex_);
    for (auto& p : produced) manifest_.files.push_back(std::move(p.entry));
  }

  // Extracts one candidate; returns its length, or an error when it was a false candidate.
  Result<std::uint64_t> ExtractChunk(const ScanTask& task, const Handler& handler, ByteView rest,
                                     std::uint64_t probed_length, std::uint64_t offset,
                                     int parent_fd, const std::string& parent_rel,
                                     const std::shared_ptr<ExpansionAccount>& file_account,
                                     std::vector<ProducedEntry>& produced) {
    const std::string dir_name = HexOffset(offset) + "." + std::string(handler.Name());
    const std::string dir_rel = parent_rel.empty() ? dir_name : parent_rel + "/" + dir_name;
    const ByteView chunk = probed_length ? rest.subspan(0, probed_length) : rest;
    ChunkBudget chunk_budget(budget_, chunk.size(), file_account, dir_rel);
    auto out = SafeDir::CreateAt(parent_fd, dir_name, dir_rel, &chunk_budget);
    if (!out) {
      AddProblem(out.error(), task.rel_path, offset, std::string(handler.Name()));
      return Forward(out);
    }
    progress_.SetCurrent(std::string(handler.Name()) + " in " +
                         (task.rel_path.empty() ? Basename(options_.image_path) : task.rel_path));
    std::vector<ProblemRecord> problems;
    ExtractContext ctx(**out, chunk_budget,
                       Basename(task.rel_path.empty() ? options_.image_path : task.rel_path),
                       problems, std::string(handler.Name()), offset);
    Result<std::uint64_t> consumed = Fail(ErrorCode::kInternal, "handler did not run");
    try {
      consumed = handler.Extract(chunk, ctx);
    } catch (const std::exception& e) {
      consumed = Fail(ErrorCode::kInternal, std::string("handler threw: ") + e.what());
    }
    auto entries = (*out)->TakeEntries();
    const bool produced_something = !entries.empty();
    if (!consumed && !produced_something && probed_length == 0 &&
        consumed.error().code != ErrorCode::kLimitExceeded &&
        consumed.error().code != ErrorCode::kTimeout) {
      // A stream whose header looked right but whose data did not decode: not a chunk.
      out->reset();
      RemoveTreeAt(parent_fd, dir_name);
      return Forward(consumed);
    }
    ChunkRecord record;
    record.container = task.rel_path;
    record.offset = offset;
    record.format = std::string(handler.Name());
    record.handler = std::string(handler.Family()) + "/" + std::string(handler.Name());
    record.extracted_to = dir_rel;
    record.depth = task.depth;
    record.metadata = ctx.TakeMetadata();
    if (consumed && !produced_something && !record.metadata.empty()) {
      // Recognised, not extracted (encrypted container, RTOS image): no directory.
      out->reset();
      RemoveTreeAt(parent_fd, dir_name);
      record.extracted_to.clear();
    }
    std::uint64_t length = probed_length;
    if (consumed) {
      if (length == 0) length = std::min<std::uint64_t>(*consumed, chunk.size());
      record.length = length;
    } else {
      record.complete = false;
      if (probed_length) {
        record.length = probed_length;
      } else if (consumed.error().code == ErrorCode::kLimitExceeded ||
                 consumed.error().code == ErrorCode::kTimeout) {
        // A stream stopped by a limit has no known end: the limit ends this branch, so the
        // rest of the container is not carved (it would only restart the same stream).
        length = chunk.size();
      } else if (ctx.noted_consumed() > 0) {
        // Complete members before the failing one belong to this chunk; carving goes on at
        // the failing member, which is then tried once on its own.
        length = std::min<std::uint64_t>(ctx.noted_consumed(), chunk.size());
        record.length = length;
      }
      problems.push_back(ProblemRecord{std::string(ErrorCodeName(consumed.error().code)),
                                       task.rel_path, offset, std::string(handler.Name()),
                                       consumed.error().message});
    }
    std::vector<std::string> chain = task.chain;
    chain.push_back(std::string(handler.Name()));
    std::uint64_t file_count = 0;
    for (auto& e : entries) {
      e.chain = chain;
      if (e.type == EntryType::kFile) ++file_count;
    }
    progress_.AddFiles(file_count);
    progress_.AddBytes(chunk_budget.output_bytes());
    {
      std::lock_guard lock(mutex_);
      manifest_.chunks.push_back(std::move(record));
      for (auto& p : problems) manifest_.problems.push_back(std::move(p));
    }
    for (auto& e : entries) produced.push_back({std::move(e), chunk_budget.account()});
    return length;
  }

  // Records the bytes between chunks (and the whole image if nothing was recognised).
  void RecordGaps(const ScanTask& task, ByteView data, const std::vector<FoundChunk>& found) {
    if (found.empty()) {
      if (task.depth == 0) {
        std::lock_guard lock(mutex_);
        manifest_.gaps.push_back({"", 0, data.size(), ShannonEntropy(data)});
        manifest_.problems.push_back({std::string(ErrorCodeName(ErrorCode::kUnsupported)), "", 0,
                                      "engine", "no known format found in the image"});
      }
      return;
    }
    std::vector<GapRecord> gaps;
    std::uint64_t pos = 0;
    for (const auto& f : found) {
      if (f.start > pos) {
        gaps.push_back(
            {task.rel_path, pos, f.start - pos, ShannonEntropy(data.subspan(pos, f.start - pos))});
      }
      pos = std::max(pos, f.start + f.length);
    }
    if (pos < data.size()) {
      gaps.push_back({task.rel_path, pos, data.size() - pos, ShannonEntropy(data.subspan(pos))});
    }
    std::lock_guard lock(mutex_);
    for (auto& g : gaps) manifest_.gaps.push_back(std::move(g));
  }

  const UnpackOptions& options_;
  const SignatureScanner& scanner_;
  std::span<const Handler* const> handlers_;
  Budget budget_;
  Progress progress_;
  std::mutex mutex_;
  Manifest manifest_;
  UniqueFd out_fd_;
  ThreadPool pool_;  // last: its workers stop before the members they use are destroyed
};

}  // namespace

Result<Manifest> Unpack(const UnpackOptions& options) {
  struct stat st {};
  if (::stat(options.image_path.c_str(), &st) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot read image " + options.image_path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument, options.image_path + " is not a regular file");
  }
  auto image_map = MappedFile::Open(options.image_path);
  if (!image_map) return Fail(ErrorCode::kInvalidArgument, image_map.error().message);
  ImageRecord image;
  image.path = Basename(options.image_path);
  image.size = image_map->size();
  image.sha256 = Sha256Hex(image_map->bytes());
  image_map = MappedFile();

  std::error_code ec;
  if (fs::exists(options.output_dir, ec)) {
    if (!fs::is_directory(options.output_dir, ec)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "output " + options.output_dir + " exists and is not a directory");
    }
    if (!fs::is_empty(options.output_dir, ec)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "output directory " + options.output_dir + " is not empty; refusing to mix runs");
    }
  } else if (!fs::create_directories(options.output_dir, ec)) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot create output directory " + options.output_dir + ": " + ec.message());
  }
  const std::string out_abs = fs::canonical(options.output_dir, ec).string();
  if (ec) return Fail(ErrorCode::kIo, "cannot resolve " + options.output_dir + ": " + ec.message());

  auto scanner = SignatureScanner::Build(AllHandlers());
  if (!scanner) return Forward(scanner);
  Manifest manifest;
  {
    Engine engine(options, **scanner);
    manifest = engine.Run(out_abs, std::move(image));
  }
  const std::string json = ManifestToJson(manifest);
  const std::string manifest_path = out_abs + "/manifest.json";
  std::ofstream file(manifest_path, std::ios::binary | std::ios::trunc);
  file.write(json.data(), static_cast<std::streamsize>(json.size()));
  if (!file.good()) return Fail(ErrorCode::kIo, "cannot write " + manifest_path);
  return manifest;
}

}  // namespace clearbox::unpack
