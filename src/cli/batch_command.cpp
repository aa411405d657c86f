// `clearbox batch DIR|LIST -o OUT`: many images scanned by a bounded pool of `clearbox scan`
// child processes (a scanner that crashes on hostile firmware takes down one child), resumable
// (an image whose scan completed, unchanged since, is not scanned again), with one summary
// table at the end and OUT/batch-summary.json. For evaluators without a portal (issue 19).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "core/child_process.hpp"
#include "core/exit_codes.hpp"
#include "core/hashing.hpp"

namespace clearbox::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// The file in each image's result directory that marks a completed scan (and of what input).
constexpr std::string_view kDoneMarker = "batch-done.json";
// What `clearbox scan` exit statuses mean "reports written" (complete, unpack problems,
// findings over --fail-on; compliance verdicts that fail exit 1).
bool ScanCompleted(int status) {
  return status == 0 || status == 1 || status == 3 || status == 5;
}

struct BatchArgs {
  std::string input;
  std::string output;
  int jobs = 0;  // 0 = one per core
  int timeout_seconds = 3600;
  std::string standard;
  std::string vuln_db;
  bool no_vuln = false;
  bool keep_unpacked = false;
  bool quiet = false;
};

// One image of the batch and what became of it.
struct BatchItem {
  std::string label;  // the path as listed (relative to DIR, or as written in LIST)
  fs::path path;
  std::string slug;                // its directory under OUT/scans
  std::string status = "pending";  // scanned, resumed, failed
  std::string error;
  int exit_status = -1;
  double seconds = 0;
  std::string sha256;
  std::int64_t size = 0;
  Json summary;  // report.json's summary
};

// A directory name for `label`: safe characters only, bounded, and a short digest of the label
// so two labels never share one.
std::string Slug(const std::string& label) {
  std::string slug;
  for (char c : label) {
    const bool safe =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    slug += c == '/' ? '_' : safe ? c : '_';
    if (slug.size() >= 80) break;
  }
  while (!slug.empty() && slug.front() == '.') slug.erase(0, 1);
  const std::string digest =
      Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()));
  return slug + "-" + digest.substr(0, 10);
}

Result<std::string> FileSha256(const fs::path& path, std::int64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kIo, "cannot read " + path.string());
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  std::int64_t total = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = in.gcount();
    if (got <= 0) break;
    total += got;
    hash.Update(ByteView(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                         static_cast<std::size_t>(got)));
  }
  if (in.bad()) return Fail(ErrorCode::kIo, "cannot read " + path.string());
  *size = total;
  return hash.FinishHex();
}

// The images under DIR (regular files, symlinks not followed, OUT skipped), by path.
Result<std::vector<BatchItem>> ItemsOfDirectory(const fs::path& dir, const fs::path& out) {
  std::vector<BatchItem> items;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot list " + dir.string() + ": " + ec.message());
  const fs::path out_canonical = fs::weakly_canonical(out, ec);
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(ErrorCode::kIo, "cannot list " + dir.string() + ": " + ec.message());
    if (it->is_directory(ec) && !it->is_symlink(ec) &&
        fs::weakly_canonical(it->path(), ec) == out_canonical) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec) || !it->is_regular_file(ec) || it->file_size(ec) == 0) continue;
    BatchItem item;
    item.label = it->path().lexically_relative(dir).generic_string();
    item.path = it->path();
    items.push_back(std::move(item));
  }
  return items;
}

// The images a LIST names: one path per line, '#' comments and blank lines skipped, relative
// paths from LIST's directory.
Result<std::vector<BatchItem>> ItemsOfList(const fs::path& list) {
  std::ifstream in(list);
  if (!in) return Fail(ErrorCode::kIo, "cannot read " + list.string());
  std::vector<BatchItem> items;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (line.find('\0') != std::string::npos || line.size() > 4096) {
      return Fail(ErrorCode::kInvalidArgument,
                  list.string() + ":" + std::to_string(number) +
                      ": not a path (LIST is a text file with one image path per line)");
    }
    BatchItem item;
    item.label = line;
    item.path = fs::path(line).is_absolute() ? fs::path(line) : list.parent_path() / line;
    items.push_back(std::move(item));
  }
  return items;
}

// The completed scan recorded in `dir`, if it was of this very input.
bool AlreadyDone(const fs::path& dir, const BatchItem& item, Json* marker) {
  std::ifstream in(dir / std::string(kDoneMarker));
  if (!in) return false;
  auto json = Json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return false;
  if (json.value("sha256", "") != item.sha256 || json.value("size", -1) != item.size) return false;
  *marker = std::move(json);
  return true;
}

Json ReportSummary(const fs::path& report) {
  std::ifstream in(report);
  auto json = Json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.contains("summary")) return Json::object();
  return json["summary"];
}

// Scans one item into OUT/scans/<slug> (through a temporary directory renamed into place, so a
// directory there is always a completed scan).
void ScanItem(const BatchArgs& args, const fs::path& self, const fs::path& scans, BatchItem& item) {
  const auto started = std::chrono::steady_clock::now();
  auto finish = [&](std::string status, std::string error = {}) {
    item.status = std::move(status);
    item.error = std::move(error);
    item.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto digest = FileSha256(item.path, &item.size);
  if (!digest) return finish("failed", digest.error().message);
  item.sha256 = *digest;
  const fs::path final_dir = scans / item.slug;
  Json marker;
  if (AlreadyDone(final_dir, item, &marker)) {
    item.exit_status = marker.value("exit_status", 0);
    item.summary = ReportSummary(final_dir / "report.json");
    return finish("resumed");
  }
  const fs::path work = scans / (".tmp-" + item.slug);
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  if (ec) return finish("failed", "cannot create " + work.string() + ": " + ec.message());
  std::vector<std::string> argv = {self.string(),           "scan", item.path.string(), "-o",
                                   (work / "out").string(), "-q"};
  if (!args.standard.empty()) argv.insert(argv.end(), {"--standard", args.standard});
  if (!args.vuln_db.empty()) argv.insert(argv.end(), {"--db", args.vuln_db});
  if (args.no_vuln) argv.emplace_back("--no-vuln");
  ChildOptions child;
  child.log = work / "scan.log";
  child.timeout = std::chrono::seconds(args.timeout_seconds);
  auto status = RunChildProcess(argv, child);
  if (!status) {
    fs::remove_all(work, ec);
    return finish("failed", "clearbox scan: " + status.error().message);
  }
  item.exit_status = *status;
  if (!ScanCompleted(*status) || !fs::exists(work / "out" / "report.json")) {
    std::string why =
        "clearbox scan exited " + std::to_string(*status) + ": " + LogTail(work / "scan.log", 300);
    fs::remove_all(work, ec);
    return finish("failed", std::move(why));
  }
  if (!args.keep_unpacked) fs::remove_all(work / "out" / "unpacked", ec);
  Json done = {{"input", item.label},
               {"sha256", item.sha256},
               {"size", item.size},
               {"exit_status", *status}};
  std::ofstream(work / "out" / std::string(kDoneMarker)) << done.dump(2) << "\n";
  fs::remove_all(final_dir, ec);
  fs::rename(work / "out", final_dir, ec);
  if (ec) return finish("failed", "cannot move the results into place: " + ec.message());
  fs::remove_all(work, ec);
  item.summary = ReportSummary(final_dir / "report.json");
  finish("scanned");
}

std::int64_t SummaryCount(const Json& summary, const char* key) {
  return summary.contains(key) && summary[key].is_number_integer()
             ? summary[key].get<std::int64_t>()
             : 0;
}

std::int64_t SevereFindings(const Json& summary) {
  if (!summary.contains("findings_by_severity")) return 0;
  const auto& by = summary["findings_by_severity"];
  return SummaryCount(by, "critical") + SummaryCount(by, "high");
}

void PrintTable(const std::vector<BatchItem>& items) {
  std::size_t width = 5;
  for (const auto& item : items)
    width = std::max(width, std::min<std::size_t>(item.label.size(), 60));
  std::printf("%-*s  %-8s %8s %6s %6s %6s %6s %5s\n", static_cast<int>(width), "IMAGE", "STATUS",
              "SECONDS", "COMPS", "VULNS", "KEV", "CRIT+H", "EXIT");
  std::int64_t totals[4] = {};
  int failed = 0;
  for (const auto& item : items) {
    const std::string label = item.label.size() > width
                                  ? "..." + item.label.substr(item.label.size() - width + 3)
                                  : item.label;
    const std::int64_t counts[4] = {
        SummaryCount(item.summary, "components"), SummaryCount(item.summary, "vulnerabilities"),
        SummaryCount(item.summary, "known_exploited"), SevereFindings(item.summary)};
    for (int i = 0; i < 4; ++i) totals[i] += counts[i];
    if (item.status == "failed") ++failed;
    std::printf("%-*s  %-8s %8.1f %6lld %6lld %6lld %6lld %5d\n", static_cast<int>(width),
                label.c_str(), item.status.c_str(), item.seconds, static_cast<long long>(counts[0]),
                static_cast<long long>(counts[1]), static_cast<long long>(counts[2]),
                static_cast<long long>(counts[3]), item.exit_status);
    if (!item.error.empty()) std::printf("    %s\n", item.error.c_str());
  }
  std::printf(
      "%zu images: %zu completed, %d failed; %lld components, %lld vulnerabilities "
      "(%lld known exploited), %lld critical/high findings\n",
      items.size(), items.size() - static_cast<std::size_t>(failed), failed,
      static_cast<long long>(totals[0]), static_cast<long long>(totals[1]),
      static_cast<long long>(totals[2]), static_cast<long long>(totals[3]));
}

// OUT/batch-summary.json: deterministic (no times), in the order of the images' labels.
Result<void> WriteSummary(const fs::path& out, const std::vector<BatchItem>& items) {
  Json images = Json::array();
  for (const auto& item : items) {
    Json entry = {{"input", item.label},
                  {"status", item.status == "resumed" ? "scanned" : item.status},
                  {"results", item.status == "failed" ? "" : "scans/" + item.slug},
                  {"sha256", item.sha256},
                  {"size", item.size},
                  {"exit_status", item.exit_status},
                  {"summary", item.summary.is_null() ? Json::object() : item.summary}};
    if (!item.error.empty()) entry["error"] = item.error;
    images.push_back(std::move(entry));
  }
  const Json summary = {
      {"schema", "clearbox-batch-summary"}, {"schema_version", 1}, {"images", std::move(images)}};
  const fs::path path = out / "batch-summary.json";
  std::ofstream file(path);
  file << summary.dump(2) << "\n";
  if (!file) return Fail(ErrorCode::kIo, "cannot write " + path.string());
  return {};
}

int RunBatch(const BatchArgs& args) {
  auto fail = [](const std::string& message, int code) {
    std::fprintf(stderr, "clearbox batch: %s\n", message.c_str());
    return code;
  };
  std::error_code ec;
  const fs::path input(args.input);
  const fs::path out(args.output);
  Result<std::vector<BatchItem>> items =
      fs::is_directory(input, ec) ? ItemsOfDirectory(input, out)
      : fs::is_regular_file(input, ec)
          ? ItemsOfList(input)
          : Fail(ErrorCode::kInvalidArgument, args.input + ": no such directory or list");
  if (!items) return fail(items.error().message, kExitUnusableInput);
  if (items->empty()) return fail("no images in " + args.input, kExitUnusableInput);
  std::sort(items->begin(), items->end(),
            [](const BatchItem& a, const BatchItem& b) { return a.label < b.label; });
  items->erase(
      std::unique(items->begin(), items->end(),
                  [](const BatchItem& a, const BatchItem& b) { return a.label == b.label; }),
      items->end());
  for (auto& item : *items) item.slug = Slug(item.label);
  const fs::path scans = out / "scans";
  fs::create_directories(scans, ec);
  if (ec) return fail("cannot create " + scans.string() + ": " + ec.message(), kExitUnusableInput);
  // Scans an interrupted run left half done start again.
  for (const auto& entry : fs::directory_iterator(scans, ec)) {
    if (entry.path().filename().string().starts_with(".tmp-")) fs::remove_all(entry.path(), ec);
  }
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return fail("cannot find this program: " + ec.message(), kExitInternal);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t pool = std::min<std::size_t>(
      items->size(), args.jobs > 0 ? static_cast<std::size_t>(args.jobs) : cores);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> finished{0};
  std::mutex print;
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < pool; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < items->size(); i = next++) {
        auto& item = (*items)[i];
        ScanItem(args, self, scans, item);
        const std::size_t count = ++finished;
        if (args.quiet) continue;
        std::lock_guard lock(print);
        std::fprintf(stderr, "[%zu/%zu] %s: %s (%.1f s)%s%s\n", count, items->size(),
                     item.label.c_str(), item.status.c_str(), item.seconds,
                     item.error.empty() ? "" : ": ", item.error.c_str());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (auto written = WriteSummary(out, *items); !written) {
    return fail(written.error().message, kExitInternal);
  }
  PrintTable(*items);
  const bool any_failed = std::any_of(
      items->begin(), items->end(), [](const BatchItem& item) { return item.status == "failed"; });
  return any_failed ? kExitWithProblems : kExitOk;
}

}  // namespace

void RegisterBatchCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<BatchArgs>();
  auto* batch = app.add_subcommand(
      "batch", "Scan many images with a bounded pool of scanners; resumable; one summary table");
  batch
      ->add_option("input", args->input,
                   "A directory (every non-empty regular file under it) or a LIST file (one "
                   "image path per line; # comments; relative to the list's directory)")
      ->required();
  batch
      ->add_option("-o,--output", args->output,
                   "Output directory: scans/<image>/ per image, batch-summary.json")
      ->required();
  batch->add_option("-j,--jobs", args->jobs, "Scans at once (default: one per core)")
      ->check(CLI::Range(0, 256));
  batch->add_option("--timeout", args->timeout_seconds, "Seconds one scan may take")
      ->capture_default_str()
      ->check(CLI::Range(1, 7 * 86400));
  batch->add_option("-s,--standard", args->standard,
                    "Passed to each scan: also assess compliance (ids or all)");
  batch->add_option("--db", args->vuln_db, "Passed to each scan: the vulnerability database");
  batch->add_flag("--no-vuln", args->no_vuln, "Passed to each scan: no vulnerability matching");
  batch->add_flag("--keep-unpacked", args->keep_unpacked,
                  "Keep each image's extracted tree (scans/<image>/unpacked; removed by default)");
  batch->add_flag("-q,--quiet", args->quiet, "No progress lines (the table is still printed)");
  batch->footer(
      "Each image is scanned by a `clearbox scan` child process into OUT/scans/<name>/ (report,\n"
      "SBOMs, VEX, SARIF). Run it again after an interruption: images whose scan completed and\n"
      "that did not change since (same SHA-256) are not scanned again. OUT/batch-summary.json\n"
      "lists every image with its status and report summary (deterministic).\n"
      "Exit codes: 0 every image scanned; 3 some images could not be scanned (see the table);\n"
      "4 INPUT unusable or empty; 2 usage; 70 internal error.");
  batch->callback([run, args] { *run = [args] { return RunBatch(*args); }; });
}

}  // namespace clearbox::cli
