// `clearbox db import|info|match|update`: the offline vulnerability database (src/vuln).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "core/exit_codes.hpp"
#include "vuln/store.hpp"
#include "vuln/update.hpp"
#include "vuln/writer.hpp"

namespace clearbox::cli {
namespace {

struct DbArgs {
  std::string db;
  std::vector<std::string> files;
  bool json = false;
  vuln::ComponentQuery query;
  std::string batch;
  vuln::UpdateOptions update;
};

std::filesystem::path DbPath(const DbArgs& args) {
  return args.db.empty() ? vuln::DefaultDbPath() : std::filesystem::path(args.db);
}

int RunImport(const DbArgs& args) {
  const auto path = DbPath(args);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  auto writer = vuln::VulnWriter::Open(path);
  if (!writer) {
    std::fprintf(stderr, "clearbox db import: %s\n", writer.error().message.c_str());
    return kExitUnusableInput;
  }
  int failures = 0;
  bool bulk = false;
  if (args.files.size() > 1) {
    auto began = writer->BeginBulkLoad();
    bulk = began && *began;
  }
  std::vector<std::filesystem::path> paths(args.files.begin(), args.files.end());
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  auto results = writer->ImportFiles(paths, threads);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& file = args.files[i];
    const auto& r = results[i];
    if (!r) {
      std::fprintf(stderr, "clearbox db import: %s: %s (nothing of it was kept)\n", file.c_str(),
                   r.error().message.c_str());
      ++failures;
      continue;
    }
    std::printf("%s: %s, %llu vulnerabilities, %llu KEV, %llu EPSS, %llu skipped\n", file.c_str(),
                r->stats.format.c_str(), static_cast<unsigned long long>(r->stats.vulns),
                static_cast<unsigned long long>(r->stats.kev),
                static_cast<unsigned long long>(r->stats.epss),
                static_cast<unsigned long long>(r->stats.skipped));
  }
  if (bulk) {
    if (auto ended = writer->EndBulkLoad(); !ended) {
      std::fprintf(stderr, "clearbox db import: rebuilding indexes: %s\n",
                   ended.error().message.c_str());
      return kExitUnusableInput;
    }
  }
  std::printf("database: %s\n", path.c_str());
  return failures == 0 ? kExitOk : kExitUnusableInput;
}

Result<vuln::VulnStore> OpenStore(const DbArgs& args) {
  if (!args.db.empty()) return vuln::VulnStore::Open(args.db);
  return vuln::VulnStore::OpenDefault();
}

int RunInfo(const DbArgs& args) {
  auto store = OpenStore(args);
  if (!store) {
    std::fprintf(stderr, "clearbox db info: %s\n", store.error().message.c_str());
    return kExitUnusableInput;
  }
  auto info = store->Info();
  if (!info) {
    std::fprintf(stderr, "clearbox db info: %s\n", info.error().message.c_str());
    return kExitUnusableInput;
  }
  if (args.json) {
    nlohmann::ordered_json j;
    j["database"] = info->location;
    j["schema"] = info->schema;
    j["created"] = info->created;
    j["counts"] = {{"vulnerabilities", info->vulnerabilities},
                   {"cpe_matches", info->cpe_matches},
                   {"package_ranges", info->package_ranges},
                   {"kev", info->kev},
                   {"epss", info->epss}};
    j["sources"] = nlohmann::ordered_json::array();
    for (const auto& s : info->sources) {
      j["sources"].push_back({{"name", s.name},
                              {"records", s.records},
                              {"imported_at", s.imported_at},
                              {"newest_modified", s.newest_modified},
                              {"update_end", s.update_end},
                              {"origin", s.origin}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("database: %s\nschema: %s, created %s\n", info->location.c_str(),
              info->schema.c_str(), info->created.c_str());
  std::printf(
      "vulnerabilities: %lld\nCPE match rows: %lld\npackage ranges: %lld\n"
      "KEV entries: %lld\nEPSS scores: %lld\n",
      info->vulnerabilities, info->cpe_matches, info->package_ranges, info->kev, info->epss);
  std::printf("sources:\n");
  for (const auto& s : info->sources) {
    std::printf("  %-5s %8lld records; newest record modified %s; imported %s%s%s; from %s\n",
                s.name.c_str(), s.records,
                s.newest_modified.empty() ? "-" : s.newest_modified.c_str(), s.imported_at.c_str(),
                s.update_end.empty() ? "" : "; updated to ", s.update_end.c_str(),
                s.origin.c_str());
  }
  return kExitOk;
}

// Matches every query of a JSON-lines file ({"name","version","cpe","purl"}) and prints the
// totals and the time taken (used by bench/vuln_bench.sh).
int RunBatch(const DbArgs& args, const vuln::VulnStore& store) {
  std::ifstream in(args.batch);
  if (!in) {
    std::fprintf(stderr, "clearbox db match: cannot read %s\n", args.batch.c_str());
    return kExitUnusableInput;
  }
  std::vector<vuln::ComponentQuery> queries;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    queries.push_back(
        {j.value("name", ""), j.value("version", ""), j.value("cpe", ""), j.value("purl", "")});
  }
  // Two passes: the first includes reading the database pages in, the second is warm.
  std::size_t matches = 0, matched_components = 0;
  double ms[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    matches = matched_components = 0;
    const auto start = std::chrono::steady_clock::now();
    auto all = store.MatchAll(queries);
    if (!all) {
      std::fprintf(stderr, "clearbox db match: %s\n", all.error().message.c_str());
      return kExitUnusableInput;
    }
    for (const auto& m : *all) {
      matches += m.size();
      matched_components += m.empty() ? 0 : 1;
    }
    ms[pass] =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  std::printf(
      "{\"components\": %zu, \"with_matches\": %zu, \"matches\": %zu, \"ms_first\": %.2f, "
      "\"ms_warm\": %.2f}\n",
      queries.size(), matched_components, matches, ms[0], ms[1]);
  return kExitOk;
}

int RunMatch(const DbArgs& args) {
  if (!args.batch.empty()) {
    auto store = OpenStore(args);
    if (!store) {
      std::fprintf(stderr, "clearbox db match: %s\n", store.error().message.c_str());
      return kExitUnusableInput;
    }
    return RunBatch(args, *store);
  }
  if (args.query.cpe.empty() && args.query.purl.empty() && args.query.name.empty()) {
    std::fprintf(stderr, "clearbox db match: give --cpe, --purl or --name with --version\n");
    return kExitUsage;
  }
  auto store = OpenStore(args);
  if (!store) {
    std::fprintf(stderr, "clearbox db match: %s\n", store.error().message.c_str());
    return kExitUnusableInput;
  }
  auto matches = store->Match(args.query);
  if (!matches) {
    std::fprintf(stderr, "clearbox db match: %s\n", matches.error().message.c_str());
    return matches.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitUnusableInput;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& m : *matches) {
    nlohmann::ordered_json j{{"id", m.id},
                             {"matched", m.matched},
                             {"match_kind", ToString(m.match_kind)},
                             {"decided_by", m.decided_by},
                             {"confidence", ToString(m.confidence)},
                             {"cvss_score", m.cvss_score},
                             {"cvss_version", m.cvss_version},
                             {"cvss_vector", m.cvss_vector},
                             {"severity", vuln::SeverityName(m)},
                             {"kev", m.kev},
                             {"epss", m.epss},
                             {"cwes", m.cwes},
                             {"published", m.published},
                             {"modified", m.modified}};
    if (!m.conditions.empty()) j["conditions"] = m.conditions;
    if (!m.aliases.empty()) j["aliases"] = m.aliases;
    out.push_back(std::move(j));
  }
  std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

int RunUpdate(const DbArgs& args) {
  vuln::UpdateOptions options = args.update;
  options.db_path = DbPath(args);
  auto report = vuln::UpdateDatabase(options);
  if (!report) {
    std::fprintf(stderr,
                 "clearbox db update: %s\n(the database was not changed; running the update "
                 "again resumes it)\n",
                 report.error().message.c_str());
    return report.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailed;
  }
  std::printf("%s\n", report->summary.c_str());
  return kExitOk;
}

}  // namespace

void RegisterDbCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<DbArgs>();
  auto* db = app.add_subcommand("db", "The offline vulnerability database (import, info, update)");
  db->require_subcommand(1);
  db->footer(
      "Database: --db PATH, else $CLEARBOX_DB, else ~/.local/share/clearbox/vuln.db. When that\n"
      "file does not exist, reads use the bundled snapshot (data/vuln/snapshot).");
  auto add_db = [&](CLI::App* cmd) {
    cmd->add_option("--db", args->db, "Database file (default: $CLEARBOX_DB or the user's)");
  };

  auto* import = db->add_subcommand(
      "import",
      "Import NVD API 2.0 JSON (records, pages, .gz bulk files), CVE JSON 5, OSV, "
      "CISA KEV JSON or EPSS CSV");
  add_db(import);
  import->add_option("files", args->files, "Feed files (gzip allowed)")->required();
  import->footer(
      "Each file is imported in one transaction: a bad file leaves nothing behind.\n"
      "Exit codes: 0 all imported; 4 a file or the database was unusable.");
  import->callback([run, args] { *run = [args] { return RunImport(*args);
};
}  // namespace clearbox::cli
);

auto* info = db->add_subcommand("info", "Show sources, counts and freshness");
add_db(info);
info->add_flag("--json", args->json, "Machine-readable output");
info->callback([run, args] { *run = [args] { return RunInfo(*args); }; });

auto* match = db->add_subcommand("match", "Match one component and print its CVEs as JSON");
add_db(match);
match->add_option("--cpe", args->query.cpe, "CPE 2.3 name of the component");
match->add_option("--purl", args->query.purl, "Package URL of the component");
match->add_option("--name", args->query.name, "Component name (name-based, medium confidence)");
match->add_option("--version", args->query.version, "Component version");
match->add_option("--batch", args->batch,
                  "JSON-lines file of queries; prints totals and the time taken");
match->callback([run, args] { *run = [args] { return RunMatch(*args); }; });

auto* update = db->add_subcommand(
    "update", "Fetch changes from the NVD 2.0 API and OSV; swap the new database in atomically");
add_db(update);
update->add_option("--nvd-url", args->update.nvd_url,
                   "NVD CVE API 2.0 endpoint (default $CLEARBOX_NVD_URL or the NVD service)");
update->add_option("--osv-url", args->update.osv_url,
                   "OSV bucket base URL (default $CLEARBOX_OSV_URL or the public bucket)");
update->add_option("--osv-ecosystem", args->update.osv_ecosystems,
                   "OSV ecosystem to follow (repeatable), e.g. Debian, Alpine");
update->add_flag("--skip-nvd", args->update.skip_nvd, "Fetch OSV only");
update->add_option("--page-size", args->update.page_size, "NVD resultsPerPage (1..2000)");
update->add_option("--request-delay", args->update.request_delay_s,
                   "Seconds between NVD requests (default 6, or 0.6 with NVD_API_KEY)");
update->add_option("--now", args->update.now, "Window end (UTC, YYYY-MM-DDTHH:MM:SS)");
update->footer(
    "Incremental: fetches records modified since the previous update (lastModStartDate/\n"
    "lastModEndDate windows of at most 120 days; the first update fetches everything).\n"
    "Works on a copy (<db>.update) committed page by page and renamed over the database\n"
    "at the end; an interrupted run leaves the database untouched and the next run resumes.\n"
    "Exit codes: 0 updated; 1 fetch or import failed; 2 usage.");
update->callback([run, args] { *run = [args] { return RunUpdate(*args); }; });
}

}  // namespace clearbox::cli
