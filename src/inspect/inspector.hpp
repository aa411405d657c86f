// Inspector: finds secrets and weak configuration in an unpacked tree, one file at a time
// (from worker threads), then runs the whole-tree checks and returns sorted findings.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/analysis_problem.hpp"
#include "core/file_view.hpp"
#include "core/result.hpp"
#include "inspect/finding.hpp"

namespace clearbox::inspect {

// Default limits on cracking password hashes against the default-credential list.
inline constexpr double kDefaultCrackSecondsPerFile = 10.0;
inline constexpr double kDefaultCrackSecondsPerScan = 60.0;
inline constexpr std::size_t kDefaultMaxSlowAttempts = 12;  // bcrypt/yescrypt/scrypt per hash
// Findings kept per file; more are replaced by one "inspect.truncated" finding.
inline constexpr std::size_t kMaxFindingsPerFile = 1000;
// Pattern matches examined per file, and of them PEM blocks and DER objects decoded.
inline constexpr std::size_t kMaxMatchesPerFile = 20000;
inline constexpr std::size_t kMaxPemAttemptsPerFile = 512;
inline constexpr std::size_t kMaxDerAttemptsPerFile = 4096;

// How an Inspector judges certificates and how long it may crack password hashes.
struct InspectOptions {
  // Certificate validity is judged at this Unix time (pass SOURCE_DATE_EPOCH or the scan
  // time); 0 means the wall-clock time when the Inspector is created.
  std::int64_t now_unix = 0;
  bool crack_passwords = true;
  double crack_seconds_per_file = kDefaultCrackSecondsPerFile;
  double crack_seconds_per_scan = kDefaultCrackSecondsPerScan;
  std::size_t max_slow_attempts = kDefaultMaxSlowAttempts;
};

class Inspector {
 public:
  // Loads the rules and the default-credential list from rules_dir (data/inspect).
  static Result<Inspector> Create(const std::filesystem::path& rules_dir,
                                  InspectOptions options = {});
  Inspector(Inspector&&) noexcept;
  Inspector& operator=(Inspector&&) noexcept;
  ~Inspector();

  // Inspects one object: regular files by content, every object by mode (suid,
  // world-writable); thread-safe; called from worker threads as files are extracted.
  void AddFile(const FileView& file);

  // Runs what needs the whole tree (shadow+passwd pairing) and returns findings in a
  // canonical order (deterministic across runs and thread counts). Call it after every
  // AddFile has returned. It clears the collected findings; the per-scan crack time budget
  // is not renewed, so use one Inspector per scan.
  std::vector<Finding> Finish();

  // What could not be inspected (a pattern scan that failed on a file), canonical order.
  std::vector<AnalysisProblem> problems() const;

 private:
  Inspector() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clearbox::inspect
