// The portal's operations endpoints (issue 19): /healthz (the process answers), /readyz (the
// database answers with the schema this binary expects) and /metrics (Prometheus text format:
// HTTP requests and their latency, the scan queue by state, queue wait and run time of finished
// jobs, busy workers). None needs a login; none shows a name, a project or a release.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "store/portal_store.hpp"

namespace clearbox::portal {

// Upper bounds (seconds) of the request latency histogram's buckets (+Inf is implied).
inline constexpr std::array<double, 11> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0};

// Counters of the requests the portal answered; safe to update from every server thread.
class RequestMetrics {
 public:
  // Counts one answered request.
  void Observe(int status, std::chrono::nanoseconds latency);
  // The http_* metric families in Prometheus text format.
  std::string Render() const;

 private:
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_microseconds_{0};
  std::array<std::atomic<std::uint64_t>, 5> by_class_{};  // 1xx .. 5xx
};

// The job metric families (queue depth per state, queue wait and run time quantiles of finished
// jobs, workers holding a live lease) in Prometheus text format, from the store's jobs at `now`.
std::string RenderJobMetrics(const std::vector<store::Job>& jobs, store::UnixSeconds now,
                             int in_process_workers);

}  // namespace clearbox::portal
