// Structured logs of the portal and its workers: one JSON object per line
// ({"time":"2026-12-03T06:30:00Z","event":"job.done",...}), written whole under a lock so lines
// from many threads never interleave; what log shippers (journald, Loki, Elasticsearch) read
// without parsing prose.
#pragma once

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

namespace clearbox::portal {

class EventLog {
 public:
  // Lines go to `out` (stderr by default); the log does not own it.
  explicit EventLog(std::FILE* out = stderr) : out_(out) {}

  // Writes {"time","event", then `fields` in their order} as one line and flushes it.
  void Write(std::string_view event, const nlohmann::ordered_json& fields = {});

 private:
  std::mutex mutex_;
  std::FILE* out_;
};

}  // namespace clearbox::portal
