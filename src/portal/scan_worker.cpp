#include "portal/scan_worker.hpp"

#include <unistd.h>

#include <ctime>
#include <system_error>

#include "core/child_process.hpp"
#include "portal/triage.hpp"

namespace clearbox::portal {
namespace {

namespace fs = std::filesystem;

// How often a running child is checked (and the lease renewed when a third of it is gone).
constexpr std::chrono::milliseconds kChildPoll{100};
// Exit statuses of `clearbox scan` that still mean "reports written": 0, unpack problems (3),
// findings (5) and compliance verdicts that fail (1).
bool ScanCompleted(int status) {
  return status == 0 || status == 1 || status == 3 || status == 5;
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace

fs::path ReleaseResultsDir(const fs::path& results_root, store::Id id) {
  return results_root / std::to_string(id);
}

Result<ScanWorkerOptions> PortalScanWorkerOptions(store::PortalStore& store,
                                                  const store::BlobStore& blobs,
                                                  const fs::path& data, int workers) {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return Fail(ErrorCode::kInternal, "cannot find this program: " + ec.message());
  ScanWorkerOptions options;
  options.store = &store;
  options.blobs = &blobs;
  options.results_root = data / "results";
  options.clearbox_binary = self;
  options.workers = workers;
  options.collect_triage = TriageItemsOfResults;
  options.now = [] { return static_cast<store::UnixSeconds>(std::time(nullptr)); };
  return options;
}

ScanWorkers::ScanWorkers(ScanWorkerOptions options) : options_(std::move(options)) {}

ScanWorkers::~ScanWorkers() {
  Stop();
}

void ScanWorkers::Start() {
  std::error_code ec;
  fs::create_directories(options_.results_root, ec);
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

void ScanWorkers::Wake() {
  wake_.notify_all();
}

void ScanWorkers::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void ScanWorkers::Log(std::string_view event, const nlohmann::ordered_json& fields) {
  if (options_.events != nullptr) options_.events->Write(event, fields);
}

bool ScanWorkers::FinishHeldJob(store::Id job_id, const std::string& worker,
                                const std::string& error,
                                const std::vector<store::TriageItem>& triage) {
  // The database may be away for a moment (a restart, a failover): keep trying while the lease
  // would still be ours, so a finished scan is not redone. Past that, another worker redoes it.
  const auto give_up = std::chrono::steady_clock::now() + options_.lease;
  for (;;) {
    auto finished = error.empty()
                        ? options_.store->CompleteJob(job_id, worker, triage, options_.now())
                        : options_.store->FinishJob(job_id, worker, error, options_.now());
    if (finished) return *finished;
    if (stopping_ || std::chrono::steady_clock::now() >= give_up) return false;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_.load(); });
  }
}

void ScanWorkers::Loop(int index) {
  const std::string worker =
      HostName() + ":" + std::to_string(::getpid()) + ":" + std::to_string(index);
  bool database_down = false;  // logged once per outage, not once per poll
  while (!stopping_) {
    auto job = options_.store->ClaimJob(
        {worker, options_.now(), options_.lease.count(), options_.max_attempts});
    if (!job && !database_down)
      Log("database.unreachable", {{"worker", worker}, {"error", job.error().message}});
    if (job && database_down) Log("database.reachable", {{"worker", worker}});
    database_down = !job;
    if (job && *job) {
      const store::Job& held = **job;
      Log("job.claimed", {{"job", held.id},
                          {"release", held.release_id},
                          {"attempt", held.attempts},
                          {"worker", worker}});
      const auto started = std::chrono::steady_clock::now();
      std::vector<store::TriageItem> triage;
      bool retry = false;
      const std::string error = RunJob(held, worker, triage, retry);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (stopping_ && error == "stopped") {
        // Shutting down: the job goes back to the queue for another worker at once.
        (void)options_.store->ReturnJob(held.id, worker);
        Log("job.returned", {{"job", held.id}, {"release", held.release_id}, {"worker", worker}});
        return;
      }
      if (retry) {
        // The database failed under the job: give it back (if the database lets us; else its
        // lease runs out) and pause before claiming again.
        (void)options_.store->ReturnJob(held.id, worker);
        Log("job.returned",
            {{"job", held.id}, {"release", held.release_id}, {"worker", worker}, {"error", error}});
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, options_.idle_poll, [this] { return stopping_.load(); });
        continue;
      }
      const bool finished = FinishHeldJob(held.id, worker, error, triage);
      nlohmann::ordered_json fields = {
          {"job", held.id}, {"release", held.release_id}, {"worker", worker}, {"seconds", seconds}};
      if (!error.empty()) fields["error"] = error;
      // Not finished by us: the lease ran out and another worker holds (or finished) the job.
      Log(!finished ? "job.lost" : error.empty() ? "job.done" : "job.failed", fields);
      continue;
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.idle_poll, [this] { return stopping_.load(); });
  }
}

Result<int> ScanWorkers::RunChild(const std::vector<std::string>& argv, const fs::path& log,
                                  const store::Job& job, const std::string& worker) {
  auto renewed = std::chrono::steady_clock::now();
  ChildOptions child;
  child.log = log;
  child.timeout = options_.scan_timeout;
  child.poll = kChildPoll;
  child.keep_going = [&]() -> std::string {
    if (stopping_) return "stopped";
    const auto now = std::chrono::steady_clock::now();
    if (now - renewed > options_.lease / 3) {
      auto held =
          options_.store->RenewJobLease(job.id, worker, options_.now() + options_.lease.count());
      if (held && !*held) return "the job's lease was lost";
      renewed = now;  // a database error: try again a third of a lease later
    }
    return {};
  };
  auto status = RunChildProcess(argv, child);
  if (!status && status.error().message.starts_with("it took longer")) {
    return Fail(ErrorCode::kTimeout, "the scan took longer than " +
                                         std::to_string(options_.scan_timeout.count()) + " s");
  }
  return status;
}

std::string ScanWorkers::RunJob(const store::Job& job, const std::string& worker,
                                std::vector<store::TriageItem>& triage, bool& retry) {
  auto release = options_.store->FindRelease(job.release_id);
  if (!release) {
    retry = true;  // the database, not the job: another attempt will do
    return release.error().message;
  }
  if (!*release) return "the release is gone";
  auto blob = options_.blobs->Verified((*release)->blob_sha256);
  if (!blob) return blob.error().message;
  const fs::path work = options_.results_root /
                        ("tmp-" + std::to_string(job.id) + "-" + std::to_string(job.attempts));
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  if (ec) return "cannot create " + work.string();
  // The scanner tells an SBOM from an image by its name and contents.
  const fs::path input =
      work / ((*release)->kind == store::ReleaseKind::kSbom ? "input.json" : "input.bin");
  // A hard link (the scanner opens its input without following symlinks); a copy when the
  // results live on another file system than the blobs.
  fs::create_hard_link(*blob, input, ec);
  if (ec) fs::copy_file(*blob, input, ec);
  if (ec) return "cannot give the blob to the scanner: " + ec.message();
  const fs::path out = work / "out";
  auto scanned = RunChild({options_.clearbox_binary.string(), "scan", input.string(), "-o",
                           out.string(), "-q", "--standard", "all"},
                          work / "scan.log", job, worker);
  if (!scanned) {
    fs::remove_all(work, ec);
    return scanned.error().message;
  }
  if (!ScanCompleted(*scanned) || !fs::exists(out / "report.json")) {
    const std::string why =
        "clearbox scan exited " + std::to_string(*scanned) + ": " + LogTail(work / "scan.log");
    fs::remove_all(work, ec);
    return why;
  }
  fs::remove_all(out / "unpacked", ec);  // the blob stays; the tree can be made again
  // The diff against the project's latest earlier release that has results.
  auto releases = options_.store->ListReleasesOfProject((*release)->project_id);
  if (!releases) {
    fs::remove_all(work, ec);
    retry = true;
    return releases.error().message;
  }
  fs::path previous;
  for (const auto& r : *releases) {
    if (r.id == (*release)->id) break;
    const fs::path candidate = ReleaseResultsDir(options_.results_root, r.id) / "report.json";
    if (fs::exists(candidate, ec)) previous = candidate;
  }
  if (!previous.empty()) {
    auto diffed = RunChild({options_.clearbox_binary.string(), "diff", previous.string(),
                            (out / "report.json").string(), "-o", (out / "diff").string(), "-q"},
                           work / "diff.log", job, worker);
    if (!diffed) {
      fs::remove_all(work, ec);
      return diffed.error().message;
    }
  }
  const fs::path final_dir = ReleaseResultsDir(options_.results_root, (*release)->id);
  fs::remove_all(final_dir, ec);
  fs::rename(out, final_dir, ec);
  fs::remove_all(work, ec);
  if (ec) return "cannot move the results into place: " + ec.message();
  if (options_.collect_triage) {
    auto items = options_.collect_triage(final_dir);
    if (!items) return items.error().message;
    triage = std::move(*items);
  }
  return {};
}

}  // namespace clearbox::portal
