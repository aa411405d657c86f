#include "vuln/update.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "vuln/writer.hpp"

namespace clearbox::vuln {
namespace {

using Json = nlohmann::json;
constexpr int kMaxAttempts = 5;
// Redirects HttpGet follows at most.
constexpr int kMaxRedirects = 5;
constexpr const char* kProgressKey = "update_progress";

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

// "YYYY-MM-DDTHH:MM:SS..." -> seconds since the epoch (UTC); -1 if malformed.
std::int64_t ParseIso(const std::string& s) {
  std::tm tm{};
  if (s.size() < 19 || std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string FormatIso(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// "scheme://host:port" of an absolute URL as curl parses it (port made explicit), "" if
// curl cannot parse it.
std::string OriginOf(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return "";
  std::string origin;
  for (auto [part, flags, sep] :
       {std::tuple{CURLUPART_SCHEME, 0u, ""}, std::tuple{CURLUPART_HOST, 0u, "://"},
        std::tuple{CURLUPART_PORT, unsigned{CURLU_DEFAULT_PORT}, ":"}}) {
    char* value = nullptr;
    if (curl_url_get(u.get(), part, &value, flags) != CURLUE_OK || !value) return "";
    origin += sep;
    origin += value;
    curl_free(value);
  }
  std::transform(origin.begin(), origin.end(), origin.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return origin;
}

std::size_t WriteBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * count > kMaxResponseBytes) return 0;  // aborts the transfer
  body->append(data, size * count);
  return size * count;
}

// Test hook: with $CLEARBOX_UPDATE_TEST_STALL equal to `stage`, creates the file named by
// $CLEARBOX_UPDATE_TEST_MARKER and sleeps, so that a test can kill the process right here.
void StallForTest(const char* stage) {
  const char* want = std::getenv("CLEARBOX_UPDATE_TEST_STALL");
  if (want == nullptr || std::string(want) != stage) return;
  if (const char* marker = std::getenv("CLEARBOX_UPDATE_TEST_MARKER"); marker != nullptr) {
    std::ofstream(marker) << stage << "\n";
  }
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

// Identity of the database an update started from: size and modification time.
std::string Fingerprint(const std::filesystem::path& db) {
  struct stat st {};
  if (::stat(db.c_str(), &st) != 0) return "absent";
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

Result<void> FsyncPath(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kIo, "cannot open " + path.string() + " to fsync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Fail(ErrorCode::kIo, "fsync failed on " + path.string());
  return {};
}

// Copies `from` into the (new, empty) database file `to` with SQLite's backup API.
Result<void> CopyDatabase(const std::filesystem::path& from, const std::filesystem::path& to) {
  auto src = SqliteDb::Open(from, true);
  if (!src) return Forward(src);
  auto dst = SqliteDb::Open(to, false);
  if (!dst) return Forward(dst);
  sqlite3_backup* backup = sqlite3_backup_init(dst->handle(), "main", src->handle(), "main");
  if (backup == nullptr) return Fail(ErrorCode::kIo, "backup: " + dst->LastError());
  const int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return Fail(ErrorCode::kIo, "copying the database failed");
  return {};
}

Result<Json> ReadProgress(VulnWriter& w) {
  auto stmt = w.db().Prepare("SELECT value FROM meta WHERE key = ?1");
  if (!stmt) return Forward(stmt);
  stmt->BindText(1, kProgressKey);
  auto row = stmt->Step();
  if (!row) return Forward(row);
  if (!*row) return Json();
  auto j = Json::parse(stmt->Text(0), nullptr, false);
  return j.is_discarded() ? Json() : j;
}

Result<void> WriteProgress(VulnWriter& w, const Json& progress) {
  auto stmt = w.db().Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)");
  if (!stmt) return Forward(stmt);
  stmt->BindText(1, kProgressKey);
  stmt->BindText(2, progress.dump());
  return stmt->Run();
}

// Imports one response inside a transaction that also stores `progress`: a page and the
// position after it are committed together or not at all.
Result<FeedStats> ImportPage(VulnWriter& w, const std::string& body, const Json& progress) {
  CLEARBOX_TRY(w.Begin());
  std::uint64_t put = 0;
  FeedSink sink;
  sink.on_vuln = [&](VulnRecord&& r) -> Result<void> {
    if (++put == 2) StallForTest("write");
    return w.PutVuln(std::move(r));
  };
  auto stats = ParseFeedBytes(body, sink);
  if (!stats) {
    w.Rollback();
    return stats;
  }
  if (auto p = WriteProgress(w, progress); !p) {
    w.Rollback();
    return Forward(p);
  }
  if (auto c = w.Commit(); !c) {
    w.Rollback();
    return Forward(c);
  }
  return stats;
}

class Updater {
 public:
  Updater(const UpdateOptions& o, VulnWriter& w, Json& progress, UpdateReport& report)
      : options_(o), writer_(w), progress_(progress), report_(report) {}

  Result<void> Nvd() {
    const std::string now = progress_["window_end"];
    std::vector<std::string> headers;
    if (!options_.api_key.empty()) headers.push_back("apiKey: " + options_.api_key);
    double delay = options_.request_delay_s;
    if (delay < 0) delay = options_.api_key.empty() ? 6.0 : 0.6;
    for (;;) {
      const std::string start = progress_.value("nvd_window_start", "");
      std::string end;
      std::string url = options_.nvd_url + "?resultsPerPage=" + std::to_string(options_.page_size) +
                        "&startIndex=" + std::to_string(progress_.value("nvd_index", 0));
      if (!start.empty()) {
        const std::int64_t s = ParseIso(start);
        const std::int64_t e = ParseIso(now);
        if (s < 0 || e < 0) return Fail(ErrorCode::kMalformed, "bad update window");
        end = FormatIso(std::min<std::int64_t>(e, s + kNvdMaxWindowDays * 86400LL));
        url += "&lastModStartDate=" + UrlEncode(start) + "&lastModEndDate=" + UrlEncode(end);
      }
      if (report_.requests > 0 && delay > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(delay * 1000)));
      }
      auto body = HttpGet(url, headers);
      ++report_.requests;
      if (!body) return Forward(body);
      StallForTest("downloaded");
      // The position after this page, committed with it.
      Json next = progress_;
      std::int64_t index = progress_.value("nvd_index", 0);
      auto stats = ImportPage(writer_, *body, next);  // progress fixed below
      if (!stats) return Fail(stats.error().code, "NVD response: " + stats.error().message);
      report_.nvd_records += stats->vulns;
      if (stats->newest_modified > newest_nvd_) newest_nvd_ = stats->newest_modified;
      index += static_cast<std::int64_t>(stats->vulns);
      const bool window_done =
          stats->vulns == 0 || stats->total_results < 0 || index >= stats->total_results;
      if (window_done) {
        next["nvd_index"] = 0;
        if (start.empty() || end >= now) {
          next["nvd_done"] = true;
        } else {
          next["nvd_window_start"] = end;
        }
      } else {
        next["nvd_index"] = index;
      }
      // Store the advanced position (a tiny second transaction: replaying a page after a
      // crash between the two is harmless, records are replaced by id).
      CLEARBOX_TRY(writer_.Begin());
      if (auto p = WriteProgress(writer_, next); !p) {
        writer_.Rollback();
        return p;
      }
      CLEARBOX_TRY(writer_.Commit());
      progress_ = next;
      if (progress_.value("nvd_done", false)) return {};
    }
  }

  Result<void> Osv(const std::string& since) {
    const std::string now = progress_["window_end"];
    const auto& ecosystems = options_.osv_ecosystems;
    for (std::size_t e = progress_.value("osv_ecosystem", 0); e < ecosystems.size(); ++e) {
      const std::string base = options_.osv_url + "/" + UrlEncode(ecosystems[e]);
      auto listing = HttpGet(base + "/modified_id.csv", {});
      ++report_.requests;
      if (!listing) return Forward(listing);
      // "modified,id" lines, newest first; keep (since, now].
      std::vector<std::string> ids;
      std::istringstream in(*listing);
      std::string line;
      while (std::getline(in, line) && ids.size() < options_.osv_max_records) {
        const auto comma = line.find(',');
        if (comma == std::string::npos) continue;
        const std::string modified = line.substr(0, comma);
        std::string id = line.substr(comma + 1);
        while (!id.empty() && (id.back() == '\r' || id.back() == ' ')) id.pop_back();
        if (modified > now || id.empty() || id.find('/') != std::string::npos) continue;
        if (!since.empty() && modified <= since) continue;
        ids.push_back(id);
      }
      std::sort(ids.begin(), ids.end());
      for (std::size_t i = progress_.value("osv_index", 0); i < ids.size(); ++i) {
        auto body = HttpGet(base + "/" + UrlEncode(ids[i]) + ".json", {});
        ++report_.requests;
        if (!body) return Forward(body);
        Json next = progress_;
        next["osv_ecosystem"] = e;
        next["osv_index"] = i + 1;
        auto stats = ImportPage(writer_, *body, next);
        if (!stats) return Fail(stats.error().code, ids[i] + ": " + stats.error().message);
        report_.osv_records += stats->vulns;
        if (stats->newest_modified > newest_osv_) newest_osv_ = stats->newest_modified;
        progress_ = next;
      }
      progress_["osv_ecosystem"] = e + 1;
      progress_["osv_index"] = 0;
    }
    return {};
  }

  std::string newest_nvd_, newest_osv_;

 private:
  const UpdateOptions& options_;
  VulnWriter& writer_;
  Json& progress_;
  UpdateReport& report_;
};

}  // namespace

Result<std::string> HttpGet(const std::string& url, const std::vector<std::string>& headers) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  // Redirects are followed here, not by curl: curl 7.88 sends custom headers (our apiKey) to
  // whatever host a redirect names, over any protocol. A redirect to the same origin keeps the
  // headers; one to another origin must be https and loses them.
  std::string target = url;
  std::vector<std::string> sent_headers = headers;
  int redirects = 0;
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
    std::string body;
    curl_slist* list = nullptr;
    for (const auto& h : sent_headers) list = curl_slist_append(list, h.c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> list_guard(list, curl_slist_free_all);
    curl_easy_setopt(curl.get(), CURLOPT_URL, target.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(curl.get(), CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "clearbox/0.1 (db update)");
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(curl.get());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    char* location = nullptr;
    if (rc == CURLE_OK && status >= 300 && status < 400 &&
        curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
      const std::string next = location;
      if (++redirects > kMaxRedirects) return Fail(ErrorCode::kIo, url + ": too many redirects");
      const std::string from = OriginOf(target), to = OriginOf(next);
      if (to.empty() || (to != from && !to.starts_with("https://"))) {
        return Fail(ErrorCode::kIo,
                    target + ": refused redirect to " + next + " (another origin must be https)");
      }
      if (to != from) sent_headers.clear();
      target = next;
      --attempt;  // a redirect is not a failed attempt
      continue;
    }
    const bool retry = rc == CURLE_OK && (status == 429 || status == 503 || status == 403);
    if (retry && attempt < kMaxAttempts) {
      std::this_thread::sleep_for(std::chrono::seconds(attempt * 2));
      continue;
    }
    if (rc != CURLE_OK) {
      return Fail(ErrorCode::kIo, url + ": " + curl_easy_strerror(rc));
    }
    if (status != 200) return Fail(ErrorCode::kIo, url + ": HTTP " + std::to_string(status));
    return body;
  }
}

namespace {

// The options with defaults from the environment filled in, checked.
Result<UpdateOptions> CompleteOptions(const UpdateOptions& given) {
  UpdateOptions options = given;
  if (options.nvd_url.empty()) {
    options.nvd_url = EnvOr("CLEARBOX_NVD_URL", "https://services.nvd.nist.gov/rest/json/cves/2.0");
  }
  if (options.osv_url.empty()) {
    options.osv_url =
        EnvOr("CLEARBOX_OSV_URL", "https://osv-vulnerabilities.storage.googleapis.com");
  }
  if (options.api_key.empty()) options.api_key = EnvOr("NVD_API_KEY", "");
  if (options.page_size < 1 || options.page_size > 2000) {
    return Fail(ErrorCode::kInvalidArgument, "page size must be 1..2000");
  }
  if (!options.now.empty() && ParseIso(options.now) < 0) {
    return Fail(ErrorCode::kInvalidArgument, "--now must be YYYY-MM-DDTHH:MM:SS");
  }
  return options;
}

}  // namespace

Result<UpdateReport> UpdateDatabase(const UpdateOptions& given) {
  auto completed = CompleteOptions(given);
  if (!completed) return Forward(completed);
  const UpdateOptions& options = *completed;
  const auto db = options.db_path;
  const auto tmp = std::filesystem::path(db.string() + ".update");
  const auto journal = std::filesystem::path(tmp.string() + "-journal");
  std::error_code ec;
  if (db.has_parent_path()) std::filesystem::create_directories(db.parent_path(), ec);
  const std::string base = Fingerprint(db);

  UpdateReport report;
  Json progress;
  std::optional<VulnWriter> writer;
  if (std::filesystem::exists(tmp, ec)) {
    // A previous run was interrupted: resume if it started from this very database.
    auto w = VulnWriter::Open(tmp);  // rolls back a half-written page (hot journal)
    if (w) {
      auto p = ReadProgress(*w);
      if (p && p->is_object() && p->value("base", "") == base) {
        progress = *p;
        writer.emplace(std::move(*w));
        report.resumed = true;
      }
    }
    if (!writer) {
      std::filesystem::remove(tmp, ec);
      std::filesystem::remove(journal, ec);
    }
  }
  if (!writer) {
    if (base != "absent") CLEARBOX_TRY(CopyDatabase(db, tmp));
    auto w = VulnWriter::Open(tmp);
    if (!w) return Forward(w);
    writer.emplace(std::move(*w));
    auto nvd_since = writer->SourceUpdateEnd("nvd");
    if (!nvd_since) return Forward(nvd_since);
    auto osv_since = writer->SourceUpdateEnd("osv");
    if (!osv_since) return Forward(osv_since);
    const std::string now =
        options.now.empty() ? FormatIso(std::time(nullptr)) : FormatIso(ParseIso(options.now));
    progress = Json{{"base", base},
                    {"window_end", now},
                    {"nvd_window_start", *nvd_since},
                    {"nvd_index", 0},
                    {"nvd_done", options.skip_nvd},
                    {"osv_since", *osv_since},
                    {"osv_ecosystem", 0},
                    {"osv_index", 0}};
    CLEARBOX_TRY(writer->Begin());
    CLEARBOX_TRY(WriteProgress(*writer, progress));
    CLEARBOX_TRY(writer->Commit());
  }

  if (!progress.value("done", false)) {
    Updater updater(options, *writer, progress, report);
    if (!progress.value("nvd_done", false)) CLEARBOX_TRY(updater.Nvd());
    CLEARBOX_TRY(updater.Osv(progress.value("osv_since", "")));
    // Finish inside the copy; "done" lets an interrupted swap resume straight to the rename.
    const std::string end = progress["window_end"];
    CLEARBOX_TRY(writer->Begin());
    if (!options.skip_nvd) {
      CLEARBOX_TRY(writer->NoteSource("nvd", options.nvd_url, updater.newest_nvd_, end));
    }
    if (!options.osv_ecosystems.empty()) {
      CLEARBOX_TRY(writer->NoteSource("osv", options.osv_url, updater.newest_osv_, end));
    }
    progress["done"] = true;
    CLEARBOX_TRY(WriteProgress(*writer, progress));
    CLEARBOX_TRY(writer->Commit());
  }
  const std::string window_end = progress["window_end"];
  writer.reset();  // closes the connection
  CLEARBOX_TRY(FsyncPath(tmp, false));
  StallForTest("swap");
  if (Fingerprint(db) != base) {
    return Fail(ErrorCode::kIo, "the database changed during the update; run it again");
  }
  if (::rename(tmp.c_str(), db.c_str()) != 0) {
    return Fail(ErrorCode::kIo, "cannot rename " + tmp.string() + " to " + db.string());
  }
  CLEARBOX_TRY(FsyncPath(db.has_parent_path() ? db.parent_path() : ".", true));
  std::ostringstream summary;
  summary << "updated " << db.string() << " to " << window_end << ": " << report.nvd_records
          << " NVD records, " << report.osv_records << " OSV records, " << report.requests
          << " requests" << (report.resumed ? " (resumed an interrupted update)" : "");
  report.summary = summary.str();
  return report;
}

}  // namespace clearbox::vuln
