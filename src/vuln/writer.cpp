#include "vuln/writer.hpp"

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

namespace clearbox::vuln {
namespace {

// Which source's descriptive fields win when several describe one id.
int SourceRank(std::string_view source) {
  if (source == "nvd") return 3;
  if (source == "cve5") return 2;
  if (source == "osv") return 1;
  return 0;
}

int MetricRank(const Metric& m) {
  int rank = 0;
  if (m.version == "4.0") rank = 40;
  if (m.version == "3.1") rank = 31;
  if (m.version == "3.0") rank = 30;
  if (m.version.starts_with("2")) rank = 20;
  if (m.type == "Primary") rank += 1;
  if (m.score <= 0) rank -= 100;  // a vector without a score is a last resort
  return rank;
}

std::string Join(const std::vector<std::string>& list, const char* sep) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<VulnWriter> VulnWriter::Open(const std::filesystem::path& path) {
  auto db = SqliteDb::Open(path, false);
  if (!db) return Forward(db);
  VulnWriter writer;
  writer.db_ = std::move(*db);
  // A large page cache keeps the random-key indexes in memory during big imports. 16 KiB
  // pages (for new files; no effect on existing ones) made the first match pass of a fresh
  // process faster than 4 KiB pages on the 300,000-record benchmark (61-101 vs 105-168 ms).
  CLEARBOX_TRY(writer.db_.Exec(
      "PRAGMA page_size=16384; PRAGMA journal_mode=DELETE; PRAGMA synchronous=NORMAL; "
      "PRAGMA cache_size=-131072; "
      "PRAGMA temp_store=MEMORY;"));
  auto version = SchemaVersionOf(writer.db_);
  if (!version) return Forward(version);
  if (*version != 0 && *version != kSchemaVersion) {
    return Fail(ErrorCode::kInvalidArgument,
                path.string() + " has schema version " + std::to_string(*version) +
                    " (this clearbox writes " + std::to_string(kSchemaVersion) +
                    "): import into a new file instead");
  }
  CLEARBOX_TRY(writer.db_.Exec(SchemaSql()));
  CLEARBOX_TRY(writer.db_.Exec("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '" +
                               std::to_string(kSchemaVersion) + "'), ('created', '" + UtcNow() +
                               "')"));
  CLEARBOX_TRY(writer.Prepare());
  return writer;
}

// The columns of a cpe_match row in bind order.
constexpr const char* kCpeColumns =
    "product, vendor, vuln_id, source, seq, config, node, operator, vulnerable, part, version, "
    "update_, criteria, start_incl, start_excl, end_incl, end_excl, context";

Result<void> VulnWriter::Prepare() {
  struct Item {
    Statement* stmt;
    std::string sql;
  };
  const Item items[] = {
      {&existing_,
       "SELECT v.source, r.vuln_id IS NOT NULL, r.cpe_keys FROM vulnerability v LEFT JOIN "
       "record r ON r.vuln_id = ?1 AND r.source = ?2 WHERE v.id = ?1"},
      {&delete_cpe_,
       "DELETE FROM cpe_match WHERE product = ?1 AND vendor = ?2 AND vuln_id = ?3 AND "
       "source = ?4"},
      {&delete_pkg_, "DELETE FROM package_range WHERE vuln_id = ?1 AND source = ?2"},
      {&delete_pkg_of_ecosystem_,
       "DELETE FROM package_range WHERE vuln_id = ?1 AND source = ?2 AND ecosystem = ?3"},
      {&put_vuln_,
       "INSERT OR REPLACE INTO vulnerability(id, source, status, published, modified, "
       "description, cvss_score, cvss_version, cvss_vector, severity, aliases, metrics, cwes, "
       "refs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"},
      {&put_cpe_, std::string("INSERT INTO cpe_match(") + kCpeColumns + "" +
                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                      "?15, ?16, ?17, ?18" +
                      ")"},
      {&put_pkg_,
       "INSERT INTO package_range(vuln_id, source, ecosystem, name, purl, range_type, "
       "introduced, fixed, last_affected, versions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
       "?10)"},
      {&put_record_,
       "INSERT OR REPLACE INTO record(vuln_id, source, modified, cpe_keys) VALUES "
       "(?1, ?2, ?3, ?4)"},
      {&put_kev_,
       "INSERT OR REPLACE INTO kev(cve_id, date_added, due_date, ransomware, name) VALUES "
       "(?1, ?2, ?3, ?4, ?5)"},
      {&put_epss_,
       "INSERT OR REPLACE INTO epss(cve_id, score, percentile, score_date) VALUES "
       "(?1, ?2, ?3, ?4)"},
  };
  for (const auto& item : items) {
    auto stmt = db_.Prepare(item.sql);
    if (!stmt) return Forward(stmt);
    *item.stmt = std::move(*stmt);
  }
  return {};
}

Result<void> VulnWriter::Begin() {
  return db_.Exec("BEGIN IMMEDIATE");
}
Result<void> VulnWriter::Commit() {
  return db_.Exec("COMMIT");
}
void VulnWriter::Rollback() {
  (void)db_.Exec("ROLLBACK");
}

// Deletes the rows a source stored for an id before (its CPE rows by the keys the record
// noted; its package rows of the record's ecosystems).
Result<void> VulnWriter::DeleteRowsOf(const VulnRecord& rec, const std::string& old_cpe_keys) {
  // The old rows, found by the (product, vendor) keys the record noted.
  std::size_t start = 0;
  while (start < old_cpe_keys.size()) {
    std::size_t end = old_cpe_keys.find('\n', start);
    if (end == std::string::npos) end = old_cpe_keys.size();
    const std::string_view key(old_cpe_keys.data() + start, end - start);
    start = end + 1;
    const auto tab = key.find('\t');
    if (tab == std::string_view::npos) continue;
    delete_cpe_.BindText(1, key.substr(0, tab));
    delete_cpe_.BindText(2, key.substr(tab + 1));
    delete_cpe_.BindText(3, rec.id);
    delete_cpe_.BindText(4, rec.source);
    CLEARBOX_TRY(delete_cpe_.Run());
  }
  // Several OSV records can name one CVE (Debian's, Ubuntu's and Alpine's each for its
  // own releases): a record replaces the package rows of its own ecosystems only.
  std::set<std::string> ecosystems;
  for (const auto& p : rec.packages) ecosystems.insert(p.ecosystem);
  if (ecosystems.empty()) {
    delete_pkg_.BindText(1, rec.id);
    delete_pkg_.BindText(2, rec.source);
    CLEARBOX_TRY(delete_pkg_.Run());
  }
  for (const auto& ecosystem : ecosystems) {
    delete_pkg_of_ecosystem_.BindText(1, rec.id);
    delete_pkg_of_ecosystem_.BindText(2, rec.source);
    delete_pkg_of_ecosystem_.BindText(3, ecosystem);
    CLEARBOX_TRY(delete_pkg_of_ecosystem_.Run());
  }
  return {};
}

// Writes the descriptive fields of `rec` (the vulnerability row).
Result<void> VulnWriter::PutDescription(const VulnRecord& rec) {
  const Metric* best = nullptr;
  for (const auto& m : rec.metrics) {
    if (best == nullptr || MetricRank(m) > MetricRank(*best)) best = &m;
  }
  put_vuln_.BindText(1, rec.id);
  put_vuln_.BindText(2, rec.source);
  put_vuln_.BindNullableText(3, rec.status);
  put_vuln_.BindNullableText(4, rec.published);
  put_vuln_.BindNullableText(5, rec.modified);
  put_vuln_.BindNullableTextNoCopy(6, rec.description);
  if (best != nullptr) {
    put_vuln_.BindDouble(7, best->score);
    put_vuln_.BindText(8, best->version);
    put_vuln_.BindNullableText(9, best->vector);
    put_vuln_.BindNullableText(10, best->severity);
  }
  put_vuln_.BindNullableText(11, Join(rec.aliases, " "));
  std::string metrics;
  for (const auto& m : rec.metrics) {
    char score[32];
    std::snprintf(score, sizeof(score), "%.1f", m.score);
    metrics += m.version + "\t" + score + "\t" + m.severity + "\t" + m.type + "\t" + m.source +
               "\t" + m.vector + "\n";
  }
  const std::string cwes = Join(rec.cwes, " "), refs = Join(rec.references, "\n");
  put_vuln_.BindNullableTextNoCopy(12, metrics);
  put_vuln_.BindNullableTextNoCopy(13, cwes);
  put_vuln_.BindNullableTextNoCopy(14, refs);
  CLEARBOX_TRY(put_vuln_.Run());
  return {};
}

// Writes the CPE and package rows of `rec`.
Result<void> VulnWriter::PutMatchRows(const VulnRecord& rec) {
  std::int64_t seq = 0;
  for (const auto& m : rec.cpe_matches) {
    put_cpe_.BindTextNoCopy(1, m.cpe.product);
    put_cpe_.BindTextNoCopy(2, m.cpe.vendor);
    put_cpe_.BindTextNoCopy(3, rec.id);
    put_cpe_.BindTextNoCopy(4, rec.source);
    put_cpe_.BindInt(5, seq++);
    put_cpe_.BindInt(6, m.config);
    put_cpe_.BindInt(7, m.node);
    put_cpe_.BindTextNoCopy(8, m.op);
    put_cpe_.BindInt(9, m.vulnerable ? 1 : 0);
    put_cpe_.BindTextNoCopy(10, m.cpe.part);
    put_cpe_.BindTextNoCopy(11, m.cpe.version);
    put_cpe_.BindTextNoCopy(12, m.cpe.update);
    put_cpe_.BindTextNoCopy(13, m.criteria);
    put_cpe_.BindNullableTextNoCopy(14, m.start_incl);
    put_cpe_.BindNullableTextNoCopy(15, m.start_excl);
    put_cpe_.BindNullableTextNoCopy(16, m.end_incl);
    put_cpe_.BindNullableTextNoCopy(17, m.end_excl);
    put_cpe_.BindNullableTextNoCopy(18, m.context);
    CLEARBOX_TRY(put_cpe_.Run());
  }
  for (const auto& p : rec.packages) {
    put_pkg_.BindText(1, rec.id);
    put_pkg_.BindText(2, rec.source);
    put_pkg_.BindText(3, p.ecosystem);
    put_pkg_.BindText(4, p.name);
    put_pkg_.BindText(5, p.purl);
    put_pkg_.BindNullableText(6, p.range_type);
    put_pkg_.BindNullableText(7, p.introduced);
    put_pkg_.BindNullableText(8, p.fixed);
    put_pkg_.BindNullableText(9, p.last_affected);
    put_pkg_.BindNullableText(10, Join(p.versions, "\n"));
    CLEARBOX_TRY(put_pkg_.Run());
  }
  return {};
}

Result<void> VulnWriter::PutVuln(VulnRecord&& rec) {
  existing_.BindText(1, rec.id);
  existing_.BindText(2, rec.source);
  auto row = existing_.Step();
  if (!row) return Forward(row);
  const std::string existing_source = *row ? existing_.Text(0) : "";
  const bool had_record = *row && existing_.Int(1) != 0;
  const std::string old_cpe_keys = *row ? existing_.Text(2) : "";
  existing_.Reset();
  const bool describe = existing_source.empty() || existing_source == rec.source ||
                        SourceRank(rec.source) >= SourceRank(existing_source);

  // Rows to replace exist only if this source stored the id before (a fresh import skips
  // the deletes, which matters for bulk loads).
  if (had_record) CLEARBOX_TRY(DeleteRowsOf(rec, old_cpe_keys));
  if (describe) CLEARBOX_TRY(PutDescription(rec));
  const bool dead = rec.status == "Rejected" || rec.status == "REJECTED";
  if (!dead) CLEARBOX_TRY(PutMatchRows(rec));
  put_record_.BindText(1, rec.id);
  put_record_.BindText(2, rec.source);
  put_record_.BindNullableText(3, rec.modified);
  std::set<std::string> keys;
  if (!dead) {
    for (const auto& m : rec.cpe_matches) keys.insert(m.cpe.product + "\t" + m.cpe.vendor);
  }
  std::string cpe_keys;
  for (const auto& k : keys) cpe_keys += (cpe_keys.empty() ? "" : "\n") + k;
  put_record_.BindNullableText(4, cpe_keys);
  return put_record_.Run();
}

Result<void> VulnWriter::PutKev(KevEntry&& e) {
  put_kev_.BindText(1, e.cve_id);
  put_kev_.BindNullableText(2, e.date_added);
  put_kev_.BindNullableText(3, e.due_date);
  put_kev_.BindNullableText(4, e.ransomware);
  put_kev_.BindNullableText(5, e.name);
  return put_kev_.Run();
}

Result<void> VulnWriter::PutEpss(EpssEntry&& e) {
  put_epss_.BindText(1, e.cve_id);
  put_epss_.BindDouble(2, e.score);
  put_epss_.BindDouble(3, e.percentile);
  put_epss_.BindNullableText(4, e.date);
  return put_epss_.Run();
}

Result<void> VulnWriter::NoteSource(const std::string& name, const std::string& origin,
                                    const std::string& newest_modified,
                                    const std::string& update_end) {
  std::string count_sql;
  if (name == "kev") {
    count_sql = "(SELECT COUNT(*) FROM kev)";
  } else if (name == "epss") {
    count_sql = "(SELECT COUNT(*) FROM epss)";
  } else {
    count_sql = "(SELECT COUNT(*) FROM record WHERE source = ?1)";
  }
  auto stmt = db_.Prepare(
      "INSERT INTO source(name, records, imported_at, newest_modified, update_end, origin) "
      "VALUES (?1, " +
      count_sql +
      ", ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET records = excluded.records, "
      "imported_at = excluded.imported_at, newest_modified = CASE WHEN excluded.newest_modified "
      "> IFNULL(source.newest_modified, '') THEN excluded.newest_modified ELSE "
      "source.newest_modified END, update_end = IFNULL(excluded.update_end, "
      "source.update_end), origin = excluded.origin");
  if (!stmt) return Forward(stmt);
  stmt->BindText(1, name);
  stmt->BindText(2, UtcNow());
  stmt->BindNullableText(3, newest_modified);
  stmt->BindNullableText(4, update_end);
  stmt->BindNullableText(5, origin);
  return stmt->Run();
}

Result<bool> VulnWriter::BeginBulkLoad() {
  auto stmt = db_.Prepare("SELECT EXISTS (SELECT 1 FROM record)");
  if (!stmt) return Forward(stmt);
  auto row = stmt->Step();
  if (!row) return Forward(row);
  if (*row && stmt->Int(0) != 0) return false;  // not empty: keep the indexes
  stmt->Reset();
  // One transaction for the whole load (each file is a savepoint inside it): an interrupted
  // load leaves the database as empty as it was. The page cache holds the CPE table, whose
  // rows arrive in random key order.
  CLEARBOX_TRY(db_.Exec("PRAGMA cache_size=-1048576; BEGIN IMMEDIATE"));
  if (auto dropped = db_.Exec(
          "DROP INDEX IF EXISTS package_range_purl; DROP INDEX IF EXISTS package_range_name; "
          "DROP INDEX IF EXISTS package_range_ecosystem;");
      !dropped) {
    Rollback();
    return Forward(dropped);
  }
  bulk_ = true;
  return true;
}

Result<void> VulnWriter::EndBulkLoad() {
  auto ended = db_.Exec(SchemaSql());  // rebuilds the dropped indexes
  if (ended) ended = db_.Exec("COMMIT");
  if (!ended) Rollback();
  bulk_ = false;
  CLEARBOX_TRY(db_.Exec("PRAGMA cache_size=-131072"));
  return ended;
}

Result<std::string> VulnWriter::SourceUpdateEnd(const std::string& name) {
  auto stmt = db_.Prepare("SELECT update_end FROM source WHERE name = ?1");
  if (!stmt) return Forward(stmt);
  stmt->BindText(1, name);
  auto row = stmt->Step();
  if (!row) return Forward(row);
  return *row ? stmt->Text(0) : std::string();
}

Result<ImportSummary> VulnWriter::ImportWith(
    const std::string& origin, const std::function<Result<FeedStats>(const FeedSink&)>& parse) {
  // Inside a bulk load each file is a savepoint of the load's one transaction.
  auto begin = [&] { return bulk_ ? db_.Exec("SAVEPOINT import_file") : Begin(); };
  auto commit = [&] { return bulk_ ? db_.Exec("RELEASE import_file") : Commit(); };
  auto rollback = [&] {
    if (bulk_) {
      (void)db_.Exec("ROLLBACK TO import_file; RELEASE import_file");
    } else {
      Rollback();
    }
  };
  CLEARBOX_TRY(begin());
  FeedSink sink;
  std::string source;
  sink.on_vuln = [&](VulnRecord&& r) -> Result<void> {
    if (source.empty()) source = r.source;
    if (source != r.source) source = "mixed";
    return PutVuln(std::move(r));
  };
  sink.on_kev = [&](KevEntry&& e) { return PutKev(std::move(e)); };
  sink.on_epss = [&](EpssEntry&& e) { return PutEpss(std::move(e)); };
  auto stats = parse(sink);
  if (!stats) {
    rollback();
    return Forward(stats);
  }
  std::vector<std::string> sources;
  if (source == "mixed") {
    sources = {"nvd", "cve5", "osv"};
  } else if (!source.empty()) {
    sources = {source};
  }
  if (stats->kev > 0) sources.push_back("kev");
  if (stats->epss > 0) sources.push_back("epss");
  for (const auto& s : sources) {
    auto noted = NoteSource(s, origin, stats->newest_modified, "");
    if (!noted) {
      rollback();
      return Forward(noted);
    }
  }
  if (auto c = commit(); !c) {
    rollback();
    return Forward(c);
  }
  return ImportSummary{origin, *stats};
}

Result<ImportSummary> VulnWriter::ImportFile(const std::filesystem::path& path) {
  return ImportWith(path.filename().string(),
                    [&](const FeedSink& sink) { return ParseFeedFile(path, sink); });
}

std::vector<Result<ImportSummary>> VulnWriter::ImportFiles(
    const std::vector<std::filesystem::path>& files, unsigned parse_threads) {
  // What a worker parsed from one file, handed to the writing thread.
  struct Parsed : CollectedFeed {
    std::optional<Result<FeedStats>> stats;
  };
  const std::size_t n = files.size();
  std::vector<Parsed> slots(n);
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Parsed> trash;  // written files' records, waiting to be freed
  std::size_t next = 0, written = 0;
  const std::size_t ahead = std::max(1u, parse_threads) + 1;
  auto worker = [&] {
    for (;;) {
      std::size_t i;
      std::vector<Parsed> to_free;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return next >= n || next < written + ahead; });
        if (next >= n) return;
        i = next++;
        to_free.swap(trash);
      }
      to_free.clear();
      Parsed p;
      p.stats = ParseFeedFile(files[i], CollectInto(p));
      std::lock_guard lock(mutex);
      slots[i] = std::move(p);
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, parse_threads); ++t) threads.emplace_back(worker);
  std::vector<Result<ImportSummary>> results;
  for (std::size_t i = 0; i < n; ++i) {
    Parsed p;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return slots[i].stats.has_value(); });
      p = std::move(slots[i]);
      slots[i] = Parsed{};
    }
    std::size_t v = 0, k = 0, e = 0;
    results.push_back(
        ImportWith(files[i].filename().string(), [&](const FeedSink& sink) -> Result<FeedStats> {
          if (!*p.stats) return *p.stats;
          for (; v < p.vulns.size(); ++v) CLEARBOX_TRY(sink.on_vuln(std::move(p.vulns[v])));
          for (; k < p.kev.size(); ++k) CLEARBOX_TRY(sink.on_kev(std::move(p.kev[k])));
          for (; e < p.epss.size(); ++e) CLEARBOX_TRY(sink.on_epss(std::move(p.epss[e])));
          return *p.stats;
        }));
    std::lock_guard lock(mutex);
    trash.push_back(std::move(p));  // freed by a parsing thread, off the writing thread
    ++written;
    changed.notify_all();
  }
  for (auto& t : threads) t.join();
  return results;
}

Result<ImportSummary> VulnWriter::ImportBytes(std::string_view bytes, const std::string& origin) {
  return ImportWith(origin, [&](const FeedSink& sink) { return ParseFeedBytes(bytes, sink); });
}

}  // namespace clearbox::vuln
