// /healthz, /readyz and /metrics over a real socket, on the store the suite runs on (SQLite, or
// PostgreSQL in portal_suites_on_postgresql): no login needed, nothing private shown, queue
// figures that follow the jobs in the store, request counters that follow the requests.
#include "portal/operations.hpp"
#include "portal/event_log.hpp"
#include "portal/portal_test_fixture.hpp"

namespace clearbox::portal::test {
namespace {

// The value of the sample line that starts with `series` ("name{labels}"); -1 if absent.
double Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST_F(PortalServer, HealthReadinessAndMetricsNeedNoLoginAndFollowTheQueue) {
  const auto health = Curl("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  const auto ready = Curl("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(Curl("GET", "/api/v1/whoami", "").status, 401);

  // Three uploads: one waits, one runs (claimed at 1000 with a live lease), one finished after
  // waiting 40 s and running 25 s.
  const std::string digest(64, 'e');
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_
                    ->CreateReleaseWithJob({0, w_.project_a, "v" + std::to_string(i),
                                            store::ReleaseKind::kImage, "fw", digest, 1, 0, 0},
                                           960)
                    .has_value());
  }
  auto first = *store_->ClaimJob({"host:1:0", 1000, 600, 3});
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(*store_->FinishJob(first->id, "host:1:0", "", 1025));
  ASSERT_TRUE(store_->ClaimJob({"host:2:0", now_.load(), 600, 3})->has_value());

  const auto metrics = Curl("GET", "/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.Header("content-type").find("text/plain; version=0.0.4"), std::string::npos);
  const std::string& m = metrics.body;
  EXPECT_EQ(Sample(m, "clearbox_jobs{state=\"queued\"}"), 1) << m;
  EXPECT_EQ(Sample(m, "clearbox_jobs{state=\"running\"}"), 1);
  EXPECT_EQ(Sample(m, "clearbox_jobs{state=\"done\"}"), 1);
  EXPECT_EQ(Sample(m, "clearbox_jobs{state=\"failed\"}"), 0);
  EXPECT_EQ(Sample(m, "clearbox_job_queue_wait_seconds{quantile=\"0.95\"}"), 40);
  EXPECT_EQ(Sample(m, "clearbox_job_run_seconds{quantile=\"0.5\"}"), 25);
  EXPECT_EQ(Sample(m, "clearbox_workers_busy"), 1);
  EXPECT_EQ(Sample(m, "clearbox_database_up"), 1);
  // The requests before this one: /healthz, /readyz (2xx) and whoami without a token (4xx).
  EXPECT_EQ(Sample(m, "clearbox_http_requests_total{code=\"2xx\"}"), 2);
  EXPECT_EQ(Sample(m, "clearbox_http_requests_total{code=\"4xx\"}"), 1);
  EXPECT_EQ(Sample(m, "clearbox_http_request_duration_seconds_count"), 3);
  EXPECT_EQ(Sample(m, "clearbox_http_request_duration_seconds_bucket{le=\"+Inf\"}"), 3);
  // Nothing private: no project, user or organisation name.
  for (const char* name : {"Vendor A", "vendor-a", "admin", "Customer"}) {
    EXPECT_EQ(m.find(name), std::string::npos) << name;
  }
}

// Structured logs: one JSON object per line, never interleaved across threads, hostile bytes
// replaced rather than thrown on.
TEST(PortalOperations, EventLogWritesWholeJsonLinesFromManyThreads) {
  TempDir tmp;
  std::FILE* file = std::fopen((tmp / "events.log").c_str(), "w+");
  ASSERT_NE(file, nullptr);
  {
    EventLog log(file);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 200; ++i) {
          log.Write("job.done", {{"job", t * 1000 + i}, {"error", std::string(300, 'x')}});
        }
      });
    }
    for (auto& thread : threads) thread.join();
    log.Write("job.failed", {{"error", "bad \xff byte"}});
  }
  std::fclose(file);
  std::istringstream lines(ReadFileBytes(tmp / "events.log"));
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    const auto json = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << line.substr(0, 200);
    EXPECT_EQ(json["time"].get<std::string>().size(), 20u);
    EXPECT_TRUE(json["event"] == "job.done" || json["event"] == "job.failed");
    ++count;
  }
  EXPECT_EQ(count, 8 * 200 + 1);
}

TEST(PortalOperations, RequestHistogramBucketsAreCumulative) {
  RequestMetrics metrics;
  metrics.Observe(200, std::chrono::milliseconds(3));
  metrics.Observe(200, std::chrono::milliseconds(30));
  metrics.Observe(503, std::chrono::seconds(20));
  const std::string text = metrics.Render();
  EXPECT_EQ(Sample(text, "clearbox_http_request_duration_seconds_bucket{le=\"0.005\"}"), 1);
  EXPECT_EQ(Sample(text, "clearbox_http_request_duration_seconds_bucket{le=\"0.05\"}"), 2);
  EXPECT_EQ(Sample(text, "clearbox_http_request_duration_seconds_bucket{le=\"10\"}"), 2);
  EXPECT_EQ(Sample(text, "clearbox_http_request_duration_seconds_bucket{le=\"+Inf\"}"), 3);
  EXPECT_EQ(Sample(text, "clearbox_http_requests_total{code=\"5xx\"}"), 1);
  EXPECT_NEAR(Sample(text, "clearbox_http_request_duration_seconds_sum"), 20.033, 1e-6);
}

}  // namespace
}  // namespace clearbox::portal::test
