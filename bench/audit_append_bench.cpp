// Concurrent appends through the portal's audit trail (issue 19): W writer threads each record
// audit entries for a few seconds via portal::AuditTrail::Record, which group-commits them
// into DATA/audit-log with every acknowledged entry fsync'd. Prints entries/s and the p50/p95
// latency of one Record per writer count; then checks the log (every tile against the
// checkpoint) and that it holds exactly the acknowledged entries.
//
// Usage: audit_append_bench DIR [SECONDS_PER_RUN=3] [WRITERS=1,8,64,256]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "portal/audit_trail.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<std::size_t>(q * static_cast<double>(values.size() - 1)))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: audit_append_bench DIR [SECONDS=3] [WRITERS=1,8,64,256]\n");
    return 2;
  }
  const fs::path root = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  std::vector<int> writer_counts;
  std::stringstream list(argc > 3 ? argv[3] : "1,8,64,256");
  for (std::string item; std::getline(list, item, ',');) writer_counts.push_back(std::stoi(item));
  std::printf("| writers | entries | entries/s | Record p50 ms | Record p95 ms |\n");
  std::printf("|---|---|---|---|---|\n");
  int status = 0;
  for (int writers : writer_counts) {
    const fs::path dir = root / ("w" + std::to_string(writers));
    fs::remove_all(dir);
    auto trail = clearbox::portal::AuditTrail::Open(dir);
    if (!trail) {
      std::fprintf(stderr, "%s\n", trail.error().message.c_str());
      return 1;
    }
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> failures{0};
    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(writers));
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        for (int i = 0; !stop; ++i) {
          const auto before = Clock::now();
          auto index = (*trail)->Record(1800000000 + i, "bench-" + std::to_string(w), "comment.add",
                                        "item " + std::to_string(i), {{"item", i}, {"writer", w}});
          if (!index) ++failures;
          latencies[static_cast<std::size_t>(w)].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - before).count());
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& thread : threads) thread.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::printf("| %d | %zu | %.0f | %.1f | %.1f |\n", writers, all.size(),
                static_cast<double>(all.size()) / elapsed, Quantile(all, 0.5), Quantile(all, 0.95));
    trail->reset();  // releases the writer lock
    auto reopened = clearbox::portal::AuditTrail::Open(dir);
    auto entries = reopened
                       ? (*reopened)->CheckedEntries()
                       : clearbox::Result<std::vector<nlohmann::json>>(clearbox::Forward(reopened));
    if (!entries || entries->size() != all.size() - failures || failures > 0) {
      std::fprintf(stderr, "FAIL writers=%d: %s (%zu entries, %zu acknowledged, %llu failed)\n",
                   writers, entries ? "count differs" : entries.error().message.c_str(),
                   entries ? entries->size() : 0, all.size(),
                   static_cast<unsigned long long>(failures.load()));
      status = 1;
    }
  }
  return status;
}
