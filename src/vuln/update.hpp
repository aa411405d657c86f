// `clearbox db update`: incremental, resumable fetch from the NVD 2.0 API and OSV, with an
// atomic swap of the database file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace clearbox::vuln {

inline constexpr int kNvdMaxWindowDays = 120;                 // the API's lastMod range limit
inline constexpr std::size_t kMaxResponseBytes = 512u << 20;  // one HTTP response

// Where and what to fetch. Base URLs default to the public services; $CLEARBOX_NVD_URL and
// $CLEARBOX_OSV_URL override the defaults, and flags override both.
struct UpdateOptions {
  std::filesystem::path db_path;
  std::string nvd_url;  // default https://services.nvd.nist.gov/rest/json/cves/2.0
  std::string osv_url;  // default https://osv-vulnerabilities.storage.googleapis.com
  std::vector<std::string> osv_ecosystems;  // e.g. "Debian", "Alpine"; none = skip OSV
  bool skip_nvd = false;
  std::string api_key;                  // NVD API key (default $NVD_API_KEY)
  int page_size = 2000;                 // NVD resultsPerPage (the API maximum)
  double request_delay_s = -1;          // pause between NVD requests; <0: 6 s, or 0.6 s with a key
  std::string now;                      // window end, "YYYY-MM-DDTHH:MM:SS.000Z" (default: now)
  std::size_t osv_max_records = 20000;  // per ecosystem and run
};

// What an update did.
struct UpdateReport {
  std::uint64_t nvd_records = 0, osv_records = 0, requests = 0;
  bool resumed = false;
  std::string summary;
};

// Copies the database to "<db>.update" (or resumes that copy when its recorded base still
// matches the database), fetches every change since the last update window into it
// (committing page by page with its progress), then fsyncs and renames it over the database.
// An interruption at any point leaves the old database untouched; the next run resumes.
Result<UpdateReport> UpdateDatabase(const UpdateOptions& options);

// One HTTP(S) GET with retries on 429/503/403; the body, capped at kMaxResponseBytes.
Result<std::string> HttpGet(const std::string& url, const std::vector<std::string>& headers);

}  // namespace clearbox::vuln
