// The portal's in-process scan workers: threads that claim queued jobs from the store, verify
// the release's blob, scan it with a `clearbox scan` child process (hostile firmware can crash
// or exhaust a scanner; it then takes down one child, never the portal), diff it against the
// project's previous release, move the results into place and finish the job. A lease,
// renewed while the child runs, lets another worker take over a job whose worker died.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "portal/event_log.hpp"
#include "store/blob_store.hpp"
#include "store/portal_store.hpp"

namespace clearbox::portal {

// Where the results of release ID live: RESULTS/<id>/ (report.json, report.html, ...).
std::filesystem::path ReleaseResultsDir(const std::filesystem::path& results_root, store::Id id);

struct ScanWorkerOptions {
  store::PortalStore* store = nullptr;
  const store::BlobStore* blobs = nullptr;
  std::filesystem::path results_root;     // DATA/results
  std::filesystem::path clearbox_binary;  // the program run as `clearbox scan` / `clearbox diff`
  int workers = 1;
  std::chrono::seconds lease{120};
  std::chrono::seconds scan_timeout{3600};
  std::chrono::milliseconds idle_poll{1000};  // how often an idle worker looks for work
  std::int64_t max_attempts = 3;
  std::function<store::UnixSeconds()> now;
  // Where job events go as JSON lines (claimed, done, failed, returned, database errors);
  // none: not logged.
  EventLog* events = nullptr;
  // Reads the triage items out of a successful scan's results; they are stored in the same
  // transaction as the job's completion (none: no items).
  std::function<Result<std::vector<store::TriageItem>>(const std::filesystem::path& results)>
      collect_triage;
};

// The options of the portal's own workers (`clearbox serve` and `clearbox worker`): results in
// DATA/results, this program as the scanner, triage imported after each scan, the wall clock.
// kInternal if this program's path cannot be found.
Result<ScanWorkerOptions> PortalScanWorkerOptions(store::PortalStore& store,
                                                  const store::BlobStore& blobs,
                                                  const std::filesystem::path& data, int workers);

// A pool of scan worker threads; stopped (and joined) by Stop or the destructor.
class ScanWorkers {
 public:
  explicit ScanWorkers(ScanWorkerOptions options);
  ~ScanWorkers();
  ScanWorkers(const ScanWorkers&) = delete;
  ScanWorkers& operator=(const ScanWorkers&) = delete;

  // Starts the threads.
  void Start();
  // Wakes idle workers (a job was queued).
  void Wake();
  // Stops claiming, kills a running scan child, returns its job to the queue at once (another
  // worker takes it; a worker killed outright loses its job only until the lease expires) and
  // joins the threads.
  void Stop();

 private:
  void Loop(int index);
  void Log(std::string_view event, const nlohmann::ordered_json& fields);
  // Ends a job this worker holds, retrying while the database is unreachable (up to the lease);
  // false if the job was no longer this worker's.
  bool FinishHeldJob(store::Id job_id, const std::string& worker, const std::string& error,
                     const std::vector<store::TriageItem>& triage);
  // Runs one claimed job to its end; returns the error text ("" = done) and, when done, the
  // triage items of its results; `retry` is set when the database failed, not the job.
  std::string RunJob(const store::Job& job, const std::string& worker,
                     std::vector<store::TriageItem>& triage, bool& retry);
  // Runs argv as a child, renewing the job's lease while it runs; its exit status or an error.
  Result<int> RunChild(const std::vector<std::string>& argv, const std::filesystem::path& log,
                       const store::Job& job, const std::string& worker);

  ScanWorkerOptions options_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
};

}  // namespace clearbox::portal
