#include "portal/operations.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace clearbox::portal {
namespace {

// Prometheus sample values: integers as integers, others with enough digits.
std::string Number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

// The q-quantile (nearest rank) of sorted `values`; 0 when empty.
double Quantile(const std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

void Summary(std::string& out, const std::string& name, const std::string& help,
             std::vector<double> values) {
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double value : values) sum += value;
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " summary\n";
  for (double q : {0.5, 0.95}) {
    out += name + "{quantile=\"" + Number(q) + "\"} " + Number(Quantile(values, q)) + "\n";
  }
  out += name + "_sum " + Number(sum) + "\n";
  out += name + "_count " + std::to_string(values.size()) + "\n";
}

}  // namespace

void RequestMetrics::Observe(int status, std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++buckets_[i];
  }
  ++count_;
  sum_microseconds_ += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  const int status_class = status / 100;
  if (status_class >= 1 && status_class <= 5) ++by_class_[status_class - 1];
}

std::string RequestMetrics::Render() const {
  std::string out =
      "# HELP clearbox_http_requests_total Requests answered, by status class.\n"
      "# TYPE clearbox_http_requests_total counter\n";
  for (int i = 0; i < 5; ++i) {
    out += "clearbox_http_requests_total{code=\"" + std::to_string(i + 1) + "xx\"} " +
           std::to_string(by_class_[i].load()) + "\n";
  }
  out +=
      "# HELP clearbox_http_request_duration_seconds Time from request to response.\n"
      "# TYPE clearbox_http_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    out += "clearbox_http_request_duration_seconds_bucket{le=\"" + Number(kLatencyBuckets[i]) +
           "\"} " + std::to_string(buckets_[i].load()) + "\n";
  }
  const auto count = count_.load();
  out +=
      "clearbox_http_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
  out += "clearbox_http_request_duration_seconds_sum " +
         Number(static_cast<double>(sum_microseconds_.load()) / 1e6) + "\n";
  out += "clearbox_http_request_duration_seconds_count " + std::to_string(count) + "\n";
  return out;
}

std::string RenderJobMetrics(const std::vector<store::Job>& jobs, store::UnixSeconds now,
                             int in_process_workers) {
  std::array<std::uint64_t, 4> by_state{};
  std::vector<double> waits;
  std::vector<double> runs;
  std::set<std::string> busy;
  for (const auto& job : jobs) {
    ++by_state[static_cast<std::size_t>(job.state)];
    if (job.state == store::JobState::kRunning && job.lease_expires_at > now)
      busy.insert(job.worker);
    if (job.state == store::JobState::kDone && job.started_at > 0) {
      waits.push_back(static_cast<double>(job.started_at - job.created_at));
      runs.push_back(static_cast<double>(job.finished_at - job.started_at));
    }
  }
  std::string out =
      "# HELP clearbox_jobs Scan jobs by state.\n"
      "# TYPE clearbox_jobs gauge\n";
  for (store::JobState state : {store::JobState::kQueued, store::JobState::kRunning,
                                store::JobState::kDone, store::JobState::kFailed}) {
    out += "clearbox_jobs{state=\"" + std::string(store::JobStateName(state)) + "\"} " +
           std::to_string(by_state[static_cast<std::size_t>(state)]) + "\n";
  }
  Summary(out, "clearbox_job_queue_wait_seconds",
          "Upload to last claim, of the jobs that finished.", waits);
  Summary(out, "clearbox_job_run_seconds", "Last claim to finish, of the jobs that finished.",
          runs);
  out +=
      "# HELP clearbox_workers_busy Workers (any machine) holding a job with a live lease.\n"
      "# TYPE clearbox_workers_busy gauge\n"
      "clearbox_workers_busy " +
      std::to_string(busy.size()) +
      "\n"
      "# HELP clearbox_workers_in_process Scan workers of this server process.\n"
      "# TYPE clearbox_workers_in_process gauge\n"
      "clearbox_workers_in_process " +
      std::to_string(in_process_workers) + "\n";
  return out;
}

}  // namespace clearbox::portal
